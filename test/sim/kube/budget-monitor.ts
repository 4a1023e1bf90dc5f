import type { KubeStore, StoreEvent } from './store.js';
import { isNodeReady, isPodReady, isTerminating, type Pod, type PodDisruptionBudget, type PodDisruptionBudgetStatus } from './types.js';

/**
 * Watches every PodDisruptionBudget of a store and records each moment one is broken: its
 * healthy pods fall below what it requires after it had once been met. The numbers are the
 * store's own (`status.currentHealthy` and `status.desiredHealthy`, which the store's
 * disruption controller recomputes synchronously after every pod change), so the monitor
 * judges a drain by the same arithmetic the eviction subresource enforces.
 *
 * A budget that starts unmet (its pods still starting) is not broken until it has once been
 * met. A budget that becomes unmet only because it now asks for more (a scale-up) is not
 * broken either: a violation is a healthy pod lost while the budget could not afford it.
 *
 * Each violation names the node of the pod that cost the budget its pod, and whether that
 * loss was involuntary: the node was NotReady or gone (its instance terminated, its kubelet
 * stopped), which no budget can prevent. It is still a violation — a drain that let the
 * instance go too early causes exactly that — but a caller that knows the node was taken
 * by someone else (Auto Scaling at a hook's deadline, a Spot reclaim) may excuse it.
 */

export interface BudgetViolation {
  /** virtual time (ms since the epoch) */
  at: number;
  namespace: string;
  name: string;
  currentHealthy: number;
  desiredHealthy: number;
  /** the pod change that cost the budget its pod, e.g. "pod shop/web-x began terminating without an eviction" */
  cause: string;
  /** the node that pod was bound to, if any */
  node?: string;
  /** the pod was lost because its node was NotReady or gone (see above) */
  involuntary: boolean;
}

export interface BudgetMonitor {
  /** in the order they happened; the array fills as the store changes */
  readonly violations: BudgetViolation[];
  stop(): void;
}

interface PodChange {
  cause: string;
  node?: string;
  /** the pod's node was NotReady or gone when it changed */
  involuntary: boolean;
}

interface BudgetState {
  metOnce: boolean;
  healthy: number;
}

function isMet(status: PodDisruptionBudgetStatus): boolean {
  // a budget asking for nothing cannot be broken; the zeros of a new budget mean "not computed yet"
  return status.desiredHealthy > 0 && status.currentHealthy >= status.desiredHealthy;
}

function describePodChange(event: StoreEvent, evicted: ReadonlySet<string>): string | undefined {
  const pod = event.object as Pod;
  const before = event.oldObject as Pod | undefined;
  const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const how = evicted.has(id) ? 'after an eviction' : 'without an eviction';
  if (event.type === 'DELETED') return `pod ${id} deleted ${how}`;
  if (event.type !== 'MODIFIED' || !before) return undefined;
  if (isTerminating(pod) && !isTerminating(before)) return `pod ${id} began terminating ${how}`;
  if (isPodReady(before) && !isPodReady(pod)) return `pod ${id} became unready`;
  return undefined;
}

function podChange(store: KubeStore, event: StoreEvent, evicted: ReadonlySet<string>): PodChange | undefined {
  const cause = describePodChange(event, evicted);
  if (!cause) return undefined;
  const nodeName = (event.object as Pod).spec?.nodeName;
  if (!nodeName) return { cause, involuntary: false };
  const node = store.get('nodes', undefined, nodeName);
  return { cause, node: nodeName, involuntary: !node || !isNodeReady(node) };
}

export function watchBudgets(store: KubeStore): BudgetMonitor {
  const violations: BudgetViolation[] = [];
  const budgets = new Map<string, BudgetState>();
  // pods an eviction spent a budget on (they appear in status.disruptedPods), as namespace/name
  const evicted = new Set<string>();
  // the latest pod change per namespace: the store recomputes a namespace's budgets right
  // after each pod change, so a budget's next MODIFIED event is that change's consequence
  const lastPodChange = new Map<string, PodChange>();

  for (const pdb of store.list('poddisruptionbudgets')) {
    const status = pdb.status;
    budgets.set(pdb.metadata.uid!, { metOnce: status ? isMet(status) : false, healthy: status?.currentHealthy ?? 0 });
  }

  function onBudget(event: StoreEvent, pdb: PodDisruptionBudget): void {
    const uid = pdb.metadata.uid!;
    if (event.type === 'DELETED') {
      budgets.delete(uid);
      return;
    }
    const status = pdb.status;
    if (!status) return;
    for (const pod of Object.keys(status.disruptedPods ?? {})) evicted.add(`${pdb.metadata.namespace}/${pod}`);
    let state = budgets.get(uid);
    if (!state) budgets.set(uid, (state = { metOnce: false, healthy: status.currentHealthy }));
    const lostPod = status.currentHealthy < state.healthy;
    if (state.metOnce && lostPod && status.currentHealthy < status.desiredHealthy) {
      const change = lastPodChange.get(pdb.metadata.namespace!);
      violations.push({
        at: store.clock.now(),
        namespace: pdb.metadata.namespace!,
        name: pdb.metadata.name!,
        currentHealthy: status.currentHealthy,
        desiredHealthy: status.desiredHealthy,
        cause: change?.cause ?? 'unknown',
        ...(change?.node ? { node: change.node } : {}),
        involuntary: change?.involuntary ?? false,
      });
    }
    state.healthy = status.currentHealthy;
    if (isMet(status)) state.metOnce = true;
  }

  const unsubscribe = store.on((event) => {
    if (event.resource === 'poddisruptionbudgets') onBudget(event, event.object as PodDisruptionBudget);
    else if (event.resource === 'pods') {
      const change = podChange(store, event, evicted);
      if (change) lastPodChange.set(event.object.metadata.namespace!, change);
    }
  });

  return { violations, stop: unsubscribe };
}
