import type { AwsScope } from '../aws/clients.js';
import { sendTaskFailure, sendTaskSuccess } from '../aws/step-functions.js';
import { UnverifiedCallerError } from '../errors.js';
import type { RequestApprovalInput, RolloutControlRequest } from '../events/rollout.js';
import { APPROVAL_TIMEOUT_SECONDS, type ApprovalRecord, type Approvals, type ApprovalView, viewOf } from './approvals.js';
import { lockKeyOf, type NodeGroupLockRecord, type NodeGroupLocks } from './node-group-lock.js';
import type { RolloutNotify } from '../events/rollout-events.js';
import { placeFieldsOf, placeQualified } from './rollout-place.js';

type Notify = RolloutNotify<'approval-requested' | 'approved'>;

export interface ApprovalPorts {
  aws: AwsScope;
  approvals: Approvals;
  /** the notifier of the rollout an approval belongs to */
  notifier: (approval: Pick<ApprovalView, 'cluster' | 'group' | 'target' | 'executionArn' | 'accountId' | 'region'>) => Notify;
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
  | { result: 'no-rollout' | 'not-waiting-for-approval' | 'stale'; summary: string }
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
    ...placeFieldsOf(input.place),
    cluster: input.cluster,
    group: input.group.name,
    taskToken: input.taskToken,
    requestedBy,
    target: image,
    plan: input.plan.summary,
    expiresAt: new Date(now.getTime() + APPROVAL_TIMEOUT_SECONDS * 1000),
    now,
  });
  await ports.locks.setApprovalId(lockKeyOf(input.cluster, input.group.name, input.place), input.executionArn, approval.id);
  await ports.notify('approval-requested', {
    approvalId: approval.id,
    expiresAt: approval.expiresAtIso,
    requestedBy,
    plan: input.plan,
    from: input.from,
    summary: `${placeQualified(`${input.cluster}/${input.group.name}`, input.place)}: approve rolling onto ${image}? ${input.plan.summary} (approval ${approval.id}, requested by ${requestedBy})`,
  });
  ports.log('approval requested', { approvalId: approval.id, requestedBy });
  return { approvalId: approval.id };
}

/** Step Functions' answers to a token whose task is over (timed out, answered, or gone). */
const TASK_OVER = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/**
 * A person's answer to an approval (chat buttons, `approve|deny <id>`, the CLI):
 * 1. one conditional write records it — only while pending, unexpired, and never by the
 *    person who requested the rollout; a second answer learns who answered first;
 * 2. the workflow gets SendTaskSuccess (approved) or SendTaskFailure `RolloutRejectedError`;
 *    a task that is already over means the approval expired meanwhile;
 * 3. that Step Functions took it is recorded once; only that first record announces it.
 * A repeated answer (a second click, a replay, a click after the rollout ended) is told who
 * answered and sends nothing — unless step 3 never happened (the first answer died between
 * 1 and 3): then the same answer is sent again, which Step Functions takes at most once.
 */
export async function answerApproval(
  approvalId: string,
  answer: { decision: 'approved' | 'denied'; by: string; reason?: string | undefined },
  ports: ApprovalPorts,
): Promise<ApprovalAnswer> {
  const now = ports.now();
  const outcome = await ports.approvals.answerApproval(approvalId, { decision: answer.decision, by: answer.by, ...(answer.reason ? { reason: answer.reason } : {}), now });
  let record: ApprovalRecord;
  let resend = false;
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
      const unsent = a.status === answer.decision && a.sentAt === undefined ? await ports.approvals.getApproval(approvalId) : undefined;
      if (!unsent || unsent.sentAt !== undefined) {
        const state = a.status === 'expired' ? `expired at ${a.expiresAtIso}` : `already ${a.status} by ${a.answeredBy ?? 'someone'}${a.answeredAt ? ` at ${a.answeredAt}` : ''}`;
        return { result: 'already-answered', approval: a, summary: `the rollout of ${where(a)} was ${state}; nothing was sent again` };
      }
      record = unsent;
      resend = true;
      break;
    }
    case 'answered':
      record = outcome.approval;
      break;
  }

  const by = record.answeredBy ?? answer.by;
  const sent = await sendAnswer(record, { ...answer, by }, resend, ports);
  if (!sent) {
    await ports.approvals.markApprovalExpired(approvalId, now, { answered: true });
    return { result: 'expired', approval: viewOf(record), summary: `the approval of ${where(record)} expired before the answer arrived; nothing was changed` };
  }
  const first = await ports.approvals.markApprovalSent(approvalId, now);
  if (first && answer.decision === 'approved') await ports.notifier(record)('approved', { approvalId, approvedBy: by, requestedAt: record.requestedAt, summary: `${where(record)}: approved by ${by}` });
  ports.log('rollout approval answered', { approvalId, decision: answer.decision, by, executionArn: record.executionArn });
  return { result: 'done', decision: answer.decision, approval: viewOf({ ...record, status: answer.decision, answeredBy: by }), summary: `${answer.decision} the rollout of ${where(record)} onto ${record.target}` };
}

/**
 * true when Step Functions took the answer; false when the task was already over. When the
 * answer is sent again, a closed task may be our own first answer (Step Functions does not
 * say which), so it counts as taken.
 */
