import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigurationError } from '../errors.js';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';

const ssmOf = (scope: AwsScope) => clientOf(scope, SSMClient);

export interface CachedSecretOptions {
  /** how long a value is served before SSM is asked again; default five minutes */
  ttlMs?: number;
  /** the clock, in ms (tests) */
  now?: () => number;
}

export const DEFAULT_SECRET_TTL_MS = 300_000;

/**
 * A reader for one secret (the Slack signing secret, the bot token) kept in SSM Parameter
 * Store. The value is cached for `ttlMs`: a warm Lambda does not call SSM per request, yet a
 * rotated secret is picked up within the TTL. Concurrent first reads share one request; a
 * failed read is not cached, so the next call asks again.
 *
 * `parameterName` is a SecureString (or String) parameter, or a Secrets Manager secret read
 * through SSM as `/aws/reference/secretsmanager/<secret-name>` (SSM requires WithDecryption
 * for those, which is always sent; the role then needs `secretsmanager:GetSecretValue` as
 * well as `ssm:GetParameter`, and `kms:Decrypt` for a customer-managed key).
 *
 * A parameter that does not exist, that the role may not read or decrypt, or that is empty
 * is a `ConfigurationError` naming the parameter (never its value); throttling and server
 * faults become `AwsTransientError` (callAws).
 */
export function cachedSecret(scope: AwsScope, parameterName: string, options: CachedSecretOptions = {}): () => Promise<string> {
  const ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
  const now = options.now ?? Date.now;
  let cached: { value: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  const misconfigured = (why: string) => () => new ConfigurationError(`secret parameter ${parameterName} ${why}`);
  async function fetchSecret(): Promise<string> {
    const out = await callAws('ssm:GetParameter', () => ssmOf(scope).send(new GetParameterCommand({ Name: parameterName, WithDecryption: true })), {
      ParameterNotFound: misconfigured('does not exist'),
      ParameterVersionNotFound: misconfigured('does not have the version asked for'),
      AccessDeniedException: misconfigured('cannot be read by this role (ssm:GetParameter, kms:Decrypt or secretsmanager:GetSecretValue denied)'),
      InvalidKeyId: misconfigured('cannot be decrypted: its KMS key is not usable'),
      ValidationException: misconfigured('is not a valid parameter name'),
    });
    const value = out.Parameter?.Value;
    if (!value) throw misconfigured('is empty')();
    return value;
  }

  return function readSecret(): Promise<string> {
    if (cached && now() < cached.expiresAt) return Promise.resolve(cached.value);
    inFlight ??= fetchSecret()
      .then((value) => {
        cached = { value, expiresAt: now() + ttlMs };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
