import { createHash } from 'node:crypto';
import { ApprovalRecords } from '../aws/approval-records.js';
import type { AwsScope } from '../aws/clients.js';
import { epochSeconds } from '../clock.js';
import type { Place } from '../aws/places.js';
import { truncate } from '../truncate.js';
import { placeFieldsOf, placeQualified } from './rollout-place.js';

/**
 * A rollout's approval gate, kept in the chat-ops table: the Step Functions task token never
 * leaves the server (Slack buttons carry only the approval id), and each cluster lists its
 * open approvals for `approvals` with one Query.
 */

/**
 * How long a person has to answer: the workflow's RequestApproval task times out then
 * (workflows/ami-rollout.asl.yml `TimeoutSeconds`, which a workflow test holds to this).
 */
export const APPROVAL_TIMEOUT_SECONDS = 24 * 3600;

const DAY_SECONDS = 24 * 3600;
const KEPT_AFTER_EXPIRY_SECONDS = 7 * DAY_SECONDS;
const MAX_REASON = 1000;
const APPROVAL_ID = /^apr-[a-z0-9]{12}$/;

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A chat message: where the approval's buttons are. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/** A rollout's approval gate. The task token is what SendTaskSuccess/SendTaskFailure need. */
export interface ApprovalRecord {
  id: string;
  executionArn: string;
  /** the cluster's account and region: absent for the hub's own place (rollout-place.ts) */
  accountId?: string;
  region?: string;
  cluster: string;
  group: string;
  taskToken: string;
  /** the principal id of whoever started the rollout (or `detection`); may not answer it */
  requestedBy: string;
  /** the image the rollout moves to, as people name it */
  target: string;
  plan: string;
  status: ApprovalStatus;
  requestedAt: string;
  expiresAtIso: string;
  answeredBy?: string;
  answeredAt?: string;
  /** when Step Functions took the answer: a repeated answer is then told, not sent again */
  sentAt?: string;
  reason?: string;
  /** when it was marked expired */
  expiredAt?: string;
  /** the Slack message with the buttons, to update once answered */
  message?: MessageRef;
}

/** An approval as it may be shown or passed around: everything but the task token. */
export type ApprovalView = Omit<ApprovalRecord, 'taskToken'>;

export type AnswerResult =
  | { kind: 'answered'; approval: ApprovalRecord }
  | { kind: 'not-found' }
  | { kind: 'expired'; approval: ApprovalView }
  | { kind: 'already-answered'; approval: ApprovalView }
  | { kind: 'own-request'; approval: ApprovalView };

export type CreateApprovalInput = Pick<ApprovalRecord, 'executionArn' | 'accountId' | 'region' | 'cluster' | 'group' | 'taskToken' | 'requestedBy' | 'target' | 'plan'> & { expiresAt: Date; now: Date };

/**
 * The approval id of an execution: `apr-` and 12 hex characters of the SHA-256 of its ARN.
 * Deterministic, so a retried approval step finds the approval it created before.
 */
export function approvalIdOf(executionArn: string): string {
  return `apr-${createHash('sha256').update(executionArn).digest('hex').slice(0, 12)}`;
}

/**
 * Who a principal id is, for the rule that nobody approves their own request. Slack user
 * ids are unique across workspaces (Enterprise Grid shows one user in several), so
 * `slack:T1:U1` and `slack:T2:U1` are one person; any other id is compared exactly.
 */
export function personOf(principalId: string): string {
  const parts = principalId.split(':');
  return parts.length === 3 && parts[0] === 'slack' && parts[2] ? `slack:${parts[2]}` : principalId;
}

/** An approval without its task token: what may be shown or passed around. */
export function viewOf(record: ApprovalRecord): ApprovalView {
  const { taskToken: _token, ...view } = record;
  return view;
}

/** The approvals, kept a week after they expire (DynamoDB TTL). */
export class Approvals {
  private readonly records: ApprovalRecords;

  constructor(scope: AwsScope, table: string) {
    this.records = new ApprovalRecords(scope, table);
  }

