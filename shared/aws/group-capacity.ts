import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { callAws } from './call.js';
import { describeInstancesById, tagMap } from './instances.js';

/**
 * What a rollout reads and changes on a self-managed Auto Scaling group: its sizes, its
 * launch template version, its instances; every write is idempotent (setting what is
 * already set, terminating what is already going, changes nothing).
 */
export interface GroupInstance {
  instanceId: string;
  availabilityZone: string;
  lifecycleState: string;
  healthStatus: string;
  /** the launch template version the instance was launched from, when the ASG knows it */
  launchTemplateVersion?: string;
}

export interface GroupSnapshot {
  name: string;
  desired: number;
  min: number;
  max: number;
  launchTemplate?: { id: string; version: string };
  suspendedProcesses: string[];
  tags: Record<string, string>;
  instances: GroupInstance[];
}

export async function snapshotGroup(autoscaling: AutoScalingClient, name: string): Promise<GroupSnapshot | undefined> {
  const out = await callAws('autoscaling:DescribeAutoScalingGroups', () =>
    autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
  );
  const g = out.AutoScalingGroups?.find((x) => x.AutoScalingGroupName === name);
  if (!g) return undefined;
  const spec = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return {
    name,
    desired: g.DesiredCapacity ?? 0,
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    ...(spec?.LaunchTemplateId ? { launchTemplate: { id: spec.LaunchTemplateId, version: spec.Version ?? '$Default' } } : {}),
    suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean),
    tags: tagMap(g.Tags),
    instances: (g.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId!,
      availabilityZone: i.AvailabilityZone ?? '',
      lifecycleState: i.LifecycleState ?? 'Pending',
      healthStatus: i.HealthStatus ?? 'Healthy',
      ...(i.LaunchTemplate?.Version ? { launchTemplateVersion: i.LaunchTemplate.Version } : {}),
    })),
  };
}

/**
 * The instances that are the group's (not leaving it), with their node names and launch times
 * from EC2: what a rollout's batches would replace (observe mode reports them).
 */
export async function describeGroupMembers(autoscaling: AutoScalingClient, ec2: EC2Client, name: string): Promise<{ instanceId: string; name: string; availabilityZone: string; launchedAt: string }[]> {
  const members = (await snapshotGroup(autoscaling, name))?.instances.filter((i) => !isLeaving(i)) ?? [];
  if (members.length === 0) return [];
  const out = await describeInstancesById(ec2, members.map((m) => m.instanceId));
  const byId = new Map((out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i]));
  return members.map((m) => {
    const instance = byId.get(m.instanceId);
    return { instanceId: m.instanceId, name: instance?.PrivateDnsName || m.instanceId, availabilityZone: m.availabilityZone, launchedAt: instance?.LaunchTime?.toISOString() ?? '' };
  });
}

/** States in which an instance is leaving the group: it no longer counts, and is not terminated again. */
export function isLeaving(instance: Pick<GroupInstance, 'lifecycleState'>): boolean {
  return /^(Terminating|Terminated|Detaching|Detached|Warmed)/.test(instance.lifecycleState);
}

/** Sizes and launch template version in one UpdateAutoScalingGroup; only what differs is sent. */
export async function updateGroup(
  autoscaling: AutoScalingClient,
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
    autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: current.name, ...change })),
  );
  return true;
}

/**
 * TerminateInstanceInAutoScalingGroup, once: an instance already leaving (or gone) is done.
 * The group's terminate lifecycle hook still runs; the drain record tells it the node is
 * already drained.
 */
export async function terminateGroupInstance(autoscaling: AutoScalingClient, instanceId: string, decrementDesired: boolean): Promise<'terminating' | 'already-gone'> {
  try {
    await callAws('autoscaling:TerminateInstanceInAutoScalingGroup', () =>
      autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesired })),
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
export async function setAzRebalance(autoscaling: AutoScalingClient, group: string, suspended: boolean): Promise<void> {
  const Command = suspended ? SuspendProcessesCommand : ResumeProcessesCommand;
  await callAws(suspended ? 'autoscaling:SuspendProcesses' : 'autoscaling:ResumeProcesses', () =>
    autoscaling.send(new Command({ AutoScalingGroupName: group, ScalingProcesses: ['AZRebalance'] })),
  );
}

/** Launch times, for planning oldest-first. */
export async function launchTimes(ec2: EC2Client, instanceIds: readonly string[]): Promise<Map<string, string>> {
  const times = new Map<string, string>();
  // 200 values a filter
  for (let i = 0; i < instanceIds.length; i += 200) {
    const out = await describeInstancesById(ec2, instanceIds.slice(i, i + 200));
    for (const r of out.Reservations ?? []) for (const inst of r.Instances ?? []) if (inst.InstanceId && inst.LaunchTime) times.set(inst.InstanceId, inst.LaunchTime.toISOString());
  }
  return times;
}

/**
 * The group's failed launches since `since`, as Auto Scaling words them (the status message
 * names the EC2 error: InsufficientInstanceCapacity, an instance quota, a launch template the
 * caller may not use…). One page of the newest activities is enough to say why.
 */
export async function failedLaunches(autoscaling: AutoScalingClient, name: string, since: Date): Promise<string[]> {
  const out = await callAws('autoscaling:DescribeScalingActivities', () =>
    autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 20 })),
  );
  return (out.Activities ?? [])
    .filter((a) => a.StatusCode === 'Failed' && /^Launching/.test(a.Description ?? '') && (a.StartTime?.getTime() ?? 0) >= since.getTime())
    .map((a) => (a.StatusMessage ?? a.Description ?? 'a launch failed').slice(0, 300));
}
