import { MAX_DELAY_SECONDS, nextPassDelaySeconds } from '../kube/drain/next-wait.js';
import type { DrainProgress } from '../kube/drain/types.js';

/**
 * After a pass of a node-drain: what the workflow does next, and how long it waits first. Pure.
 *
 * - `drained`, `node-gone`: over (a force pass that emptied the node: `forced`);
 * - `closed`: every lifecycle action the drain kept alive closed under it (its timeout, or
 *   someone else completed it): Auto Scaling is terminating the instance, the drain failed;
 * - at the deadline, the policy: `force` (delete what budgets still block), or with `fail`
 *   `hold` while a terminate lifecycle action is open — the node is leaving the group, so the
 *   drain goes on (evictions within budgets only, heartbeats) until its pods are gone, the node
 *   goes, or the action closes — and `fail` when none is (a manual drain, a rebalance);
 * - a force pass stops waiting for the pods it deleted `FORCE_GRACE_MARGIN_SECONDS` past their
 *   capped grace period: `forced`;
 * - `keep-alive` (the Kubernetes API unreachable past the pass's retries): `hold` while an
 *   action is open (try the API again later), else `fail`;
 * - otherwise `wait` and pass again.
 * The wait never reaches past the next heartbeat, nor past the deadline while one is ahead.
 */
export type PassNext = 'drained' | 'node-gone' | 'closed' | 'force' | 'forced' | 'hold' | 'fail' | 'wait';

export interface PassFacts {
  phase: 'draining' | 'drained' | 'node-gone';
  mode: 'evict' | 'force' | 'keep-alive';
  /** what the pass found (none when it could not look: keep-alive, or the node is gone) */
  progress?: DrainProgress;
  /** passes in a row that got nothing further (blocked by budgets, or every pod leaving overdue) and evicted nothing, this one included */
  consecutiveBlocked: number;
  now: Date;
  deadline: Date;
  onDrainTimeout: 'fail' | 'force';
  /** a lifecycle action of the instance is open: the node is leaving its group */
  actionOpen: boolean;
  /** an action the drain kept alive closed under it */
  actionClosed: boolean;
  /** the earliest heartbeat due among the open actions */
  nextHeartbeatAt?: Date;
  /** the longest grace period a pod is given (force: how long deleted pods may take) */
  maxGracePeriodSeconds: number;
}

export interface PassDecision {
  next: PassNext;
  deadlinePassed: boolean;
  /** seconds to wait before the next pass */
  waitSeconds: number;
}

/** After the longest grace period, this long again for a kubelet to report the pods gone. */
export const FORCE_GRACE_MARGIN_SECONDS = 60;
/**
 * While holding, while the API is away, and once blocked this many passes in a row (about half
 * an hour), the blocked backoff goes on doubling up to five minutes: a drain blocked for 48 h
 * costs ~600 passes, far below Step Functions' 25,000 history events.
 */
export const HOLD_MAX_WAIT_SECONDS = 300;
export const LONG_BLOCKED_PASSES = 30;

export function decidePass(facts: PassFacts): PassDecision {
  const now = facts.now.getTime();
  const deadline = facts.deadline.getTime();
  const deadlinePassed = facts.phase === 'draining' && now >= deadline;
  const untilHeartbeat = facts.nextHeartbeatAt ? Math.max(0, (facts.nextHeartbeatAt.getTime() - now) / 1000) : Number.POSITIVE_INFINITY;
  const untilDeadline = (deadline - now) / 1000;
  const next = nextOf(facts, deadlinePassed);
  const patient = next === 'hold' || facts.consecutiveBlocked > LONG_BLOCKED_PASSES;
  const engine = facts.progress ? nextPassDelaySeconds(facts.progress, facts.consecutiveBlocked, patient ? HOLD_MAX_WAIT_SECONDS : MAX_DELAY_SECONDS) : next === 'hold' ? HOLD_MAX_WAIT_SECONDS : 0;
  const wait = Math.min(engine, untilHeartbeat, untilDeadline > 0 && facts.mode === 'evict' ? untilDeadline : Number.POSITIVE_INFINITY);
  return { next, deadlinePassed, waitSeconds: Math.max(1, Math.ceil(wait)) };
}

function nextOf(facts: PassFacts, deadlinePassed: boolean): PassNext {
  if (facts.phase === 'drained') return facts.mode === 'force' ? 'forced' : 'drained';
  if (facts.phase === 'node-gone') return 'node-gone';
  if (facts.actionClosed && !facts.actionOpen) return 'closed';
  if (facts.mode === 'keep-alive') return facts.actionOpen ? 'hold' : 'fail';
  if (facts.mode === 'force') {
    const givenUp = facts.deadline.getTime() + (facts.maxGracePeriodSeconds + FORCE_GRACE_MARGIN_SECONDS) * 1000;
    return facts.now.getTime() >= givenUp ? 'forced' : 'wait';
  }
  if (!deadlinePassed) return 'wait';
  if (facts.onDrainTimeout === 'force') return 'force';
  return facts.actionOpen ? 'hold' : 'fail';
}

/**
 * How often to keep a lifecycle hook alive: half its heartbeat timeout, so one missed
 * heartbeat (a throttled call, a retried step) still leaves time.
 */
export function heartbeatEverySeconds(heartbeatTimeoutSeconds: number): number {
  return Math.max(10, Math.floor(heartbeatTimeoutSeconds / 2));
}
