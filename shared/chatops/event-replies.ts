import * as z from 'zod/mini';
import { ALARM_STATE_CHANGE, type AlarmStateChange, AlarmStateChangeDetailSchema, AlarmStateChangeEventSchema } from '../events/alarm-state-change.js';
import { DRAIN_BLOCKED, DRAIN_FINISHED, DrainFinishedSchema } from '../events/drain-events.js';
import { clusterName } from '../events/eventbridge.js';
import { MEMBER_UNREACHABLE } from '../events/member-unreachable.js';
import { OBSERVED_EVENTS, type ObservedDetail, type ObservedEventName } from '../events/observed.js';
import { PROMOTION_PROGRESS } from '../events/promotion-events.js';
import { promotionEventReply } from './promotion-replies.js';
import { ROLLOUT_EVENTS, RolloutAboutSchema } from '../events/rollout-events.js';
import { SERVICE_EVENT_SCHEMAS, type ServiceEvent, serviceEventSchema } from '../events/service-events.js';
import { InvalidInputError } from '../errors.js';
import { parseUntrusted } from '../schema-issues.js';
import { drainBlockedReply, drainReply } from './drain-replies.js';
import { lines, shown } from './reply-format.js';
import { rolloutReply } from './rollout-replies.js';
import type { Reply } from './types.js';

/**
 * The events chat shows, as messages: the service's own (source `eks-node-lifecycle`: a
 * rollout's phases, finished and blocked drains, observe mode's reports) and the stack's
 * alarms. Each is read with its schema (events/service-events.ts): a field that is missing is
 * left out, never guessed.
 */

/** The service's events chat shows: what chatNotify's rule delivers (serverless.yml). */
export const CHAT_EVENT_TYPES = [
  ...Object.values(ROLLOUT_EVENTS),
  OBSERVED_EVENTS.rollout,
  DRAIN_FINISHED,
  DRAIN_BLOCKED,
  OBSERVED_EVENTS.drain,
  OBSERVED_EVENTS.launch,
  OBSERVED_EVENTS.hooks,
  MEMBER_UNREACHABLE,
  PROMOTION_PROGRESS,
] as const;
type ChatServiceType = (typeof CHAT_EVENT_TYPES)[number];

export type ChatEvent = ServiceEvent<ChatServiceType> | z.output<typeof AlarmStateChangeEventSchema>;

/**
 * What chatNotify parses: one schema per detail-type, so a refused event names its field
 * (`detail.cluster`), or says which detail-types there are. Typed by hand: a union built
 * from a list loses which detail goes with which detail-type.
 */
export const ChatEventSchema = z.discriminatedUnion('detail-type', [
  AlarmStateChangeEventSchema,
  ...CHAT_EVENT_TYPES.map((detailType) => serviceEventSchema(detailType)),
]) as unknown as z.ZodMiniType<ChatEvent>;

/** What a reply reads of an event. */
type ChatEventBody = ChatEvent extends infer E ? (E extends ChatEvent ? Pick<E, 'detail-type' | 'detail'> : never) : never;

/** The reply for an event chat shows, or null when it says nothing an operator acts on. */
export function replyFor(event: ChatEventBody): Reply | null {
  switch (event['detail-type']) {
    case ALARM_STATE_CHANGE:
      return alarmReply(event.detail);
    case DRAIN_FINISHED:
      return drainReply(event.detail);
    case DRAIN_BLOCKED:
      return drainBlockedReply(event.detail);
    case PROMOTION_PROGRESS:
      return promotionEventReply(event.detail, false);
    case MEMBER_UNREACHABLE:
      return { ok: false, title: `:warning: detection could not reach ${event.detail.unreachable.length} member place(s)`, sections: [lines(event.detail.unreachable.map((u) => `• ${u.accountId}/${u.region}: ${u.reason}`))] };
  }
  return 'phase' in event.detail ? rolloutReply(event.detail) : observedReply(event.detail);
}

/**
 * The reply for a detail-type and a detail as they came (any JSON), or null for a detail-type
 * chat does not show. Never throws: a detail its schema refuses is shown as such, naming the
 * fields.
 */
