import { isLeaving, snapshotGroup } from './auto-scaling-groups.js';
import type { AwsScope } from './clients.js';
import { describeInstancesById } from './instances.js';

/**
 * The instances that are the group's (not leaving it), with their node names and launch times
 * from EC2: what a rollout's batches would replace (observe mode reports them).
 */
export async function describeGroupMembers(scope: AwsScope, name: string): Promise<{ instanceId: string; name: string; availabilityZone: string; launchedAt: string }[]> {
  const members = (await snapshotGroup(scope, name))?.instances.filter((i) => !isLeaving(i)) ?? [];
  if (members.length === 0) return [];
  const out = await describeInstancesById(scope, members.map((m) => m.instanceId));
  const byId = new Map((out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i]));
  return members.map((m) => {
    const instance = byId.get(m.instanceId);
    return { instanceId: m.instanceId, name: instance?.PrivateDnsName || m.instanceId, availabilityZone: m.availabilityZone, launchedAt: instance?.LaunchTime?.toISOString() ?? '' };
  });
}
