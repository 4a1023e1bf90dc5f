import { approvalIdOf, type Approvals } from '../rollout/approvals.js';
import { notifyChannelOf, type AccessPolicy } from './access-policy.js';
import type { AuditLog } from './audit-log.js';
import { clusterOf, isObservedEvent, replyForEvent, threadKeyOf } from './event-replies.js';
import { toSlackMessage } from './render.js';
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

export interface ServiceEvent {
  id?: string | undefined;
  'detail-type': string;
  time?: string | undefined;
  detail: Record<string, unknown>;
}

export type NotifyResult = { posted: false; reason: string } | { posted: true; channel: string; ts: string; thread: string | null };

/** Rollout ends that belong in a cluster's history next to the commands. */
const ENDS: Record<string, string> = {
  'Rollout Finished': 'finished',
  'Rollout Rolled Back': 'rolled back',
  'Rollout Aborted': 'aborted',
  'Rollout Failed': 'failed',
  'Rollout Rollback Failed': 'rollback failed',
  'Rollout Declined': 'declined',
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
export async function notifyChat(event: ServiceEvent, ports: NotifyPorts): Promise<NotifyResult> {
  const detailType = event['detail-type'];
  const detail = event.detail;
  // a rollout drains every node it replaces: its batch messages say so; a drain is worth its
  // own message when a person asked for it, or when something blocked it
  const blockers = Array.isArray(detail['blockers']) ? detail['blockers'].length : 0;
  if (detailType === 'Node Drain Finished' && detail['trigger'] === 'rollout' && detail['outcome'] === 'drained' && blockers === 0) {
    return { posted: false, reason: 'a clean drain within a rollout' };
  }
  const reply = replyForEvent(detailType, detail);
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

  const executionArn = typeof detail['executionArn'] === 'string' ? detail['executionArn'] : undefined;
  const approvalId = typeof detail['approvalId'] === 'string' ? detail['approvalId'] : undefined;
  if (detailType === 'Rollout Approval Requested' && approvalId) await ports.approvals.setApprovalMessage(approvalId, posted);
  if (detailType === 'Rollout Failed' && detail['outcome'] === 'approval-expired' && executionArn) await reportExpiry(approvalIdOf(executionArn), message, ports, now);
  if (ENDS[detailType] && cluster && executionArn) {
    await ports.auditLog.audit({
      requestId: executionArn.split(':').at(-1) ?? executionArn,
      at: event.time ? new Date(event.time) : now,
      principal: { id: 'workflow', display: 'ami-rollout', via: 'lambda' },
      clusters: [cluster],
      // the detail is any JSON: String() of an object whose toString is not a function throws
      text: `rollout ${typeof detail['group'] === 'string' ? detail['group'] : ''}`.trim(),
      result: detailType === 'Rollout Finished' || detailType === 'Rollout Aborted' ? 'done' : 'failed',
      summary: `${ENDS[detailType]}: ${typeof detail['summary'] === 'string' ? detail['summary'] : reply.title}`,
    });
  }
  ports.log('notified chat', { detailType, channel: posted.channel, thread });
  return { posted: true, channel: posted.channel, ts: posted.ts, thread };
}

/** An observe mode report in the cluster's history (`history`): what the service would have done. */
async function auditObserved(event: ServiceEvent, title: string, cluster: string | undefined, ports: NotifyPorts): Promise<void> {
  const summary = typeof event.detail['summary'] === 'string' ? event.detail['summary'] : title;
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
