import type { AwsScope } from '../../shared/aws/clients.js';
import { cachedSecret } from '../../shared/aws/secrets.js';
import { ConfigurationError } from '../../shared/errors.js';
import { parsePromotionPolicy, type PromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { logger } from './handler.js';

/**
 * The promotion policy from SSM (stage param promotionPolicyParameter), re-read every five
 * minutes, parsed once per text. No parameter configured, or none stored: no policy, and every
 * health gate uses the default thresholds. A malformed policy fails loudly, naming the
 * parameter: a gate must not quietly judge with thresholds nobody chose.
 */
export function promotionPolicySource(aws: AwsScope, parameter: string | undefined): () => Promise<PromotionPolicy | undefined> {
  if (!parameter) return async () => undefined;
  const text = cachedSecret(aws, parameter);
  let parsed: { text: string; policy: PromotionPolicy } | undefined;
  return async () => {
    let current: string;
    try {
      current = await text();
    } catch (error) {
      if ((error as Error).cause instanceof Error && ((error as Error).cause as Error).name === 'ParameterNotFound') {
        logger.info('no promotion policy stored: default health thresholds', { parameter });
        return undefined;
      }
      throw error;
    }
    if (parsed?.text !== current) {
      try {
        parsed = { text: current, policy: parsePromotionPolicy(current) };
      } catch (error) {
        throw new ConfigurationError(`SSM parameter ${parameter}: ${(error as Error).message}`, { cause: error });
      }
    }
    return parsed.policy;
  };
}
