import type { V1Pod } from '../api-types.js';
import { kubeStatus } from '../client.js';
import { isBudgetRefusal, isMultipleBudgetsError, refusingBudgetName, statusMessage, statusOf } from './api-status.js';
import { mapBounded, runGrouped, type GroupedRun } from './bounded.js';
import type { KubeCalls } from './kube-calls.js';
import { cappedGracePeriodSeconds, type DrainPorts, type DrainSettings } from './types.js';

/**
 * Evictions through the pods/eviction subresource (policy/v1), which is where the API
 * server enforces PodDisruptionBudgets, and the deletions of a forced pass. Each names the
 * pod's uid as a precondition, so a pod recreated under the same name is never the one hit.
 */

export type EvictionOutcome =
  | { outcome: 'evicted'; pod: V1Pod; gracePeriodSeconds: number }
  /** the pod we listed no longer exists (404, or 409 for the uid precondition: the name is another pod's now) */
  | { outcome: 'gone'; pod: V1Pod }
  /**
   * 429 naming a budget, or the 500 for a pod under more than one budget (budget null), or
   * a 409 from concurrent evictions under one budget (budget null), or the API server's
   * throttling (throttled: nothing about this pod's budget is known)
   */
  | { outcome: 'refused'; pod: V1Pod; budget: string | null; message: string; throttled: boolean };

function where(pod: V1Pod): { name: string; namespace: string } {
  return { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' };
}

/** A 409 for our uid precondition: the pod of that name is another one now, the one we listed is gone. */
function isUidMismatch(error: unknown): boolean {
  return kubeStatus(error) === 409 && /precondition failed: uid/i.test(statusMessage(statusOf(error)));
}

function uidPrecondition(pod: V1Pod): { uid: string } | undefined {
  return pod.metadata?.uid ? { uid: pod.metadata.uid } : undefined;
}

export async function evictPod(ports: DrainPorts, calls: KubeCalls, pod: V1Pod, settings: Pick<DrainSettings, 'maxGracePeriodSeconds'>): Promise<EvictionOutcome> {
  const { name, namespace } = where(pod);
  const gracePeriodSeconds = cappedGracePeriodSeconds(pod, settings);
  const preconditions = uidPrecondition(pod);
  return calls.call<EvictionOutcome>(
    `evict pod ${namespace}/${name}`,
    async () => {
      await ports.core.createNamespacedPodEviction({
        name,
        namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          deleteOptions: { gracePeriodSeconds, ...(preconditions ? { preconditions } : {}) },
        },
      });
      return { outcome: 'evicted', pod, gracePeriodSeconds };
    },
    (error) => {
      const code = kubeStatus(error);
      if (code === 404 || isUidMismatch(error)) return { outcome: 'gone', pod };
      const status = statusOf(error);
      // the API server gave up updating the budget under concurrent evictions: ask again next pass
      if (code === 409) return { outcome: 'refused', pod, budget: null, message: statusMessage(status), throttled: false };
      if (code === 429) {
        const budget = refusingBudgetName(status) ?? null;
        return { outcome: 'refused', pod, budget, message: statusMessage(status), throttled: !isBudgetRefusal(status) };
      }
      if (code === 500 && isMultipleBudgetsError(status)) return { outcome: 'refused', pod, budget: null, message: statusMessage(status), throttled: false };
      return undefined;
    },
  );
}

/** The controller's uid: its pods usually share one budget. A pod without one is a group of its own. */
function budgetGroupOf(pod: V1Pod): string {
  const controller = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  return controller?.uid ?? `pod:${pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`}`;
}

/**
 * Evicts the pods, `concurrency` at a time, probing each controller's pods so that a budget
 * that allows few disruptions is not asked again and again in one pass (see runGrouped).
 * With `probe: false` every pod is asked (for pods no known refusal speaks for).
 */
export function evictPods(
  ports: DrainPorts,
  calls: KubeCalls,
  pods: readonly V1Pod[],
  settings: Pick<DrainSettings, 'maxGracePeriodSeconds' | 'concurrency'>,
  options: { probe: boolean } = { probe: true },
): Promise<GroupedRun<V1Pod, EvictionOutcome>> {
  return runGrouped(
    pods,
    {
      limit: settings.concurrency,
      // without probing every pod is its own group, so nothing is held back
      groupOf: options.probe ? budgetGroupOf : (pod) => `pod:${pod.metadata?.uid}:${pod.metadata?.namespace}/${pod.metadata?.name}`,
      verdict: (result) => {
        if (result.outcome === 'evicted') return 'accepted';
        if (result.outcome === 'gone') return 'neutral';
        return result.throttled ? 'halt' : 'refused';
      },
    },
    (pod) => evictPod(ports, calls, pod, settings),
  );
}

export type DeletionOutcome = { outcome: 'deleted'; pod: V1Pod; gracePeriodSeconds: number } | { outcome: 'gone'; pod: V1Pod };

/** DELETE with the capped grace period: no budget is consulted. Only for a forced pass. */
export async function deletePod(ports: DrainPorts, calls: KubeCalls, pod: V1Pod, settings: Pick<DrainSettings, 'maxGracePeriodSeconds'>): Promise<DeletionOutcome> {
  const { name, namespace } = where(pod);
  const gracePeriodSeconds = cappedGracePeriodSeconds(pod, settings);
  const preconditions = uidPrecondition(pod);
  return calls.call<DeletionOutcome>(
    `delete pod ${namespace}/${name}`,
    async () => {
      await ports.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds, ...(preconditions ? { body: { preconditions } } : {}) });
      return { outcome: 'deleted', pod, gracePeriodSeconds };
    },
    (error) => (kubeStatus(error) === 404 || isUidMismatch(error) ? { outcome: 'gone', pod } : undefined),
  );
}

export function deletePods(
  ports: DrainPorts,
  calls: KubeCalls,
  pods: readonly V1Pod[],
  settings: Pick<DrainSettings, 'maxGracePeriodSeconds' | 'concurrency'>,
): Promise<DeletionOutcome[]> {
  return mapBounded(pods, settings.concurrency, (pod) => deletePod(ports, calls, pod, settings));
}
