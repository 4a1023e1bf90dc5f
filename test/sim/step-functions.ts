import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidName,
  InvalidOutput,
  InvalidToken,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Timer, VirtualClock } from './clock.js';
import { LambdaFunctionError, type SimLambda } from './lambda.js';
import type { AslDefinition, ServerlessModel, SimStateMachine } from './serverless-config.js';

/**
 * Step Functions for the sandbox: StartExecution runs the very workflow file that
 * serverless.yml deploys, with `aws-local-stepfunctions`, its Task states bound to the real
 * handlers through `SimLambda`.
 *
 * Time is virtual: every Wait state is run as a Task that sleeps on the virtual clock for
 * exactly what the Wait asks (Seconds, SecondsPath, Timestamp, TimestampPath), with the same
 * InputPath/OutputPath, and a retried Task sleeps its Retry interval (IntervalSeconds ×
 * BackoffRate^n, capped by MaxDelaySeconds; FULL jitter is taken at its upper bound so runs
 * are reproducible) on the virtual clock before the next attempt.
 * Names behave like the real service: a name in use by a running execution with the same
 * input returns that execution; otherwise a reused name is ExecutionAlreadyExists.
 *
 * Task resources, as the real service knows them:
 * - a function ARN (`Fn::GetAtt [fn, Arn]`): the state's input is the payload, the function's
 *   result the state's result;
 * - `arn:aws:states:::lambda:invoke`: Parameters name `FunctionName` and `Payload`; the result
 *   is the integration's envelope `{ Payload, StatusCode: 200, ExecutedVersion, … }`, and a
 *   function error fails the state with the function's error type, the Cause being Lambda's
 *   JSON error document;
 * - `arn:aws:states:::lambda:invoke.waitForTaskToken` (a callback): `$$.Task.Token` in the
 *   Parameters is a fresh token per attempt; after the function returns, the state waits
 *   until SendTaskSuccess (its output is the state's result), SendTaskFailure (the state fails
 *   with that error and cause), TimeoutSeconds (States.Timeout) or HeartbeatSeconds without
 *   SendTaskHeartbeat (States.HeartbeatTimeout). Both timeouts run on the virtual clock as
 *   background timers: an execution waiting for its callback does not keep `settle()` running,
 *   just as a person who has not yet clicked "approve" does not; `world.run(ms)` lets the
 *   timeout pass.
 *
 * Limits are virtual too. The library races every Task against a *real* timer of its
 * TimeoutSeconds (60 s when it has none), which under load failed waits and tasks that took
 * a minute of real time; every Task the library runs is given a timeout out of reach
 * instead (`LIBRARY_TIMEOUT_SECONDS`), and a Task state's own TimeoutSeconds /
 * TimeoutSecondsPath (and a callback's HeartbeatSeconds) run on the virtual clock, ending
 * the attempt with States.Timeout as the service does, for Retry and Catch to take. A Task
 * without TimeoutSeconds has no limit but its execution's (the definition's top-level
 * TimeoutSeconds, also virtual: the execution ends TIMED_OUT).
 *
 * An execution left waiting on a callback must be ended (SendTask…, StopExecution or
 * `abortAll()`, which `World.stop()` calls): the library's out-of-reach timer only ends
 * with the task.
 */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface SimExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  /** the states entered, in order, with the virtual time; a Task attempt that failed names its error */
  history: { state: string; at: string; error?: string }[];
  done: Promise<void>;
}

/** A callback task (`.waitForTaskToken`) that has not been answered yet. */
export interface PendingCallback {
  token: string;
  executionArn: string;
  state: string;
  /** virtual time the task started (ISO) */
  since: string;
  /** what the function was invoked with, the token filled in */
  payload: unknown;
}

const SFN_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const WAIT_RESOURCE = 'arn:aws:states:::sandbox:wait';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

// The library has no `$$.Task.Token`: the Parameters carry this placeholder instead, and the
// handler swaps in the attempt's real token before invoking the function.
const TOKEN_PLACEHOLDER = 'sandbox-task-token-placeholder';
// Parameters of an integration are wrapped, so the handler also gets the state's
// TimeoutSecondsPath / HeartbeatSecondsPath values, evaluated by the library.
const PARAMETERS = 'sandbox:parameters';
const TIMEOUT_SECONDS = 'sandbox:timeoutSeconds';
const HEARTBEAT_SECONDS = 'sandbox:heartbeatSeconds';
// The library races every Task against a real timer of its TimeoutSeconds; the sandbox keeps
// a state's limits on the virtual clock, so the library's is pushed out of reach (and kept
// under setTimeout's 2^31 ms ceiling, above which Node fires at once).
export const LIBRARY_TIMEOUT_SECONDS = 2_000_000;

