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
 * An execution left waiting on a callback must be ended (SendTask…, StopExecution or
 * `abortAll()`, which `World.stop()` calls): the library races every Task against a real
 * timer that only ends with the task.
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
// The library races a callback state against a real timer of its TimeoutSeconds; the sandbox
// keeps the real timeout on the virtual clock, so the library's is pushed out of reach (and
// kept under setTimeout's 2^31 ms ceiling, above which Node fires at once).
const LIBRARY_TIMEOUT_SECONDS = 2_000_000;

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

interface Running {
  abort(): void;
  presence: Presence;
  /** callback tasks of the execution now waiting */
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
  /** every callback task by token, answered or not: a late answer is TaskTimedOut */
  private readonly callbacks = new Map<string, CallbackTask>();

  constructor(
    model: ServerlessModel,
    private readonly clock: VirtualClock,
    private readonly lambda: Pick<SimLambda, 'invoke'>,
  ) {
    this.machines = new Map(model.stateMachines.map((m) => [m.arn, m]));
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
    const run = this.running.get(execution.executionArn);
    if (execution.status === 'RUNNING' && run) {
      this.aborted.add(execution.executionArn);
      execution.status = 'ABORTED';
      execution.stopDate = this.clock.date();
      if (error !== undefined) execution.error = error;
      if (cause !== undefined) execution.cause = cause;
      run.abort();
    }
    return { stopDate: execution.stopDate ?? this.clock.date() };
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
    try {
      const { definition, handlers } = this.prepare(machine.definition, execution);
      const stateMachine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
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
      presence.leave();
      throw error;
    }
    this.running.set(execution.executionArn, { abort: run.abort, presence, waiting: 0 });
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
          states[name] = { ...rest, Type: 'Task', Resource: WAIT_RESOURCE };
          handlers[name] = async (waitInput: unknown) => {
            execution.history.push({ state: name, at: this.clock.iso() });
            const ms = waitMilliseconds({ Seconds, SecondsPath, Timestamp, TimestampPath }, waitInput, this.clock.now());
            await this.clock.sleep(ms);
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
    return { definition: visit(definition), handlers };
  }

  /** The state as the library runs it, and one attempt of it. */
  private taskOf(name: string, state: Record<string, unknown>, execution: SimExecution): { state: Record<string, unknown>; attempt: (input: unknown) => Promise<unknown> } {
    const resource = String(state.Resource);
    if (resource !== LAMBDA_INVOKE && resource !== LAMBDA_CALLBACK) {
      return { state, attempt: (input) => this.lambda.invoke(resource, input) };
    }
    if (!state.Parameters || typeof state.Parameters !== 'object') throw new Error(`sandbox: ${name} (${resource}) needs Parameters with FunctionName`);
    if (resource === LAMBDA_INVOKE) {
      return {
        state: { ...state, Parameters: { [PARAMETERS]: state.Parameters } },
        attempt: async (input) => {
          const parameters = (input as Record<string, unknown>)[PARAMETERS] as InvokeParameters;
          return invocationEnvelope(await this.invokeFunction(parameters, parameters.Payload));
        },
      };
    }
    const { TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds, HeartbeatSecondsPath, ...rest } = state;
    const runnable = {
      ...rest,
      TimeoutSeconds: LIBRARY_TIMEOUT_SECONDS,
      Parameters: {
        [PARAMETERS]: withTokenPlaceholder(state.Parameters),
        ...(typeof TimeoutSecondsPath === 'string' ? { [`${TIMEOUT_SECONDS}.$`]: TimeoutSecondsPath } : {}),
        ...(typeof HeartbeatSecondsPath === 'string' ? { [`${HEARTBEAT_SECONDS}.$`]: HeartbeatSecondsPath } : {}),
      },
    };
    return {
      state: runnable,
      attempt: (input) => {
        const wrapped = input as Record<string, unknown>;
        const timeoutSeconds = (wrapped[TIMEOUT_SECONDS] ?? TimeoutSeconds) as number | undefined;
        const heartbeatSeconds = (wrapped[HEARTBEAT_SECONDS] ?? HeartbeatSeconds) as number | undefined;
        return this.callback(name, execution, wrapped[PARAMETERS] as InvokeParameters, { timeoutSeconds, heartbeatSeconds });
      },
    };
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
          await this.clock.sleep(Math.min(interval, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000);
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
    const timeoutPrototype = await statesTimeoutPrototype();
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
      const error = Object.setPrototypeOf(new Error(`the task did not answer within ${limits.timeoutSeconds} s (TimeoutSeconds)`), timeoutPrototype) as Error;
      error.name = 'States.Timeout';
      task.timers.timeout = this.clock.after(limits.timeoutSeconds * 1000, () => this.closeTask(task, { error }), { background: true });
    }
    if (limits.heartbeatSeconds !== undefined) this.armHeartbeat(task);

    try {
      await this.invokeFunction(parameters, payload);
    } catch (error) {
      this.closeTask(task, { error: error as Error });
    }

    const run = task.open ? this.running.get(execution.executionArn) : undefined;
    if (run && ++run.waiting === 1) run.presence.leave();
    let answer: CallbackOutcome;
    try {
      answer = await outcome;
    } finally {
      if (run && --run.waiting === 0 && execution.status === 'RUNNING') run.presence.enter();
    }
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
 * end, except while every callback task it runs waits for an answer: then, like a sleeping
 * actor with only background timers, it no longer keeps `settle()` running.
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
