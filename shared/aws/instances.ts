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

/**
 * DescribeInstances of these instances by an `instance-id` filter: EC2 throttles a
 * DescribeInstances with neither a filter nor pagination from a bucket of its own, half the
 * size of the other reads' and refilled at half their rate ("Request throttling for the Amazon
 * EC2 API": unfiltered and unpaginated non-mutating actions, 50 and 10/s against 100 and 20/s),
 * and a scale-in of hundreds of nodes asks about each of them at once. An instance EC2 no
 * longer knows is simply not in the answer.
 */
export function describeInstancesById(ec2: EC2Client, instanceIds: readonly string[]) {
  return callAws('ec2:DescribeInstances', () => ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [...instanceIds] }] })));
}

/** The instance, or undefined when EC2 no longer knows it. */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<InstanceView | undefined> {
  const out = await describeInstancesById(ec2, [instanceId]).catch((error: Error) => {
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

/** A filter's values at most (EC2 answers more with a validation error). */
const FILTER_VALUES = 200;

/**
 * The images the live instances of these Auto Scaling groups run now: group name → image id →
 * count. One DescribeInstances (paged; one more per 200 groups) filtered by the groups' tag,
 * whatever their number of instances: what `status` shows mid-rollout.
 */
export async function imagesRunningIn(ec2: EC2Client, groupNames: readonly string[]): Promise<Map<string, Map<string, number>>> {
  const found = new Map<string, Map<string, number>>();
  const names = [...new Set(groupNames)];
  for (let at = 0; at < names.length; at += FILTER_VALUES) {
    let token: string | undefined;
    do {
      const out = await callAws('ec2:DescribeInstances', () =>
        ec2.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: 'tag:aws:autoscaling:groupName', Values: names.slice(at, at + FILTER_VALUES) },
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
            MaxResults: 1000,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const instance of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const group = tagMap(instance.Tags)['aws:autoscaling:groupName'];
        if (!group || !instance.ImageId) continue;
        const images = found.get(group) ?? new Map<string, number>();
        images.set(instance.ImageId, (images.get(instance.ImageId) ?? 0) + 1);
        found.set(group, images);
      }
      token = out.NextToken;
    } while (token);
  }
  return found;
}