const TOKEN = /^AQ[A-Za-z0-9_-]{86}$/;

type CallbackOutcome = { result: unknown } | { error: Error };

interface CallbackTask {
  token: string;
  execution: SimExecution;
  state: string;
  since: string;
  payload: unknown;
  open: boolean;
  heartbeatSeconds?: number;
  timers: { timeout?: Timer; heartbeat?: Timer };
  /** ends the attempt's wait; only `closeTask` calls it */
  resolve(outcome: CallbackOutcome): void;
}

export interface SimStepFunctionsOptions {
  /**
   * The real-time timeout every Task is handed to the library with; default
   * LIBRARY_TIMEOUT_SECONDS (out of reach). Tests set it small to show it is the only real
   * timer a Task meets.
   */
  libraryTimeoutSeconds?: number;
}

interface Running {
  abort(): void;
  presence: Presence;
  /** branches of the execution now waiting on something else: a Lambda invocation, a callback's answer */
  waiting: number;
}

export class SimStepFunctions {
  readonly executions = new Map<string, SimExecution>();
  private readonly machines: Map<string, SimStateMachine>;
  private mock?: ReturnType<typeof mockClient>;
  private listeners: ((execution: SimExecution) => void)[] = [];
  private startListeners: ((execution: SimExecution) => void)[] = [];
  private readonly running = new Map<string, Running>();
  private readonly aborted = new Set<string>();
  /** state machines whose definition the library has validated once */
  private readonly validated = new Set<string>();
  /** the pending Wait and retry sleeps of each execution (see sleepIn) */
  private readonly sleeps = new Map<string, Set<() => void>>();
  /** every callback task by token, answered or not: a late answer is TaskTimedOut */
  private readonly callbacks = new Map<string, CallbackTask>();
  private readonly libraryTimeoutSeconds: number;

  constructor(
    model: ServerlessModel,
    private readonly clock: VirtualClock,
    private readonly lambda: Pick<SimLambda, 'invoke'>,
    options: SimStepFunctionsOptions = {},
  ) {
    this.machines = new Map(model.stateMachines.map((m) => [m.arn, m]));
    this.libraryTimeoutSeconds = options.libraryTimeoutSeconds ?? LIBRARY_TIMEOUT_SECONDS;
    if (!(this.libraryTimeoutSeconds > 0 && this.libraryTimeoutSeconds * 1000 < 2 ** 31)) {
      throw new Error(`SimStepFunctions: libraryTimeoutSeconds must be > 0 and below setTimeout's 2^31 ms, got ${this.libraryTimeoutSeconds}`);
    }
  }

