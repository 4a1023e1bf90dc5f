import { createHash } from 'node:crypto';
import type { ExecutionSteps } from '../events/continuation.js';

/**
 * A long drain or rollout goes on in a fresh execution of its own state machine, carrying its
 * state — the pattern AWS recommends for a workflow that could outgrow the 25,000 events of
 * one execution's history ("Continue as new", https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-continue-new.html;
 * quota: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). Pure.
 *
 * - The workflow keeps one identity across its executions, its **origin** (the first
 *   execution's ARN): the locks, drain records, approvals, chat threads and events all name
 *   it, so a continuation changes none of them.
 * - Each execution counts its loop's steps; past {@link STEPS_PER_EXECUTION}, at a point where
 *   the loop would wait anyway, it starts its successor and ends SUCCEEDED with
 *   `{ "continuedAs": <successor ARN> }` as output — which is how anyone asking "is the owner
 *   still running?" follows it (`executionStatus` in aws/step-functions.ts).
 * - The successor's name is derived from the origin's and the continuation's number, so a
 *   retried start is the same start (StartExecution is idempotent on name and input).
 */

/**
 * Loop steps per execution before it continues. One step of a loop costs 9 history events
 * (Task: entered, scheduled, started, succeeded, exited; Choice: entered, exited; Wait:
 * entered, exited) and a retried attempt 3 more: 400 steps stay near 4,000 events, well
 * under the 10,000 this service allows itself and the 25,000 AWS allows.
 */
export const STEPS_PER_EXECUTION = 400;

/** Step Functions execution names: 1–80 of these characters. */
const NAME_LIMIT = 80;

export interface Lineage {
  /** the first execution's ARN: the workflow's identity */
  origin: string;
  /** 0 in the first execution, n in the n-th continuation */
  number: number;
  /** the execution this one continues (absent in the first) */
  previous?: string;
}

/** Whether the loop, about to wait, should go on in a fresh execution instead. */
export function continueNow(stepsInExecution: number): boolean {
  return stepsInExecution >= STEPS_PER_EXECUTION;
}

/** The count after one more step of the loop; `waiting`: the loop is about to wait (the only point it may continue at). */
export function stepTaken(here: ExecutionSteps | null | undefined, waiting: boolean): ExecutionSteps {
  const steps = (here?.steps ?? 0) + 1;
  return { steps, continue: waiting && continueNow(steps) };
}

/**
 * The name of the `number`-th continuation of an execution named `originName`:
 * `<origin>-c<number>`, or, when that would pass 80 characters, the origin's name cut to
 * fit with a hash of the whole of it (names stay unique and are the same on every retry).
 */
export function continuationName(originName: string, number: number): string {
  if (!Number.isInteger(number) || number < 1) throw new RangeError(`continuation number must be a positive integer, got ${number}`);
  const suffix = `-c${number}`;
  if (originName.length + suffix.length <= NAME_LIMIT) return `${originName}${suffix}`;
  const hash = createHash('sha256').update(originName).digest('hex').slice(0, 10);
  return `${originName.slice(0, NAME_LIMIT - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}
