import type { V1Node, V1Pod } from '../kube/api-types.js';
import type { CoreV1Api } from '../kube/api.js';
import { callKube } from '../kube/client.js';
import { DEFAULT_DRAIN_SETTINGS } from '../kube/drain/types.js';
import { instanceIdOfNode, isNodeReady } from '../kube/find-node.js';
import { newImageFacts } from '../fleet/kube-signals.js';
import { evaluateHealth, type HealthCriteria, type HealthFacts, type HealthReport } from '../fleet/workload-health.js';

/**
 * What a rollout needs to know of a group's nodes, read in one LIST, and the health gate
 * that decides whether new nodes may take the next batch's pods.
 */
export interface NodeFact {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  /** cordoned by this service: it carries our NoSchedule taint (cordon-node.ts), so uncordoning it takes back only what we added */
  ourCordon?: boolean;
}

/** Every node of the cluster that runs an EC2 instance, by instance id (from providerID). */
export async function nodesByInstance(core: CoreV1Api, cluster: string): Promise<Map<string, NodeFact>> {
  return (await readNodes(core, cluster)).byInstance;
}

/** The cluster's nodes in one LIST: indexed by instance, and as listed (the workload gate reads their conditions). */
export async function readNodes(core: CoreV1Api, cluster: string): Promise<{ byInstance: Map<string, NodeFact>; items: readonly V1Node[] }> {
  const list = await callKube(cluster, 'list nodes', () => core.listNode());
  return { byInstance: indexNodes(list.items), items: list.items };
}

export function indexNodes(nodes: readonly V1Node[]): Map<string, NodeFact> {
  const byInstance = new Map<string, NodeFact>();
  for (const node of nodes) {
    const id = instanceIdOfNode(node);
    if (id && node.metadata?.name) {
      const ourCordon = (node.spec?.taints ?? []).some((t) => t.key === DEFAULT_DRAIN_SETTINGS.taintKey && t.effect === 'NoSchedule');
      byInstance.set(id, { name: node.metadata.name, ready: isNodeReady(node), unschedulable: node.spec?.unschedulable === true, ourCordon });
    }
  }
  return byInstance;
}

export interface PodFact {
  namespace: string;
  name: string;
  node: string;
  phase: string;
  ready: boolean;
}

/**
 * `regressed`: the new nodes hurt their workloads (shared/fleet/workload-health.ts), a failed
 * batch at once, whatever the readiness gate would still wait for.
 */
export type HealthVerdict =
  | { verdict: 'healthy'; nodes: number; pods: number; report?: HealthReport }
  | { verdict: 'pending'; reason: string; report?: HealthReport }
  | { verdict: 'regressed'; reason: string; report: HealthReport };

/**
 * The health gate (pure): every instance has a Ready node, and every pod on those nodes is
 * Running and Ready (finished pods, Succeeded or Failed, are a Job's business, as kubectl sees them). Anything short of that is pending;
 * the caller decides when pending has lasted too long.
 */
