import { badRequest, conflict, failure, forbidden, internalError, success } from './errors.js';
import { podsCoveredBy } from './pdb-status.js';
import { RESOURCES } from './resources.js';
import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import { isPodReady, isTerminating, type Eviction, type Pod, type PodDisruptionBudget, type Status } from './types.js';

/**
 * The pods/eviction subresource, following pkg/registry/core/pod/storage/eviction.go:
 * 1. the pod must exist (404) and meet the eviction's preconditions (409);
 * 2. a pod that is Pending, finished or already terminating is deleted without
 *    consulting any budget: its disruption has already happened;
 * 3. more than one budget covering the pod is a 500, as the API server refuses to choose;
 * 4. an unready pod under a budget that is currently met (or whose policy is AlwaysAllow)
 *    is deleted without spending the budget;
 * 5. otherwise the budget must allow a disruption (429 TooManyRequests naming the budget if
 *    not); one is spent and the pod recorded in status.disruptedPods;
 * 6. the pod is deleted with the eviction's delete options (its grace period by default).
 * Success is a 201 with a Status, as the real subresource answers.
 */
export function evictPod(store: KubeStore, namespace: string, name: string, eviction: Eviction): Status {
  if (eviction.metadata?.name && eviction.metadata.name !== name) {
    throw badRequest('name in URL does not match name in Eviction object');
  }
  if (eviction.metadata?.namespace && eviction.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const pod = store.require('pods', namespace, name);
  const options = eviction.deleteOptions ?? {};
  const dryRun = (options.dryRun ?? []).includes('All');
  const { uid, resourceVersion } = options.preconditions ?? {};
  if (uid && uid !== pod.metadata.uid) {
    throw conflict(RESOURCES.pods, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
  }
  if (resourceVersion && resourceVersion !== pod.metadata.resourceVersion) {
    throw conflict(RESOURCES.pods, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${pod.metadata.resourceVersion}`);
  }

  const deleteNow = (): Status => {
    if (!dryRun) store.delete('pods', namespace, name, options);
    return success(201);
  };

  if (canIgnoreBudget(pod)) return deleteNow();

  const budgets = podsBudgets(store, pod);
  if (budgets.length > 1) {
    throw internalError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  const budget = budgets[0];
  if (!budget) return deleteNow();

  const status = budget.status;
  if (!isPodReady(pod)) {
    if (budget.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') return deleteNow();
    if (status && status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return deleteNow();
  }

  checkBudget(budget);
  if (!dryRun) {
    // the eviction's note to the disruption controller: this pod is about to go
    store.update('poddisruptionbudgets', namespace, budget.metadata.name!, (pdb) => {
      pdb.status!.disruptionsAllowed -= 1;
      pdb.status!.disruptedPods = { ...pdb.status!.disruptedPods, [name]: rfc3339(store.clock.now()) };
    });
  }
  return deleteNow();
}

function canIgnoreBudget(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || isTerminating(pod);
}

function podsBudgets(store: KubeStore, pod: Pod): PodDisruptionBudget[] {
  return store.list('poddisruptionbudgets', { namespace: pod.metadata.namespace! }).filter((pdb) => podsCoveredBy(pdb, [pod]).length > 0);
}

/** checkAndDecrement's refusals. */
function checkBudget(pdb: PodDisruptionBudget): void {
  const name = pdb.metadata.name!;
  const status = pdb.status;
  if (!status || (status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
    throw failure(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
      causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${name} is still being processed by the server.` }],
    });
  }
  if (status.disruptionsAllowed < 0) throw forbidden(RESOURCES.poddisruptionbudgets, name, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > 2000) {
    throw forbidden(RESOURCES.poddisruptionbudgets, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (status.disruptionsAllowed === 0) {
    throw failure(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
      causes: [
        {
          reason: 'DisruptionBudget',
          message: `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
        },
      ],
    });
  }
}
