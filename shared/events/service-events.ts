import * as z from 'zod/mini';
import { CONFIGURATION_PROBLEM, ConfigurationProblemDetailSchema } from './configuration.js';
import { DRAIN_BLOCKED, DRAIN_FINISHED, DrainBlockedSchema, DrainFinishedSchema } from './drain-events.js';
import { eventBridgeEvent, SERVICE_EVENT_SOURCE } from './eventbridge.js';
import { MEMBER_UNREACHABLE, MemberUnreachableDetailSchema } from './member-unreachable.js';
import { OBSERVED_EVENTS, OBSERVED_SCHEMAS } from './observed.js';
import { PROMOTION_PROGRESS, PromotionProgressDetailSchema } from './promotion-events.js';
import { ROLLOUT_EVENT_SCHEMAS } from './rollout-events.js';

/**
 * Every event the service publishes on the default bus (source `eks-node-lifecycle`), by
 * detail-type, with the schema of its detail. Publishers build their details as these types;
 * readers (chat) parse with these schemas: the schema that publishes an event is the one that
 * reads it.
 */
export const SERVICE_EVENT_SCHEMAS = {
  ...ROLLOUT_EVENT_SCHEMAS,
  [DRAIN_FINISHED]: DrainFinishedSchema,
  [DRAIN_BLOCKED]: DrainBlockedSchema,
  [OBSERVED_EVENTS.rollout]: OBSERVED_SCHEMAS.rollout,
  [OBSERVED_EVENTS.drain]: OBSERVED_SCHEMAS.drain,
  [OBSERVED_EVENTS.launch]: OBSERVED_SCHEMAS.launch,
  [OBSERVED_EVENTS.hooks]: OBSERVED_SCHEMAS.hooks,
  [CONFIGURATION_PROBLEM]: ConfigurationProblemDetailSchema,
  [MEMBER_UNREACHABLE]: MemberUnreachableDetailSchema,
  [PROMOTION_PROGRESS]: PromotionProgressDetailSchema,
} as const;

export type ServiceDetailType = keyof typeof SERVICE_EVENT_SCHEMAS;

/** What a publisher hands over for a detail-type. */
export type ServiceEventDetail<T extends ServiceDetailType> = z.input<(typeof SERVICE_EVENT_SCHEMAS)[T]>;

/** The port a flow publishes through (shared/aws/notifications.ts puts the event on the bus). */
export type PublishServiceEvent = <T extends ServiceDetailType>(detailType: T, detail: ServiceEventDetail<T>) => Promise<void>;

export function isServiceDetailType(detailType: string): detailType is ServiceDetailType {
  return Object.hasOwn(SERVICE_EVENT_SCHEMAS, detailType);
}

/** One of the service's events as EventBridge delivers it to a rule's target. */
export function serviceEventSchema<const T extends ServiceDetailType>(detailType: T) {
  return eventBridgeEvent(detailType, SERVICE_EVENT_SOURCE, SERVICE_EVENT_SCHEMAS[detailType]);
}

/** One of the service's events as read: its detail-type says which detail it holds. */
export type ServiceEvent<T extends ServiceDetailType = ServiceDetailType> = { [K in T]: z.output<ReturnType<typeof serviceEventSchema<K>>> }[T];
