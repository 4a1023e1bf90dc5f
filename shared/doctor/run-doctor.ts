import type { STSClient } from '@aws-sdk/client-sts';
import { callerPrincipalArn, describeAccessEntry } from '../aws/access-entries.js';
import { describeGroup, lifecycleHooksOf } from '../aws/auto-scaling.js';
import { type EffectiveSetting, readNodeGroupConfig } from '../config/node-group-config.js';
import { type DetectPorts, planGroups } from '../detect/detect.js';
import { listClusterNames } from '../detect/inventory.js';
import { ClusterNotFoundError, KubernetesAccessDeniedError } from '../errors.js';
import { reviewAccess } from '../kube/access-review.js';
import type { V1Node } from '../kube/api-types.js';
import type { KubeClients } from '../kube/client.js';
import { callKube } from '../kube/client.js';
import { instanceIdOfNode } from '../kube/find-node.js';
import { karpenterNodePool, listTerminationHandlerPods, terminationHandlerFor } from '../kube/neighbours.js';
import {
  ACCESS_NEEDS,
  type ApiOutcome,
  blocking,
  type Check,
  checkAccessEntry,
  checkApi,
  checkConfiguration,
  checkHooks,
  checkImage,
  checkKarpenter,
  checkRbac,
  checkTerminationHandler,
  problemLines,
} from './checks.js';

export interface DoctorPorts {
  inventory: Omit<DetectPorts, 'sfn' | 'amiRolloutStateMachineArn'>;
  kube: Pick<KubeClients, 'core' | 'authorization' | 'connection'>;
  sts: STSClient;
}

export interface GroupDiagnosis {
  cluster: string;
  group: string;
  kind: 'managed' | 'self-managed';
  settings: EffectiveSetting[];
  problems: string[];
  notes: string[];
  checks: Check[];
}

export interface ClusterDiagnosis {
  cluster: string;
  checks: Check[];
  groups: GroupDiagnosis[];
}

export interface Diagnosis {
  clusters: ClusterDiagnosis[];
  /** a check found a problem: something is blocked (the CLI exits 1) */
  blocking: boolean;
}

/**
 * What an operator checks before trusting the service with a cluster, read only:
 * 1. the cluster is one this deployment manages, and its groups (the plan detection would
 *    make, opted in or not: configuration, and the image each channel resolves to);
 * 2. the Kubernetes API, as the service reaches it (one list of nodes: also the Karpenter
 *    nodes, and which node is which instance);
 * 3. the service role's access entry (eks:DescribeAccessEntry) and what RBAC lets it do
 *    (one SelfSubjectAccessReview per need of a drain and a rollout);
 * 4. the Node Termination Handler's pods (one list, by label);
 * 5. per group: its Auto Scaling group's instances and lifecycle hooks;
 * then each check decides (checks.ts). Nothing is written.
 */
