import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';

/**
 * An EventBridge envelope whose `detail-type` and `source` are fixed and whose `detail` has
 * its own schema. The envelope fields come from Powertools' schema so they stay in step with
 * what EventBridge really sends.
 */
export function eventBridgeEvent<const T extends string, const S extends string, D extends z.ZodType>(
  detailType: T,
  source: S,
  detail: D,
) {
  return EventBridgeSchema.extend({
    'detail-type': z.literal(detailType),
    source: z.literal(source),
    detail,
  });
}

export const instanceId = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id (i-…)');
export const clusterName = z
  .string()
  .regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be an EKS cluster name');
