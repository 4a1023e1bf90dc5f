import type { AwsScope } from '../../shared/aws/clients.js';
import { parsePromotionPolicy, type PromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { parsedParameterSource } from './parameter-source.js';

/**
 * The promotion policy from SSM (the stage param promotionPolicyParameter), re-read every five
 * minutes. No parameter: no fleet promotion (undefined; a ring tag is then a configuration
 * problem, never "no ring": shared/fleet/ring-membership.ts). A malformed policy fails loudly,
 * naming the field (parsePromotionPolicy), rather than being read as no policy.
 */
export function promotionPolicySource(aws: AwsScope, parameter: string | undefined): () => Promise<PromotionPolicy | undefined> {
  if (!parameter) return () => Promise.resolve(undefined);
  return parsedParameterSource<PromotionPolicy | undefined>(aws, parameter, parsePromotionPolicy, () => undefined);
}