export async function diagnose(ports: DoctorPorts, scope: { cluster: string; group?: string }): Promise<ClusterDiagnosis> {
  const { cluster } = scope;
  // 1.
  if ((await listClusterNames(ports.inventory, cluster)).length === 0) {
    return { cluster, checks: [{ name: 'Managed', status: 'problem', reason: `${cluster} is not one of the clusters this deployment looks after`, todo: 'add it to the managedClusters parameter of the stage, and deploy' }], groups: [] };
  }
  let planned: Awaited<ReturnType<typeof planGroups>>;
  try {
    // a group not opted in is planned as if it were: does its channel resolve before it is?
    planned = await planGroups(ports.inventory, { cluster, ...(scope.group ? { group: scope.group } : {}), asIfOptedIn: true });
  } catch (error) {
    if (error instanceof ClusterNotFoundError || (error as Error)?.name === 'ResourceNotFoundException') {
      return { cluster, checks: [checkApi(cluster, { reached: false, failure: 'no-cluster', message: (error as Error).message })], groups: [] };
    }
    throw error;
  }

  // 2.
  const api = await readNodes(ports, cluster);
  const nodes = api.reached ? api.items : [];
  // 3.
  const [entry, reviews] = await Promise.all([accessEntryFacts(ports, cluster, api.reached), api.reached ? rbacReviews(ports, cluster) : Promise.resolve(undefined)]);
  // 4.
  const handlerPods = api.reached ? await listTerminationHandlerPods(await ports.kube.core(cluster), cluster, { everywhere: true }).catch(() => undefined) : undefined;

  const karpenter = nodes.flatMap((n) => {
    const nodePool = karpenterNodePool(n);
    return nodePool === undefined ? [] : [{ name: n.metadata?.name ?? '', nodePool }];
  });
  const checks: Check[] = [
    checkApi(cluster, api.reached ? { reached: true, nodes: nodes.length } : api),
    checkAccessEntry(cluster, { ...entry, apiReached: api.reached }),
    checkRbac(cluster, reviews),
    checkKarpenter(karpenter),
  ];

  // 5.
  const groups = await Promise.all(
    planned.groups.map(async (group): Promise<GroupDiagnosis> => {
      const config = readNodeGroupConfig(group.tags);
      const plan = planned.plans.find((p) => p.cluster === group.cluster && p.group === group.name);
      const asg = group.autoScalingGroup ? await describeGroup(ports.inventory.autoscaling, group.autoScalingGroup) : undefined;
      const hooks = asg ? await lifecycleHooksOf(ports.inventory.autoscaling, asg.name) : undefined;
      const nodeNames = nodes.filter((n) => asg?.instanceIds.includes(instanceIdOfNode(n) ?? '')).map((n) => n.metadata?.name ?? '');
      const asgTags = asg ? Object.fromEntries(Object.entries(asg.tags).map(([k, t]) => [k, t.value])) : {};
      const sighting = handlerPods ? terminationHandlerFor(handlerPods, { nodeNames, groupTags: asgTags }) : undefined;
      return {
        cluster,
        group: group.name,
        kind: group.kind,
        settings: config.settings,
        problems: problemLines(config),
        notes: config.notes,
        checks: [
          checkConfiguration(config),
          checkHooks({ kind: group.kind, drainOn: config.policy.installTerminateHook, policyHooks: config.policy.hooks, ...(hooks ? { hooks } : {}) }),
          checkTerminationHandler(sighting, handlerPods !== undefined),
          checkImage(plan, config),
        ],
      };
    }),
  );
  return { cluster, checks, groups };
}

/** Every cluster's diagnosis, and whether any check found a problem. */
export function summarize(clusters: ClusterDiagnosis[]): Diagnosis {
  return { clusters, blocking: clusters.some((c) => blocking(c.checks) || c.groups.some((g) => blocking(g.checks))) };
}

async function readNodes(ports: DoctorPorts, cluster: string): Promise<{ reached: true; items: V1Node[] } | Extract<ApiOutcome, { reached: false }>> {
  try {
    const core = await ports.kube.core(cluster);
    const list = await callKube(cluster, 'list nodes', () => core.listNode());
    return { reached: true, items: list.items };
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    if (error instanceof KubernetesAccessDeniedError) return { reached: false, failure: 'denied', message };
    if (error instanceof ClusterNotFoundError) return { reached: false, failure: 'no-cluster', message };
    return { reached: false, failure: 'unavailable', message };
  }
}

async function accessEntryFacts(ports: DoctorPorts, cluster: string, apiReached: boolean): Promise<Parameters<typeof checkAccessEntry>[1]> {
  const mode = await ports.kube.connection(cluster).then((c) => c.authenticationMode).catch(() => undefined);
  const facts = { apiReached, ...(mode ? { authenticationMode: mode } : {}) };
  if (mode === 'CONFIG_MAP') return facts;
  let principalArn: string | undefined;
  try {
    principalArn = await callerPrincipalArn(ports.sts);
    return { ...facts, principalArn, entry: await describeAccessEntry(ports.inventory.eks, cluster, principalArn) };
  } catch (error) {
    return { ...facts, ...(principalArn ? { principalArn } : {}), unread: `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? ''}` };
  }
}

async function rbacReviews(ports: DoctorPorts, cluster: string): Promise<Parameters<typeof checkRbac>[1]> {
  try {
    const answers = await reviewAccess(await ports.kube.authorization(cluster), cluster, ACCESS_NEEDS);
    return answers.map((a) => ({ need: a.question, allowed: a.allowed }));
  } catch {
    return undefined;
  }
}
