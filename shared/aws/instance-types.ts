import { DescribeInstanceTypesCommand, EC2Client, type InstanceTypeInfo, type _InstanceType } from '@aws-sdk/client-ec2';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** An instance type as EC2 describes it (DescribeInstanceTypes): network interfaces, addresses, vCPUs… */
export type InstanceTypeView = InstanceTypeInfo;

/** One instance type; EC2's error when it does not know it. */
export async function describeInstanceType(scope: AwsScope, instanceType: string): Promise<InstanceTypeView | undefined> {
  const out = await callAws('ec2:DescribeInstanceTypes', () => clientOf(scope, EC2Client).send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] })));
  return out.InstanceTypes?.[0];
}
