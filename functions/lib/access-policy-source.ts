import type { AwsScope } from '../../shared/aws/clients.js';
import { cachedSecret } from '../../shared/aws/secrets.js';
import { type AccessPolicy, DENY_ALL, parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { logger } from './handler.js';

/**
 * The access policy from SSM, re-read every five minutes, parsed once per text. No
 * parameter means chat is not set up: nobody may do anything (and nothing is announced),
 * rather than every command and event failing. A malformed policy fails loudly.
 */
export function accessPolicySource(aws: AwsScope, parameter: string): () => Promise<AccessPolicy> {
  const text = cachedSecret(aws, parameter);
  let parsed: { text: string; policy: AccessPolicy } | undefined;
  return async () => {
    let current: string;
    try {
      current = await text();
    } catch (error) {
      if ((error as Error).cause instanceof Error && ((error as Error).cause as Error).name === 'ParameterNotFound') {
        logger.warn('no chat-ops access policy: nobody may use chat commands', { parameter });
        return DENY_ALL;
      }
      throw error;
    }
    if (parsed?.text !== current) parsed = { text: current, policy: parseAccessPolicy(current) };
    return parsed.policy;
  };
}

