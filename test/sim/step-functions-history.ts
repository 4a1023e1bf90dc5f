import { HISTORY_EVENT_LIMIT } from './step-functions-quotas.js';

/**
 * The events Step Functions records in a Standard execution's history, counted the way AWS
 * records them, for the 25,000-event quota.
 *
 * Sources: the HistoryEvent type list
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html);
 * "Avoid reaching the history quota"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html); and the
 * histories LocalStack recorded against AWS for its snapshot tests (localstack/localstack,
 * tests/aws/services/stepfunctions/v2/**\/*.snapshot.json), which show per state:
 * - every state: `<Type>StateEntered`, then `<Type>StateExited` when it completes (a Fail
 *   state has no Exited event; a state whose failure ends the execution has none either);
 * - a Task whose Resource is a function ARN: LambdaFunctionScheduled, LambdaFunctionStarted,
 *   then LambdaFunctionSucceeded | LambdaFunctionFailed | LambdaFunctionTimedOut;
 * - `arn:aws:states:::lambda:invoke`: TaskScheduled, TaskStarted, then TaskSucceeded |
 *   TaskFailed | TaskTimedOut;
 * - `…lambda:invoke.waitForTaskToken`: TaskScheduled, TaskStarted, TaskSubmitted once the
 *   function has been invoked, then TaskSucceeded | TaskFailed | TaskTimedOut (a heartbeat
 *   timeout too); SendTaskHeartbeat records nothing;
 * - a retry: another scheduled / started / outcome triple, no new StateEntered;
 * - Map: MapStateStarted after Entered, MapIterationStarted / Succeeded | Failed per item,
 *   MapStateSucceeded | MapStateFailed before Exited; Parallel: ParallelStateStarted after
 *   Entered, ParallelStateFailed on failure (a Parallel that succeeds records no
 *   ParallelStateSucceeded);
 * - the execution: ExecutionStarted first, ExecutionSucceeded | ExecutionFailed |
 *   ExecutionAborted | ExecutionTimedOut last; a stopped execution records ExecutionAborted
 *   and no event for the state it was in.
 */
export type HistoryEventType =
  | 'ExecutionStarted'
  | 'ExecutionSucceeded'
  | 'ExecutionFailed'
  | 'ExecutionAborted'
  | 'ExecutionTimedOut'
  | `${'Task' | 'Choice' | 'Wait' | 'Pass' | 'Succeed' | 'Map' | 'Parallel'}State${'Entered' | 'Exited'}`
  | 'FailStateEntered'
  | 'TaskScheduled'
  | 'TaskStarted'
  | 'TaskSubmitted'
  | 'TaskSucceeded'
  | 'TaskFailed'
  | 'TaskTimedOut'
  | 'LambdaFunctionScheduled'
  | 'LambdaFunctionStarted'
  | 'LambdaFunctionSucceeded'
  | 'LambdaFunctionFailed'
  | 'LambdaFunctionTimedOut'
  | 'MapStateStarted'
  | 'MapStateSucceeded'
  | 'MapStateFailed'
  | 'MapIterationStarted'
  | 'MapIterationSucceeded'
  | 'MapIterationFailed'
  | 'ParallelStateStarted'
  | 'ParallelStateFailed';

/** How the sandbox runs a Task's Resource, each recording its own events. */
export type TaskKind = 'lambda-function' | 'lambda-invoke' | 'lambda-callback';

export interface TaskEvents {
  scheduled: HistoryEventType;
  started: HistoryEventType;
  /** the callback's invocation went through; the task now waits for its token */
  submitted?: HistoryEventType;
  succeeded: HistoryEventType;
  failed: HistoryEventType;
  timedOut: HistoryEventType;
}

export const TASK_EVENTS: Record<TaskKind, TaskEvents> = {
  'lambda-function': {
    scheduled: 'LambdaFunctionScheduled',
    started: 'LambdaFunctionStarted',
    succeeded: 'LambdaFunctionSucceeded',
    failed: 'LambdaFunctionFailed',
    timedOut: 'LambdaFunctionTimedOut',
  },
  'lambda-invoke': { scheduled: 'TaskScheduled', started: 'TaskStarted', succeeded: 'TaskSucceeded', failed: 'TaskFailed', timedOut: 'TaskTimedOut' },
  'lambda-callback': {
    scheduled: 'TaskScheduled',
    started: 'TaskStarted',
    submitted: 'TaskSubmitted',
    succeeded: 'TaskSucceeded',
    failed: 'TaskFailed',
    timedOut: 'TaskTimedOut',
  },
};

/** What an execution exposes of its history: the events in order, their number, and a count per type. */
export interface HistoryCounts {
  historyEvents: HistoryEventType[];
  historyEventCount: number;
  historyEventsByType: Partial<Record<HistoryEventType, number>>;
}

export function emptyHistory(): HistoryCounts {
  return { historyEvents: [], historyEventCount: 0, historyEventsByType: {} };
}

const TERMINAL = new Set<HistoryEventType>(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** Whether the history has ended: nothing is recorded after an execution's last event. */
export function historyClosed(history: HistoryCounts): boolean {
  const last = history.historyEvents.at(-1);
  return last !== undefined && TERMINAL.has(last);
}

/**
 * Whether `type` may be the next event. The quota keeps the 25,000th place for the end: "When
 * an execution reaches 24,999 events, it waits for the next event to happen. If the event
 * number 25,000 is ExecutionSucceeded, the execution finishes successfully. If [it] isn't
 * ExecutionSucceeded, the ExecutionFailed event is logged and the state machine execution
 * fails because of reaching the history limit" (bp-history-limit). An execution already
 * failing records its own ExecutionFailed there.
 */
export function fitsInHistory(history: HistoryCounts, type: HistoryEventType): boolean {
  if (history.historyEventCount >= HISTORY_EVENT_LIMIT) return false;
  return history.historyEventCount < HISTORY_EVENT_LIMIT - 1 || type === 'ExecutionSucceeded' || type === 'ExecutionFailed';
}

export function appendEvent(history: HistoryCounts, type: HistoryEventType): void {
  history.historyEvents.push(type);
  history.historyEventCount++;
  history.historyEventsByType[type] = (history.historyEventsByType[type] ?? 0) + 1;
}
