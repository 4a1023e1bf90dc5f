import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from '../aws/call.js';
import { LockLostError } from '../errors.js';
import type { GroupIntent } from './group-interference.js';

/**
 * One lease per node group (`<cluster>/<group>`) in a DynamoDB table, so two rollouts (a
 * detection and a chat request, or two detections) never change the same group at once.
 * The owner is the Step Functions execution ARN: a retried step re-acquires idempotently,
 * and a lease that an execution stopped renewing (it died, it was aborted) lapses and can be
 * taken over. Table: key `lockKey` (S); TTL on `expiresAt` (epoch seconds), which also
 * decides expiry here; `expiresAtIso` is for people reading the table.
 */
export interface NodeGroupLockRecord {
  lockKey: string;
  owner: string;
  acquiredAt: string;
  /** epoch seconds: the lease end, and the DynamoDB TTL */
  expiresAt: number;
  expiresAtIso: string;
  /** asked by a person (chat, CLI) and read by the roll loop at each batch boundary */
  control?: 'pause' | 'abort';
  controlBy?: string;
  /** pauses so far, counted by whoever paused (a person, or the rollout itself): the current pause is #pauses */
  pauses?: number;
  /** the pending approval (`apr-…`) while the rollout waits for a person; its task token stays in the approvals store */
  approvalId?: string;
  /** what the rollout has announced (`planned`, `rolling-back`, `batch-finished:3` …): each once, however often a step runs */
  announced?: Set<string>;
  /** what held the rollout's last drain pass back (`ns/pod (PodDisruptionBudget ns/name)`), kept at each step's renewal; absent when nothing did */
  blockedBy?: string[];
  /**
   * What the rollout's step was changing in the group (sizes, template setting: from → to),
   * written before it writes the group: a step that died after some of its writes would
   * otherwise take its own change, when it runs again, for someone else's.
   */
  intent?: GroupIntent;
  /** what the rollout is (written with the lock by Begin): its target, and who started it — what `status` shows */
  rollout?: RolloutAbout;
}

/** The rollout that holds a lock, as people are shown it. */
export interface RolloutAbout {
  target: { imageId: string; release?: string };
  /** `detection`, or the person's principal id (`slack:<team>:<user>`, `iam:<arn>`) */
  startedBy: string;
}

/**
 * What a rollout's first step (Begin) decided, as whoever started the rollout is told it:
 * it runs now; it waits (for a person's approval, then for the maintenance window to open at
 * `startAt`); it was refused (`reason`); or another rollout holds the group (`heldBy`).
 */
export type BeginDecision =
  | { decision: 'proceed'; approval: boolean; startAt: string | null }
  | { decision: 'refused'; reason: string }
  | { decision: 'already-rolling'; heldBy: string };

const BEGIN_DECISION_TTL_SECONDS = 24 * 3600;

/** The lock of one node group: `<cluster>/<group>`. */
export function lockKeyOf(cluster: string, group: string): string {
  return `${cluster}/${group}`;
}

export type AcquireResult = { acquired: true } | { acquired: false; heldBy: string; expiresAt: string };

