import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { iamPrincipalArn } from './access-entries.js';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** Who this code runs as, as an access entry names it (sts:GetCallerIdentity, which needs no permission). */
export async function callerPrincipalArn(scope: AwsScope): Promise<string> {
  const out = await callAws('sts:GetCallerIdentity', () => clientOf(scope, STSClient).send(new GetCallerIdentityCommand({})));
  return iamPrincipalArn(out.Arn ?? '');
}
