import { isPodFinished, isTerminating, type Pod } from './kube/types.js';

/**
 * Which pods make a node worth draining, as `kubectl drain --ignore-daemonsets` sees them:
 * shared by the monitors that judge capacity and terminations.
 */

/** A pod that keeps its node in service: not finished, not a DaemonSet's, not a mirror pod. */
export function holdsNode(pod: Pod): boolean {
  if (isPodFinished(pod)) return false;
  if (pod.metadata.annotations?.['kubernetes.io/config.mirror']) return false;
  return !pod.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet');
}

/** A pod a drain still has to evict: it holds the node and no eviction or deletion has begun. */
export function awaitsEviction(pod: Pod): boolean {
  return holdsNode(pod) && !isTerminating(pod);
}
