import { CLUSTER_NAME } from '../ids.js';
/**
 * Which EKS cluster owns an instance, decided from tags fetched beforehand. Pure.
 *
 * Sources, strongest first:
 * 1. the instance's own `kubernetes.io/cluster/<name>` tag (owned or shared);
 * 2. its Auto Scaling group: `kubernetes.io/cluster/<name>`, or `eks:cluster-name` that EKS
 *    puts on managed node groups' groups;
 * 3. the launch template's tags (eksctl and CloudFormation node groups carry them).
 * Two sources naming different clusters is a conflict: we never guess, and the instance is
 * left alone. The cluster must also be one this deployment manages. A node Karpenter launched
 * (its `karpenter.sh/nodepool` tag, no Auto Scaling group) is Karpenter's: it tags, drains and
 * replaces its own nodes, and every flow of this service leaves it alone.
 */
export const OWNERSHIP_TAG_PREFIX = 'kubernetes.io/cluster/';

/** The tags Karpenter puts on the instances it launches, and the labels on their nodes (v1 `nodepool`; v1alpha5 `provisioner-name`). */
export const KARPENTER_KEYS = ['karpenter.sh/nodepool', 'karpenter.sh/provisioner-name'] as const;

/** Why an instance is Karpenter's, or undefined when it is not. */
export function karpenterNode(instanceTags: Readonly<Record<string, string>>): string | undefined {
  const tag = KARPENTER_KEYS.find((key) => instanceTags[key] !== undefined);
  if (!tag || instanceTags['aws:autoscaling:groupName']) return undefined;
  return `managed by Karpenter (${tag}=${instanceTags[tag]}, no Auto Scaling group): Karpenter drains and replaces its own nodes — use its disruption budgets, or kubectl delete node`;
}

export interface OwnershipEvidence {
  instanceTags: Readonly<Record<string, string>>;
  groupTags?: Readonly<Record<string, string>>;
  launchTemplateTags?: Readonly<Record<string, string>>;
}

export type OwnershipDecision =
  | { decision: 'owned'; cluster: string; source: 'instance' | 'auto-scaling-group' | 'launch-template'; nodegroup?: string }
  | { decision: 'ignore'; reason: string };

export type ManagedClusters = '*' | readonly string[];


export function clustersNamedBy(tags: Readonly<Record<string, string>> | undefined): string[] {
  if (!tags) return [];
  const names = new Set<string>();
  for (const [key, value] of Object.entries(tags)) {
    if (key.startsWith(OWNERSHIP_TAG_PREFIX) && key.length > OWNERSHIP_TAG_PREFIX.length && (value === 'owned' || value === 'shared')) {
      names.add(key.slice(OWNERSHIP_TAG_PREFIX.length));
    }
  }
  const eks = tags['eks:cluster-name'];
  if (eks) names.add(eks);
  return [...names].filter((name) => CLUSTER_NAME.test(name));
}

export function resolveCluster(evidence: OwnershipEvidence, managed: ManagedClusters): OwnershipDecision {
  const karpenter = karpenterNode(evidence.instanceTags);
  if (karpenter) return { decision: 'ignore', reason: karpenter };
  const sources = [
    ['instance', clustersNamedBy(evidence.instanceTags)],
    ['auto-scaling-group', clustersNamedBy(evidence.groupTags)],
    ['launch-template', clustersNamedBy(evidence.launchTemplateTags)],
  ] as const;
  const named = new Set(sources.flatMap(([, clusters]) => clusters));
  if (named.size === 0) return { decision: 'ignore', reason: 'no cluster ownership tag on the instance, its Auto Scaling group or its launch template' };
  if (named.size > 1) return { decision: 'ignore', reason: `conflicting cluster ownership: ${[...named].sort().join(', ')}` };
  const [cluster] = [...named] as [string];
  if (managed !== '*' && !managed.includes(cluster)) {
    return { decision: 'ignore', reason: `cluster ${cluster} is not managed by this deployment` };
  }
  const source = sources.find(([, clusters]) => clusters.length > 0)![0];
  const nodegroup = evidence.groupTags?.['eks:nodegroup-name'] ?? evidence.instanceTags['eks:nodegroup-name'];
  return nodegroup ? { decision: 'owned', cluster, source, nodegroup } : { decision: 'owned', cluster, source };
}
