import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

export interface SubnetView {
  subnetId: string;
  availabilityZone?: string;
  freeAddresses: number;
}

function view(s: { SubnetId?: string; AvailabilityZone?: string; AvailableIpAddressCount?: number }): SubnetView {
  return { subnetId: s.SubnetId ?? '', ...(s.AvailabilityZone ? { availabilityZone: s.AvailabilityZone } : {}), freeAddresses: s.AvailableIpAddressCount ?? 0 };
}

/**
 * The subnets, by a `subnet-id` filter (`byFilter`: one that is gone is missing from the
 * answer) or by their ids (EC2 fails the call for one it does not know).
 */
export async function describeSubnets(scope: AwsScope, subnetIds: readonly string[], how: 'byFilter' | 'byId'): Promise<SubnetView[]> {
  const request = how === 'byFilter' ? { Filters: [{ Name: 'subnet-id', Values: [...subnetIds] }] } : { SubnetIds: [...subnetIds] };
  const out = await callAws('ec2:DescribeSubnets', () => clientOf(scope, EC2Client).send(new DescribeSubnetsCommand(request)));
  return (out.Subnets ?? []).map(view);
}
