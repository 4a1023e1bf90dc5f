import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { StateMachine } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import type { VirtualClock } from './clock.js';
import type { SimLambda } from './lambda.js';
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
  /** the states entered, in order, with the virtual time */
  history: { state: string; at: string }[];
  done: Promise<void>;
}

const SFN_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const WAIT_RESOURCE = 'arn:aws:states:::sandbox:wait';

export class SimStepFunctions {
  readonly executions = new Map<string, SimExecution>();
  private readonly machines: Map<string, SimStateMachine>;
  private mock?: ReturnType<typeof mockClient>;
  private listeners: ((execution: SimExecution) => void)[] = [];
  private startListeners: ((execution: SimExecution) => void)[] = [];
  private readonly aborts = new Map<string, () => void>();

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
      const e = this.executions.get(input.executionArn);
      if (!e) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
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
  }

  restore(): void {
    this.mock?.restore();
  }

  private readonly aborted = new Set<string>();

  /** StopExecution for everything still running (the sandbox is shutting down). */
  abortAll(): void {
    for (const [arn, abort] of this.aborts) {
      this.aborted.add(arn);
      abort();
    }
  }

  onStarted(listener: (execution: SimExecution) => void): void {
    this.startListeners.push(listener);
  }

  onFinished(listener: (execution: SimExecution) => void): void {
    this.listeners.push(listener);
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
    execution.done = this.clock.actor(() => this.run(machine, execution, parsedInput));
    return { executionArn, startDate: execution.startDate };
  }

  private async run(machine: SimStateMachine, execution: SimExecution, input: unknown): Promise<void> {
    const { definition, handlers } = this.prepare(machine.definition, execution);
    const stateMachine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    const retryIntervalOverrides = Object.fromEntries(Object.keys(handlers).map((state) => [state, 0]));
    const run = stateMachine.run(input as never, {
      noThrowOnAbort: true,
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      context: {
        Execution: { Id: execution.executionArn, Name: execution.name, Input: input as never, StartTime: execution.startDate.toISOString() },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    this.aborts.set(execution.executionArn, run.abort);
    try {
      execution.output = await run.result;
      execution.status = this.aborted.has(execution.executionArn) ? 'ABORTED' : 'SUCCEEDED';
    } catch (error) {
      // the library wraps the failure: a Fail state's Error/Cause, or the error a state raised
      const failure = ((error as Error).cause ?? error) as Error;
      execution.status = (error as Error).name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED';
      execution.error = failure.name;
      execution.cause = failure.message;
    } finally {
      this.aborts.delete(execution.executionArn);
      execution.stopDate = this.clock.date();
      for (const listener of this.listeners) listener(execution);
    }
  }

  /**
   * Returns the definition to run and the local handlers for its Task states: Wait states
   * become Tasks that sleep on the virtual clock; each Task invokes its Lambda function and,
   * when it runs again after a failure, first sleeps the Retry interval.
   */
  private prepare(definition: AslDefinition, execution: SimExecution) {
    const handlers: Record<string, (input: any) => Promise<any>> = {};
    const visit = (def: AslDefinition): AslDefinition => {
      const states: Record<string, Record<string, unknown>> = {};
      for (const [name, state] of Object.entries(def.States)) {
        if (handlers[name]) throw new Error(`sandbox: state name ${name} is used twice; names must be unique across the workflow`);
        if (state.Type === 'Wait') {
          const { Seconds, SecondsPath, Timestamp, TimestampPath, Type: _t, Comment: _c, ...rest } = state;
          states[name] = { ...rest, Type: 'Task', Resource: WAIT_RESOURCE, ResultPath: '$' };
          handlers[name] = async (waitInput: unknown) => {
            execution.history.push({ state: name, at: this.clock.iso() });
            const ms = waitMilliseconds({ Seconds, SecondsPath, Timestamp, TimestampPath }, waitInput, this.clock.now());
            await this.clock.sleep(ms);
            return waitInput;
          };
          continue;
        }
        if (state.Type === 'Task') {
          const resource = String(state.Resource);
          const retry = (state.Retry as Retrier[] | undefined) ?? [];
          let lastError: string | undefined;
          let retriesByRetrier = retry.map(() => 0);
          handlers[name] = async (taskInput: unknown) => {
            // the same state again with nothing in between is a retry of the failed attempt
            if (execution.history.at(-1)?.state !== name) lastError = undefined;
            execution.history.push({ state: name, at: this.clock.iso() });
            if (lastError !== undefined) {
              const index = retry.findIndex((r) => r.ErrorEquals.includes(lastError!) || r.ErrorEquals.includes('States.ALL') || r.ErrorEquals.includes('States.TaskFailed'));
              if (index >= 0) {
                const r = retry[index]!;
                const interval = (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, retriesByRetrier[index]!);
                retriesByRetrier[index]!++;
                await this.clock.sleep(Math.min(interval, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000);
              }
            }
            try {
              const result = await this.lambda.invoke(resource, taskInput);
              lastError = undefined;
              retriesByRetrier = retry.map(() => 0);
              return result;
            } catch (error) {
              lastError = (error as Error).name;
              throw error;
            }
          };
          states[name] = state;
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
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
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