  /** The definition of a state machine as the library is handed it (tests check it carries no real-time limit). */
  libraryDefinition(stateMachineArn: string): AslDefinition {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) throw new Error(`no state machine ${stateMachineArn}`);
    const probe: SimExecution = { executionArn: '', stateMachineArn, name: '', input: '{}', status: 'RUNNING', startDate: this.clock.date(), history: [], done: Promise.resolve() };
    return this.prepare(machine.definition, probe).definition;
  }

  bind(): void {
    this.mock = mockClient(SFNClient);
    this.mock.on(StartExecutionCommand).callsFake(async (input) => this.start(input.stateMachineArn, input.name, input.input ?? '{}'));
    this.mock.on(DescribeExecutionCommand).callsFake(async (input) => {
      const e = this.execution(input.executionArn);
      return {
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        stopDate: e.stopDate,
        input: e.input,
        output: e.output === undefined ? undefined : JSON.stringify(e.output),
        error: e.error,
        cause: e.cause,
      };
    });
    this.mock.on(ListExecutionsCommand).callsFake(async (input) => ({
      executions: [...this.executions.values()]
        .filter((e) => e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter))
        .map((e) => ({ executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: e.startDate, stopDate: e.stopDate })),
    }));
    this.mock.on(StopExecutionCommand).callsFake(async (input) => this.stop(input.executionArn, input.error, input.cause));
    this.mock.on(SendTaskSuccessCommand).callsFake(async (input) => this.sendTaskSuccess(input.taskToken, input.output));
    this.mock.on(SendTaskFailureCommand).callsFake(async (input) => this.sendTaskFailure(input.taskToken, input.error, input.cause));
    this.mock.on(SendTaskHeartbeatCommand).callsFake(async (input) => this.sendTaskHeartbeat(input.taskToken));
  }

  restore(): void {
    this.mock?.restore();
  }

  /** StopExecution for everything still running (the sandbox is shutting down). */
  abortAll(): void {
    for (const arn of [...this.running.keys()]) this.stop(arn);
  }

  /** StopExecution: a running execution ends ABORTED at once; a finished one is left as it is. */
  stop(executionArn: string | undefined, error?: string, cause?: string): { stopDate: Date } {
    const execution = this.execution(executionArn);
    this.end(execution, 'ABORTED', error, cause);
    return { stopDate: execution.stopDate ?? this.clock.date() };
  }

  /**
   * A Wait's or a retry's sleep on the virtual clock, called off if the execution ends from
   * outside meanwhile: the clock counts sleepers, and a sleep left pending by an execution that
   * is gone would pass for an actor asleep, letting time move under one that is awake.
   */
  private async sleepIn(execution: SimExecution, ms: number): Promise<void> {
    const sleep = this.clock.cancellableSleep(ms);
    let pending = this.sleeps.get(execution.executionArn);
    if (!pending) this.sleeps.set(execution.executionArn, (pending = new Set()));
    let callOff!: () => void;
    // called off, the state ends at once (the library, told to abort, then ends the run)
    const calledOff = new Promise<never>((_resolve, reject) => {
      callOff = () => {
        sleep.cancel();
        reject(new Error('the execution has ended'));
      };
    });
    pending.add(callOff);
    try {
      await Promise.race([sleep.done, calledOff]);
    } finally {
      pending.delete(callOff);
    }
  }

  /** Ends a running execution from outside its states: stopped, or out of time. */
  private end(execution: SimExecution, status: 'ABORTED' | 'TIMED_OUT', error: string | undefined, cause: string | undefined): void {
    const run = this.running.get(execution.executionArn);
    if (execution.status !== 'RUNNING' || !run) return;
    for (const cancel of this.sleeps.get(execution.executionArn) ?? []) cancel();
    this.sleeps.delete(execution.executionArn);
    this.aborted.add(execution.executionArn);
    execution.status = status;
    execution.stopDate = this.clock.date();
    if (error !== undefined) execution.error = error;
    if (cause !== undefined) execution.cause = cause;
    run.abort();
  }

  onStarted(listener: (execution: SimExecution) => void): void {
    this.startListeners.push(listener);
  }

  onFinished(listener: (execution: SimExecution) => void): void {
    this.listeners.push(listener);
  }

  /** Callback tasks waiting for SendTaskSuccess/Failure, oldest first (of one execution, if given). */
  pendingCallbacks(executionArn?: string): PendingCallback[] {
    return [...this.callbacks.values()]
      .filter((t) => t.open && (executionArn === undefined || t.execution.executionArn === executionArn))
      .map((t) => ({ token: t.token, executionArn: t.execution.executionArn, state: t.state, since: t.since, payload: t.payload }));
  }

  sendTaskSuccess(taskToken: string | undefined, output: string | undefined): Record<string, never> {
    const task = this.openTask(taskToken);
    let result: unknown;
    try {
      result = JSON.parse(output ?? '');
    } catch {
      throw new InvalidOutput({ message: 'Invalid Output: the output is not valid JSON', $metadata: {} });
    }
    this.closeTask(task, { result });
    return {};
  }

  sendTaskFailure(taskToken: string | undefined, error: string | undefined, cause: string | undefined): Record<string, never> {
    const task = this.openTask(taskToken);
    this.closeTask(task, { error: new LambdaFunctionError(error ?? '', cause ?? '') });
    return {};
  }

  sendTaskHeartbeat(taskToken: string | undefined): Record<string, never> {
    const task = this.openTask(taskToken);
    if (task.heartbeatSeconds !== undefined) this.armHeartbeat(task);
    return {};
  }

  start(stateMachineArn: string | undefined, requestedName: string | undefined, input: string): { executionArn: string; startDate: Date } {
    const machine = stateMachineArn ? this.machines.get(stateMachineArn) : undefined;
    if (!machine) throw new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${stateMachineArn}'`, $metadata: {} });
    const name = requestedName ?? randomUUID();
    if (!SFN_NAME.test(name)) throw new InvalidName({ message: `Invalid Name: '${name}'`, $metadata: {} });
    const executionArn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: existing.startDate };
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
    }
    const parsedInput = JSON.parse(input) as unknown;
    const execution: SimExecution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      status: 'RUNNING',
      startDate: this.clock.date(),
      history: [],
      done: Promise.resolve(),
    };
    this.executions.set(executionArn, execution);
    for (const listener of this.startListeners) listener(execution);
    // the execution holds the clock from this instant, before the caller's next await
    const presence = new Presence(this.clock);
    presence.enter();
    execution.done = this.run(machine, execution, parsedInput, presence);
    return { executionArn, startDate: execution.startDate };
  }

  private execution(executionArn: string | undefined): SimExecution {
    const e = executionArn === undefined ? undefined : this.executions.get(executionArn);
    if (!e) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return e;
  }

  private async run(machine: SimStateMachine, execution: SimExecution, input: unknown, presence: Presence): Promise<void> {
    let run: ReturnType<StateMachine['run']>;
    let executionTimeout: Timer | undefined;
    // registered first: the library may run the first Task before `run` returns
    const running: Running = { abort: () => undefined, presence, waiting: 0 };
    this.running.set(execution.executionArn, running);
    try {
      const { definition, handlers } = this.prepare(machine.definition, execution);
      // the definition is validated once per state machine (the library compiles its JSON
      // schema each time: a large share of a busy sandbox's time); what prepare() makes of it
      // is the same for every execution
      const validated = this.validated.has(machine.arn);
      const stateMachine = new StateMachine(definition as never, { validationOptions: validated ? { noValidate: true } : { checkArn: false } });
      this.validated.add(machine.arn);
      const retryIntervalOverrides = Object.fromEntries(Object.keys(handlers).map((state) => [state, 0]));
      run = stateMachine.run(input as never, {
        noThrowOnAbort: true,
        overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
        context: {
          Execution: { Id: execution.executionArn, Name: execution.name, Input: input as never, StartTime: execution.startDate.toISOString() },
          StateMachine: { Id: machine.arn, Name: machine.name },
        },
      });
    } catch (error) {
      // an invalid definition is the workflow's bug: loud (done rejects), but off the clock
      this.running.delete(execution.executionArn);
      presence.leave();
      throw error;
    }
    running.abort = run.abort;
    const limit = machine.definition.TimeoutSeconds;
    if (typeof limit === 'number') {
      executionTimeout = this.clock.after(limit * 1000, () => this.end(execution, 'TIMED_OUT', 'States.Timeout', `the execution ran longer than its TimeoutSeconds (${limit} s)`), { background: true });
    }
    try {
      const output = await run.result;
      if (!this.aborted.has(execution.executionArn)) {
        execution.output = output;
        execution.status = 'SUCCEEDED';
      }
    } catch (error) {
      // the library wraps the failure: a Fail state's Error/Cause, or the error a state raised
      const failure = ((error as Error).cause ?? error) as Error;
      if (!this.aborted.has(execution.executionArn)) {
        execution.status = (error as Error).name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED';
        execution.error = failure.name;
        execution.cause = failure.message;
      }
    } finally {
      executionTimeout?.cancel();
      this.running.delete(execution.executionArn);
      execution.stopDate ??= this.clock.date();
      // a callback still waiting ends with its execution (a Parallel branch failed, an abort)
      for (const task of this.callbacks.values()) {
        if (task.open && task.execution === execution) this.closeTask(task, { error: new LambdaFunctionError('States.Runtime', 'the execution has ended') });
      }
      presence.leave();
      for (const listener of this.listeners) listener(execution);
    }
  }

  /**
   * Returns the definition to run and the local handlers for its Task states: Wait states
   * become Tasks that sleep on the virtual clock; each Task invokes its Lambda function (as
   * its resource says: directly, through lambda:invoke, or as a callback) and, when it runs
   * again after a failure, first sleeps the Retry interval.
   */
  private prepare(definition: AslDefinition, execution: SimExecution) {
    const handlers: Record<string, (input: any) => Promise<any>> = {};
    const visit = (def: AslDefinition): AslDefinition => {
      const states: Record<string, Record<string, unknown>> = {};
      for (const [name, original] of Object.entries(def.States)) {
        const state = wholeResultPaths(original);
        if (handlers[name]) throw new Error(`sandbox: state name ${name} is used twice; names must be unique across the workflow`);
        if (state.Type === 'Wait') {
          const { Seconds, SecondsPath, Timestamp, TimestampPath, Type: _t, Comment: _c, ...rest } = state;
          // no ResultPath: the handler's result (its input) is the output, as a Wait's is
          states[name] = { ...rest, Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: this.libraryTimeoutSeconds };
          handlers[name] = async (waitInput: unknown) => {
            execution.history.push({ state: name, at: this.clock.iso() });
            const ms = waitMilliseconds({ Seconds, SecondsPath, Timestamp, TimestampPath }, waitInput, this.clock.now());
            await this.sleepIn(execution, ms);
            return waitInput;
          };
          continue;
        }
        if (state.Type === 'Task') {
          const { state: runnable, attempt } = this.taskOf(name, state, execution);
          handlers[name] = this.withRetrySleeps(name, state, execution, attempt);
          states[name] = runnable;
          continue;
        }
        if (state.Type === 'Map' || state.Type === 'Parallel') {
          const copy = { ...state };
          if (copy.ItemProcessor) copy.ItemProcessor = visit(copy.ItemProcessor as AslDefinition);
          if (copy.Iterator) copy.Iterator = visit(copy.Iterator as AslDefinition);
          if (copy.Branches) copy.Branches = (copy.Branches as AslDefinition[]).map(visit);
          states[name] = copy;
          continue;
        }
        states[name] = state;
      }
      return { ...def, States: states };
    };
    // the execution's own limit runs on the virtual clock (see run)
    const { TimeoutSeconds: _executionLimit, ...runnable } = visit(definition);
    return { definition: runnable as AslDefinition, handlers };
  }

  /**
   * The state as the library runs it, and one attempt of it. The library gets the
   * out-of-reach timeout and none of the state's limits; an integration's Parameters (and a
   * state whose limits are paths) are wrapped, so the attempt also receives the
   * TimeoutSecondsPath / HeartbeatSecondsPath values the library evaluated.
   */
  private taskOf(name: string, state: Record<string, unknown>, execution: SimExecution): { state: Record<string, unknown>; attempt: (input: unknown) => Promise<unknown> } {
    const resource = String(state.Resource);
    const { TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, HeartbeatSecondsPath, ...rest } = state;
    const paths = {
      ...(typeof TimeoutSecondsPath === 'string' ? { [`${TIMEOUT_SECONDS}.$`]: TimeoutSecondsPath } : {}),
      ...(typeof HeartbeatSecondsPath === 'string' ? { [`${HEARTBEAT_SECONDS}.$`]: HeartbeatSecondsPath } : {}),
    };
    const integration = resource === LAMBDA_INVOKE || resource === LAMBDA_CALLBACK;
    if (integration && (!state.Parameters || typeof state.Parameters !== 'object')) throw new Error(`sandbox: ${name} (${resource}) needs Parameters with FunctionName`);
    const wrapped = integration || Object.keys(paths).length > 0;
    const parameters = resource === LAMBDA_CALLBACK ? withTokenPlaceholder(state.Parameters) : state.Parameters;
    const runnable = {
      ...rest,
      TimeoutSeconds: this.libraryTimeoutSeconds,
      ...(wrapped ? { Parameters: { ...(parameters === undefined ? { [`${PARAMETERS}.$`]: '$' } : { [PARAMETERS]: parameters }), ...paths } } : {}),
    };
    const limits = (input: unknown) => {
      const given = (wrapped ? input : {}) as Record<string, unknown>;
      return {
        timeoutSeconds: (given[TIMEOUT_SECONDS] ?? TimeoutSeconds) as number | undefined,
        heartbeatSeconds: (given[HEARTBEAT_SECONDS] ?? HeartbeatSeconds) as number | undefined,
      };
    };
    const argument = (input: unknown) => (wrapped ? (input as Record<string, unknown>)[PARAMETERS] : input);

    if (resource === LAMBDA_CALLBACK) {
      return { state: runnable, attempt: (input) => this.callback(name, execution, argument(input) as InvokeParameters, limits(input)) };
    }
    const call =
      resource === LAMBDA_INVOKE
        ? async (input: unknown) => {
            const invoke = argument(input) as InvokeParameters;
            return invocationEnvelope(await this.invokeFunction(invoke, invoke.Payload));
          }
        : (input: unknown) => this.lambda.invoke(resource, argument(input));
    return { state: runnable, attempt: (input) => this.withinTimeout(limits(input).timeoutSeconds, () => this.awayFromClock(execution, () => call(input))) };
  }

  /**
   * Waits for something other than the execution itself — a Lambda invocation (an actor of
   * its own, which may sleep on the clock: a throttled SDK call backing off), a callback's
   * answer — with the execution off the clock meanwhile, so the world may move once that is
   * all that is left to wait for.
   */
  private async awayFromClock<T>(execution: SimExecution, wait: () => Promise<T>): Promise<T> {
    const run = this.running.get(execution.executionArn);
    if (run && ++run.waiting === 1) run.presence.leave();
    try {
      return await wait();
    } finally {
      if (run && --run.waiting === 0 && execution.status === 'RUNNING') run.presence.enter();
    }
  }

  /**
   * Ends an attempt with States.Timeout once `seconds` of virtual time have passed, as the
   * service ends a task that outruns its TimeoutSeconds; the work itself runs on, unheeded.
   * A background timer: a task blocked on something else does not keep `settle()` running.
   */
  private async withinTimeout<T>(seconds: number | undefined, work: () => Promise<T>): Promise<T> {
    if (seconds === undefined) return work();
    const error = await statesTimeout(`the task did not finish within ${seconds} s (TimeoutSeconds)`);
    let timer: Timer | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.clock.after(seconds * 1000, () => reject(error), { background: true });
    });
    try {
      return await Promise.race([work(), timedOut]);
    } finally {
      timer?.cancel();
    }
  }

  /** A Task's handler: the same state again with nothing in between is a retry, which first sleeps its interval. */
  private withRetrySleeps(name: string, state: Record<string, unknown>, execution: SimExecution, attempt: (input: unknown) => Promise<unknown>) {
    const retry = (state.Retry as Retrier[] | undefined) ?? [];
    let lastError: string | undefined;
    let retriesByRetrier = retry.map(() => 0);
    return async (taskInput: unknown) => {
      if (execution.history.at(-1)?.state !== name) lastError = undefined;
      const entry: SimExecution['history'][number] = { state: name, at: this.clock.iso() };
      execution.history.push(entry);
      if (lastError !== undefined) {
        const failed = lastError;
        // as the service matches: States.TaskFailed is every task error but a timeout
        const index = retry.findIndex((r) => r.ErrorEquals.includes(failed) || r.ErrorEquals.includes('States.ALL') || (r.ErrorEquals.includes('States.TaskFailed') && failed !== 'States.Timeout'));
        if (index >= 0) {
          const r = retry[index]!;
          const interval = (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, retriesByRetrier[index]!);
          retriesByRetrier[index]!++;
          await this.sleepIn(execution, Math.min(interval, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000);
        }
      }
      try {
        const result = await attempt(taskInput);
        lastError = undefined;
        retriesByRetrier = retry.map(() => 0);
        return result;
      } catch (error) {
        lastError = (error as Error).name;
        entry.error = `${lastError}: ${(error as Error).message}`.slice(0, 500);
        throw error;
      }
    };
  }

  /** Invokes the function a lambda:invoke state names; Lambda's error document becomes the Cause. */
  private async invokeFunction(parameters: InvokeParameters, payload: unknown): Promise<unknown> {
    const target = unqualified(String(parameters.FunctionName));
    if (parameters.InvocationType === 'Event') {
      // asynchronous invocation: accepted at once, the function's outcome is not the state's
      void this.lambda.invoke(target, payload).catch(() => undefined);
      return undefined;
    }
    try {
      return await this.lambda.invoke(target, payload);
    } catch (error) {
      const e = error as Error;
      if (e.name.startsWith('Lambda.')) throw error;
      throw new LambdaFunctionError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, requestId: randomUUID(), stackTrace: [] }));
    }
  }

  /**
   * One attempt of a callback state: 1. a fresh token, its timeouts running from now;
   * 2. the function invoked with the token in its payload (its failure fails the state);
   * 3. the execution steps off the clock until an answer or a timeout ends the task.
   */
  private async callback(state: string, execution: SimExecution, parameters: InvokeParameters, limits: { timeoutSeconds?: number | undefined; heartbeatSeconds?: number | undefined }): Promise<unknown> {
    // a timeout must end the task within the timer that fires it, so its error is made ready first
    const timeout = limits.timeoutSeconds === undefined ? undefined : await statesTimeout(`the task did not answer within ${limits.timeoutSeconds} s (TimeoutSeconds)`);
    const token = `AQ${randomBytes(64).toString('base64url').slice(0, 86)}`;
    const payload = replacePlaceholder(parameters.Payload, token);
    let resolve!: (outcome: CallbackOutcome) => void;
    const outcome = new Promise<CallbackOutcome>((r) => (resolve = r));
    const task: CallbackTask = {
      token,
      execution,
      state,
      since: this.clock.iso(),
      payload,
      open: true,
      timers: {},
      resolve,
      ...(limits.heartbeatSeconds !== undefined ? { heartbeatSeconds: limits.heartbeatSeconds } : {}),
    };
    this.callbacks.set(token, task);
    if (limits.timeoutSeconds !== undefined) {
      task.timers.timeout = this.clock.after(limits.timeoutSeconds * 1000, () => this.closeTask(task, { error: timeout! }), { background: true });
    }
    if (limits.heartbeatSeconds !== undefined) this.armHeartbeat(task);

    try {
      await this.awayFromClock(execution, () => this.invokeFunction(parameters, payload));
    } catch (error) {
      this.closeTask(task, { error: error as Error });
    }

    const answer = task.open ? await this.awayFromClock(execution, () => outcome) : await outcome;
    if ('error' in answer) throw answer.error;
    return answer.result;
  }

  private armHeartbeat(task: CallbackTask): void {
    task.timers.heartbeat?.cancel();
    task.timers.heartbeat = this.clock.after(task.heartbeatSeconds! * 1000, () => {
      this.closeTask(task, { error: new LambdaFunctionError('States.HeartbeatTimeout', `no heartbeat within ${task.heartbeatSeconds} s (HeartbeatSeconds)`) });
    }, { background: true });
  }

  /** Ends a callback task once: the first answer, timeout or end of the execution wins. */
  private closeTask(task: CallbackTask, outcome: CallbackOutcome): void {
    if (!task.open) return;
    task.open = false;
    task.timers.timeout?.cancel();
    task.timers.heartbeat?.cancel();
    task.resolve(outcome);
  }

  /** The task a SendTask… call is about, as the service checks it. */
  private openTask(taskToken: string | undefined): CallbackTask {
    if (!taskToken || !TOKEN.test(taskToken)) throw new InvalidToken({ message: 'Invalid Token: the task token is malformed', $metadata: {} });
    const task = this.callbacks.get(taskToken);
    if (!task) throw new TaskDoesNotExist({ message: 'Task Does Not Exist: no task has this token', $metadata: {} });
    if (!task.open) throw new TaskTimedOut({ message: "Task Timed Out: 'Provided task does not exist anymore'", $metadata: {} });
    return task;
  }
}