async function sendAnswer(record: ApprovalRecord, answer: { decision: 'approved' | 'denied'; by: string; reason?: string | undefined }, resend: boolean, ports: ApprovalPorts): Promise<boolean> {
  try {
    if (answer.decision === 'approved') {
      await sendTaskSuccess(ports.aws, record.taskToken, { approvedBy: answer.by, approvalId: record.id });
    } else {
      await sendTaskFailure(ports.aws, record.taskToken, 'RolloutRejectedError', `denied by ${answer.by}${answer.reason ? `: ${answer.reason}` : ''}`);
    }
    return true;
  } catch (error) {
    const name = (error as { name?: string; cause?: { name?: string } }).cause?.name ?? (error as { name?: string }).name ?? '';
    if (TASK_OVER.has(name)) return resend;
    throw error;
  }
}

function where(approval: Pick<ApprovalRecord, 'cluster' | 'group' | 'accountId' | 'region'>): string {
  return placeQualified(`${approval.cluster}/${approval.group}`, approval);
}


/**
 * What a person (chat, CLI) can do to a running rollout, named by its group:
 * - approve / reject: answers the approval the lock names (see `answerApproval`);
 * - pause / resume / abort: recorded on the lock; the roll loop reads it at each batch
 *   boundary (abort finishes the batch in flight and leaves the group consistent).
 */
export async function controlRollout(request: RolloutControlRequest, ports: ControlPorts): Promise<ControlResult> {
  // the request's place is resolved by its caller: none for the hub's own (rollout-place.ts)
  const key = lockKeyOf(request.cluster, request.group, request);
  const lock = await ports.locks.get(key);
  const who = placeQualified(`${request.cluster}/${request.group}`, request);
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
    case 'abort': {
      const updated = await ports.locks.setControl(key, request.action, request.requestedBy);
      if (!updated) return { result: 'no-rollout', summary: `no rollout of ${who} is running` };
      ports.log('rollout control', { action: request.action, by: request.requestedBy, executionArn: updated.owner, pause: updated.pauses });
      const what = request.action === 'pause' ? `pause #${updated.pauses ?? 1}` : 'abort';
      const resume = request.action === 'pause' ? ` (resume it with \`resume ${who} --pause ${updated.pauses ?? 1}\`)` : '';
      return { result: 'done', action: request.action, executionArn: updated.owner, summary: `${what} of the rollout of ${who} recorded; it takes effect after the batch in flight${resume}` };
    }
    case 'resume':
      return resume(request, key, who, lock, ports);
  }
}

/**
 * `rolloutControl`, invoked directly: Lambda does not say who invoked it, and `requestedBy`
 * is whatever the caller wrote. So it never answers an approval (the approver would be
 * whoever the caller claims, and "never the requester" would compare two claims), and what
 * it records says the name is unverified. Pause, resume and abort still work: IAM decides
 * who may invoke it, and each is a recorded, reversible step.
 */
export async function controlRolloutDirectly(request: RolloutControlRequest, ports: ControlPorts): Promise<ControlResult> {
  if (request.action === 'approve' || request.action === 'reject') {
    throw new UnverifiedCallerError(
      'no-identity',
      `rolloutControl cannot ${request.action}: a direct invocation cannot say who is calling ("requestedBy" is only what the caller wrote); answer approvals from Slack or the CLI (\`${request.action === 'approve' ? 'approve' : 'deny'} ${request.cluster}/${request.group}\`), where the caller is authenticated. Nothing was changed.`,
    );
  }
  return controlRollout({ ...request, requestedBy: `${request.requestedBy.slice(0, 120)} (unverified: rolloutControl invoked directly)` }, ports);
}

/** `resume` ends one pause, the one it names: without a number, or for another pause, nothing changes. */
async function resume(request: RolloutControlRequest, key: string, who: string, lock: NodeGroupLockRecord, ports: ControlPorts): Promise<ControlResult> {
  const current = lock.control === 'pause' ? `paused (#${lock.pauses ?? 1} by ${lock.controlBy ?? 'someone'})` : lock.control === 'abort' ? `being aborted (by ${lock.controlBy ?? 'someone'})` : 'not paused';
  if (request.pause === undefined) {
    const hint = lock.control === 'pause' ? `; to end that pause: \`resume ${who} --pause ${lock.pauses ?? 1}\`` : '';
    return { result: 'stale', summary: `the rollout of ${who} is ${current}: resume names the pause it ends${hint}` };
  }
  const out = await ports.locks.resume(key, request.pause, request.requestedBy);
  if (!out.resumed) {
    if (!out.lock) return { result: 'no-rollout', summary: `no rollout of ${who} is running` };
    return { result: 'stale', summary: `not resumed: this resume is for pause #${request.pause}, and the rollout of ${who} is ${current}; nothing was changed` };
  }
  ports.log('rollout control', { action: 'resume', by: request.requestedBy, executionArn: out.lock.owner, pause: request.pause });
  return { result: 'done', action: 'resume', executionArn: out.lock.owner, summary: `pause #${request.pause} of the rollout of ${who} ended; it goes on now` };
}
