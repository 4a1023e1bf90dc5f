import type { BucketLimit } from '../token-bucket';
import type { ServiceName } from './errors';

/**
 * Which token buckets an AWS call draws from, per account and region, and how large they are.
 *
 * EC2 — "Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html (read 2026-12):
 * request rate limiting is per API ("each API is evaluated individually"): every action has a
 * bucket of its own, sized by its category; a request takes one token.
 *
 * | category                                             | capacity | refill/s |
 * | ---------------------------------------------------- | -------- | -------- |
 * | non-mutating (Describe*, List*, Search*, Get*)       | 100      | 20       |
 * | unfiltered and unpaginated non-mutating (see below)  | 50       | 10       |
 * | mutating                                             | 50       | 5        |
 * | resource-intensive (AuthorizeSecurityGroupIngress …) | 50       | 5        |
 * | uncategorized: RunInstances, StartInstances          | 5        | 2        |
 * |   TerminateInstances                                 | 100      | 5        |
 * |   CreateTags, DeleteTags                             | 100      | 10       |
 * |   CreateLaunchTemplateVersion, ModifyLaunchTemplate  | 100      | 5        |
 *
 * DescribeInstances, DescribeInstanceStatus, DescribeNetworkInterfaces,
 * DescribeSecurityGroups, DescribeSnapshots, DescribeSpotInstanceRequests and
 * DescribeVolumes asked "without specifying either pagination or a filter" take from a
 * smaller bucket of their own (50, 10/s). We read that literally: `InstanceIds` is neither a
 * filter nor pagination, so DescribeInstances by ids alone is the unfiltered kind.
 * Resource rate limiting comes on top for four actions, one token per instance:
 * RunInstances 1000 (2/s), TerminateInstances 1000 (20/s), StartInstances 1000 (2/s),
 * StopInstances 1000 (20/s). A call must find every bucket it draws from ready.
 *
 * Auto Scaling publishes no buckets. AWS says only that "all Amazon EC2 Auto Scaling API
 * calls have a single, shared API limit" per account and region
 * (https://repost.aws/knowledge-center/autoscaling-api-calls-throttled). Our choice, not
 * AWS's numbers: one bucket for every Auto Scaling action, sized like EC2's largest request
 * bucket (100, 20/s) — shared, so far stricter for a caller that mixes actions.
 *
 * EKS publishes none either. Our choice: EC2's request categories per action (Describe*,
 * List* 100 at 20/s; every other action 50 at 5/s).
 *
 * SSM, STS and IAM are not throttled here (not asked for yet); their calls pass untouched.
 */

export interface BucketDraw {
  /** `ec2:DescribeInstances`, `ec2:DescribeInstances (unfiltered)`, `ec2:RunInstances (resource)`, `autoscaling:*` */
  key: string;
  limit: BucketLimit;
  cost: number;
}

const EC2_NON_MUTATING: BucketLimit = { capacity: 100, refillPerSecond: 20 };
const EC2_UNFILTERED: BucketLimit = { capacity: 50, refillPerSecond: 10 };
const EC2_MUTATING: BucketLimit = { capacity: 50, refillPerSecond: 5 };

/** The page's uncategorized actions that the sandbox implements, and its resource-intensive ones (50, 5/s). */
const EC2_OWN_BUCKETS: Readonly<Record<string, BucketLimit>> = {
  RunInstances: { capacity: 5, refillPerSecond: 2 },
  StartInstances: { capacity: 5, refillPerSecond: 2 },
  TerminateInstances: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
  DeleteTags: { capacity: 100, refillPerSecond: 10 },
  CreateLaunchTemplateVersion: { capacity: 100, refillPerSecond: 5 },
  ModifyLaunchTemplate: { capacity: 100, refillPerSecond: 5 },
  AuthorizeSecurityGroupIngress: { capacity: 50, refillPerSecond: 5 },
  RevokeSecurityGroupIngress: { capacity: 50, refillPerSecond: 5 },
  CreateKeyPair: { capacity: 50, refillPerSecond: 5 },
};

const EC2_UNFILTERED_ACTIONS: ReadonlySet<string> = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);

const EC2_RESOURCE_BUCKETS: Readonly<Record<string, BucketLimit>> = {
  RunInstances: { capacity: 1000, refillPerSecond: 2 },
  TerminateInstances: { capacity: 1000, refillPerSecond: 20 },
  StartInstances: { capacity: 1000, refillPerSecond: 2 },
  StopInstances: { capacity: 1000, refillPerSecond: 20 },
};

const AUTO_SCALING_SHARED: BucketLimit = { capacity: 100, refillPerSecond: 20 };
const EKS_NON_MUTATING: BucketLimit = { capacity: 100, refillPerSecond: 20 };
const EKS_MUTATING: BucketLimit = { capacity: 50, refillPerSecond: 5 };

const NON_MUTATING = /^(Describe|List|Search|Get)/;

/** The buckets a call draws from; none for a service the sandbox does not throttle. */
export function bucketsFor(service: ServiceName | 'iam', command: string, input: unknown): BucketDraw[] {
  switch (service) {
    case 'ec2':
      return ec2Buckets(command, (input ?? {}) as Ec2Input);
    case 'autoscaling':
      return [{ key: 'autoscaling:*', limit: AUTO_SCALING_SHARED, cost: 1 }];
    case 'eks':
      return [{ key: `eks:${command}`, limit: NON_MUTATING.test(command) ? EKS_NON_MUTATING : EKS_MUTATING, cost: 1 }];
    default:
      return [];
  }
}

interface Ec2Input {
  Filters?: unknown[];
  MaxResults?: number;
  NextToken?: string;
  InstanceIds?: string[];
  MaxCount?: number;
}

function ec2Buckets(command: string, input: Ec2Input): BucketDraw[] {
  const unfiltered = EC2_UNFILTERED_ACTIONS.has(command) && !(input.Filters?.length) && input.MaxResults === undefined && input.NextToken === undefined;
  const request: BucketDraw = unfiltered
    ? { key: `ec2:${command} (unfiltered)`, limit: EC2_UNFILTERED, cost: 1 }
    : { key: `ec2:${command}`, limit: EC2_OWN_BUCKETS[command] ?? (NON_MUTATING.test(command) ? EC2_NON_MUTATING : EC2_MUTATING), cost: 1 };
  const resource = EC2_RESOURCE_BUCKETS[command];
  if (!resource) return [request];
  // one token per instance: launched (MaxCount, what a launch asks for), or named
  const instances = command === 'RunInstances' ? (input.MaxCount ?? 1) : (input.InstanceIds?.length ?? 1);
  return [request, { key: `ec2:${command} (resource)`, limit: resource, cost: Math.max(1, instances) }];
}
