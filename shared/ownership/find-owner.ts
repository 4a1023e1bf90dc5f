import type { AwsScope } from '../aws/clients.js';
import { type GroupSnapshot, snapshotGroup } from '../aws/auto-scaling-groups.js';
import { describeInstance, type InstanceView } from '../aws/instances.js';
import { describeLaunchTemplateTags } from '../aws/launch-templates.js';
import { clustersNamedBy, type ManagedClusters, OWNERSHIP_TAG_PREFIX, type OwnershipDecision, resolveCluster } from './resolve-cluster.js';

export interface OwnerPorts {
  aws: AwsScope;
  managedClusters: ManagedClusters;
}

export interface InstanceOwner {
  instance: InstanceView;
  group?: GroupSnapshot;
  decision: OwnershipDecision;
}

/**
 * Reads what tells an instance's cluster — the instance, its Auto Scaling group and, only
 * when those say nothing, its launch template — and decides (`resolveCluster`). Undefined
 * when EC2 does not know the instance.
 *
 * `settledByInstanceTags`: an instance that already carries the ownership tag of one managed
 * cluster (and of no other) is decided by its own tags alone, without reading its group —
 * for a caller with nothing to change then (tagging: the tag arrived at launch, from the
 * group or the launch template, so later launches get it too).
 */
export async function findInstanceOwner(ports: OwnerPorts, instanceId: string, groupName?: string, options: { settledByInstanceTags?: boolean } = {}): Promise<InstanceOwner | undefined> {
  const instance = await describeInstance(ports.aws, instanceId);
  if (!instance) return undefined;
  if (options.settledByInstanceTags && clustersNamedBy(instance.tags).length === 1) {
    const decision = resolveCluster({ instanceTags: instance.tags }, ports.managedClusters);
    if (decision.decision === 'owned' && `${OWNERSHIP_TAG_PREFIX}${decision.cluster}` in instance.tags) return { instance, decision };
  }
  const name = groupName ?? instance.tags['aws:autoscaling:groupName'];
  const group = name ? await snapshotGroup(ports.aws, name) : undefined;
  const groupTags = group?.tags;
  let decision = resolveCluster({ instanceTags: instance.tags, groupTags }, ports.managedClusters);
  const templateId = instance.launchTemplateId ?? group?.launchTemplate?.id;
  if (decision.decision === 'ignore' && templateId && !decision.reason.startsWith('conflicting')) {
    const launchTemplateTags = await describeLaunchTemplateTags(ports.aws, templateId);
    decision = resolveCluster({ instanceTags: instance.tags, groupTags, launchTemplateTags }, ports.managedClusters);
  }
  return group ? { instance, group, decision } : { instance, decision };
}
