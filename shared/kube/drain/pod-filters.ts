import type { V1Pod } from '../api-types.js';
import { podRef, type DrainProgress, type SkipReason } from './types.js';

/**
 * Which of a node's pods a drain must move, in the style of kubectl's `pkg/drain`: an ordered
 * list of filters, each of which may leave a pod alone; a pod no filter skips is evicted, or
 * waited for when it is already terminating. Pure.
 *
 * Unlike `kubectl drain`'s defaults, and like EKS managed node group updates and the AWS Node
 * Termination Handler (`--delete-emptydir-data --force`):
 * - pods with emptyDir volumes ARE evicted: the node is going away, and its local data with it;
 * - pods without a controller ARE evicted: nothing recreates them, but a node that is being
 *   terminated would take them down anyway, and an eviction at least respects their budget.
 */

export type FilterResult = { action: 'evict' } | { action: 'skip'; reason: SkipReason };
export type PodFilter = (pod: V1Pod) => FilterResult;

const EVICT: FilterResult = { action: 'evict' };
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** The DaemonSet controller would put the pod straight back (and its daemon is wanted until the end). */
export const daemonSetFilter: PodFilter = (pod) => {
  const controller = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  return controller?.kind === 'DaemonSet' ? { action: 'skip', reason: 'daemonset' } : EVICT;
};

/** A static pod's mirror: the kubelet owns it, the API cannot remove it. */
export const mirrorPodFilter: PodFilter = (pod) =>
  pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined ? { action: 'skip', reason: 'mirror' } : EVICT;

/** Succeeded or Failed: holds no resources and disturbs nothing by staying. */
export const finishedPodFilter: PodFilter = (pod) =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? { action: 'skip', reason: 'finished' } : EVICT;

/** In order; the first that skips a pod gives the reason. */
export const POD_FILTERS: readonly PodFilter[] = [daemonSetFilter, mirrorPodFilter, finishedPodFilter];

export function filterPod(pod: V1Pod, filters: readonly PodFilter[] = POD_FILTERS): FilterResult {
  for (const filter of filters) {
    const result = filter(pod);
    if (result.action === 'skip') return result;
  }
  return EVICT;
}

export function isTerminatingPod(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

export interface PodSelection {
  /** to evict now */
  evict: V1Pod[];
  skipped: DrainProgress['skipped'];
  /** already on their way out: still remaining, never evicted again */
  terminating: V1Pod[];
}

export function selectPodsToDrain(pods: readonly V1Pod[]): PodSelection {
  const selection: PodSelection = { evict: [], skipped: [], terminating: [] };
  for (const pod of pods) {
    const result = filterPod(pod);
    if (result.action === 'skip') selection.skipped.push({ pod: podRef(pod), reason: result.reason });
    else if (isTerminatingPod(pod)) selection.terminating.push(pod);
    else selection.evict.push(pod);
  }
  return selection;
}
