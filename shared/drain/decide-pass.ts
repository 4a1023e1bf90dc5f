/**
 * After a drain pass: is it over, has the deadline passed, is a heartbeat due, and how long
 * until the next pass. Pure.
 */
export interface PassFacts {
  phase: 'draining' | 'drained' | 'node-gone';
  /** what the engine suggests (backing off while blocked, short while pods terminate) */
  engineDelaySeconds: number;
  now: Date;
  deadline: Date;
  /** the lifecycle action to keep alive, if any, and when it was last kept alive */
  heartbeat?: { everySeconds: number; lastAt: Date };
}

export interface PassDecision {
  deadlinePassed: boolean;
  heartbeatDue: boolean;
  /** seconds to wait before the next pass */
  waitSeconds: number;
}

export function decidePass(facts: PassFacts): PassDecision {
  const now = facts.now.getTime();
  const deadlinePassed = facts.phase === 'draining' && now >= facts.deadline.getTime();
  const nextHeartbeat = facts.heartbeat ? facts.heartbeat.lastAt.getTime() + facts.heartbeat.everySeconds * 1000 : Number.POSITIVE_INFINITY;
  const heartbeatDue = now >= nextHeartbeat;
  const untilHeartbeat = heartbeatDue && facts.heartbeat ? facts.heartbeat.everySeconds : (nextHeartbeat - now) / 1000;
  const untilDeadline = (facts.deadline.getTime() - now) / 1000;
  const wait = Math.min(facts.engineDelaySeconds, untilHeartbeat, untilDeadline > 0 ? untilDeadline : Number.POSITIVE_INFINITY);
  return { deadlinePassed, heartbeatDue, waitSeconds: Math.max(1, Math.ceil(wait)) };
}

/**
 * How often to keep a lifecycle hook alive: half its heartbeat timeout, so one missed
 * heartbeat (a throttled call, a retried step) still leaves time.
 */
export function heartbeatEverySeconds(heartbeatTimeoutSeconds: number): number {
  return Math.max(10, Math.floor(heartbeatTimeoutSeconds / 2));
}
