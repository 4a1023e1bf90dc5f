import { type SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { type ApprovalRecord, type ApprovalView, type ChatopsTable, viewOf } from '../chatops/chatops-table.js';
import { callAws } from '../aws/call.js';
import type { RequestApprovalInput, RolloutControlRequest } from '../events/rollout.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import type { RolloutEventName } from './rollout-events.js';

type Notify = (event: RolloutEventName, detail: Record<string, unknown>) => Promise<void>;

/** How long a person has to answer; the workflow's RequestApproval task times out then. */
export const APPROVAL_TIMEOUT_SECONDS = 24 * 3600;

export interface ApprovalPorts {
  sfn: SFNClient;
  approvals: ChatopsTable;
  /** the notifier of the rollout an approval belongs to */
  notifier: (approval: Pick<ApprovalView, 'cluster' | 'group' | 'target' | 'executionArn'>) => Notify;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export interface ControlPorts extends ApprovalPorts {
  locks: NodeGroupLocks;
}

export type ApprovalAnswer =
  | { result: 'done'; decision: 'approved' | 'denied'; approval: ApprovalView; summary: string }
  | { result: 'not-found' | 'expired' | 'already-answered' | 'own-request'; approval?: ApprovalView; summary: string };

export type ControlResult =
  | { result: 'done'; action: RolloutControlRequest['action']; executionArn: string; summary: string }
  | { result: 'no-rollout' | 'not-waiting-for-approval'; summary: string }
  | Exclude<ApprovalAnswer, { result: 'done' }>;

/** Who started a rollout, as the approval rule compares it: a principal id, or `detection`. */
export function requesterOf(startedBy: RequestApprovalInput['startedBy']): string {
  return startedBy.kind === 'person' ? (startedBy.who ?? 'unknown person') : 'detection';
}

/**
 * The approval gate's callback task. The task token goes to the approvals store (DynamoDB,
 * with a TTL) under an id derived from the execution, so a retried step finds the same
 * approval; the group's lock names that id (for `approve <cluster>/<group>`); the request
 * is announced with the id only — chat buttons never carry the token. The workflow then
 * waits for SendTaskSuccess or SendTaskFailure, at most `APPROVAL_TIMEOUT_SECONDS`.
 */
export async function requestApproval(input: RequestApprovalInput, ports: Pick<ControlPorts, 'locks' | 'approvals' | 'now' | 'log'> & { notify: Notify }): Promise<{ approvalId: string }> {
  const now = ports.now();
  const requestedBy = requesterOf(input.startedBy);
  const image = input.target.release ?? input.target.imageName ?? input.target.imageId;
  const approval = await ports.approvals.createApproval({
    executionArn: input.executionArn,
    cluster: input.cluster,
    group: input.group.name,
    taskToken: input.taskToken,
    requestedBy,
    target: image,
    plan: input.plan.summary,
    expiresAt: new Date(now.getTime() + APPROVAL_TIMEOUT_SECONDS * 1000),
    now,
  });
  await ports.locks.setApprovalId(lockKeyOf(input.cluster, input.group.name), input.executionArn, approval.id);
  await ports.notify('approval-requested', {
    approvalId: approval.id,
    expiresAt: approval.expiresAtIso,
    requestedBy,
    plan: input.plan,
    from: input.from,
    summary: `${input.cluster}/${input.group.name}: approve rolling onto ${image}? ${input.plan.summary} (approval ${approval.id}, requested by ${requestedBy})`,
  });
  ports.log('approval requested', { approvalId: approval.id, requestedBy });
  return { approvalId: approval.id };
}

/** Step Functions' answers to a token whose task is over (timed out, answered, or gone). */
const TASK_OVER = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/**
 * A person's answer to an approval (chat buttons, `approve|deny <id>`, rolloutControl):
 * 1. one conditional write records it — only while pending, unexpired, and never by the
 *    person who requested the rollout; a second answer learns who answered first;
 * 2. the workflow gets SendTaskSuccess (approved) or SendTaskFailure `RolloutRejectedError`;
 *    a task that is already over means the approval expired meanwhile.
 * Safe to retry: the same person repeating the same answer sends it again (Step Functions
 * ignores a second answer to a task it has closed).
 */
export async function answerApproval(
  approvalId: string,
  answer: { decision: 'approved' | 'denied'; by: string; reason?: string | undefined },
  ports: ApprovalPorts,
): Promise<ApprovalAnswer> {
  const now = ports.now();
  const outcome = await ports.approvals.answerApproval(approvalId, { decision: answer.decision, by: answer.by, ...(answer.reason ? { reason: answer.reason } : {}), now });
  let record: ApprovalRecord;
  let repeat = false;
  switch (outcome.kind) {
    case 'not-found':
      return { result: 'not-found', summary: `no approval ${approvalId} (approvals are kept for a week after they expire)` };
    case 'own-request':
      return { result: 'own-request', approval: outcome.approval, summary: `you requested this rollout of ${where(outcome.approval)}; someone else must approve or deny it` };
    case 'expired':
      await ports.approvals.markApprovalExpired(approvalId, now);
      return { result: 'expired', approval: outcome.approval, summary: `the approval of ${where(outcome.approval)} expired at ${outcome.approval.expiresAtIso}; nothing was changed — start the rollout again to retry` };
    case 'already-answered': {
      const a = outcome.approval;
      repeat = a.status === answer.decision && a.answeredBy === answer.by;
      const full = repeat ? await ports.approvals.getApproval(approvalId) : undefined;
      if (!full) {
        const state = a.status === 'expired' ? `expired at ${a.expiresAtIso}` : `already ${a.status} by ${a.answeredBy ?? 'someone'}`;
        return { result: 'already-answered', approval: a, summary: `the rollout of ${where(a)} was ${state}` };
      }
      record = full;
      break;
    }
    case 'answered':
      record = outcome.approval;
      break;
  }

  const sent = await sendAnswer(record, answer, repeat, ports);
  if (!sent) {
    await ports.approvals.markApprovalExpired(approvalId, now, { answered: true });
    return { result: 'expired', approval: viewOf(record), summary: `the approval of ${where(record)} expired before the answer arrived; nothing was changed` };
  }
  if (answer.decision === 'approved') await ports.notifier(record)('approved', { approvalId, approvedBy: answer.by, summary: `${where(record)}: approved by ${answer.by}` });
  ports.log('rollout approval answered', { approvalId, decision: answer.decision, by: answer.by, executionArn: record.executionArn });
  return { result: 'done', decision: answer.decision, approval: viewOf({ ...record, status: answer.decision, answeredBy: answer.by }), summary: `${answer.decision} the rollout of ${where(record)} onto ${record.target}` };
}

/**
 * true when Step Functions took the answer; false when the task was already over. For a
 * repeated answer a closed task is our own earlier answer (Step Functions does not say
 * which), so it counts as taken.
 */
async function sendAnswer(record: ApprovalRecord, answer: { decision: 'approved' | 'denied'; by: string; reason?: string | undefined }, repeat: boolean, ports: ApprovalPorts): Promise<boolean> {
  try {
    if (answer.decision === 'approved') {
      await callAws('states:SendTaskSuccess', () => ports.sfn.send(new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify({ approvedBy: answer.by, approvalId: record.id }) })));
    } else {
      await callAws('states:SendTaskFailure', () =>
        ports.sfn.send(new SendTaskFailureCommand({ taskToken: record.taskToken, error: 'RolloutRejectedError', cause: `denied by ${answer.by}${answer.reason ? `: ${answer.reason}` : ''}`.slice(0, 256) })),
      );
    }
    return true;
  } catch (error) {
    const name = (error as { name?: string; cause?: { name?: string } }).cause?.name ?? (error as { name?: string }).name ?? '';
    if (TASK_OVER.has(name)) return repeat;
    throw error;
  }
}