export class NodeGroupLocks {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * Takes the lock when nobody holds it, when the holder's lease has expired, or when the
   * caller already holds it (the lease is then extended). Otherwise says who holds it.
   */
  async acquire(key: string, owner: string, leaseSeconds: number, now: Date, about?: RolloutAbout): Promise<AcquireResult> {
    const nowSeconds = epochSeconds(now);
    const expiresAt = nowSeconds + Math.max(1, Math.ceil(leaseSeconds));
    // A lost race is read back to name the holder; should the holder release or expire in
    // between, the write is simply tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const won = await conditionalWrite('dynamodb:PutItem', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { lockKey: key, owner, acquiredAt: now.toISOString(), expiresAt, expiresAtIso: new Date(expiresAt * 1000).toISOString(), ...(about ? { rollout: about } : {}) } satisfies NodeGroupLockRecord,
            ConditionExpression: 'attribute_not_exists(lockKey) OR #expiresAt <= :now OR #owner = :owner',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': nowSeconds, ':owner': owner },
          }),
        ),
      );
      if (won !== undefined) return { acquired: true };
      const holder = await this.get(key);
      if (holder && holder.owner !== owner && holder.expiresAt > nowSeconds) {
        return { acquired: false, heldBy: holder.owner, expiresAt: holder.expiresAtIso ?? new Date(holder.expiresAt * 1000).toISOString() };
      }
    }
    const holder = await this.get(key);
    return { acquired: false, heldBy: holder?.owner ?? 'unknown', expiresAt: holder?.expiresAtIso ?? now.toISOString() };
  }

  /**
   * Extends the caller's lease and returns the lock as it now is (with a person's pause or
   * abort); throws LockLostError when the caller no longer holds the lock.
   */
  /**
   * Extends the owner's lease. `blockedBy`, when given, is what held the rollout's last drain pass
   * back (status and `-w` show it): set when there is some, removed when there is none — in the
   * same write, so a step pays nothing for it.
   */
  async renew(key: string, owner: string, leaseSeconds: number, now: Date, blockedBy?: readonly string[]): Promise<NodeGroupLockRecord> {
    const expiresAt = epochSeconds(now) + Math.max(1, Math.ceil(leaseSeconds));
    const blocked = blockedBy === undefined ? '' : blockedBy.length > 0 ? ', #blockedBy = :blockedBy' : ' REMOVE #blockedBy';
    const renewed = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lockKey: key },
          UpdateExpression: `SET #expiresAt = :expiresAt, #expiresAtIso = :expiresAtIso${blocked}`,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#expiresAtIso': 'expiresAtIso', '#owner': 'owner', ...(blockedBy !== undefined ? { '#blockedBy': 'blockedBy' } : {}) },
          ExpressionAttributeValues: {
            ':expiresAt': expiresAt,
            ':expiresAtIso': new Date(expiresAt * 1000).toISOString(),
            ':owner': owner,
            ...(blockedBy !== undefined && blockedBy.length > 0 ? { ':blockedBy': blockedBy.slice(0, 10).map((b) => b.slice(0, 300)) } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!renewed) throw new LockLostError(key, owner);
    return renewed.Attributes as NodeGroupLockRecord;
  }

  /**
   * Releases the lock if `owner` holds it (releasing one held by someone else, or nobody, does
   * nothing); says since when it was held (a rollout's duration).
   */
  async release(key: string, owner: string): Promise<{ released: false } | { released: true; heldSince?: string }> {
    const released = await conditionalWrite('dynamodb:DeleteItem', () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { lockKey: key },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (released === undefined) return { released: false };
    const heldSince = (released.Attributes as Partial<NodeGroupLockRecord> | undefined)?.acquiredAt;
    return heldSince ? { released: true, heldSince } : { released: true };
  }

  /**
   * Records a person's pause (numbered: `pauses` counts them) or abort on the running
   * rollout's lock. Returns the lock as it now is, or undefined when no rollout holds the group.
   */
  async setControl(key: string, control: 'pause' | 'abort', by: string): Promise<NodeGroupLockRecord | undefined> {
    const pause = control === 'pause';
    return this.update(key, {
      update: `SET #control = :control, #controlBy = :by${pause ? ' ADD #pauses :one' : ''}`,
      condition: 'attribute_exists(lockKey)',
      names: { '#control': 'control', '#controlBy': 'controlBy', ...(pause ? { '#pauses': 'pauses' } : {}) },
      values: { ':control': control, ':by': by, ...(pause ? { ':one': 1 } : {}) },
    });
  }

  /**
   * Ends pause #`pause`, and only that one: the write is conditional on the lock still being
   * paused by it, so a resume sent for an older pause (a replay, or someone who had not seen
   * the newer one) changes nothing. `resumed: false` carries the lock as it is, to say why.
   */
  async resume(key: string, pause: number, by: string): Promise<{ resumed: true; lock: NodeGroupLockRecord } | { resumed: false; lock: NodeGroupLockRecord | undefined }> {
    const resumed = await this.update(key, {
      update: 'REMOVE #control SET #controlBy = :by',
      condition: '#control = :pause AND #pauses = :n',
      names: { '#control': 'control', '#controlBy': 'controlBy', '#pauses': 'pauses' },
      values: { ':pause': 'pause', ':n': pause, ':by': by },
    });
    return resumed ? { resumed: true, lock: resumed } : { resumed: false, lock: await this.get(key) };
  }

  /** One conditional UpdateItem of the lock; the lock as written, or undefined when the condition failed. */
  private async update(key: string, change: { update: string; condition: string; names: Record<string, string>; values: Record<string, unknown> }): Promise<NodeGroupLockRecord | undefined> {
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lockKey: key },
          UpdateExpression: change.update,
          ConditionExpression: change.condition,
          ExpressionAttributeNames: change.names,
          ExpressionAttributeValues: change.values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes as NodeGroupLockRecord | undefined;
  }

  /**
   * The rollout pauses itself (someone else changed the group): the lock says `pause`, so
   * `status` shows it and a person's `resume` clears it — unless a person already asked for
   * something (an abort stays an abort). Only the owner may.
   */
  async pauseIfUncontrolled(key: string, owner: string, by: string): Promise<void> {
    await this.updateAsOwner(key, owner, {
      update: 'SET #control = :pause, #controlBy = :by ADD #pauses :one',
      names: { '#control': 'control', '#controlBy': 'controlBy', '#pauses': 'pauses' },
      values: { ':pause': 'pause', ':by': by.slice(0, 200), ':one': 1 },
      unless: 'attribute_not_exists(#control)',
    });
  }

  /** Records what the owner is about to make of the group (see `intent`). */
  async recordIntent(key: string, owner: string, intent: GroupIntent): Promise<void> {
    await this.updateAsOwner(key, owner, { update: 'SET #intent = :intent', names: { '#intent': 'intent' }, values: { ':intent': intent } }, { mustHold: true });
  }

  /** Records that the owner announced `key` (see `announced`). */
  async markAnnounced(key: string, owner: string, announcement: string): Promise<void> {
    await this.updateAsOwner(key, owner, { update: 'ADD #announced :one', names: { '#announced': 'announced' }, values: { ':one': new Set([announcement]) } }, { mustHold: true });
  }

  /** Names the approval the rollout waits for, so `approve <cluster>/<group>` finds it; null clears it. */
  async setApprovalId(key: string, owner: string, approvalId: string | null): Promise<void> {
    await this.updateAsOwner(
      key,
      owner,
      { update: approvalId ? 'SET #approval = :approval' : 'REMOVE #approval', names: { '#approval': 'approvalId' }, values: approvalId ? { ':approval': approvalId } : {} },
      { mustHold: true },
    );
  }

  /**
   * One UpdateItem of the lock, only while `owner` holds it (and `unless` holds too); false when
   * it did not happen. `mustHold`: not holding the lock any more is LockLostError.
   */
  private async updateAsOwner(
    key: string,
    owner: string,
    change: { update: string; names: Record<string, string>; values: Record<string, unknown>; unless?: string },
    options: { mustHold?: boolean } = {},
  ): Promise<boolean> {
    const done = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { lockKey: key },
          UpdateExpression: change.update,
          ConditionExpression: change.unless ? `#owner = :owner AND ${change.unless}` : '#owner = :owner',
          ExpressionAttributeNames: { ...change.names, '#owner': 'owner' },
          ExpressionAttributeValues: { ...change.values, ':owner': owner },
        }),
      ),
    );
    if (!done && options.mustHold) throw new LockLostError(key, owner);
    return done !== undefined;
  }

  async get(key: string): Promise<NodeGroupLockRecord | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { lockKey: key }, ConsistentRead: true })));
    return out.Item as NodeGroupLockRecord | undefined;
  }

  /**
   * What the service announced once (a node group's configuration problem): an item per
   * fingerprint, `announced#<fingerprint>` — no lock key, which is `<cluster>/<group>` and
   * cluster names hold no `#` — that expires (TTL `expiresAt`) after `ttlSeconds`, when a
   * problem still there is announced again, as a reminder. True when this call claimed it.
   */
  async claimAnnouncement(fingerprint: string, summary: string, now: Date, ttlSeconds: number): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    const written = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { lockKey: announcementKey(fingerprint), summary: summary.slice(0, 1000), announcedAt: now.toISOString(), expiresAt: nowSeconds + ttlSeconds },
          // an expired item lingers until DynamoDB's TTL sweep deletes it
          ConditionExpression: 'attribute_not_exists(lockKey) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      ),
    );
    return written !== undefined;
  }

  /**
   * What Begin decided for a rollout (see BeginDecision), kept for whoever started it to read:
   * an item `begin#<execution ARN>` (no lock key holds a `#`) that expires (TTL) after a day.
   * Begin writes it on each of its ways out; a retried Begin writes the same decision again.
   */
  async recordBeginDecision(executionArn: string, decision: BeginDecision, now: Date): Promise<void> {
    await callAws('dynamodb:PutItem', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { lockKey: beginKey(executionArn), ...decision, decidedAt: now.toISOString(), expiresAt: epochSeconds(now) + BEGIN_DECISION_TTL_SECONDS } })),
    );
  }

  /** Begin's decision for the rollout `executionArn` (its first execution), or undefined while Begin has not decided. */
  async beginDecision(executionArn: string): Promise<(BeginDecision & { decidedAt: string }) | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { lockKey: beginKey(executionArn) }, ConsistentRead: true })));
    if (!out.Item) return undefined;
    const { lockKey: _key, expiresAt: _ttl, ...decision } = out.Item;
    return decision as BeginDecision & { decidedAt: string };
  }

  /** Gives a claim back (its announcement could not be made): the next run tries again. */
  async releaseAnnouncement(fingerprint: string): Promise<void> {
    await callAws('dynamodb:DeleteItem', () => this.doc.send(new DeleteCommand({ TableName: this.table, Key: { lockKey: announcementKey(fingerprint) } })));
  }
}

function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

function beginKey(executionArn: string): string {
  return `begin#${executionArn}`;
}

function announcementKey(fingerprint: string): string {
  return `announced#${fingerprint}`;
}
