import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** GetParameters takes at most 10 names. */
export const PARAMETERS_PER_CALL = 10;

/** The values of up to ten SSM parameters by name (GetParameters); a name SSM does not know has none. */
export async function getParameters(scope: AwsScope, names: readonly string[]): Promise<Map<string, string | undefined>> {
  const out = await callAws('ssm:GetParameters', () => clientOf(scope, SSMClient).send(new GetParametersCommand({ Names: [...names] })));
  return new Map(names.map((name) => [name, out.Parameters?.find((p) => p.Name === name)?.Value]));
}
