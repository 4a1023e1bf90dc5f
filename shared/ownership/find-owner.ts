import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describeGroup, type GroupView } from '../aws/auto-scaling.js';
import { describeInstance, type InstanceView } from '../aws/instances.js';
import { describeLaunchTemplateTags } from '../aws/launch-templates.js';
import { type ManagedClusters, type OwnershipDecision, resolveCluster } from './resolve-cluster.js';

export interface OwnerPorts {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  managedClusters: ManagedClusters;
}

export interface InstanceOwner {
  instance: InstanceView;
  group?: GroupView;
  decision: OwnershipDecision;
}

/**
 * Reads what tells an instance's cluster — the instance, its Auto Scaling group and, only
 * when those say nothing, its launch template — and decides (`resolveCluster`). Undefined
 * when EC2 does not know the instance.
 */
export async function findInstanceOwner(ports: OwnerPorts, instanceId: string, groupName?: string): Promise<InstanceOwner | undefined> {
  const instance = await describeInstance(ports.ec2, instanceId);
  if (!instance) return undefined;
  const name = groupName ?? instance.tags['aws:autoscaling:groupName'];
  const group = name ? await describeGroup(ports.autoscaling, name) : undefined;
  const groupTags = group ? groupTagValues(group) : undefined;
  let decision = resolveCluster({ instanceTags: instance.tags, groupTags }, ports.managedClusters);
  const templateId = instance.launchTemplateId ?? group?.launchTemplateId;
  if (decision.decision === 'ignore' && templateId && !decision.reason.startsWith('conflicting')) {
    const launchTemplateTags = await describeLaunchTemplateTags(ports.ec2, templateId);
    decision = resolveCluster({ instanceTags: instance.tags, groupTags, launchTemplateTags }, ports.managedClusters);
  }
  return group ? { instance, group, decision } : { instance, decision };
}

export function groupTagValues(group: GroupView): Record<string, string> {
  return Object.fromEntries(Object.entries(group.tags).map(([key, tag]) => [key, tag.value]));
}