/**
 * Whether an execution counts as awake for the virtual clock. It is an actor from start to
 * end, except while it waits on something else: a Lambda invocation (an actor of its own,
 * which holds the clock while it runs and may sleep on it), or a callback's answer — then,
 * like a sleeping actor with only background timers, it no longer keeps `settle()` running.
 */
class Presence {
  private release: (() => void) | undefined;

  constructor(private readonly clock: VirtualClock) {}

  enter(): void {
    if (this.release) return;
    // an actor whose body ends when the execution steps off the clock
    void this.clock.actor(() => new Promise<void>((resolve) => (this.release = resolve)));
  }

  leave(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}

/**
 * `ResultPath: $` (the result replaces the input) as the library understands it: no ResultPath.
 * The library would otherwise store the result under a key named "$".
 */
function wholeResultPaths(state: Record<string, unknown>): Record<string, unknown> {
  const { ResultPath, Catch, ...rest } = state;
  const catchers = Catch as Record<string, unknown>[] | undefined;
  return {
    ...rest,
    ...('ResultPath' in state && ResultPath !== '$' ? { ResultPath } : {}),
    ...(catchers ? { Catch: catchers.map(({ ResultPath: path, ...catcher }) => (path === '$' || path === undefined ? catcher : { ...catcher, ResultPath: path })) } : {}),
  };
}

interface InvokeParameters {
  FunctionName: unknown;
  Payload?: unknown;
  InvocationType?: unknown;
  [key: string]: unknown;
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
}

/** What `arn:aws:states:::lambda:invoke` returns: the function's result under `Payload`. */
function invocationEnvelope(payload: unknown): Record<string, unknown> {
  const requestId = randomUUID();
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload === undefined ? null : payload,
    SdkHttpMetadata: { HttpHeaders: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId }, HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

/** `arn:…:function:name:alias` or `name:alias` → the function itself (the sandbox runs $LATEST). */
function unqualified(functionName: string): string {
  const parts = functionName.split(':');
  if (functionName.startsWith('arn:') && parts.length === 8) return parts.slice(0, 7).join(':');
  if (!functionName.startsWith('arn:') && parts.length === 2) return parts[0]!;
  return functionName;
}

/** Parameters with every `$$.Task.Token` replaced by the placeholder (a path, or inside an intrinsic function). */
function withTokenPlaceholder(template: unknown): unknown {
  if (Array.isArray(template)) return template.map(withTokenPlaceholder);
  if (!template || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => {
      if (key.endsWith('.$') && value === '$$.Task.Token') return [key.slice(0, -2), TOKEN_PLACEHOLDER];
      if (key.endsWith('.$') && typeof value === 'string') return [key, value.replaceAll('$$.Task.Token', `'${TOKEN_PLACEHOLDER}'`)];
      return [key, withTokenPlaceholder(value)];
    }),
  );
}

function replacePlaceholder(value: unknown, token: string): unknown {
  if (typeof value === 'string') return value.replaceAll(TOKEN_PLACEHOLDER, token);
  if (Array.isArray(value)) return value.map((v) => replacePlaceholder(v, token));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replacePlaceholder(v, token)]));
  return value;
}

