import {
  type AutoScalingGroup,
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  paginateDescribeAutoScalingGroups,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';
import { accountOfArn } from './partition.js';

/**
 * Auto Scaling groups: the one reader (`snapshotGroup`, and `listGroupsTagged` for many) and
 * one view of a group, and the writes a rollout and the tagging make. Every write is
 * idempotent: setting what is already set, terminating what is already going, changes nothing.
 */
export interface GroupInstance {
  instanceId: string;
  availabilityZone: string;
  lifecycleState: string;
  healthStatus: string;
  /** the launch template and version the instance was launched from, when the group knows them */
  launchTemplateId?: string;
  launchTemplateVersion?: string;
}

export interface GroupSnapshot {
  name: string;
  /** the account the group lives in (from its ARN) */
  accountId?: string;
  desired: number;
  min: number;
  max: number;
  /** its own launch template or its mixed instances policy's; the version as the group names it (`$Default` when it names none) */
  launchTemplate?: { id: string; version: string };
  suspendedProcesses: string[];
  tags: Record<string, string>;
  /** the keys of the tags that instances launched from now on carry (PropagateAtLaunch) */
  propagateAtLaunch: string[];
  /** the subnets it launches into (VPCZoneIdentifier) */
  subnetIds: string[];
  /** the instances in the group, whatever their lifecycle state */
  instances: GroupInstance[];
}

const autoScaling = (scope: AwsScope) => clientOf(scope, AutoScalingClient);

function snapshotOf(g: AutoScalingGroup): GroupSnapshot {
  const spec = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const accountId = accountOfArn(g.AutoScalingGroupARN);
  const tags = (g.Tags ?? []).filter((t) => t.Key !== undefined);
  return {
    name: g.AutoScalingGroupName ?? '',
    ...(accountId ? { accountId } : {}),
    desired: g.DesiredCapacity ?? 0,
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    ...(spec?.LaunchTemplateId ? { launchTemplate: { id: spec.LaunchTemplateId, version: spec.Version ?? '$Default' } } : {}),
    suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean),
    tags: Object.fromEntries(tags.map((t) => [t.Key!, t.Value ?? ''])),
    propagateAtLaunch: tags.filter((t) => t.PropagateAtLaunch).map((t) => t.Key!),
    subnetIds: (g.VPCZoneIdentifier ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    instances: (g.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId!,
      availabilityZone: i.AvailabilityZone ?? '',
      lifecycleState: i.LifecycleState ?? 'Pending',
      healthStatus: i.HealthStatus ?? 'Healthy',
      ...(i.LaunchTemplate?.LaunchTemplateId ? { launchTemplateId: i.LaunchTemplate.LaunchTemplateId } : {}),
      ...(i.LaunchTemplate?.Version ? { launchTemplateVersion: i.LaunchTemplate.Version } : {}),
    })),
  };
}

/** The group, or undefined when Auto Scaling does not know it. */
export async function snapshotGroup(scope: AwsScope, name: string): Promise<GroupSnapshot | undefined> {
  const out = await callAws('autoscaling:DescribeAutoScalingGroups', () =>
    autoScaling(scope).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
  );
  const g = out.AutoScalingGroups?.find((x) => x.AutoScalingGroupName === name);
  return g ? snapshotOf(g) : undefined;
}

/** Every group carrying the tag key (whatever its value), by pages of 100. */
export async function listGroupsTagged(scope: AwsScope, tagKey: string): Promise<GroupSnapshot[]> {
  const groups: GroupSnapshot[] = [];
  const pages = paginateDescribeAutoScalingGroups({ client: autoScaling(scope), pageSize: 100 }, { Filters: [{ Name: 'tag-key', Values: [tagKey] }] });
  for await (const page of pages) groups.push(...(page.AutoScalingGroups ?? []).map(snapshotOf));
  return groups;
}

