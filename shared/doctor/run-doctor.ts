import { snapshotGroup } from '../aws/auto-scaling-groups.js';
import { lifecycleHooksOf } from '../aws/lifecycle-actions.js';
import { type EffectiveSetting, readNodeGroupConfig } from '../config/node-group-config.js';
import { type DetectPorts, planGroups } from '../detect/detect.js';
import { listClusterNames } from '../detect/inventory.js';
import { ClusterNotFoundError } from '../errors.js';
import { terminationHandlerFor } from '../kube/neighbours.js';
import {
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
import type { ClusterProbe } from './probe-cluster.js';

export interface DoctorPorts {
  inventory: Omit<DetectPorts, 'amiRolloutStateMachineArn'>;
  /** what the service sees of a cluster's Kubernetes API: `doctorProbe`, a function in the service's Kubernetes group (probe-cluster.ts) */
  probe: (cluster: string) => Promise<ClusterProbe>;
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
 * 2. the cluster's Kubernetes API as the drains reach it (the probe: nodes, the role's access
 *    entry, what RBAC allows, the Node Termination Handler's pods);
 * 3. per group: its Auto Scaling group's instances and lifecycle hooks;
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
  const probe = await ports.probe(cluster);
  const nodes = probe.api.reached ? probe.api.nodes : [];
  const checks: Check[] = [
    checkApi(cluster, probe.api.reached ? { reached: true, nodes: nodes.length } : probe.api),
    checkAccessEntry(cluster, { ...probe.access, apiReached: probe.api.reached }),
    checkRbac(cluster, probe.reviews),
    checkKarpenter(nodes.flatMap((n) => (n.nodePool === undefined ? [] : [{ name: n.name, nodePool: n.nodePool }]))),
  ];

  // 3.
  const groups = await Promise.all(
    planned.groups.map(async (group): Promise<GroupDiagnosis> => {
      const config = readNodeGroupConfig(group.tags);
      const plan = planned.plans.find((p) => p.cluster === group.cluster && p.group === group.name);
      const asg = group.autoScalingGroup ? await snapshotGroup(ports.inventory.aws, group.autoScalingGroup) : undefined;
      const hooks = asg ? await lifecycleHooksOf(ports.inventory.aws, asg.name) : undefined;
      const nodeNames = nodes.filter((n) => n.instanceId !== undefined && asg?.instances.some((i) => i.instanceId === n.instanceId)).map((n) => n.name);
      const asgTags = asg?.tags ?? {};
      const sighting = probe.handlerPods ? terminationHandlerFor(probe.handlerPods, { nodeNames, groupTags: asgTags }) : undefined;
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
          checkTerminationHandler(sighting, probe.handlerPods !== undefined),
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
