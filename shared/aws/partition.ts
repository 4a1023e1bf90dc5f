/**
 * The AWS partition a region belongs to, and what differs with it: the ARN prefix and the
 * DNS suffix of service endpoints. The one place that knows; everything that builds a host
 * name or an ARN asks here (issue 15, item 5).
 *
 * | partition | regions | DNS suffix |
 * |---|---|---|
 * | aws | everything else (us-east-1, eu-west-1, …) | amazonaws.com |
 * | aws-cn | cn-north-1, cn-northwest-1 | amazonaws.com.cn |
 * | aws-us-gov | us-gov-west-1, us-gov-east-1 | amazonaws.com |
 *
 * The region's prefix decides, as in the SDK's partitions.json (`^cn\-\w+\-\d+$`,
 * `^us\-gov\-\w+\-\d+$`). The isolated partitions (aws-iso, aws-iso-b, …) are not served.
 */
export type PartitionName = 'aws' | 'aws-cn' | 'aws-us-gov';

export interface Partition {
  name: PartitionName;
  /** the domain of regional endpoints: `sts.<region>.<dnsSuffix>` */
  dnsSuffix: string;
}

const PARTITIONS: Readonly<Record<PartitionName, Partition>> = {
  aws: { name: 'aws', dnsSuffix: 'amazonaws.com' },
  'aws-cn': { name: 'aws-cn', dnsSuffix: 'amazonaws.com.cn' },
  'aws-us-gov': { name: 'aws-us-gov', dnsSuffix: 'amazonaws.com' },
};

/** The partition of a region (`cn-north-1` → aws-cn). Pure. */
export function partitionOfRegion(region: string): Partition {
  if (/^cn-[a-z]+-\d+$/.test(region)) return PARTITIONS['aws-cn'];
  if (/^us-gov-[a-z]+-\d+$/.test(region)) return PARTITIONS['aws-us-gov'];
  return PARTITIONS.aws;
}

/** The partition an ARN names (`arn:aws-cn:…` → aws-cn); undefined for what is not an ARN of a served partition. Pure. */
export function partitionOfArn(arn: string): Partition | undefined {
  const name = /^arn:([a-z-]+):/.exec(arn)?.[1];
  return name && name in PARTITIONS ? PARTITIONS[name as PartitionName] : undefined;
}

/** `sts.<region>.amazonaws.com`, `sts.cn-north-1.amazonaws.com.cn`: a service's regional endpoint host. */
export function regionalHost(service: string, region: string): string {
  return `${service}.${region}.${partitionOfRegion(region).dnsSuffix}`;
}

/**
 * An ARN in the region's partition: `arn(region, 'states', account, 'stateMachine:x')`.
 * `region` '' is for global services (IAM), whose ARNs carry none: pass `partition` then.
 */
export function arnOf(parts: { partition?: PartitionName; region: string; service: string; account: string; resource: string }): string {
  const partition = parts.partition ?? partitionOfRegion(parts.region).name;
  return `arn:${partition}:${parts.service}:${parts.region}:${parts.account}:${parts.resource}`;
}

/** The execution name in an execution ARN (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`). */
export function executionNameOf(executionArn: string): string {
  return executionArn.split(':').at(-1) ?? executionArn;
}

/** The account in an ARN (`arn:aws:eks:eu-west-1:123456789012:nodegroup/…`), if it names one. Pure. */
export function accountOfArn(arn: string | undefined): string | undefined {
  return /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(arn ?? '')?.[1];
}
