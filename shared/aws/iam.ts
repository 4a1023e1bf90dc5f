import { GetInstanceProfileCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';

const iamOf = (scope: AwsScope) => clientOf(scope, IAMClient);

export interface InstanceProfileView {
  name: string;
  arn: string;
  /** an instance profile holds at most one role; empty when it was removed */
  roleArns: string[];
}

/** IAM answers NoSuchEntity for a missing profile or role; the SDK names it …Exception. */
function isNoSuchEntity(error: Error): boolean {
  return error.name === 'NoSuchEntityException' || error.name === 'NoSuchEntity';
}

/** The profile and the role(s) it hands to instances, or undefined when it does not exist. */
export async function describeInstanceProfile(scope: AwsScope, name: string): Promise<InstanceProfileView | undefined> {
  const out = await callAws('iam:GetInstanceProfile', () => iamOf(scope).send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).catch((error: Error) => {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  });
  const profile = out?.InstanceProfile;
  if (!profile) return undefined;
  return {
    name: profile.InstanceProfileName ?? name,
    arn: profile.Arn ?? '',
    roleArns: (profile.Roles ?? []).map((r) => r.Arn).filter((arn): arn is string => arn !== undefined),
  };
}

/** ARNs of the managed policies attached to a role (every page), or undefined when the role does not exist. */
export async function listAttachedPolicyArns(scope: AwsScope, roleName: string): Promise<string[] | undefined> {
  const arns: string[] = [];
  let marker: string | undefined;
  do {
    const out = await callAws('iam:ListAttachedRolePolicies', () =>
      iamOf(scope).send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) })),
    ).catch((error: Error) => {
      if (isNoSuchEntity(error)) return undefined;
      throw error;
    });
    if (!out) return undefined;
    arns.push(...(out.AttachedPolicies ?? []).map((p) => p.PolicyArn).filter((arn): arn is string => arn !== undefined));
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  return arns;
}

/** `arn:aws:iam::111122223333:role/path/name` → `name` (IAM calls take the name, not the ARN). */
export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.indexOf(':role/') + ':role/'.length).split('/').pop() ?? roleArn;
}

/** The profile a launch template names, by name or by ARN (`…:instance-profile/path/name`). */
export function instanceProfileNameOf(spec: { Name?: string; Arn?: string } | undefined): string | undefined {
  if (spec?.Name) return spec.Name;
  return spec?.Arn ? spec.Arn.split('/').pop() : undefined;
}