/** States in which an instance is leaving the group: it no longer counts, and is not terminated again. */
export function isLeaving(instance: Pick<GroupInstance, 'lifecycleState'>): boolean {
  return /^(Terminating|Terminated|Detaching|Detached|Warmed)/.test(instance.lifecycleState);
}

/** Sizes and launch template version in one UpdateAutoScalingGroup; only what differs is sent. */
export async function updateGroup(
  scope: AwsScope,
  current: Pick<GroupSnapshot, 'name' | 'desired' | 'min' | 'max' | 'launchTemplate'>,
  want: { desired?: number; min?: number; max?: number; launchTemplate?: { id: string; version: string } },
): Promise<boolean> {
  const change: Record<string, unknown> = {};
  if (want.min !== undefined && want.min !== current.min) change['MinSize'] = want.min;
  if (want.max !== undefined && want.max !== current.max) change['MaxSize'] = want.max;
  if (want.desired !== undefined && want.desired !== current.desired) change['DesiredCapacity'] = want.desired;
  if (want.launchTemplate && (want.launchTemplate.id !== current.launchTemplate?.id || want.launchTemplate.version !== current.launchTemplate?.version)) {
    change['LaunchTemplate'] = { LaunchTemplateId: want.launchTemplate.id, Version: want.launchTemplate.version };
  }
  if (Object.keys(change).length === 0) return false;
  await callAws('autoscaling:UpdateAutoScalingGroup', () =>
    autoScaling(scope).send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: current.name, ...change })),
  );
  return true;
}

/**
 * TerminateInstanceInAutoScalingGroup, once: an instance already leaving (or gone) is done.
 * The group's terminate lifecycle hook still runs; the drain record tells it the node is
 * already drained.
 */
export async function terminateGroupInstance(scope: AwsScope, instanceId: string, decrementDesired: boolean): Promise<'terminating' | 'already-gone'> {
  try {
    await callAws('autoscaling:TerminateInstanceInAutoScalingGroup', () =>
      autoScaling(scope).send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesired })),
    );
    return 'terminating';
  } catch (error) {
    const message = (error as Error)?.message ?? '';
    // gone already (one already Terminating is answered with its activity, not an error)
    if (/Instance Id not found/i.test(message)) return 'already-gone';
    throw error;
  }
}

/** AZRebalance would terminate instances on its own while the rollout changes the group's spread. */
export async function setAzRebalance(scope: AwsScope, group: string, suspended: boolean): Promise<void> {
  const Command = suspended ? SuspendProcessesCommand : ResumeProcessesCommand;
  await callAws(suspended ? 'autoscaling:SuspendProcesses' : 'autoscaling:ResumeProcesses', () =>
    autoScaling(scope).send(new Command({ AutoScalingGroupName: group, ScalingProcesses: ['AZRebalance'] })),
  );
}

/** Sets a group tag that every instance launched from now on will carry. */
export async function putPropagatingGroupTag(scope: AwsScope, group: string, key: string, value: string): Promise<void> {
  await callAws('autoscaling:CreateOrUpdateTags', () =>
    autoScaling(scope).send(
      new CreateOrUpdateTagsCommand({
        Tags: [{ ResourceId: group, ResourceType: 'auto-scaling-group', Key: key, Value: value, PropagateAtLaunch: true }],
      }),
    ),
  );
}

/**
 * The group's failed launches since `since`, as Auto Scaling words them (the status message
 * names the EC2 error: InsufficientInstanceCapacity, an instance quota, a launch template the
 * caller may not use…). One page of the newest activities is enough to say why.
 */
export async function failedLaunches(scope: AwsScope, name: string, since: Date): Promise<string[]> {
  const out = await callAws('autoscaling:DescribeScalingActivities', () =>
    autoScaling(scope).send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 20 })),
  );
  return (out.Activities ?? [])
    .filter((a) => a.StatusCode === 'Failed' && /^Launching/.test(a.Description ?? '') && (a.StartTime?.getTime() ?? 0) >= since.getTime())
    .map((a) => (a.StatusMessage ?? a.Description ?? 'a launch failed').slice(0, 300));
}
