import type { V1Node, V1Pod } from '../kube/api-types.js';
import type { CoreV1Api } from '../kube/api.js';
import { callKube } from '../kube/client.js';
import { DEFAULT_DRAIN_SETTINGS } from '../kube/drain/types.js';
import { instanceIdOfNode, isNodeReady } from '../kube/find-node.js';

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
  const list = await callKube(cluster, 'list nodes', () => core.listNode());
  return indexNodes(list.items);
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

export type HealthVerdict = { verdict: 'healthy'; nodes: number; pods: number } | { verdict: 'pending'; reason: string };

/**
 * The health gate (pure): every instance has a Ready node, and every pod on those nodes is
 * Running and Ready (finished pods, Succeeded or Failed, are a Job's business, as kubectl sees them). Anything short of that is pending;
 * the caller decides when pending has lasted too long.
 */
export function judgeHealth(instanceIds: readonly string[], nodes: ReadonlyMap<string, NodeFact>, pods: readonly PodFact[]): HealthVerdict {
  const notReady = instanceIds.filter((id) => !nodes.get(id)?.ready);
  if (notReady.length > 0) return { verdict: 'pending', reason: `no Ready node yet for ${list(notReady)}` };
  const names = new Set(instanceIds.map((id) => nodes.get(id)!.name));
  const mine = pods.filter((p) => names.has(p.node) && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const unready = mine.filter((p) => p.phase !== 'Running' || !p.ready);
  if (unready.length > 0) return { verdict: 'pending', reason: `pods not Running/Ready on the new nodes: ${list(unready.map((p) => `${p.namespace}/${p.name} (${p.phase})`))}` };
  return { verdict: 'healthy', nodes: names.size, pods: mine.length };
}

/** Reads the pods of the given nodes (one LIST per node, by field selector) and judges them. */
export async function checkHealth(core: CoreV1Api, cluster: string, instanceIds: readonly string[], nodes: ReadonlyMap<string, NodeFact>): Promise<HealthVerdict> {
  const names = instanceIds.map((id) => nodes.get(id)?.name).filter((n): n is string => n !== undefined);
  const pods: PodFact[] = [];
  if (names.length === instanceIds.length) {
    for (const node of names) {
      const out = await callKube(cluster, 'list pods', () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
      pods.push(...out.items.map(podFact));
    }
  }
  return judgeHealth(instanceIds, nodes, pods);
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
