import { tolerates } from './scheduling.js';
import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import { conditionOf, isPodActive, isTerminating, type KubeObject, type ResourceName, type Taint } from './types.js';

/**
 * What the control plane does around nodes: taint them by condition (node lifecycle
 * controller), evict pods from NoExecute taints they do not tolerate (taint manager), delete
 * pods whose node is gone (pod GC) and delete objects whose owners are gone (garbage
 * collector). Each returns the virtual time at which it wants to look again, if any.
 */

const MANAGED_TAINT_KEYS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'node.kubernetes.io/unschedulable'];

/** TaintNodesByCondition and the NoExecute taints of unhealthy nodes. */
export function taintNodesByCondition(store: KubeStore): void {
  const now = rfc3339(store.clock.now());
  for (const node of store.view('nodes')) {
    // a node that has not posted any status yet is left alone (the real controller waits a grace period)
    const ready = conditionOf(node.status?.conditions, 'Ready')?.status;
    const current = node.spec?.taints ?? [];
    const wanted: Taint[] = [];
    const keep = (key: string, effect: Taint['effect']) => {
      const existing = current.find((t) => t.key === key && t.effect === effect);
      wanted.push(existing ?? { key, effect, ...(effect === 'NoExecute' ? { timeAdded: now } : {}) });
    };
    if (ready === 'False') {
      keep('node.kubernetes.io/not-ready', 'NoSchedule');
      keep('node.kubernetes.io/not-ready', 'NoExecute');
    }
    if (ready === 'Unknown') {
      keep('node.kubernetes.io/unreachable', 'NoSchedule');
      keep('node.kubernetes.io/unreachable', 'NoExecute');
    }
    if (node.spec?.unschedulable) keep('node.kubernetes.io/unschedulable', 'NoSchedule');
    const next = [...current.filter((t) => !MANAGED_TAINT_KEYS.includes(t.key)), ...wanted];
    const same = next.length === current.length && next.every((t) => current.some((c) => c.key === t.key && c.effect === t.effect));
    if (same) continue;
    store.update('nodes', undefined, node.metadata.name!, (n) => {
      n.spec ??= {};
      if (next.length > 0) n.spec.taints = next;
      else delete n.spec.taints;
    });
  }
}

/**
 * The taint manager: a pod on a node with a NoExecute taint it does not tolerate is deleted;
 * a toleration with tolerationSeconds only delays that, counted from the taint's timeAdded.
 */
export function evictFromNoExecuteTaints(store: KubeStore): number | undefined {
  const now = store.clock.now();
  const nodes = new Map(store.view('nodes').map((n) => [n.metadata.name!, n]));
  let recheck: number | undefined;
  for (const pod of store.view('pods')) {
    if (!pod.spec.nodeName || !isPodActive(pod)) continue;
    const taints = (nodes.get(pod.spec.nodeName)?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    let evictAt: number | undefined;
    for (const taint of taints) {
      const matching = (pod.spec.tolerations ?? []).filter((t) => tolerates(t, taint));
      if (matching.length === 0) {
        evictAt = now;
        break;
      }
      if (matching.some((t) => t.tolerationSeconds === undefined)) continue;
      const seconds = Math.max(0, Math.min(...matching.map((t) => t.tolerationSeconds!)));
      const added = taint.timeAdded ? Date.parse(taint.timeAdded) : now;
      const due = added + seconds * 1000;
      evictAt = evictAt === undefined ? due : Math.min(evictAt, due);
    }
    if (evictAt === undefined) continue;
    if (evictAt <= now) store.delete('pods', pod.metadata.namespace, pod.metadata.name!);
    else recheck = recheck === undefined ? evictAt : Math.min(recheck, evictAt);
  }
  return recheck;
}

/** PodGC: pods bound to a node that no longer exists are force-deleted. */
export function collectOrphanedPods(store: KubeStore): void {
  const nodes = new Set(store.view('nodes').map((n) => n.metadata.name!));
  for (const pod of store.view('pods')) {
    if (pod.spec.nodeName && !nodes.has(pod.spec.nodeName)) {
      store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0 });
    }
  }
}

const OWNER_RESOURCES: Readonly<Record<string, ResourceName>> = {
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  DaemonSet: 'daemonsets',
};

/** The garbage collector (background propagation): dependents of deleted owners are deleted. */
export function collectGarbage(store: KubeStore): void {
  const alive = (ref: { kind: string; name: string; uid: string }, namespace: string | undefined): boolean => {
    const resource = OWNER_RESOURCES[ref.kind];
    if (!resource) return true; // an owner the simulator does not model: assume it exists
    return store.peek(resource, namespace, ref.name)?.metadata.uid === ref.uid;
  };
  for (const resource of ['replicasets', 'pods'] as const) {
    for (const object of store.view(resource) as KubeObject[]) {
      const owners = object.metadata.ownerReferences ?? [];
      if (owners.length === 0 || isTerminating(object)) continue;
      if (owners.some((ref) => alive(ref, object.metadata.namespace))) continue;
      store.delete(resource, object.metadata.namespace, object.metadata.name!);
    }
  }
}
