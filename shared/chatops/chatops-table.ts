import { createHash, randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from '../aws/call.js';
import { showInvisible } from '../invisible-characters.js';
import { mentionsAsText } from './mentions.js';
import type { Via } from './types.js';

/**
 * What chat-ops remembers, in one DynamoDB table (key `pk` + `sk`, TTL on `expiresAt` in
 * epoch seconds), so nothing needs a second table or an index:
 * - `audit#<cluster>` / `<ISO time>#<request id>` — who asked what, when, and what came of
 *   it (one item per cluster named, so each cluster's history is one Query);
 * - `approval#<id>` / `approval` — a rollout's approval gate, with the Step Functions task
 *   token, which never leaves the server: Slack buttons carry only the approval id;
 * - `approvals#<cluster>` / `<approval id>` — the approvals opened in a cluster (a pointer, with
 *   its deadline, gone with it): what `approvals` lists with one Query, the status read from
 *   the approval itself;
 * - `thread#<execution ARN>` / `thread` — the one Slack thread a rollout posts into;
 * - `request#<signature or caller and request id>` / `request` — a signed request seen once
 *   (kept as long as its signature could still be accepted), and whether its work ran;
 * - `rate#<principal>` / `<minute>` — how many commands a person sent in that minute (the
 *   per-person rate limit), gone after two minutes;
 * - `forced-drain#<grant id>` / `grant` — a person's authorized `drain --force` of one
 *   instance, used once by requestDrain (which cannot tell who invoked it otherwise).
 */

const DAY_SECONDS = 24 * 3600;
const AUDIT_TTL_DAYS = 400;
const APPROVAL_KEPT_AFTER_EXPIRY_DAYS = 7;
const THREAD_TTL_DAYS = 30;
const MAX_TEXT = 500;
const MAX_SUMMARY = 1000;
const APPROVAL_ID = /^apr-[a-z0-9]{12}$/;
/** a forced-drain grant is used at once by the request it goes with: minutes are plenty */
const FORCED_DRAIN_GRANT_SECONDS = 5 * 60;
export const FORCED_DRAIN_GRANT_ID = /^fdg-[a-f0-9]{20}$/;

/** The audit partition of commands about no specific cluster (`status` of everything, `help`). */
export const NO_CLUSTER = '-';

export type AuditResult = 'done' | 'refused' | 'invalid' | 'failed';

/** One command to audit: who asked, what they typed, what it was about, and what came of it. */
export interface AuditInput {
  /** the request's id (Slack trigger id, Lambda request id…), shown to people as the audit id */
  requestId: string;
  at: Date;
  principal: { id: string; display?: string; channel?: string; via: Via };
  /** the clusters the command was about; empty for none */
  clusters: string[];
  /** what was typed (at most 500 characters are kept) */
  text: string;
  command?: string;
  result: AuditResult;
  /** what was answered (at most 1000 characters are kept) */
  summary: string;
}

/** One audited command as `history` reads it back: the time as ISO 8601, like every stored time. */
export type AuditEntry = Omit<AuditInput, 'at'> & { at: string };

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A rollout's approval gate. The task token is what SendTaskSuccess/SendTaskFailure need. */
export interface ApprovalRecord {
  id: string;
  executionArn: string;
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
  message?: SlackThread;
}

/** An approval as it may be shown or passed around: everything but the task token. */
export type ApprovalView = Omit<ApprovalRecord, 'taskToken'>;

export type AnswerResult =
  | { kind: 'answered'; approval: ApprovalRecord }
  | { kind: 'not-found' }
  | { kind: 'expired'; approval: ApprovalView }
  | { kind: 'already-answered'; approval: ApprovalView }
  | { kind: 'own-request'; approval: ApprovalView };

export type ClaimResult = { claimed: true } | { claimed: false; thread: SlackThread | null };

export interface SlackThread {
  channel: string;
  ts: string;
}

export type CreateApprovalInput = Pick<ApprovalRecord, 'executionArn' | 'cluster' | 'group' | 'taskToken' | 'requestedBy' | 'target' | 'plan'> & { expiresAt: Date; now: Date };

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

export class ChatopsTable {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  // ── audit ──────────────────────────────────────────────────────────────────────────────

  /**
   * Records one command, once in the history of each cluster it names (or of `NO_CLUSTER`).
   * Writing the same request id and time again rewrites the same items: a retried handler
   * leaves one entry. The trail holds plain, visible text: the service's mention markers as
   * `<@U…>`, and the invisible characters of a refused command written out (`\u{200b}`).
   */
  async audit(entry: AuditInput): Promise<void> {
    const clusters = entry.clusters.length ? [...new Set(entry.clusters)] : [NO_CLUSTER];
    const at = entry.at.toISOString();
    const item = {
      sk: `${at}#${entry.requestId}`,
      kind: 'audit',
      requestId: entry.requestId,
      at,
      principal: entry.principal,
      clusters: entry.clusters,
      text: truncate(showInvisible(entry.text), MAX_TEXT),
      command: entry.command,
      result: entry.result,
      summary: truncate(mentionsAsText(entry.summary), MAX_SUMMARY),
      expiresAt: epochSeconds(entry.at) + AUDIT_TTL_DAYS * DAY_SECONDS,
    };
    await Promise.all(
      clusters.map((cluster) => callAws('dynamodb:PutItem', () => this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: `audit#${cluster}`, ...item } })))),
    );
  }

  /** A cluster's latest commands, newest first (`limit` 20 unless told, at most 100). */
  async history(cluster: string, options: { limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.min(100, Math.max(1, Math.floor(options.limit ?? 20) || 20));
    const out = await callAws('dynamodb:Query', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `audit#${cluster}` },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map(auditEntryOf);
  }

  // ── approvals ──────────────────────────────────────────────────────────────────────────

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
    // the cluster's pointer first: a pointer without its approval is skipped by `pendingApprovals`,
    // an approval without its pointer would never be listed; a retried step writes the same one
    await callAws('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: clusterApprovalsKey(a.cluster), sk: id, deadline: a.expiresAt.getTime(), expiresAt: epochSeconds(a.expiresAt) + APPROVAL_KEPT_AFTER_EXPIRY_DAYS * DAY_SECONDS },
        }),
      ),
    );
    const created = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: approvalKey(id),
            sk: 'approval',
            ...record,
            requesterPerson: personOf(a.requestedBy),
            deadline: a.expiresAt.getTime(),
            expiresAt: epochSeconds(a.expiresAt) + APPROVAL_KEPT_AFTER_EXPIRY_DAYS * DAY_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (created) return viewOf(record);

    const refreshed = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: approvalKey(id), sk: 'approval' },
          UpdateExpression: 'SET #taskToken = :token',
          ConditionExpression: '#status = :pending AND #executionArn = :arn',
          ExpressionAttributeNames: { '#taskToken': 'taskToken', '#status': 'status', '#executionArn': 'executionArn' },
          ExpressionAttributeValues: { ':token': a.taskToken, ':pending': 'pending', ':arn': a.executionArn },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (refreshed?.Attributes) return viewOf(approvalOf(refreshed.Attributes));
    const existing = await this.getApproval(id);
    if (!existing) throw new Error(`approval ${id} vanished while being created`);
    if (existing.executionArn !== a.executionArn) throw new Error(`approval id ${id} of ${a.executionArn} is taken by ${existing.executionArn}`);
    return viewOf(existing);
  }

  /**
   * The approvals of a cluster still waiting for a person at `now`, oldest first, without their
   * task tokens: one Query of the cluster's pointers whose deadline is ahead, then each approval
   * read for its status (a handful: one per group waiting).
   */
  async pendingApprovals(cluster: string, now: Date): Promise<ApprovalView[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await callAws('dynamodb:Query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: '#deadline > :now',
            ExpressionAttributeNames: { '#deadline': 'deadline' },
            ExpressionAttributeValues: { ':pk': clusterApprovalsKey(cluster), ':now': now.getTime() },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      ids.push(...(out.Items ?? []).map((item) => String(item.sk)));
      start = out.LastEvaluatedKey;
    } while (start);
    const approvals = await Promise.all(ids.map((id) => this.getApproval(id)));
    return approvals
      .filter((a): a is ApprovalRecord => a !== undefined && a.status === 'pending' && a.cluster === cluster && a.expiresAtIso > now.toISOString())
      .map(viewOf)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.id.localeCompare(b.id));
  }

  /** The approval with its task token (for the one who sends the answer), or undefined. */
  async getApproval(id: string): Promise<ApprovalRecord | undefined> {
    if (!APPROVAL_ID.test(id)) return undefined;
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: approvalKey(id), sk: 'approval' }, ConsistentRead: true })));
    return out.Item ? approvalOf(out.Item) : undefined;
  }

  /**
   * Records a person's answer with one conditional write — only while the approval is
   * pending and unexpired, and never by the person who requested the rollout — so of two
   * people answering at once exactly one wins. When the write is refused, a read says why.
   * Only an `answered` result carries the task token.
   */
  async answerApproval(id: string, answer: { decision: 'approved' | 'denied'; by: string; reason?: string; now: Date }): Promise<AnswerResult> {
    if (!APPROVAL_ID.test(id)) return { kind: 'not-found' };
    const names: Record<string, string> = { '#status': 'status', '#answeredBy': 'answeredBy', '#answeredAt': 'answeredAt', '#requesterPerson': 'requesterPerson', '#deadline': 'deadline' };
    const values: Record<string, unknown> = { ':decision': answer.decision, ':by': answer.by, ':person': personOf(answer.by), ':at': answer.now.toISOString(), ':pending': 'pending', ':now': answer.now.getTime() };
    let update = 'SET #status = :decision, #answeredBy = :by, #answeredAt = :at';
    if (answer.reason) {
      names['#reason'] = 'reason';
      values[':reason'] = truncate(answer.reason, MAX_SUMMARY);
      update += ', #reason = :reason';
    }
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: approvalKey(id), sk: 'approval' },
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending AND #requesterPerson <> :person AND #deadline > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (out?.Attributes) return { kind: 'answered', approval: approvalOf(out.Attributes) };

    // The conditions only ever become false (pending is left once, time only passes), so
    // this read explains the refusal.
    const item = await this.getItem(approvalKey(id), 'approval');
    if (!item) return { kind: 'not-found' };
    const approval = viewOf(approvalOf(item));
    if (approval.status === 'expired') return { kind: 'expired', approval };
    if (approval.status !== 'pending') return { kind: 'already-answered', approval };
    if (Number(item.deadline) <= answer.now.getTime()) return { kind: 'expired', approval };
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
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: approvalKey(id), sk: 'approval' },
          UpdateExpression: 'SET #status = :expired, #expiredAt = :at',
          ConditionExpression: options.answered ? 'attribute_exists(pk) AND #status <> :expired' : 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#expiredAt': 'expiredAt' },
          ExpressionAttributeValues: options.answered ? { ':expired': 'expired', ':at': now.toISOString() } : { ':expired': 'expired', ':pending': 'pending', ':at': now.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (out?.Attributes) return viewOf(approvalOf(out.Attributes));
    const item = await this.getItem(approvalKey(id), 'approval');
    return item ? viewOf(approvalOf(item)) : undefined;
  }

  /** Records that Step Functions took the answer; true only the first time (what announces it). */
  async markApprovalSent(id: string, now: Date): Promise<boolean> {
    if (!APPROVAL_ID.test(id)) return false;
    return this.setIfExists(approvalKey(id), 'approval', { sentAt: now.toISOString() }, 'attribute_not_exists(#sentAt)');
  }

  /** Remembers where the Slack message with the buttons is, to update it once answered. false when there is no such approval. */
  async setApprovalMessage(id: string, message: SlackThread): Promise<boolean> {
    if (!APPROVAL_ID.test(id)) return false;
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: approvalKey(id), sk: 'approval' },
          UpdateExpression: 'SET #message = :message',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#message': 'message' },
          ExpressionAttributeValues: { ':message': { channel: message.channel, ts: message.ts } },
        }),
      ),
    );
    return out !== undefined;
  }

  // ── requests seen ──────────────────────────────────────────────────────────────────────

  /**
   * Accepts a signed request once: a conditional write of its key (a Slack signature, or a
   * caller and the request id they signed), kept until `keepUntil` — the end of the window in
   * which the signature would still verify, after which the timestamp check refuses it
   * anyway. false when the request was seen before: a replay.
   */
  async acceptRequestOnce(key: string, keepUntil: Date, now: Date): Promise<boolean> {
    const written = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: requestKey(key), sk: 'request', acceptedAt: now.toISOString(), expiresAt: epochSeconds(keepUntil) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return written !== undefined;
  }

  /**
   * Claims the work of an accepted request for one run: true only if the entry accepted it
   * (`acceptRequestOnce`) and nobody claimed it before — so a hand-off invoked twice (or by
   * someone else with a captured payload) runs once, and one the entry never saw not at all.
   */
  async claimAcceptedRequest(key: string, now: Date): Promise<boolean> {
    return this.setIfExists(requestKey(key), 'request', { ranAt: now.toISOString() }, 'attribute_not_exists(#ranAt)');
  }

  // ── forced drains ──────────────────────────────────────────────────────────────────────

  /** Records that `by` was authorized to force-drain the instance; the grant id goes with the request to requestDrain. */
  async grantForcedDrain(grant: { instanceId: string; by: string; now: Date }): Promise<string> {
    const id = `fdg-${randomBytes(10).toString('hex')}`;
    const deadline = grant.now.getTime() + FORCED_DRAIN_GRANT_SECONDS * 1000;
    await callAws('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: forcedDrainKey(id), sk: 'grant', instanceId: grant.instanceId, by: grant.by, grantedAt: grant.now.toISOString(), deadline, expiresAt: Math.ceil(deadline / 1000) + DAY_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return id;
  }

  /** Uses a forced-drain grant: once, for its instance, within minutes of it being given. Who was granted it, or undefined. */
  async useForcedDrainGrant(id: string, instanceId: string, now: Date): Promise<{ by: string } | undefined> {
    if (!FORCED_DRAIN_GRANT_ID.test(id)) return undefined;
    const used = await this.updateIfExists(forcedDrainKey(id), 'grant', { usedAt: now.toISOString() }, {
      condition: 'attribute_not_exists(#usedAt) AND #instanceId = :instance AND #deadline > :now',
      names: { '#instanceId': 'instanceId', '#deadline': 'deadline' },
      values: { ':instance': instanceId, ':now': now.getTime() },
    });
    return used ? { by: String(used.by) } : undefined;
  }

  // ── threads ────────────────────────────────────────────────────────────────────────────

  /**
   * Claims the Slack thread of a rollout: the first caller wins (and posts the first
   * message, then calls `setThreadTs`); every other caller learns the thread, or null while
   * its first message is not posted yet.
   */
  async claimThread(executionArn: string, channel: string, now: Date): Promise<ClaimResult> {
    const claimed = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: threadKey(executionArn), sk: 'thread', executionArn, channel, claimedAt: now.toISOString(), expiresAt: epochSeconds(now) + THREAD_TTL_DAYS * DAY_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (claimed) return { claimed: true };
    return { claimed: false, thread: await this.getThread(executionArn) };
  }

  /** Records the ts of the thread's first message. false when the thread was never claimed. */
  async setThreadTs(executionArn: string, ts: string): Promise<boolean> {
    return this.setIfExists(threadKey(executionArn), 'thread', { ts });
  }

  /** The rollout's thread, or null when there is none yet (unclaimed, or its first message not posted). */
  async getThread(executionArn: string): Promise<SlackThread | null> {
    const item = await this.getItem(threadKey(executionArn), 'thread');
    return item && typeof item.ts === 'string' ? { channel: String(item.channel), ts: item.ts } : null;
  }

  /**
   * Counts one command of `principal` in the current minute; false when `limit` were already
   * counted (the command is then refused before it costs any other call). One item per person
   * and minute, gone with its TTL.
   */
  async takeCommandToken(principal: string, now: Date, limit: number): Promise<boolean> {
    const minute = now.toISOString().slice(0, 16);
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: rateKey(principal), sk: minute },
          UpdateExpression: 'ADD #count :one SET #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expiresAt': epochSeconds(now) + 2 * 60 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return out !== undefined;
  }

  /** Sets attributes of an existing item (and only while `condition` holds, which may name them as `#<attribute>`); false when it did not. */
  private async setIfExists(pk: string, sk: string, values: Record<string, unknown>, condition?: string): Promise<boolean> {
    return (await this.updateIfExists(pk, sk, values, condition ? { condition } : {})) !== undefined;
  }

  /** `setIfExists`, with more names and values for the condition; the item as written, or undefined. */
  private async updateIfExists(
    pk: string,
    sk: string,
    values: Record<string, unknown>,
    when: { condition?: string; names?: Record<string, string>; values?: Record<string, unknown> },
  ): Promise<Record<string, unknown> | undefined> {
    const fields = Object.keys(values);
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk },
          UpdateExpression: `SET ${fields.map((f) => `#${f} = :${f}`).join(', ')}`,
          ConditionExpression: when.condition ? `attribute_exists(pk) AND ${when.condition}` : 'attribute_exists(pk)',
          ExpressionAttributeNames: { ...Object.fromEntries(fields.map((f) => [`#${f}`, f])), ...when.names },
          ExpressionAttributeValues: { ...Object.fromEntries(fields.map((f) => [`:${f}`, values[f]])), ...when.values },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes;
  }

  private async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })));
    return out.Item;
  }
}