  /**
   * Opens the approval of an execution, or finds the one a previous try opened: while it is
   * still pending its task token is replaced (a retried step waits on a new token); once
   * answered or expired it is returned unchanged. The result never carries the token.
   */
  async createApproval(a: CreateApprovalInput): Promise<ApprovalView> {
    const id = approvalIdOf(a.executionArn);
    const record: ApprovalRecord = {
      id,
      executionArn: a.executionArn,
      ...placeFieldsOf(a),
      cluster: a.cluster,
      group: a.group,
      taskToken: a.taskToken,
      requestedBy: a.requestedBy,
      target: a.target,
      plan: a.plan,
      status: 'pending',
      requestedAt: a.now.toISOString(),
      expiresAtIso: a.expiresAt.toISOString(),
    };
    const deadline = a.expiresAt.getTime();
    const expiresAt = epochSeconds(a.expiresAt) + KEPT_AFTER_EXPIRY_SECONDS;
    // the cluster's pointer first: a pointer without its approval is skipped by `pendingApprovals`,
    // an approval without its pointer would never be listed; a retried step writes the same one.
    // A member's cluster is listed under its place (`<account>/<region>/prod`): two `prod` are two lists
    await this.records.putPointer(placeQualified(a.cluster, a), id, deadline, expiresAt);
    if (await this.records.create({ ...record }, { requesterPerson: personOf(a.requestedBy), deadline, expiresAt })) return viewOf(record);

    const refreshed = await this.records.replaceTokenIfPending(id, a.executionArn, a.taskToken);
    if (refreshed) return viewOf(refreshed as unknown as ApprovalRecord);
    const existing = await this.getApproval(id);
    if (!existing) throw new Error(`approval ${id} vanished while being created`);
    if (existing.executionArn !== a.executionArn) throw new Error(`approval id ${id} of ${a.executionArn} is taken by ${existing.executionArn}`);
    return viewOf(existing);
  }

  /**
   * The approvals of a cluster still waiting for a person at `now`, oldest first, without their
   * task tokens: the cluster's pointers whose deadline is ahead, then each approval read for its
   * status (a handful: one per group waiting). `place`: the cluster's, when it is not the hub's own.
   */
  async pendingApprovals(cluster: string, now: Date, place?: Partial<Place>): Promise<ApprovalView[]> {
    const ids = await this.records.idsPointedAt(placeQualified(cluster, place), now.getTime());
    const approvals = await Promise.all(ids.map((id) => this.getApproval(id)));
    const where = placeQualified(cluster, place);
    return approvals
      .filter((a): a is ApprovalRecord => a !== undefined && a.status === 'pending' && placeQualified(a.cluster, a) === where && a.expiresAtIso > now.toISOString())
      .map(viewOf)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.id.localeCompare(b.id));
  }

  /** The approval with its task token (for the one who sends the answer), or undefined. */
  async getApproval(id: string): Promise<ApprovalRecord | undefined> {
    if (!APPROVAL_ID.test(id)) return undefined;
    return (await this.records.getApproval(id)) as ApprovalRecord | undefined;
  }

  /**
   * Records a person's answer with one conditional write — only while the approval is
   * pending and unexpired, and never by the person who requested the rollout — so of two
   * people answering at once exactly one wins. When the write is refused, a read says why.
   * Only an `answered` result carries the task token.
   */
  async answerApproval(id: string, answer: { decision: 'approved' | 'denied'; by: string; reason?: string; now: Date }): Promise<AnswerResult> {
    if (!APPROVAL_ID.test(id)) return { kind: 'not-found' };
    const written = await this.records.recordAnswer(id, {
      status: answer.decision,
      by: answer.by,
      person: personOf(answer.by),
      at: answer.now.toISOString(),
      now: answer.now.getTime(),
      ...(answer.reason ? { reason: truncate(answer.reason, MAX_REASON) } : {}),
    });
    if (written) return { kind: 'answered', approval: written as unknown as ApprovalRecord };

    // The conditions only ever become false (pending is left once, time only passes), so
    // this read explains the refusal.
    const stored = await this.getApproval(id);
    if (!stored) return { kind: 'not-found' };
    const approval = viewOf(stored);
    if (approval.status === 'expired') return { kind: 'expired', approval };
    if (approval.status !== 'pending') return { kind: 'already-answered', approval };
    // its deadline is its expiry, to the millisecond
    if (Date.parse(approval.expiresAtIso) <= answer.now.getTime()) return { kind: 'expired', approval };
    return { kind: 'own-request', approval };
  }

  /**
   * Marks a pending approval expired (the workflow's wait timed out). Idempotent; an
   * answered approval stays answered — unless `answered` says the answer itself came too
   * late (Step Functions had already closed the task). Returns the approval as it now is,
   * without its token.
   */
  async markApprovalExpired(id: string, now: Date, options: { answered?: boolean } = {}): Promise<ApprovalView | undefined> {
    if (!APPROVAL_ID.test(id)) return undefined;
    const written = (await this.records.markExpired(id, now.toISOString(), options.answered === true)) ?? (await this.records.getApproval(id));
    return written ? viewOf(written as unknown as ApprovalRecord) : undefined;
  }

  /** Records that Step Functions took the answer; true only the first time (what announces it). */
  async markApprovalSent(id: string, now: Date): Promise<boolean> {
    if (!APPROVAL_ID.test(id)) return false;
    return this.records.setSentOnce(id, now.toISOString());
  }

  /** Remembers where the Slack message with the buttons is, to update it once answered. false when there is no such approval. */
  async setApprovalMessage(id: string, message: MessageRef): Promise<boolean> {
    if (!APPROVAL_ID.test(id)) return false;
    return this.records.setMessage(id, message);
  }
}
