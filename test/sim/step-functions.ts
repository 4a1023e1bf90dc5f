import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidExecutionInput,
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
import { appendEvent, emptyHistory, fitsInHistory, historyClosed, TASK_EVENTS, type HistoryCounts, type HistoryEventType, type TaskKind } from './step-functions-history.js';
import {
  checkErrorAndCause,
  checkSendTaskSuccess,
  checkStartExecution,
  checkTaskToken,
  HISTORY_LIMIT_CAUSE,
  overPayloadLimit,
} from './step-functions-quotas.js';

/**
 * `$$.Execution.StartTime` as Step Functions gives it: when the execution started, on the
 * virtual clock. aws-local-stepfunctions (3.x) writes `new Date()` over the StartTime a run is
 * given; its `execute` builds the context synchronously, first thing, so for that moment
 * `new Date()` answers the execution's own start. (Only the zero-argument form changes.)
 */
const originalExecute = (StateMachine.prototype as unknown as { execute: (...args: unknown[]) => Promise<unknown> }).execute;
(StateMachine.prototype as unknown as { execute: (...args: unknown[]) => Promise<unknown> }).execute = function executeAtStartTime(this: unknown, ...args: unknown[]) {
  const startTime = (args[1] as { runOptions?: { context?: { Execution?: { StartTime?: string } } } } | undefined)?.runOptions?.context?.Execution?.StartTime;
  if (!startTime) return originalExecute.apply(this, args);
  const RealDate = globalThis.Date;
  const at = RealDate.parse(startTime);
  globalThis.Date = class extends RealDate {
    constructor(...values: unknown[]) {
      if (values.length === 0) super(at);
      else super(...(values as [number]));
    }
  } as DateConstructor;
  try {
    return originalExecute.apply(this, args);
  } finally {
    globalThis.Date = RealDate;
  }
};

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
 *
 * Quotas are the service's (step-functions-quotas.ts, step-functions-history.ts):
 * - every execution counts its history events as AWS records them (`historyEventCount`,
 *   `historyEventsByType`, `historyEvents` on SimExecution), from the library's own event log
 *   (tapped as each event is dispatched, see `tapEvents`) and from the Task attempts the
 *   sandbox runs; the 25,000th event must be the execution's end, or the execution fails at
 *   once with States.Runtime ("The execution reached the maximum number of history events
 *   (25000).") — no Retry or Catch, no further state, a running Wait or retry sleep called off;
 * - payloads are limited to 262,144 UTF-8 bytes: StartExecution's input and SendTaskSuccess's
 *   output (ValidationException), a Task's parameters and result, every state's output
 *   (States.DataLimitExceeded; see `dataLimitExceeded` for what may catch it);
 * - names, tokens, error and cause strings are refused as the API refuses them.
 */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/**
 * An execution, and from HistoryCounts its history as AWS would record it: `historyEvents`
 * (the event types, in order), `historyEventCount`, `historyEventsByType`.
 */
export interface SimExecution extends HistoryCounts {
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

/** One execution's size in history events, for tables and reports (`SimStepFunctions.historyEventCounts`). */
export interface ExecutionHistorySize {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  historyEventCount: number;
  historyEventsByType: Partial<Record<HistoryEventType, number>>;
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

// the tokens the sandbox hands out; the API's length limit (1–2048) is checked first
const TOKEN = /^AQ[A-Za-z0-9_-]{86}$/;
const DATA_LIMIT = 'States.DataLimitExceeded';
// errors no States.ALL or States.TaskFailed matches: only a retrier or catcher naming them
// ("The States.ALL error type … can't catch the States.DataLimitExceeded terminal error or
// Runtime error types": https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
const TERMINAL_ERRORS = new Set([DATA_LIMIT, 'States.Runtime']);

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

/** What the library hands its event log (the subset the sandbox reads). */
interface LibraryEvent {
  type: string;
  state?: { name: string; type: string; output?: unknown };
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
  /** see failedGroups */
  private readonly groupFailures = new Map<string, Set<string>>();
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
  /** Set by a world that evaluates IAM: Lambda's answer to a state machine invoking a function with its role. */
  authorizeInvoke: ((stateMachineArn: string, functionArn: string) => Error | undefined) | undefined;

  libraryDefinition(stateMachineArn: string): AslDefinition {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) throw new Error(`no state machine ${stateMachineArn}`);
    const probe: SimExecution = { executionArn: '', stateMachineArn, name: '', input: '{}', status: 'RUNNING', startDate: this.clock.date(), history: [], ...emptyHistory(), done: Promise.resolve() };
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
    checkErrorAndCause(error, cause);
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
        reject(executionEnded());
      };
    });
    pending.add(callOff);
    try {
      await Promise.race([sleep.done, calledOff]);
    } finally {
      pending.delete(callOff);
    }
  }

  /**
   * Ends a running execution from outside its states: stopped, out of time, or failed by a
   * quota (the history's, a state's output). Its last history event is recorded here: the
   * library, told to abort, reports nothing more that counts.
   */
  private end(execution: SimExecution, status: 'ABORTED' | 'TIMED_OUT' | 'FAILED', error: string | undefined, cause: string | undefined): void {
    const run = this.running.get(execution.executionArn);
    if (execution.status !== 'RUNNING' || !run || historyClosed(execution)) return;
    const last = ({ ABORTED: 'ExecutionAborted', TIMED_OUT: 'ExecutionTimedOut', FAILED: 'ExecutionFailed' } as const)[status];
    if (fitsInHistory(execution, last)) appendEvent(execution, last);
    else {
      // the 25,000th event can only be the end of a failing (or succeeding) execution
      [status, error, cause] = ['FAILED', 'States.Runtime', HISTORY_LIMIT_CAUSE];
      appendEvent(execution, 'ExecutionFailed');
    }
    for (const cancel of this.sleeps.get(execution.executionArn) ?? []) cancel();
    this.sleeps.delete(execution.executionArn);
    this.aborted.add(execution.executionArn);
    execution.status = status;
    execution.stopDate = this.clock.date();
    if (error !== undefined) execution.error = error;
    if (cause !== undefined) execution.cause = cause;
    run.abort();
  }

  /**
   * Records the execution's next history event. False if it has ended, or if the event would
   * take the history's last place: then the execution has just failed on the quota instead.
   */
  private record(execution: SimExecution, type: HistoryEventType): boolean {
    if (execution.status !== 'RUNNING' || historyClosed(execution)) return false;
    if (!fitsInHistory(execution, type)) {
      this.end(execution, 'FAILED', 'States.Runtime', HISTORY_LIMIT_CAUSE);
      return false;
    }
    appendEvent(execution, type);
    return true;
  }

  /** Every execution's size in history events (of one state machine, if given), in start order. */
  historyEventCounts(stateMachineArn?: string): ExecutionHistorySize[] {
    return [...this.executions.values()]
      .filter((e) => stateMachineArn === undefined || e.stateMachineArn === stateMachineArn)
      .map((e) => ({ executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, historyEventCount: e.historyEventCount, historyEventsByType: { ...e.historyEventsByType } }));
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
    checkSendTaskSuccess(taskToken, output);
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
    checkErrorAndCause(error, cause, { taskToken });
    const task = this.openTask(taskToken);
    this.closeTask(task, { error: new LambdaFunctionError(error ?? '', cause ?? '') });
    return {};
  }

  sendTaskHeartbeat(taskToken: string | undefined): Record<string, never> {
    checkTaskToken(taskToken);
    const task = this.openTask(taskToken);
    if (task.heartbeatSeconds !== undefined) this.armHeartbeat(task);
    return {};
  }

  start(stateMachineArn: string | undefined, requestedName: string | undefined, input: string): { executionArn: string; startDate: Date } {
    // the request's length constraints (ValidationException) come before the operation's own checks
    checkStartExecution(requestedName, input);
    const machine = stateMachineArn ? this.machines.get(stateMachineArn) : undefined;
    if (!machine) throw new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${stateMachineArn}'`, $metadata: {} });
    const name = requestedName ?? randomUUID();
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch (error) {
      throw new InvalidExecutionInput({ message: `Invalid State Machine Execution Input: '${(error as Error).message}'`, $metadata: {} });
    }
    const executionArn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: existing.startDate };
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
    }
    const execution: SimExecution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      status: 'RUNNING',
      startDate: this.clock.date(),
      history: [],
      ...emptyHistory(),
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
      const { definition, handlers, waits } = this.prepare(machine.definition, execution);
      // the definition is validated once per state machine (the library compiles its JSON
      // schema each time: a large share of a busy sandbox's time); what prepare() makes of it
      // is the same for every execution
      const validated = this.validated.has(machine.arn);
      const stateMachine = new StateMachine(definition as never, { validationOptions: validated ? { noValidate: true } : { checkArn: false } });
      this.validated.add(machine.arn);
      tapEvents(stateMachine, (event) => this.onLibraryEvent(execution, waits, event));
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
    // a quota may have ended it before the library handed over its abort
    if (execution.status !== 'RUNNING') run.abort();
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
      this.groupFailures.delete(execution.executionArn);
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
   * One event of the library's log, as AWS would record it (see step-functions-history.ts).
   * The library reports states entered and exited, and the execution's start and end; the
   * Task attempts' own events are recorded by the sandbox, which runs them. A state's output
   * over the payload quota ends the execution here, at the transition: no Catch can take it.
   */
  private onLibraryEvent(execution: SimExecution, waits: ReadonlySet<string>, event: LibraryEvent): void {
    const name = event.state?.name ?? '';
    const type = waits.has(name) ? 'Wait' : (event.state?.type ?? '');
    const group = type === 'Map' || type === 'Parallel' ? (type as 'Map' | 'Parallel') : undefined;
    switch (event.type) {
      case 'ExecutionStarted':
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.record(execution, event.type);
        return;
      case 'StateEntered':
        if (this.record(execution, `${type}StateEntered` as HistoryEventType) && group) this.record(execution, `${group}StateStarted`);
        return;
      case 'StateExited': {
        if (overPayloadLimit(event.state?.output)) {
          this.end(execution, 'FAILED', DATA_LIMIT, `The state/task '${name}' returned a result with a size exceeding the maximum number of bytes service limit.`);
          return;
        }
        const failedGroups = this.failedGroups(execution);
        if (group === 'Map' && !failedGroups.delete(name) && !this.record(execution, 'MapStateSucceeded')) return;
        if (group === 'Parallel') failedGroups.delete(name);
        this.record(execution, `${type}StateExited` as HistoryEventType);
        return;
      }
      case 'StateFailed':
        if (group) {
          this.failedGroups(execution).add(name);
          this.record(execution, `${group}StateFailed`);
        }
        return;
      case 'StateRetried':
        if (group) {
          this.failedGroups(execution).delete(name);
          this.record(execution, `${group}StateStarted`);
        }
        return;
      default:
        // StateCaught, ParallelBranch…: no event of AWS's; ExecutionAborted: the sandbox ends
        // executions itself (end); ExecutionTimeout: the execution's limit is kept off the library
        return;
    }
  }

  /** Map and Parallel states of an execution that failed and have not been retried since (no …StateSucceeded at their exit). */
  private failedGroups(execution: SimExecution): Set<string> {
    let failed = this.groupFailures.get(execution.executionArn);
    if (!failed) this.groupFailures.set(execution.executionArn, (failed = new Set()));
    return failed;
  }

  /**
   * Returns the definition to run and the local handlers for its Task states: Wait states
   * become Tasks that sleep on the virtual clock; each Task invokes its Lambda function (as
   * its resource says: directly, through lambda:invoke, or as a callback) and, when it runs
   * again after a failure, first sleeps the Retry interval.
   */
  private prepare(definition: AslDefinition, execution: SimExecution) {
    const handlers: Record<string, (input: any) => Promise<any>> = {};
    /** the Wait states, which the library runs as Tasks */
    const waits = new Set<string>();
    const visit = (def: AslDefinition): AslDefinition => {
      const states: Record<string, Record<string, unknown>> = {};
      for (const [name, original] of Object.entries(def.States)) {
        const state = wholeResultPaths(original);
        if (handlers[name]) throw new Error(`sandbox: state name ${name} is used twice; names must be unique across the workflow`);
        if (state.Type === 'Wait') {
          waits.add(name);
          const { Seconds, SecondsPath, Timestamp, TimestampPath, Type: _t, Comment: _c, ...rest } = state;
          // no ResultPath: the handler's result (its input) is the output, as a Wait's is
          states[name] = { ...rest, Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: this.libraryTimeoutSeconds };
          handlers[name] = async (waitInput: unknown) => {
            if (execution.status !== 'RUNNING') throw executionEnded();
            execution.history.push({ state: name, at: this.clock.iso() });
            const ms = waitMilliseconds({ Seconds, SecondsPath, Timestamp, TimestampPath }, waitInput, this.clock.now());
            await this.sleepIn(execution, ms);
            return waitInput;
          };
          continue;
        }
        if (state.Type === 'Task') {
          const { state: runnable, ...task } = this.taskOf(name, state, execution);
          handlers[name] = this.withRetrySleeps(name, state, execution, task);
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
    return { definition: runnable as AslDefinition, handlers, waits: waits as ReadonlySet<string> };
  }

  /**
   * The state as the library runs it, and one attempt of it. The library gets the
   * out-of-reach timeout and none of the state's limits; an integration's Parameters (and a
   * state whose limits are paths) are wrapped, so the attempt also receives the
   * TimeoutSecondsPath / HeartbeatSecondsPath values the library evaluated.
   */
  private taskOf(name: string, state: Record<string, unknown>, execution: SimExecution): { state: Record<string, unknown> } & Task {
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
      return { state: runnable, kind: 'lambda-callback', resultOf: 'lambda', parameters: argument, attempt: (input) => this.callback(name, execution, argument(input) as InvokeParameters, limits(input)) };
    }
    const call =
      resource === LAMBDA_INVOKE
        ? async (input: unknown) => {
            const invoke = argument(input) as InvokeParameters;
            return invocationEnvelope(await this.invokeFunction(execution, invoke, invoke.Payload));
          }
        : async (input: unknown) => {
            this.checkInvoke(execution, resource);
            return this.lambda.invoke(resource, argument(input));
          };
    return {
      state: runnable,
      // the DataLimitExceeded cause names a function ARN resource as such, an integration by its service
      ...(resource === LAMBDA_INVOKE ? { kind: 'lambda-invoke' as const, resultOf: 'lambda' } : { kind: 'lambda-function' as const, resultOf: resource }),
      parameters: argument,
      attempt: (input) => this.withinTimeout(limits(input).timeoutSeconds, () => this.awayFromClock(execution, () => call(input))),
    };
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

  /**
   * A Task's handler, called once per attempt (the same state again with nothing in between
   * is a retry): 1. nothing runs once the execution has ended; 2. a retry first sleeps its
   * interval; 3. the parameters are held to the payload quota; 4. the attempt's history
   * events are recorded as it is scheduled, started (a callback's submission in `callback`)
   * and ends; 5. its result is held to the payload quota. An event that would overrun the
   * history ends the execution instead, and the attempt goes no further.
   */
  private withRetrySleeps(name: string, state: Record<string, unknown>, execution: SimExecution, task: Task) {
    const retry = (state.Retry as Retrier[] | undefined) ?? [];
    const events = TASK_EVENTS[task.kind];
    let lastError: string | undefined;
    let retriesByRetrier = retry.map(() => 0);
    return async (taskInput: unknown) => {
      if (execution.status !== 'RUNNING') throw executionEnded();
      if (execution.history.at(-1)?.state !== name) lastError = undefined;
      const entry: SimExecution['history'][number] = { state: name, at: this.clock.iso() };
      execution.history.push(entry);
      if (lastError !== undefined) {
        const failed = lastError;
        // as the service matches: States.TaskFailed is every task error but a timeout, and
        // neither wildcard matches a terminal error
        const wildcard = !TERMINAL_ERRORS.has(failed);
        const index = retry.findIndex((r) => r.ErrorEquals.includes(failed) || (wildcard && (r.ErrorEquals.includes('States.ALL') || (r.ErrorEquals.includes('States.TaskFailed') && failed !== 'States.Timeout'))));
        if (index >= 0) {
          const r = retry[index]!;
          const interval = (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, retriesByRetrier[index]!);
          retriesByRetrier[index]!++;
          await this.sleepIn(execution, Math.min(interval, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000);
        }
      }
      const failed = (error: Error): Error => {
        lastError = error.name;
        entry.error = `${lastError}: ${error.message}`.slice(0, 500);
        return error;
      };
      if (overPayloadLimit(task.parameters(taskInput))) {
        throw failed(await this.dataLimitExceeded(state, retriesByRetrier, `The state/task '${name}' provided parameters with a size exceeding the maximum number of bytes service limit.`));
      }
      if (!this.record(execution, events.scheduled) || !this.record(execution, events.started)) throw executionEnded();
      let outcome: { result: unknown } | { error: Error };
      try {
        outcome = { result: await task.attempt(taskInput) };
      } catch (error) {
        outcome = { error: error as Error };
      }
      if (execution.status !== 'RUNNING') throw executionEnded();
      if ('error' in outcome) {
        const timedOut = outcome.error.name === 'States.Timeout' || outcome.error.name === 'States.HeartbeatTimeout';
        if (!this.record(execution, timedOut ? events.timedOut : events.failed)) throw executionEnded();
        throw failed(outcome.error);
      }
      if (overPayloadLimit(outcome.result)) {
        if (!this.record(execution, events.failed)) throw executionEnded();
        throw failed(await this.dataLimitExceeded(state, retriesByRetrier, `The state/task '${task.resultOf}' returned a result with a size exceeding the maximum number of bytes service limit.`));
      }
      if (!this.record(execution, events.succeeded)) throw executionEnded();
      lastError = undefined;
      retriesByRetrier = retry.map(() => 0);
      return outcome.result;
    };
  }

  /**
   * The error of a Task whose parameters or result are over the payload quota. AWS documents
   * States.DataLimitExceeded as "a terminal error that can't be caught by the States.ALL error
   * type" (concepts-error-handling.html); a retrier or catcher that names it takes it. So the
   * library may retry it only with attempts left on a retrier naming it, and catch it only
   * with a catcher naming it; States.ALL comes last in both lists, and States.TaskFailed does
   * not match it (it carries the class the library leaves out of that wildcard). With neither,
   * the execution fails with it.
   * (LocalStack's snapshot recorded against AWS in 2024-03 shows a States.ALL catcher taking
   * an oversized Lambda result: the sandbox keeps to the documentation, the stricter of the two.)
   */
  private async dataLimitExceeded(state: Record<string, unknown>, retriesByRetrier: readonly number[], cause: string): Promise<Error> {
    const retry = (state.Retry as Retrier[] | undefined) ?? [];
    const catchers = (state.Catch as { ErrorEquals: string[] }[] | undefined) ?? [];
    const index = retry.findIndex((r) => r.ErrorEquals.includes(DATA_LIMIT));
    return terminalError(DATA_LIMIT, cause, {
      retryable: index >= 0 && retriesByRetrier[index]! < (retry[index]!.MaxAttempts ?? 3),
      catchable: catchers.some((c) => c.ErrorEquals.includes(DATA_LIMIT)),
    });
  }

  /**
   * Lambda's authorization of the invocation, with the state machine's role (when the world
   * evaluates IAM: `authorizeInvoke`). Denied, the Task fails as Step Functions reports it:
   * `Lambda.AWSLambdaException`, the cause naming Lambda's AccessDeniedException.
   */
  private checkInvoke(execution: SimExecution, functionArn: string): void {
    const denied = this.authorizeInvoke?.(execution.stateMachineArn, functionArn);
    if (!denied) return;
    const error = new Error(`${denied.message} (Service: Lambda, Status Code: 403, Error Code: AccessDeniedException, Request ID: ${randomUUID()})`);
    error.name = 'Lambda.AWSLambdaException';
    throw error;
  }

  /** Invokes the function a lambda:invoke state names; Lambda's error document becomes the Cause. */
  private async invokeFunction(execution: SimExecution, parameters: InvokeParameters, payload: unknown): Promise<unknown> {
    const target = unqualified(String(parameters.FunctionName));
    this.checkInvoke(execution, String(parameters.FunctionName));
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
      await this.awayFromClock(execution, () => this.invokeFunction(execution, parameters, payload));
      // the function has the token: the task is submitted and waits for its answer
      if (!this.record(execution, 'TaskSubmitted')) this.closeTask(task, { error: executionEnded() });
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

/** A Task state as the sandbox runs it. */
interface Task {
  kind: TaskKind;
  /** who "returned a result" too large, as the DataLimitExceeded cause names it */
  resultOf: string;
  /** what the resource is called with: the state's input after Parameters */
  parameters: (input: unknown) => unknown;
  /** one attempt: the invocation, its timeouts, a callback's wait */
  attempt: (input: unknown) => Promise<unknown>;
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
 * Hands every event of the library's log to `tap` as it is dispatched, before the library
 * goes on: its public `eventLogs` is an async generator that lags behind the run, and the
 * history quota must stop an execution at the very event that would overrun it. The log is
 * reached where `run()` hands it to the machine's `execute`; a library that no longer does so
 * fails here, loudly, rather than count nothing.
 */
function tapEvents(machine: StateMachine, tap: (event: LibraryEvent) => void): void {
  type Logger = { dispatch?: (event: LibraryEvent) => void };
  type Execute = (this: unknown, input: unknown, options: { eventLogger?: Logger }, ...rest: unknown[]) => unknown;
  const internals = machine as unknown as { execute?: Execute };
  const execute = internals.execute;
  if (typeof execute !== 'function') throw new Error('sandbox: aws-local-stepfunctions no longer runs an execution through StateMachine#execute; the history count needs updating');
  internals.execute = function tappedExecute(this: unknown, input, options, ...rest) {
    const logger = options?.eventLogger;
    const dispatch = logger?.dispatch;
    if (!logger || typeof dispatch !== 'function') throw new Error('sandbox: aws-local-stepfunctions no longer hands StateMachine#execute an event logger; the history count needs updating');
    logger.dispatch = (event: LibraryEvent) => {
      tap(event);
      dispatch.call(logger, event);
    };
    return execute.call(this, input, options, ...rest);
  };
}

/**
 * What a state's handler throws once its execution has ended (stopped, timed out, failed by
 * a quota): the library neither retries nor catches it, and no state runs after it.
 */
function executionEnded(): Error {
  return Object.assign(new Error('the execution has ended'), { isRetryable: false, isCatchable: false });
}

/**
 * An error no States.TaskFailed matches (the library's timeout class, which that wildcard
 * leaves out), retried or caught only as allowed; see `dataLimitExceeded`.
 */
async function terminalError(name: string, message: string, allowed: { retryable: boolean; catchable: boolean }): Promise<Error> {
  const error = Object.setPrototypeOf(new Error(message), await statesTimeoutPrototype()) as Error & { retryable: boolean; catchable: boolean };
  error.name = name;
  error.retryable = allowed.retryable;
  error.catchable = allowed.catchable;
  return error;
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
