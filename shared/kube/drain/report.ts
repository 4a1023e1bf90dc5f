import type { V1Pod } from '../api-types.js';
import type { PodSelection } from './pod-filters.js';
import { podRef, type Blocker, type DrainProgress } from './types.js';

/** What a pass did, as the progress report of DrainProgress. Pure. */
export interface PassResult {
  node: string;
  checkedAt: Date;
  selection: PodSelection;
  /** evictions (or deletions) accepted, with the grace period each was given */
  accepted: { pod: V1Pod; gracePeriodSeconds: number }[];
  /** pods listed that turned out to be gone already */
  gone: V1Pod[];
  blocked: Blocker[];
  requests: number;
}

const uidOf = (pod: V1Pod) => pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export function nodeGoneProgress(node: string, checkedAt: Date, requests: number): DrainProgress {
  return {
    node,
    phase: 'node-gone',
    remaining: [],
    evicted: [],
    terminating: [],
    blocked: [],
    skipped: [],
    requests,
    checkedAt: checkedAt.toISOString(),
    nextTerminationAt: null,
  };
}

/**
 * The earliest future moment a leaving pod's grace period ends. A terminating pod past its
 * deletionTimestamp is overdue (its kubelet is late or gone) and tells us nothing about when.
 */
function nextTerminationAt(result: PassResult): string | null {
  const now = result.checkedAt.getTime();
  const ends = [
    ...result.selection.terminating.map((pod) => Date.parse(pod.metadata!.deletionTimestamp!)).filter((end) => end > now),
    ...result.accepted.map((a) => now + a.gracePeriodSeconds * 1000),
  ].filter((end) => Number.isFinite(end));
  return ends.length > 0 ? new Date(Math.min(...ends)).toISOString() : null;
}

/**
 * Drained only when the pass's own list showed nothing left to evict or wait for: pods found
 * gone while evicting leave `remaining`, but the next pass's list confirms it (a pod of the
 * same name may be back, and 'drained' lets the node be terminated).
 */
export function progressReport(result: PassResult): DrainProgress {
  const gone = new Set(result.gone.map(uidOf));
  const listed = [...result.selection.terminating, ...result.selection.evict];
  const remaining = listed.filter((pod) => !gone.has(uidOf(pod)));
  return {
    node: result.node,
    phase: listed.length === 0 ? 'drained' : 'draining',
    remaining: remaining.map(podRef),
    evicted: result.accepted.map((a) => podRef(a.pod)),
    terminating: result.selection.terminating.map(podRef),
    blocked: result.blocked,
    skipped: result.selection.skipped,
    requests: result.requests,
    checkedAt: result.checkedAt.toISOString(),
    nextTerminationAt: nextTerminationAt(result),
  };
}
