import type { DrainProgress } from './types.js';

/**
 * How long the workflow waits between passes. Pure. Never 0 while anything remains, so a
 * drain never spins:
 * - drained, or the node is gone: 0;
 * - pods leaving: until the earliest grace period ends (at least 2 s, at most 60 s: most
 *   pods exit long before their grace period is over);
 * - pods leaving but all overdue (the kubelet is late or gone, a finalizer holds them): 10,
 *   20, 40 s, then 60 s by consecutive passes that got nothing further — pods stuck
 *   Terminating for a day cost a few hundred passes, not thousands;
 * - blocked by budgets: 5, 10, 20, 40 s, then 60 s, by consecutive passes that evicted
 *   nothing (see countBlockedPasses); a pass that got something through starts again at 5;
 *   a caller that may wait longer (a drain holding a node past its deadline) raises the cap,
 *   and the doubling goes on up to it;
 * - several of these: the shortest, since any of them may have changed things.
 */

export const MIN_DELAY_SECONDS = 2;
export const MAX_DELAY_SECONDS = 60;
export const OVERDUE_DELAY_SECONDS = 10;
const BLOCKED_BASE_SECONDS = 5;

/** 5, 10, 20, 40, 60, 60… for the 1st, 2nd, 3rd… blocked pass in a row (0 counts as 1); with a higher cap, 80, 160… up to it. */
export function blockedBackoffSeconds(consecutiveBlockedPasses: number, maxSeconds = MAX_DELAY_SECONDS): number {
  const n = Math.max(1, Math.floor(consecutiveBlockedPasses));
  return Math.min(maxSeconds, BLOCKED_BASE_SECONDS * 2 ** Math.min(n - 1, 16));
}

/**
 * The count the workflow carries: one more when a pass got nothing further — it evicted
 * nothing, and budgets blocked a pod or every pod leaving is overdue — else 0.
 */
export function countBlockedPasses(previous: number, progress: DrainProgress): number {
  const overdue = progress.blocked.length === 0 && progress.terminating.length > 0 && progress.nextTerminationAt === null;
  return (progress.blocked.length > 0 || overdue) && progress.evicted.length === 0 ? previous + 1 : 0;
}

export function nextPassDelaySeconds(progress: DrainProgress, consecutiveBlockedPasses: number, maxBlockedSeconds = MAX_DELAY_SECONDS): number {
  if (progress.phase !== 'draining') return 0;
  const candidates: number[] = [];
  if (progress.blocked.length > 0) candidates.push(blockedBackoffSeconds(consecutiveBlockedPasses, maxBlockedSeconds));
  if (progress.nextTerminationAt !== null) {
    const seconds = Math.ceil((Date.parse(progress.nextTerminationAt) - Date.parse(progress.checkedAt)) / 1000);
    candidates.push(Math.min(MAX_DELAY_SECONDS, Math.max(MIN_DELAY_SECONDS, Number.isFinite(seconds) ? seconds : MIN_DELAY_SECONDS)));
  } else if (progress.evicted.length > 0) {
    candidates.push(OVERDUE_DELAY_SECONDS);
  } else if (progress.terminating.length > 0) {
    const n = Math.max(1, Math.floor(consecutiveBlockedPasses));
    candidates.push(Math.min(Math.max(OVERDUE_DELAY_SECONDS, maxBlockedSeconds), OVERDUE_DELAY_SECONDS * 2 ** Math.min(n - 1, 16)));
  }
  // something remains that is neither leaving nor blocked (a pod gone between list and eviction): look again soon
  return candidates.length > 0 ? Math.min(...candidates) : MIN_DELAY_SECONDS;
}