function approvalKey(id: string): string {
  return `approval#${id}`;
}

function clusterApprovalsKey(cluster: string): string {
  return `approvals#${cluster}`;
}

function forcedDrainKey(id: string): string {
  return `forced-drain#${id}`;
}

function requestKey(key: string): string {
  return `request#${key}`;
}

function rateKey(principal: string): string {
  return `rate#${principal}`;
}

function threadKey(executionArn: string): string {
  return `thread#${executionArn}`;
}

/** The record from a stored item: the table's own attributes (keys, TTL, deadline) left out. */
function approvalOf(item: Record<string, unknown>): ApprovalRecord {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, deadline: _deadline, requesterPerson: _person, ...record } = item;
  return record as unknown as ApprovalRecord;
}

/** An approval without its task token: what may be shown or passed around. */
export function viewOf(record: ApprovalRecord): ApprovalView {
  const { taskToken: _token, ...view } = record;
  return view;
}

function auditEntryOf(item: Record<string, unknown>): AuditEntry {
  const principal = item.principal as AuditEntry['principal'];
  return {
    requestId: String(item.requestId),
    at: String(item.at),
    principal,
    clusters: (item.clusters as string[] | undefined) ?? [],
    text: String(item.text ?? ''),
    ...(typeof item.command === 'string' ? { command: item.command } : {}),
    result: item.result as AuditResult,
    summary: String(item.summary ?? ''),
  };
}

/** At most `max` UTF-16 units, ending in `…` when cut, never splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}
