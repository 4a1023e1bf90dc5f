import type { V1Pod, V1PodDisruptionBudget } from '../api-types.js';
import { budgetCovers } from './blockers.js';
import { deletePods } from './evict-pods.js';
import type { KubeCalls } from './kube-calls.js';
import { beginPass, listBudgets } from './node-pods.js';
import { progressReport } from './report.js';
import { type DrainPorts, type DrainProgress, type DrainSettings, type ForcedPod, podRef } from './types.js';

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
 * 5. only if a pod was deleted: one list of the budgets, to report the budget each deleted pod
 *    went past (best effort: the pods are gone either way);
 * 6. report.
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
  const evicting = new Set(selection.evict);
  const deleted = outcomes.flatMap((o) => (o.outcome === 'deleted' && evicting.has(o.pod) ? [o.pod] : []));
  const forced = deleted.length > 0 ? await budgetsOf(ports, calls, deleted) : [];
  // 6.
  const report = progressReport({
    node: nodeName,
    checkedAt: now(),
    selection,
    accepted: outcomes.flatMap((o) => (o.outcome === 'deleted' ? [{ pod: o.pod, gracePeriodSeconds: o.gracePeriodSeconds }] : [])),
    gone: outcomes.flatMap((o) => (o.outcome === 'gone' ? [o.pod] : [])),
    blocked: [],
    requests: calls.requests,
  });
  return { ...report, forced };
}

/** Each pod with the budget that covers it; a budget list the API refuses leaves them unnamed. */
async function budgetsOf(ports: DrainPorts, calls: KubeCalls, pods: readonly V1Pod[]): Promise<ForcedPod[]> {
  let budgets: V1PodDisruptionBudget[] = [];
  try {
    budgets = await listBudgets(ports, calls, pods);
  } catch {
    // the deletions are done; only the report's names are missing
  }
  return pods.map((pod) => {
    const pdb = budgets.find((b) => budgetCovers(b, pod));
    return { pod: podRef(pod), pdb: pdb ? { namespace: pdb.metadata?.namespace ?? 'default', name: pdb.metadata?.name ?? '' } : null };
  });
}

/** The grace period the pod's deletion was given (what a new delete must undercut). */
function deletionGracePeriod(pod: V1Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? 0;
}
