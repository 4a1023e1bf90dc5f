import * as z from 'zod/mini';
import { ACCOUNT_ID, CLUSTER_NAME, INSTANCE_ID, REGION } from '../ids.js';

/**
 * The envelope EventBridge puts around every event
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eventbridge-and-events.html).
 * The same fields, checked the same way, as Powertools' `EventBridgeSchema`, written here in
 * `zod/mini`: Powertools' parser is built on classic zod, which alone would be ~440 KB of
 * every function's bundle.
 */
export const EventBridgeEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  // where the event happened: with member accounts, where the service acts on it (aws/places.ts)
  account: z.string().check(z.regex(ACCOUNT_ID, 'must be an AWS account id (12 digits)')),
  time: z.iso.datetime(),
  region: z.string().check(z.regex(REGION, 'must be an AWS region (eu-west-1)')),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  /** set when the event comes from an archive replay */
  'replay-name': z.optional(z.string()),
});

/**
 * Where a cluster lives (shared/aws/places.ts), on every input that names one: absent, the
 * hub's own account and region (what every input meant before member accounts).
 */
export const placeFields = {
  accountId: z.optional(z.string().check(z.regex(ACCOUNT_ID, 'must be an AWS account id (12 digits)'))),
  region: z.optional(z.string().check(z.regex(REGION, 'must be an AWS region (eu-west-1)'))),
};

/** The source of every event the service itself publishes (service-events.ts). */
export const SERVICE_EVENT_SOURCE = 'eks-node-lifecycle';

/**
 * An EventBridge envelope whose `detail-type` and `source` are fixed and whose `detail` has
 * its own schema.
 */
export function eventBridgeEvent<const T extends string, const S extends string, D extends z.core.SomeType>(
  detailType: T,
  source: S,
  detail: D,
) {
  return z.extend(EventBridgeEnvelopeSchema, {
    'detail-type': z.literal(detailType),
    source: z.literal(source),
    detail,
  });
}

export const instanceId = z.string().check(z.regex(INSTANCE_ID, 'must be an EC2 instance id (i-…)'));
export const clusterName = z.string().check(z.regex(CLUSTER_NAME, 'must be an EKS cluster name'));
