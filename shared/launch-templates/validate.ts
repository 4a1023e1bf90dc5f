/**
 * EKS's and EC2's rules for a launch template, checked before a version is created, so a
 * rollout fails here with the rule's name instead of as a NodeCreationFailure an hour in.
 * Sources: EKS user guide "Customizing managed nodes with launch templates" (forbidden
 * settings, security groups, instance types, hop limit, user data formats), EC2 (16 KB).
 */
import type { TemplateData } from '../aws/launch-template-versions.js';
import { unmergeableToml } from './bottlerocket-toml.js';
import { LaunchTemplateValidationError, type LaunchTemplateViolation } from '../errors.js';
import type { BootstrapTarget, NodeImageFamily } from './types.js';
import { readBootstrapTarget } from './user-data.js';

export const LAUNCH_TEMPLATE_RULES = {
  'mng-subnet-in-network-interface': 'a managed node group takes its subnets from the node group, not from a network interface of the template',
  'mng-iam-instance-profile': 'a managed node group takes its IAM role from the node group, not an instance profile in the template',
  'mng-shutdown-behavior': 'a managed node group must leave the instance-initiated shutdown behaviour out of the template (EKS controls the instance lifecycle)',
  'mng-hibernation': 'a managed node group must leave hibernation out of the template (EKS controls the instance lifecycle)',
  'security-groups-both-levels': 'security groups go on the instance or on the network interface, not both',
  'mng-multiple-instance-types': 'a managed node group template names 0 or 1 instance type (list more on the node group)',
  'imds-hop-limit': 'IMDSv2 is required but the metadata hop limit is below 2, so containers cannot reach instance metadata',
  'user-data-too-large': 'user data is over 16 KB after base64',
  'user-data-unparseable': 'the user data cannot be read in the format of its image family',
  'bottlerocket-toml-unmergeable': 'the Bottlerocket TOML uses a construct EKS cannot merge',
  'bootstrap-cluster-mismatch': 'the bootstrap in the user data names another cluster, endpoint or CA',
  'bootstrap-missing': 'the template names its own AMI, so EKS merges nothing, but the user data has no bootstrap',
  'bootstrap-in-merged-user-data': 'EKS merges its own bootstrap into this user data, which must not bootstrap or start the kubelet itself',
} as const;

export type LaunchTemplateRule = keyof typeof LAUNCH_TEMPLATE_RULES;

export interface ValidateLaunchTemplateInput {
  data: TemplateData;
  managedNodeGroup: boolean;
  family: NodeImageFamily;
  cluster: { name: string; endpoint: string; certificateAuthority: string };
  /** the user data as text; read from data.UserData (base64) when absent */
  userDataDecoded?: string;
}

const USER_DATA_LIMIT_BYTES = 16 * 1024;

const trimSlash = (s: string) => s.replace(/\/+$/, '');
const noSpace = (s: string) => s.replace(/\s/g, '');

function violation(rule: LaunchTemplateRule, detail?: string): LaunchTemplateViolation {
  return { rule, message: detail ? `${LAUNCH_TEMPLATE_RULES[rule]}: ${detail}` : LAUNCH_TEMPLATE_RULES[rule] };
}

