import type { V1Node, V1Pod } from '../kube/api-types.js';
import { baselineOf, type HealthFacts, type NodeSignal, type PendingPod, type PodSignal, type PressureCondition } from './workload-health.js';

/**
 * Nodes and pods, as the API server lists them, turned into the facts workload-health.ts
 * judges. Pure: the adapter lists (one LIST of nodes, one of pods per node or by field
 * selector) and keeps what an earlier evaluation saw, if anything.
 */
const PRESSURE: readonly PressureCondition[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function nodeSignalOf(node: V1Node): NodeSignal {
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const since = ready ? ready.lastTransitionTime : node.metadata?.creationTimestamp; // never Ready: since it registered
  return {
    name: node.metadata?.name ?? '',
    ready: ready?.status === 'True',
    ...(ready?.status !== 'True' && since ? { notReadySince: since } : {}),
    pressure: PRESSURE.filter((type) => conditions.some((c) => c.type === type && c.status === 'True')),
  };
}

/**
 * A pod's restarts over the evaluation window. With `earlier` — its restart count when the
 * window began, kept by the previous evaluation — the restarts since then over the time since
 * then (or since the pod started, if later); without, every restart over the pod's whole life
 * (a pod on a new node lived only on the new image). Either way restarts and time cover the
 * same span.
 */
export function podSignalOf(pod: V1Pod, now: Date, earlier?: { at: Date; restarts: number }): PodSignal {
  const statuses = containerStatusesOf(pod);
  const restarts = restartCountOf(pod);
  const started = Date.parse(pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? '');
  const from = earlier ? Math.max(earlier.at.getTime(), Number.isNaN(started) ? 0 : started) : started;
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  const namespace = pod.metadata?.namespace ?? '';
  return {
    namespace,
    name: pod.metadata?.name ?? '',
    node: pod.spec?.nodeName ?? '',
    ...(owner ? { workload: `${namespace}/${owner.kind}/${owner.name}` } : {}),
    // a count that went down is a new pod under an old name: its restarts are all new
    restarts: earlier && restarts >= earlier.restarts ? restarts - earlier.restarts : restarts,
    observedSeconds: Number.isNaN(from) ? 0 : Math.max(0, (now.getTime() - from) / 1000),
    crashLooping: statuses.some((s) => s.state?.waiting?.reason === 'CrashLoopBackOff'),
  };
}

function containerStatusesOf(pod: V1Pod) {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** The restarts of the pod's containers (init containers included) over its life, as the kubelet counts them. */
export function restartCountOf(pod: V1Pod): number {
  return containerStatusesOf(pod).reduce((n, s) => n + (s.restartCount ?? 0), 0);
}

/**
 * What a cluster's nodes and pods say of the new image, split by node name: the new nodes'
 * conditions, the pods running on them, the previous image's running pods on the old nodes as
 * the restart baseline, and the pods bound to a new node that have not started. `signal` reads
 * a pod's restarts (default: over its whole life). The one split the batch gate
 * (rollout/health-gate.ts) and a promotion's cluster health (cluster-facts.ts) both judge.
 */
export function newImageFacts(input: { nodes: readonly V1Node[]; fresh: ReadonlySet<string>; old: ReadonlySet<string>; pods: readonly V1Pod[]; now: Date; signal?: (pod: V1Pod) => PodSignal }): Pick<HealthFacts, 'nodes' | 'pods' | 'baseline' | 'pending'> {
  const { fresh, old, now } = input;
  const signal = input.signal ?? ((pod: V1Pod) => podSignalOf(pod, now));
  const phase = (p: V1Pod) => p.status?.phase ?? 'Pending';
  const on = (names: ReadonlySet<string>) => (p: V1Pod) => names.has(p.spec?.nodeName ?? '');
  const running = input.pods.filter((p) => phase(p) === 'Running' || phase(p) === 'Unknown');
  const baseline = running.filter(on(old)).map(signal);
  const pending: PendingPod[] = input.pods
    .filter((p) => phase(p) === 'Pending' && on(fresh)(p))
    .map((p) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', since: p.metadata?.creationTimestamp ?? now.toISOString(), node: p.spec?.nodeName ?? '', reason: 'bound to a new node, not started' }));
  return {
    nodes: input.nodes.filter((n) => fresh.has(n.metadata?.name ?? '')).map(nodeSignalOf),
    pods: running.filter(on(fresh)).map(signal),
    ...(baseline.length > 0 ? { baseline: baselineOf(baseline) } : {}),
    pending,
  };
}
