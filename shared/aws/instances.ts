import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { callAws } from './call.js';

export interface InstanceView {
  instanceId: string;
  state: string;
  availabilityZone?: string;
  privateDnsName?: string;
  launchTemplateId?: string;
  tags: Record<string, string>;
}

/** The instance, or undefined when EC2 no longer knows it. */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<InstanceView | undefined> {
  const out = await callAws('ec2:DescribeInstances', () =>
    ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
  ).catch((error: Error) => {
    if (error.name === 'InvalidInstanceID.NotFound' || error.name === 'InvalidInstanceID.Malformed') return undefined;
    throw error;
  });
  const instance = out?.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  if (!instance) return undefined;
  const tags = tagMap(instance.Tags);
  return {
    instanceId,
    state: instance.State?.Name ?? 'unknown',
    availabilityZone: instance.Placement?.AvailabilityZone,
    privateDnsName: instance.PrivateDnsName || undefined,
    launchTemplateId: tags['aws:ec2launchtemplate:id'],
    tags,
  };
}

/** CreateTags is idempotent: writing a tag that is already there changes nothing. */
export async function tagInstance(ec2: EC2Client, instanceId: string, tags: Record<string, string>): Promise<void> {
  await callAws('ec2:CreateTags', () =>
    ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) })),
  );
}

export function tagMap(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
}
