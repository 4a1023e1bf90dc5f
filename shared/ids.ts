/**
 * Identifier patterns, one per kind of id, each as AWS documents it. Plain regular
 * expressions (no zod here: shared/events builds its schemas from them).
 */

/**
 * EC2 resource ids: a prefix, a hyphen, then 8 hexadecimal digits (resources created before
 * 2016–2018) or 17 (every resource since). docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html
 */
const EC2_SUFFIX = '(?:[0-9a-f]{8}|[0-9a-f]{17})';
const ec2Id = (prefix: string) => new RegExp(`^${prefix}-${EC2_SUFFIX}$`);

export const INSTANCE_ID = ec2Id('i');
export const IMAGE_ID = ec2Id('ami');
export const LAUNCH_TEMPLATE_ID = ec2Id('lt');

/**
 * EKS cluster names: 1–100 characters, letters, digits, hyphens and underscores, starting
 * with a letter or digit (CreateCluster `name`, pattern `^[0-9A-Za-z][A-Za-z0-9\-_]*`).
 */
export const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** AWS account ids: 12 digits. */
export const ACCOUNT_ID = /^\d{12}$/;
/** an AWS region code: eu-west-1, us-gov-west-1, cn-north-1, ap-southeast-5 */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Step Functions state machine and execution names: 1–80 of letters, digits, `-` and `_` (the characters CloudWatch logging accepts). */
const SFN_NAME = '[A-Za-z0-9_-]{1,80}';
const SFN_ARN = 'arn:aws[a-z-]*:states:[a-z0-9-]+:\\d{12}';
export const STATE_MACHINE_ARN = new RegExp(`^${SFN_ARN}:stateMachine:${SFN_NAME}$`);
export const EXECUTION_ARN = new RegExp(`^${SFN_ARN}:execution:${SFN_NAME}:${SFN_NAME}$`);

/** A node's instance, from its providerID `aws:///<zone>/<instance id>` (as the cloud provider wrote it, not validated). */
export function instanceIdOfProviderId(providerId: string | undefined): string | undefined {
  return /\/(i-[0-9a-f]+)$/.exec(providerId ?? '')?.[1];
}

/** The instance a resource-name hostname names (`i-0123456789abcdef0.eu-west-1.compute.internal`, or the bare id). */
export function instanceIdOfHostname(hostname: string): string | undefined {
  return new RegExp(`^(i-${EC2_SUFFIX})(\\.|$)`).exec(hostname)?.[1];
}
