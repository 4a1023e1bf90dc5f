import type { V1Pod } from '../api-types.js';
import { deletePods } from './evict-pods.js';
import { beginPass } from './node-pods.js';
import { progressReport } from './report.js';
import { type DrainPorts, type DrainProgress, type DrainSettings } from './types.js';

/**
 * A pass that no longer waits for budgets: only when the node group's policy says force
 * (a spot interruption, a drain past its deadline). Same steps as drainPass, but the
 * remaining pods are DELETED with the capped grace period, which no PodDisruptionBudget
 * can refuse; DaemonSet, mirror and finished pods are still left alone.
 * 1. cordon; a node that is gone ends here;
 * 2. list the node's pods (one request);
 * 3. select;
 * 4. delete every pod to evict, and shorten the grace period of terminating pods that were
 *    given more than the cap (a delete may only shorten it; one already within is not
 *    asked again);
 * 5. report.
 */
export async function forcePass(ports: DrainPorts, nodeName: string, overrides: Partial<DrainSettings> = {}): Promise<DrainProgress> {
  // 1.–3.
  const start = await beginPass(ports, nodeName, overrides);
  if (!('selection' in start)) return start;
  const { settings, calls, now, selection } = start;
  // 4.
  const overlong = selection.terminating.filter((pod) => deletionGracePeriod(pod) > settings.maxGracePeriodSeconds);
  const outcomes = await deletePods(ports, calls, [...selection.evict, ...overlong], settings);
  // 5.
  return progressReport({
    node: nodeName,
    checkedAt: now(),
    selection,
    accepted: outcomes.flatMap((o) => (o.outcome === 'deleted' ? [{ pod: o.pod, gracePeriodSeconds: o.gracePeriodSeconds }] : [])),
    gone: outcomes.flatMap((o) => (o.outcome === 'gone' ? [o.pod] : [])),
    blocked: [],
    requests: calls.requests,
  });
}

/** The grace period the pod's deletion was given (what a new delete must undercut). */
function deletionGracePeriod(pod: V1Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? 0;
}
