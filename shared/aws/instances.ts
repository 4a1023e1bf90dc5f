import { CreateTagsCommand, DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';

const ec2Of = (scope: AwsScope) => clientOf(scope, EC2Client);

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
export function describeInstancesById(scope: AwsScope, instanceIds: readonly string[]) {
  return callAws('ec2:DescribeInstances', () => ec2Of(scope).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [...instanceIds] }] })));
}

/** The instance, or undefined when EC2 no longer knows it. */
export async function describeInstance(scope: AwsScope, instanceId: string): Promise<InstanceView | undefined> {
  const out = await describeInstancesById(scope, [instanceId]).catch((error: Error) => {
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

/** The live instance (not terminated) whose private DNS name this is, or undefined. */
export async function findInstanceByPrivateDnsName(scope: AwsScope, privateDnsName: string): Promise<{ instanceId: string; tags: Record<string, string> } | undefined> {
  const out = await callAws('ec2:DescribeInstances', () =>
    ec2Of(scope).send(new DescribeInstancesCommand({ Filters: [{ Name: 'private-dns-name', Values: [privateDnsName] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] })),
  );
  const instance = out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
  return instance?.InstanceId ? { instanceId: instance.InstanceId, tags: tagMap(instance.Tags) } : undefined;
}

/** The state and subnet of each of these instances (by InstanceIds: EC2 fails the call for an id it does not know). */
export async function describeInstanceStates(scope: AwsScope, instanceIds: readonly string[]): Promise<{ instanceId: string; state?: string; subnetId?: string }[]> {
  const out = await callAws('ec2:DescribeInstances', () => ec2Of(scope).send(new DescribeInstancesCommand({ InstanceIds: [...instanceIds] })));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => ({ instanceId: i.InstanceId ?? '', ...(i.State?.Name ? { state: i.State.Name } : {}), ...(i.SubnetId ? { subnetId: i.SubnetId } : {}) }));
}

/** Launch times, for planning oldest-first. */
export async function launchTimes(scope: AwsScope, instanceIds: readonly string[]): Promise<Map<string, string>> {
  const times = new Map<string, string>();
  for (let i = 0; i < instanceIds.length; i += FILTER_VALUES) {
    const out = await describeInstancesById(scope, instanceIds.slice(i, i + FILTER_VALUES));
    for (const r of out.Reservations ?? []) for (const inst of r.Instances ?? []) if (inst.InstanceId && inst.LaunchTime) times.set(inst.InstanceId, inst.LaunchTime.toISOString());
  }
  return times;
}

/** CreateTags is idempotent: writing a tag that is already there changes nothing. */
export async function tagInstance(scope: AwsScope, instanceId: string, tags: Record<string, string>): Promise<void> {
  await callAws('ec2:CreateTags', () =>
    ec2Of(scope).send(new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) })),
  );
}

export function tagMap(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
}

/** A filter's values at most (EC2 answers more with a validation error). */
const FILTER_VALUES = 200;

/**
 * Every instance matching `filter` in one of the given states: one DescribeInstances per 200
 * values (paged), whatever the number of instances.
 */
async function* instancesWhere(scope: AwsScope, filter: string, values: readonly string[], states: readonly string[]): AsyncGenerator<Instance> {
  const unique = [...new Set(values)];
  for (let at = 0; at < unique.length; at += FILTER_VALUES) {
    let token: string | undefined;
    do {
      const out = await callAws('ec2:DescribeInstances', () =>
        ec2Of(scope).send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: filter, Values: unique.slice(at, at + FILTER_VALUES) },
              { Name: 'instance-state-name', Values: [...states] },
            ],
            MaxResults: 1000,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      yield* (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      token = out.NextToken;
    } while (token);
  }
}

/**
 * The images the live instances of these Auto Scaling groups run now: group name → image id →
 * count. One DescribeInstances (paged; one more per 200 groups) filtered by the groups' tag,
 * whatever their number of instances: what `status` shows mid-rollout.
 */
export async function imagesRunningIn(scope: AwsScope, groupNames: readonly string[]): Promise<Map<string, Map<string, number>>> {
  const found = new Map<string, Map<string, number>>();
  for await (const instance of instancesWhere(scope, 'tag:aws:autoscaling:groupName', groupNames, ['pending', 'running', 'stopping', 'stopped'])) {
    const group = tagMap(instance.Tags)['aws:autoscaling:groupName'];
    if (!group || !instance.ImageId) continue;
    const images = found.get(group) ?? new Map<string, number>();
    images.set(instance.ImageId, (images.get(instance.ImageId) ?? 0) + 1);
    found.set(group, images);
  }
  return found;
}

/**
 * The live instances (pending or running) of the scope that run one of these images, with their
 * launch time and tags: one DescribeInstances filtered by `image-id` (paged; one more per 200
 * images), whatever the number of clusters and groups — how a promotion tells a cluster's
 * new-image nodes from the others, and finds the instances that never joined.
 */
export async function instancesRunning(scope: AwsScope, imageIds: readonly string[]): Promise<{ instanceId: string; imageId: string; launchTime?: string; tags: Record<string, string> }[]> {
  const found: { instanceId: string; imageId: string; launchTime?: string; tags: Record<string, string> }[] = [];
  for await (const i of instancesWhere(scope, 'image-id', imageIds, ['pending', 'running'])) {
    if (i.InstanceId && i.ImageId) found.push({ instanceId: i.InstanceId, imageId: i.ImageId, ...(i.LaunchTime ? { launchTime: i.LaunchTime.toISOString() } : {}), tags: tagMap(i.Tags) });
  }
  return found;
}
