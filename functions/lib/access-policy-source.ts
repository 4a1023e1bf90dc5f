import type { AwsScope } from '../../shared/aws/clients.js';
import { type AccessPolicy, DENY_ALL, parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { logger } from './handler.js';
import { parsedParameterSource } from './parameter-source.js';

/**
 * The access policy from SSM, re-read every five minutes, parsed once per text. No
 * parameter means chat is not set up: nobody may do anything (and nothing is announced),
 * rather than every command and event failing. A malformed policy fails loudly.
 */
export function accessPolicySource(aws: AwsScope, parameter: string): () => Promise<AccessPolicy> {
  return parsedParameterSource(aws, parameter, parseAccessPolicy, () => {
    logger.warn('no chat-ops access policy: nobody may use chat commands', { parameter });
    return DENY_ALL;
  });
}
