import type { AwsScope } from '../../shared/aws/clients.js';
import { ConfigurationError } from '../../shared/errors.js';
import { parsePromotionPolicy, type PromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { parsedParameterSource } from './parameter-source.js';

/**
 * The promotion policy from SSM (the stage param promotionPolicyParameter), re-read every five
 * minutes. No parameter configured, or none stored: no fleet promotion (undefined; a ring tag is
 * then a configuration problem, never "no ring": shared/fleet/ring-membership.ts) and every
 * health gate uses the default thresholds. A malformed policy fails loudly, naming the parameter
 * and the field, rather than being read as no policy: a gate must not quietly judge with
 * thresholds nobody chose.
 */
export function promotionPolicySource(aws: AwsScope, parameter: string | undefined): () => Promise<PromotionPolicy | undefined> {
  if (!parameter) return () => Promise.resolve(undefined);
  const parse = (text: string): PromotionPolicy => {
    try {
      return parsePromotionPolicy(text);
    } catch (error) {
      throw new ConfigurationError(`SSM parameter ${parameter}: ${(error as Error).message}`, { cause: error });
    }
  };
  return parsedParameterSource<PromotionPolicy | undefined>(aws, parameter, parse, () => undefined);
}
