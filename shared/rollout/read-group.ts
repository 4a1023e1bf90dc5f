import { snapshotGroup } from '../aws/auto-scaling-groups.js';
import type { AwsScope } from '../aws/clients.js';
import { describeNodegroup } from '../aws/nodegroups.js';
import { ConfigurationError } from '../errors.js';

/** A node group's tags, size and zones: an EKS managed node group's, or a self-managed group's Auto Scaling group's. */
export async function readGroup(input: { cluster: string; group: { kind: 'managed' | 'self-managed'; name: string; autoScalingGroup?: string | undefined } }, ports: { aws: AwsScope }): Promise<{ tags: Record<string, string>; size: number; zones: number }> {
  if (input.group.kind === 'managed') {
    const ng = await describeNodegroup(ports.aws, input.cluster, input.group.name);
    return { tags: ng.tags, size: ng.desiredSize ?? 0, zones: Math.max(1, ng.subnets.length || 1) };
  }
  const name = input.group.autoScalingGroup ?? input.group.name;
  const group = await snapshotGroup(ports.aws, name);
  if (!group) throw new ConfigurationError(`Auto Scaling group ${name} does not exist`);
  return { tags: group.tags, size: group.desired, zones: new Set(group.instances.map((i) => i.availabilityZone)).size || 1 };
}