function templateRules(input: ValidateLaunchTemplateInput): LaunchTemplateViolation[] {
  const { data, managedNodeGroup } = input;
  const out: LaunchTemplateViolation[] = [];
  const interfaces = data.NetworkInterfaces ?? [];
  if (managedNodeGroup) {
    const withSubnet = interfaces.filter((ni) => ni.SubnetId);
    if (withSubnet.length) out.push(violation('mng-subnet-in-network-interface', withSubnet.map((ni) => ni.SubnetId).join(', ')));
    if (data.IamInstanceProfile && (data.IamInstanceProfile.Arn || data.IamInstanceProfile.Name)) {
      out.push(violation('mng-iam-instance-profile', data.IamInstanceProfile.Arn ?? data.IamInstanceProfile.Name));
    }
    if (data.InstanceInitiatedShutdownBehavior !== undefined) out.push(violation('mng-shutdown-behavior', data.InstanceInitiatedShutdownBehavior));
    if (data.HibernationOptions !== undefined) out.push(violation('mng-hibernation'));
    if (data.InstanceRequirements !== undefined) out.push(violation('mng-multiple-instance-types', 'the template selects instance types by attributes'));
  }
  const instanceGroups = (data.SecurityGroupIds?.length ?? 0) + (data.SecurityGroups?.length ?? 0);
  if (instanceGroups > 0 && interfaces.some((ni) => (ni.Groups?.length ?? 0) > 0)) out.push(violation('security-groups-both-levels'));
  const metadata = data.MetadataOptions;
  if (metadata?.HttpTokens === 'required' && (metadata.HttpPutResponseHopLimit ?? 1) < 2) {
    out.push(violation('imds-hop-limit', `hop limit ${metadata.HttpPutResponseHopLimit ?? 'unset (1)'}`));
  }
  return out;
}

function bootstrapRules(input: ValidateLaunchTemplateInput, text: string, eksMerges: boolean): LaunchTemplateViolation[] {
  let target: BootstrapTarget | undefined;
  try {
    target = readBootstrapTarget(input.family, text);
  } catch (error) {
    if (error instanceof LaunchTemplateValidationError) return [...error.violations];
    throw error;
  }
  if (eksMerges) return target ? [violation('bootstrap-in-merged-user-data')] : [];
  if (!target) return [violation('bootstrap-missing')];
  const { cluster } = input;
  const wrong = [
    target.clusterName !== undefined && target.clusterName !== cluster.name ? `cluster ${target.clusterName}, not ${cluster.name}` : undefined,
    target.apiServerEndpoint !== undefined && trimSlash(target.apiServerEndpoint) !== trimSlash(cluster.endpoint) ? `endpoint ${target.apiServerEndpoint}, not ${cluster.endpoint}` : undefined,
    target.certificateAuthority !== undefined && noSpace(target.certificateAuthority) !== noSpace(cluster.certificateAuthority) ? 'a certificate authority that is not the cluster\'s' : undefined,
  ].filter((w): w is string => w !== undefined);
  return wrong.length ? [violation('bootstrap-cluster-mismatch', wrong.join('; '))] : [];
}

function userDataRules(input: ValidateLaunchTemplateInput): LaunchTemplateViolation[] {
  const { data } = input;
  const text = input.userDataDecoded ?? (data.UserData ? Buffer.from(data.UserData, 'base64').toString('utf8') : undefined);
  if (text === undefined || text.trim() === '') {
    return input.managedNodeGroup && !data.ImageId ? [] : [violation('bootstrap-missing')];
  }
  const out: LaunchTemplateViolation[] = [];
  const encodedLength = data.UserData?.length ?? Buffer.from(text, 'utf8').toString('base64').length;
  if (encodedLength > USER_DATA_LIMIT_BYTES) out.push(violation('user-data-too-large', `${encodedLength} bytes`));
  // with its own AMI the template is not merged by EKS (and a self-managed group never is)
  const eksMerges = input.managedNodeGroup && !data.ImageId;
  if (eksMerges && input.family === 'bottlerocket') {
    const found = unmergeableToml(text);
    if (found.length) out.push(violation('bottlerocket-toml-unmergeable', found.map((f) => `${f.construct} on line ${f.line}`).join(', ')));
  }
  out.push(...bootstrapRules(input, text, eksMerges));
  return out;
}

export function validateLaunchTemplate(input: ValidateLaunchTemplateInput): LaunchTemplateViolation[] {
  return [...templateRules(input), ...userDataRules(input)];
}

/** Throws LaunchTemplateValidationError naming every rule the template breaks. */
export function assertValidLaunchTemplate(input: ValidateLaunchTemplateInput): void {
  const violations = validateLaunchTemplate(input);
  if (violations.length) throw new LaunchTemplateValidationError(violations);
}
