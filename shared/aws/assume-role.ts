import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { MemberAccessError } from '../errors.js';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

export interface AssumeRoleRequest {
  roleArn: string;
  /** the member account and region the role acts in (for the error that names them) */
  accountId: string;
  region: string;
  /** what the member role's trust policy requires as sts:ExternalId, if anything */
  externalId?: string;
  /** shows in the member's CloudTrail as the session: the hub function's name */
  sessionName: string;
  /** 900–43200; the member roles keep the default maximum (1 hour) */
  durationSeconds?: number;
}

/** Credentials that end: what an SDK client re-asks its provider for shortly before `expiration`. */
export type ExpiringCredentials = AwsCredentialIdentity & { expiration: Date };

/**
 * sts:AssumeRole from `scope` (the hub function's own role) into a member account's role.
 * Refusals (AccessDenied: role deleted, trust or ExternalId mismatch, SCP; RegionDisabled)
 * become a MemberAccessError naming the account, region and role; throttling and server
 * errors left after the SDK's retries an AwsTransientError.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export async function assumeRole(scope: AwsScope, request: AssumeRoleRequest): Promise<ExpiringCredentials> {
  const refused = (error: Error) => new MemberAccessError(request.accountId, request.region, request.roleArn, `${error.name}: ${error.message}`);
  const out = await callAws(
    'sts:AssumeRole',
    () =>
      clientOf(scope, STSClient).send(
        new AssumeRoleCommand({
          RoleArn: request.roleArn,
          RoleSessionName: request.sessionName.slice(0, 64),
          ...(request.externalId ? { ExternalId: request.externalId } : {}),
          DurationSeconds: request.durationSeconds ?? 3600,
        }),
      ),
    { AccessDenied: refused, AccessDeniedException: refused, RegionDisabledException: refused, MalformedPolicyDocument: refused },
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.Expiration) throw new MemberAccessError(request.accountId, request.region, request.roleArn, 'AssumeRole answered without credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), expiration: new Date(c.Expiration) };
}