/**
 * The prototype of the library's own States.Timeout. The library tells a task's timeout apart
 * from its other failures by class (a catcher for States.TaskFailed matches every task error
 * but a timeout), and does not export that class; one run of a task that never answers, with
 * a one-millisecond timeout, hands over an instance. Taken once per process.
 */
let timeoutPrototype: Promise<object> | undefined;

/** A States.Timeout the library takes for its own: Retry and Catch match it as a timeout. */
async function statesTimeout(message: string): Promise<Error> {
  const error = Object.setPrototypeOf(new Error(message), await statesTimeoutPrototype()) as Error;
  error.name = 'States.Timeout';
  return error;
}

function statesTimeoutPrototype(): Promise<object> {
  timeoutPrototype ??= (async () => {
    const probe = new StateMachine(
      { StartAt: 'Probe', States: { Probe: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:111122223333:function:probe', TimeoutSeconds: 0.001, End: true } } } as never,
      { validationOptions: { noValidate: true } },
    );
    const failure = await probe.run({}, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise<never>(() => undefined) } } }).result.then(
      () => undefined,
      (error: Error) => error.cause as Error | undefined,
    );
    if (failure?.name !== 'States.Timeout') throw new Error(`sandbox: aws-local-stepfunctions no longer fails a task that times out with States.Timeout (got ${failure?.name})`);
    return Object.getPrototypeOf(failure) as object;
  })();
  return timeoutPrototype;
}

function waitMilliseconds(
  wait: { Seconds?: unknown; SecondsPath?: unknown; Timestamp?: unknown; TimestampPath?: unknown },
  input: unknown,
  now: number,
): number {
  if (typeof wait.Seconds === 'number') return wait.Seconds * 1000;
  if (typeof wait.SecondsPath === 'string') return Number(readPath(input, wait.SecondsPath)) * 1000;
  const timestamp = typeof wait.Timestamp === 'string' ? wait.Timestamp : typeof wait.TimestampPath === 'string' ? String(readPath(input, wait.TimestampPath)) : undefined;
  if (timestamp === undefined) throw new Error('Wait state without Seconds, SecondsPath, Timestamp or TimestampPath');
  return Math.max(0, new Date(timestamp).getTime() - now);
}

/** `$.a.b[0]` — the reference paths Wait states use */
function readPath(input: unknown, path: string): unknown {
  const parts = path.replace(/^\$\.?/, '').split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '');
  return parts.reduce<any>((node, key) => (node === undefined || node === null ? undefined : node[key]), input);
}
