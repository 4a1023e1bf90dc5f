import type { Timer } from '../clock.js';
import { placePod } from './scheduling.js';
import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import { conditionOf, isNodeReady, isPodActive, isPodReady, type Pod } from './types.js';
import { bindPod, startPod } from './workloads.js';

/**
 * A pod's life after it is created: the scheduler binds it to a node, that node's kubelet
 * starts it (Running and Ready after a short virtual delay), and the node lifecycle
 * controller marks it unready while its node is not Ready.
 */

/** The default scheduler: binds pending pods, or records why none fits (PodScheduled=False). */
export function schedulePendingPods(store: KubeStore): void {
  const pods = store.view('pods');
  const pending = pods.filter((pod) => !pod.spec.nodeName && isPodActive(pod) && (pod.spec.schedulerName ?? 'default-scheduler') === 'default-scheduler');
  if (pending.length === 0) return;
  const nodes = store.view('nodes');
  for (const pod of pending) {
    const placement = placePod(pod, nodes, pods);
    if (placement.placed) {
      // the next placement counts this pod on its node (one list for the whole pass, not one per pod)
      pods[pods.indexOf(pod)] = bindPod(store, pod, placement.node);
      continue;
    }
    const previous = conditionOf(pod.status?.conditions, 'PodScheduled');
    if (previous?.status === 'False' && previous.message === placement.message) continue;
    store.update('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
      const conditions = (p.status ??= {}).conditions ?? [];
      p.status.conditions = [
        ...conditions.filter((c) => c.type !== 'PodScheduled'),
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: placement.message, lastProbeTime: null, lastTransitionTime: rfc3339(store.clock.now()) },
      ];
    });
  }
}

/**
 * The kubelets: a pod bound to a Ready node starts after `startupMs`; it then reports
 * Running with every condition True. A pod deleted or unbound meanwhile is not started.
 */
export function startBoundPods(store: KubeStore, startupMs: number, starting: Map<string, Timer>): void {
  const nodes = new Map(store.view('nodes').map((n) => [n.metadata.name!, n]));
  for (const pod of store.view('pods')) {
    const uid = pod.metadata.uid!;
    if (starting.has(uid) || !pod.spec.nodeName || !isPodActive(pod) || pod.status?.phase !== 'Pending') continue;
    const node = nodes.get(pod.spec.nodeName);
    if (!node || !isNodeReady(node)) continue;
    starting.set(
      uid,
      store.clock.after(startupMs, () => {
        starting.delete(uid);
        const now = store.get('pods', pod.metadata.namespace, pod.metadata.name!);
        if (now?.metadata.uid !== uid || !isPodActive(now) || now.status?.phase !== 'Pending' || !now.spec.nodeName) return;
        startPod(store, now);
      }),
    );
  }
}

const NODE_NOT_READY = 'NodeNotReady';

/**
 * MarkPodsNotReady: pods on a node that is not Ready stop being Ready (so budgets stop
 * counting them); when the node recovers, its kubelet reports them Ready again.
 */
export function syncPodReadinessWithNodes(store: KubeStore): void {
  const nodes = new Map(store.view('nodes').map((n) => [n.metadata.name!, n]));
  for (const pod of store.view('pods')) {
    if (!pod.spec.nodeName || pod.status?.phase !== 'Running') continue;
    const node = nodes.get(pod.spec.nodeName);
    if (!node) continue;
    const ready = conditionOf(pod.status.conditions, 'Ready');
    if (!isNodeReady(node) && isPodReady(pod)) setReady(store, pod, false);
    else if (isNodeReady(node) && ready?.status === 'False' && ready.reason === NODE_NOT_READY) setReady(store, pod, true);
  }
}

function setReady(store: KubeStore, pod: Pod, ready: boolean): void {
  const now = rfc3339(store.clock.now());
  store.update('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
    p.status!.conditions = (p.status!.conditions ?? []).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady'
        ? ready
          ? { type: c.type, status: 'True', lastProbeTime: null, lastTransitionTime: now }
          : { type: c.type, status: 'False', reason: NODE_NOT_READY, lastProbeTime: null, lastTransitionTime: now }
        : c,
    );
  });
}
