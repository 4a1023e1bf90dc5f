import { approvalIdOf, type Approvals } from '../rollout/approvals.js';
import { notifyChannelOf, type AccessPolicy } from './access-policy.js';
import { DRAIN_FINISHED } from '../events/drain-events.js';
import type { RolloutEventName } from '../events/rollout-events.js';
import type { AuditLog } from './audit-log.js';
import { type ChatEvent, clusterOf, isObservedEvent, replyFor, threadKeyOf } from './event-replies.js';
import { toSlackMessage } from './render.js';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../events/promotion-events.js';
import { promotionEventReply } from './promotion-replies.js';
import type { SlackApi } from './slack-api.js';
import type { SlackThreads } from './slack-threads.js';

export interface NotifyPorts {
  policy: () => Promise<AccessPolicy>;
  slack: SlackApi;
  threads: SlackThreads;
  auditLog: AuditLog;
  approvals: Approvals;
  /** where a cluster's messages go when the policy names no channel */
  defaultChannel?: string | undefined;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** An event as chatNotify parsed it (events/service-events.ts); `id` and `time` date its history entry. */
export type NotifyEvent = ChatEvent extends infer E ? (E extends ChatEvent ? Pick<E, 'detail-type' | 'detail'> & { id?: string | undefined; time?: string | undefined } : never) : never;

export type NotifyResult = { posted: false; reason: string } | { posted: true; channel: string; ts: string; thread: string | null };

/** Rollout ends that belong in a cluster's history next to the commands. */
const ENDS: Partial<Record<RolloutEventName, string>> = {
  finished: 'finished',
  'rolled-back': 'rolled back',
  aborted: 'aborted',
  failed: 'failed',
  'rollback-failed': 'rollback failed',
  declined: 'declined',
};

/**
 * One of the service's own events as a Slack message:
 * 1. rendered (`replyForEvent`); events nobody needs to read are skipped;
 * 2. into the cluster's channel (the access policy's `notify`, else the default);
 * 3. in the rollout's thread: the first message of a rollout claims the thread (a
 *    conditional write) and becomes its parent; every later one replies in it;
 * 4. an approval request remembers where its buttons are, so that when the approval expires
 *    the buttons are replaced by the news (an operator must notice an expiry);
 * 5. a rollout's end also goes to the cluster's history; so does each of observe mode's
 *    reports (before 2: with no channel, history is where it is read).
 */
export async function notifyChat(event: NotifyEvent, ports: NotifyPorts): Promise<NotifyResult> {
  const detailType = event['detail-type'];
  const detail = event.detail;
  // a rollout drains every node it replaces: its batch messages say so; a drain is worth its
  // own message when a person asked for it, or when something blocked it
  if (event['detail-type'] === DRAIN_FINISHED && event.detail.trigger === 'rollout' && event.detail.outcome === 'drained' && (event.detail.blockers ?? []).length === 0) {
    return { posted: false, reason: 'a clean drain within a rollout' };
  }
  if (event['detail-type'] === PROMOTION_PROGRESS) return notifyPromotion(event.detail, ports);
  const reply = replyFor(event);
  if (!reply) return { posted: false, reason: `${detailType} is not shown in chat` };
  const cluster = clusterOf(detail);
  if (isObservedEvent(detailType)) await auditObserved(event, reply.title, cluster, ports);
  const policy = await ports.policy();
  const channel = (cluster ? notifyChannelOf(policy, cluster) : undefined) ?? ports.defaultChannel;
  if (!channel) {
    ports.log('no channel for the notification', { detailType, cluster });
    return { posted: false, reason: `no channel for cluster ${cluster ?? '(none)'}` };
  }
  const message = toSlackMessage(reply);
  const threadKey = threadKeyOf(detailType, detail);
  const now = ports.now();

  let posted: { channel: string; ts: string };
  let thread: string | null = null;
  if (!threadKey) {
    posted = await ports.slack.postMessage(channel, message);
  } else {
    const claim = await ports.threads.claimThread(threadKey, channel, now);
    if (claim.claimed) {
      posted = await ports.slack.postMessage(channel, message);
      await ports.threads.setThreadTs(threadKey, posted.ts);
      thread = posted.ts;
    } else if (claim.thread) {
      posted = await ports.slack.postMessage(claim.thread.channel, message, { threadTs: claim.thread.ts });
      thread = claim.thread.ts;
    } else {
      // claimed by a message still being posted: rather than wait, this one stands alone
      posted = await ports.slack.postMessage(channel, message);
    }
  }

  const rollout = 'phase' in detail ? detail : undefined;
  if (rollout?.phase === 'approval-requested' && rollout.approvalId) await ports.approvals.setApprovalMessage(rollout.approvalId, posted);
  if (rollout?.phase === 'failed' && rollout.outcome === 'approval-expired') await reportExpiry(approvalIdOf(rollout.executionArn), message, ports, now);
  const end = rollout && ENDS[rollout.phase];
  if (rollout && end && cluster) {
    await ports.auditLog.audit({
      requestId: rollout.executionArn.split(':').at(-1) ?? rollout.executionArn,
      at: event.time ? new Date(event.time) : now,
      principal: { id: 'workflow', display: 'ami-rollout', via: 'lambda' },
      clusters: [cluster],
      text: `rollout ${rollout.group}`,
      result: rollout.phase === 'finished' || rollout.phase === 'aborted' ? 'done' : 'failed',
      summary: `${end}: ${rollout.summary ?? reply.title}`,
    });
  }
  ports.log('notified chat', { detailType, channel: posted.channel, thread });
  return { posted: true, channel: posted.channel, ts: posted.ts, thread };
}

/**
 * A promotion's event in its own thread (one per release key): the first claims the thread
 * and opens it with a header line naming the promotion; every later one is a line in it. The
 * channel: the access policy's `notify` for `*` (a promotion spans clusters), else the default.
 */
async function notifyPromotion(detail: PromotionProgressDetail, ports: NotifyPorts): Promise<NotifyResult> {
  const policy = await ports.policy();
  const channel = notifyChannelOf(policy, '*') ?? ports.defaultChannel;
  if (!channel) {
    ports.log('no channel for the notification', { detailType: PROMOTION_PROGRESS, key: detail.key });
    return { posted: false, reason: 'no channel for promotions (the policy\'s notify for *, or the default channel)' };
  }
  const threadKey = `promotion#${detail.key}`;
  const claim = await ports.threads.claimThread(threadKey, channel, ports.now());
  let posted: { channel: string; ts: string };
  let thread: string | null = null;
  if (claim.claimed) {
    posted = await ports.slack.postMessage(channel, toSlackMessage(promotionEventReply(detail, true)));
    await ports.threads.setThreadTs(threadKey, posted.ts);
    thread = posted.ts;
  } else if (claim.thread) {
    posted = await ports.slack.postMessage(claim.thread.channel, toSlackMessage(promotionEventReply(detail, false)), { threadTs: claim.thread.ts });
    thread = claim.thread.ts;
  } else {
    // claimed by a message still being posted: rather than wait, this one stands alone, saying which promotion it is
    posted = await ports.slack.postMessage(channel, toSlackMessage(promotionEventReply(detail, true)));
  }
  ports.log('notified chat', { detailType: PROMOTION_PROGRESS, channel: posted.channel, thread });
  return { posted: true, channel: posted.channel, ts: posted.ts, thread };
}

/** An observe mode report in the cluster's history (`history`): what the service would have done. */
async function auditObserved(event: NotifyEvent, title: string, cluster: string | undefined, ports: NotifyPorts): Promise<void> {
  const summary = 'summary' in event.detail && event.detail.summary !== undefined ? event.detail.summary : title;
  const at = event.time ? new Date(event.time) : ports.now();
  await ports.auditLog.audit({
    // a redelivered event rewrites its own entry
    requestId: event.id ?? `observed-${at.getTime()}`,
    at,
    principal: { id: 'observe', display: event['detail-type'], via: 'lambda' },
    clusters: cluster ? [cluster] : [],
    text: event['detail-type'],
    result: 'done',
    summary,
  });
}

/** The approval's message loses its buttons and says it expired. */
async function reportExpiry(approvalId: string, message: ReturnType<typeof toSlackMessage>, ports: NotifyPorts, now: Date): Promise<void> {
  await ports.approvals.markApprovalExpired(approvalId, now);
  const approval = await ports.approvals.getApproval(approvalId);
  if (approval?.message) await ports.slack.updateMessage(approval.message.channel, approval.message.ts, message);
}