function where(approval: Pick<ApprovalRecord, 'cluster' | 'group'>): string {
  return `${approval.cluster}/${approval.group}`;
}


/**
 * What a person (chat, CLI) can do to a running rollout, named by its group:
 * - approve / reject: answers the approval the lock names (see `answerApproval`);
 * - pause / resume / abort: recorded on the lock; the roll loop reads it at each batch
 *   boundary (abort finishes the batch in flight and leaves the group consistent).
 */
export async function controlRollout(request: RolloutControlRequest, ports: ControlPorts): Promise<ControlResult> {
  const key = lockKeyOf(request.cluster, request.group);
  const lock = await ports.locks.get(key);
  const who = `${request.cluster}/${request.group}`;
  if (!lock) return { result: 'no-rollout', summary: `no rollout of ${who} is running` };

  switch (request.action) {
    case 'approve':
    case 'reject': {
      if (!lock.approvalId) return { result: 'not-waiting-for-approval', summary: `the rollout of ${who} is not waiting for approval` };
      const answer = await answerApproval(lock.approvalId, { decision: request.action === 'approve' ? 'approved' : 'denied', by: request.requestedBy, reason: request.reason }, ports);
      if (answer.result !== 'done') return answer;
      await ports.locks.setApprovalId(key, lock.owner, null);
      return { result: 'done', action: request.action, executionArn: lock.owner, summary: answer.summary };
    }
    case 'pause':
    case 'abort':
    case 'resume': {
      const updated = await ports.locks.setControl(key, request.action === 'resume' ? null : request.action, request.requestedBy);
      if (!updated) return { result: 'no-rollout', summary: `no rollout of ${who} is running` };
      ports.log('rollout control', { action: request.action, by: request.requestedBy, executionArn: updated.owner });
      const when = request.action === 'resume' ? 'now' : 'after the batch in flight';
      return { result: 'done', action: request.action, executionArn: updated.owner, summary: `${request.action} of the rollout of ${who} recorded; it takes effect ${when}` };
    }
  }
}