export function replyForEvent(detailType: string, detail: unknown): Reply | null {
  const schema = detailType === ALARM_STATE_CHANGE ? AlarmStateChangeDetailSchema : isChatServiceType(detailType) ? SERVICE_EVENT_SCHEMAS[detailType] : undefined;
  if (!schema) return null;
  try {
    return replyFor({ 'detail-type': detailType, detail: parseUntrusted(schema, detail, 'detail') } as ChatEventBody);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { ok: false, title: `:warning: ${detailType}: an event chat cannot read`, sections: [lines(error.issues.map((i) => `• ${i.path}: ${i.message}`))] };
  }
}

function isChatServiceType(detailType: string): detailType is ChatServiceType {
  return (CHAT_EVENT_TYPES as readonly string[]).includes(detailType);
}

const ROLLOUT_TYPES: ReadonlySet<string> = new Set(Object.values(ROLLOUT_EVENTS));
const ROLLOUT_THREAD = z.pick(RolloutAboutSchema, { executionArn: true });
const DRAIN_THREAD = z.pick(DrainFinishedSchema, { rolloutExecutionArn: true });
const PROMOTION_THREAD = z.object({ key: z.string().check(z.minLength(1)) });

/**
 * The rollout execution a message belongs to, so one Slack thread holds a whole rollout:
 * the rollout's own `executionArn`, or for a drain a rollout asked for, its
 * `rolloutExecutionArn`. A drain's `executionArn` is the node-drain execution, not a
 * rollout, so it does not thread; null when the event belongs to no rollout.
 */
export function threadKeyOf(detailType: string, detail: unknown): string | null {
  // one thread per promotion, named by its release key (no execution ARN can look like it)
  if (detailType === PROMOTION_PROGRESS) {
    const read = z.safeParse(PROMOTION_THREAD, detail);
    return read.success ? `promotion#${read.data.key}` : null;
  }
  if (ROLLOUT_TYPES.has(detailType)) {
    const read = z.safeParse(ROLLOUT_THREAD, detail);
    return read.success ? read.data.executionArn : null;
  }
  if (detailType === DRAIN_FINISHED || detailType === DRAIN_BLOCKED) {
    const read = z.safeParse(DRAIN_THREAD, detail);
    return (read.success && read.data.rolloutExecutionArn) || null;
  }
  return null;
}

const CLUSTER = z.object({ cluster: clusterName });

/** The cluster an event is about, to route it to that cluster's channel. */
export function clusterOf(detail: unknown): string | undefined {
  const read = z.safeParse(CLUSTER, detail);
  return read.success ? read.data.cluster : undefined;
}

/**
 * An alarm of the stack going into ALARM, or back to OK
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html):
 * what fired, why (CloudWatch's reason) and what to look at (the alarm's description). A
 * change to or from INSUFFICIENT_DATA says nothing an operator acts on.
 */
function alarmReply(d: AlarmStateChange): Reply | null {
  if (d.state.value === 'ALARM') {
    return { ok: false, title: `:rotating_light: ALARM: ${d.alarmName}`, sections: shown([lines([d.configuration?.description, d.state.reason])]) };
  }
  if (d.state.value === 'OK' && d.previousState?.value === 'ALARM') return { ok: true, title: `:white_check_mark: OK again: ${d.alarmName}`, sections: [] };
  return null;
}

const OBSERVED: ReadonlySet<string> = new Set(Object.values(OBSERVED_EVENTS));

/** How many of an observed report's steps a message lists before `+N more`. */
const STEPS_LISTED = 12;

/** Observe mode's report (events/observed.ts): what the service would have done, step by step; nothing was changed. */
function observedReply(d: ObservedDetail<ObservedEventName>): Reply {
  const steps = d.wouldDo.filter((s) => s.trim() !== '');
  const listed = steps.length > STEPS_LISTED ? [...steps.slice(0, STEPS_LISTED), `+${steps.length - STEPS_LISTED} more`] : steps;
  return {
    ok: true,
    title: `:eyes: ${d.summary.trim() || 'observe mode: a report of what would have been done'}`,
    sections: shown([lines(listed)]),
    context: d.observedBy === 'group' ? 'the group is tagged eks-node-lifecycle/rollout=observe: nothing was changed' : 'the service runs in observe mode (param mode=observe): nothing was changed',
  };
}

/** Whether a detail-type is one of observe mode's reports, which go to the cluster's history too. */
export function isObservedEvent(detailType: string): boolean {
  return OBSERVED.has(detailType);
}
