import { describeAccessEntry } from '../aws/access-entries.js';
import { callerPrincipalArn } from '../aws/caller-identity.js';
import type { AwsScope } from '../aws/clients.js';
import { ClusterNotFoundError, KubernetesAccessDeniedError } from '../errors.js';
import { reviewAccess } from '../kube/access-review.js';
import type { V1Pod } from '../kube/api-types.js';
import { callKube, type KubeClients } from '../kube/client.js';
import { instanceIdOfNode } from '../kube/find-node.js';
import { karpenterNodePool, listTerminationHandlerPods } from '../kube/neighbours.js';
import { ACCESS_NEEDS, type AccessEntryFacts, type AccessNeed, type ApiOutcome } from './checks.js';

export interface ProbedNode {
  name: string;
  instanceId?: string;
  /** the Karpenter NodePool that launched it, if Karpenter did */
  nodePool?: string;
}

/** What the service sees of one cluster's Kubernetes API, as a Kubernetes-facing function reaches it. JSON, so a function can return it. */
export interface ClusterProbe {
  api: { reached: true; nodes: ProbedNode[] } | Extract<ApiOutcome, { reached: false }>;
  access: Omit<AccessEntryFacts, 'apiReached'>;
  /** one review per need; undefined: not checked (the API was not reached, or refused the reviews) */
  reviews?: { need: AccessNeed; allowed: boolean }[];
  /** the Node Termination Handler's pods; undefined: not listed */
  handlerPods?: V1Pod[];
}

export interface ProbePorts {
  kube: Pick<KubeClients, 'core' | 'authorization' | 'connection'>;
  aws: AwsScope;
}

/**
 * Run by `doctorProbe`, a function in the service's Kubernetes group (and in the VPC, with the
 * vpc params), so that what it sees is what the drains see; read only:
 * 1. one list of nodes (the API reached; which node is which instance; Karpenter's NodePools);
 * 2. the role's access entry (eks:DescribeAccessEntry; not on a cluster that only reads aws-auth);
 * 3. one SelfSubjectAccessReview per need of a drain and a rollout;
 * 4. one list of the Node Termination Handler's pods, by label.
 */
export async function probeCluster(ports: ProbePorts, cluster: string): Promise<ClusterProbe> {
  // 1.
  const api = await readNodes(ports, cluster);
  // 2., 3.
  const [access, reviews] = await Promise.all([accessEntryFacts(ports, cluster), api.reached ? rbacReviews(ports, cluster) : Promise.resolve(undefined)]);
  // 4.
  const handlerPods = api.reached ? await listTerminationHandlerPods(await ports.kube.core(cluster), cluster, { everywhere: true }).catch(() => undefined) : undefined;
  return { api, access, ...(reviews ? { reviews } : {}), ...(handlerPods ? { handlerPods } : {}) };
}

async function readNodes(ports: ProbePorts, cluster: string): Promise<ClusterProbe['api']> {
  try {
    const core = await ports.kube.core(cluster);
    const list = await callKube(cluster, 'list nodes', () => core.listNode());
    return {
      reached: true,
      nodes: list.items.map((n) => {
        const instanceId = instanceIdOfNode(n);
        const nodePool = karpenterNodePool(n);
        return { name: n.metadata?.name ?? '', ...(instanceId ? { instanceId } : {}), ...(nodePool !== undefined ? { nodePool } : {}) };
      }),
    };
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    if (error instanceof KubernetesAccessDeniedError) return { reached: false, failure: 'denied', message };
    if (error instanceof ClusterNotFoundError) return { reached: false, failure: 'no-cluster', message };
    return { reached: false, failure: 'unavailable', message };
  }
}

async function accessEntryFacts(ports: ProbePorts, cluster: string): Promise<ClusterProbe['access']> {
  const mode = await ports.kube.connection(cluster).then((c) => c.authenticationMode).catch(() => undefined);
  const facts = mode ? { authenticationMode: mode } : {};
  if (mode === 'CONFIG_MAP') return facts;
  let principalArn: string | undefined;
  try {
    principalArn = await callerPrincipalArn(ports.aws);
    return { ...facts, principalArn, entry: await describeAccessEntry(ports.aws, cluster, principalArn) };
  } catch (error) {
    return { ...facts, ...(principalArn ? { principalArn } : {}), unread: `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? ''}` };
  }
}

async function rbacReviews(ports: ProbePorts, cluster: string): Promise<ClusterProbe['reviews']> {
  try {
    const answers = await reviewAccess(await ports.kube.authorization(cluster), cluster, ACCESS_NEEDS);
    return answers.map((a) => ({ need: a.question, allowed: a.allowed }));
  } catch {
    return undefined;
  }
}