export function judgeHealth(instanceIds: readonly string[], nodes: ReadonlyMap<string, NodeFact>, pods: readonly PodFact[]): Exclude<HealthVerdict, { verdict: 'regressed' }> {
  const notReady = instanceIds.filter((id) => !nodes.get(id)?.ready);
  if (notReady.length > 0) return { verdict: 'pending', reason: `no Ready node yet for ${list(notReady)}` };
  const names = new Set(instanceIds.map((id) => nodes.get(id)!.name));
  const mine = pods.filter((p) => names.has(p.node) && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const unready = mine.filter((p) => p.phase !== 'Running' || !p.ready);
  if (unready.length > 0) return { verdict: 'pending', reason: `pods not Running/Ready on the new nodes: ${list(unready.map((p) => `${p.namespace}/${p.name} (${p.phase})`))}` };
  return { verdict: 'healthy', nodes: names.size, pods: mine.length };
}

/** What the workload half of the gate judges with: the thresholds, and the group's nodes still on the previous image (the baseline). */
export interface WorkloadGate {
  criteria: HealthCriteria;
  /** the group's instances on the previous image: their pods are the restart baseline */
  oldInstanceIds: readonly string[];
  now: Date;
}

/**
 * The workload facts of a batch's new nodes (pure), from one LIST of nodes and one of pods:
 * the new nodes' conditions, their pods, the previous image's pods on the group's old nodes as
 * the baseline, and the pods bound to a new node still Pending. Join failures are left to the
 * readiness gate (a replacement never Ready rolls the batch back already), failed evictions to
 * the drain (a failed drain rolls it back already), alarms are not read here: a named alarm is
 * insufficient data, which never fails a batch.
 */
export function workloadFacts(instanceIds: readonly string[], oldInstanceIds: readonly string[], nodes: { byInstance: ReadonlyMap<string, NodeFact>; items: readonly V1Node[] }, pods: readonly V1Pod[], now: Date): HealthFacts {
  const names = (ids: readonly string[]) => new Set(ids.map((id) => nodes.byInstance.get(id)?.name).filter((n): n is string => n !== undefined));
  return { ...newImageFacts({ nodes: nodes.items, fresh: names(instanceIds), old: names(oldInstanceIds), pods, now }), joinFailures: [], evictionFailures: [], alarms: [] };
}

/**
 * Readiness and workloads together (pure): a regression fails the batch now; otherwise the
 * readiness verdict, carrying the workload report. Insufficient data (a batch too young for a
 * restart rate) never fails it.
 */
export function judgeBatch(readiness: Exclude<HealthVerdict, { verdict: 'regressed' }>, report: HealthReport): HealthVerdict {
  if (report.verdict !== 'regressed') return { ...readiness, report };
  const failing = report.signals.filter((s) => s.status === 'regressed');
  const reason = `workloads regressed on the new nodes: ${failing.map((s) => `${s.signal}: ${s.detail}${s.evidence.length ? ` (${s.evidence.slice(0, 3).join('; ')})` : ''}`).join('; ')}`;
  return { verdict: 'regressed', reason, report };
}

/**
 * Reads the pods of the cluster once (every pod not finished: the new nodes', the old nodes'
 * baseline, the Pending ones; one LIST whatever the batch's size) and judges them. Without
 * `workload`, readiness alone.
 */
export async function checkHealth(
  core: CoreV1Api,
  cluster: string,
  instanceIds: readonly string[],
  nodes: ReadonlyMap<string, NodeFact> | { byInstance: ReadonlyMap<string, NodeFact>; items: readonly V1Node[] },
  workload?: WorkloadGate,
): Promise<HealthVerdict> {
  const indexed = nodes instanceof Map ? { byInstance: nodes as ReadonlyMap<string, NodeFact>, items: [] as V1Node[] } : (nodes as { byInstance: ReadonlyMap<string, NodeFact>; items: readonly V1Node[] });
  const names = instanceIds.map((id) => indexed.byInstance.get(id)?.name).filter((n): n is string => n !== undefined);
  // a missing node: readiness says so, without a read
  if (names.length !== instanceIds.length || names.length === 0) return judgeHealth(instanceIds, indexed.byInstance, []);
  // field selectors on status.phase are indexed for pods by the API server (as spec.nodeName is)
  const out = await callKube(cluster, 'list pods', () => core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }));
  const readiness = judgeHealth(instanceIds, indexed.byInstance, out.items.map(podFact));
  if (!workload) return readiness;
  const facts = workloadFacts(instanceIds, workload.oldInstanceIds, indexed, out.items, workload.now);
  return judgeBatch(readiness, evaluateHealth(facts, workload.criteria, workload.now));
}

function podFact(pod: V1Pod): PodFact {
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    node: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
  };
}

function list(items: readonly string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}
