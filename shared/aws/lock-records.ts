import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from './call.js';
import type { AwsScope } from './clients.js';
import { documentClientOf } from './dynamodb-documents.js';

/** An item of the rollouts table as stored: plain values, its key `lockKey` included. */
export type LockItem = Record<string, unknown> & { lockKey: string };

/**
 * The node group locks in the rollouts table (key `lockKey`, TTL on `expiresAt` in epoch
 * seconds): one item per group, `<cluster>/<group>`, held by an `owner` until `expiresAt`;
 * and, under keys no group has (they hold a `#`), what the service announced once
 * (`announced#<fingerprint>`) and what each rollout's Begin decided (`begin#<execution ARN>`).
 * Every write that depends on the holder is conditional on it.
 */
export class LockRecords {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    scope: AwsScope,
    private readonly table: string,
  ) {
    this.doc = documentClientOf(scope);
  }

  /** Writes the lock when nobody holds it, its lease ended by `now` (epoch seconds), or its owner is this one; false otherwise. */
  async putUnlessHeld(lock: LockItem & { owner: string }, now: number): Promise<boolean> {
    const won = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: lock,
          ConditionExpression: 'attribute_not_exists(lockKey) OR #expiresAt <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': lock.owner },
        }),
      ),
    );
    return won !== undefined;
  }

  async get(key: string): Promise<LockItem | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { lockKey: key }, ConsistentRead: true })));
    return out.Item as LockItem | undefined;
  }

  /**
   * Moves the owner's lease end; `blockedBy`, when given, set (or removed when empty) in the same
   * write. The lock as written, or undefined when `owner` does not hold it.
   */
  async extend(key: string, owner: string, lease: { expiresAt: number; expiresAtIso: string }, blockedBy?: readonly string[]): Promise<LockItem | undefined> {
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
            ':expiresAt': lease.expiresAt,
            ':expiresAtIso': lease.expiresAtIso,
            ':owner': owner,
            ...(blockedBy !== undefined && blockedBy.length > 0 ? { ':blockedBy': blockedBy } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return renewed?.Attributes as LockItem | undefined;
  }

  /** Deletes the lock if `owner` holds it: the lock as it was (`{}` if not returned), or undefined when not deleted. */
  async deleteIfOwner(key: string, owner: string): Promise<Partial<LockItem> | undefined> {
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
    return released === undefined ? undefined : ((released.Attributes ?? {}) as Partial<LockItem>);
  }

  /** Sets `control` and who asked; a pause also counts itself (`pauses`). The lock as written, or undefined when nobody holds it. */
  async setControl(key: string, control: 'pause' | 'abort', by: string): Promise<LockItem | undefined> {
    const pause = control === 'pause';
    return this.update(key, {
      update: `SET #control = :control, #controlBy = :by${pause ? ' ADD #pauses :one' : ''}`,
      condition: 'attribute_exists(lockKey)',
      names: { '#control': 'control', '#controlBy': 'controlBy', ...(pause ? { '#pauses': 'pauses' } : {}) },
      values: { ':control': control, ':by': by, ...(pause ? { ':one': 1 } : {}) },
    });
  }

  /** Removes `control` while it is pause number `pause`, recording who; the lock as written, or undefined. */
  async endPause(key: string, pause: number, by: string): Promise<LockItem | undefined> {
    return this.update(key, {
      update: 'REMOVE #control SET #controlBy = :by',
      condition: '#control = :pause AND #pauses = :n',
      names: { '#control': 'control', '#controlBy': 'controlBy', '#pauses': 'pauses' },
      values: { ':pause': 'pause', ':n': pause, ':by': by },
    });
  }

  /** Sets a counted pause by `by`, only while `owner` holds the lock and no control is set; false when it did not. */
  async pauseIfUncontrolled(key: string, owner: string, by: string): Promise<boolean> {
    return this.updateAsOwner(key, owner, {
      update: 'SET #control = :pause, #controlBy = :by ADD #pauses :one',
      names: { '#control': 'control', '#controlBy': 'controlBy', '#pauses': 'pauses' },
      values: { ':pause': 'pause', ':by': by, ':one': 1 },
      unless: 'attribute_not_exists(#control)',
    });
  }

  /** Sets `intent` while `owner` holds the lock; false when it does not. */
  async setIntent(key: string, owner: string, intent: object): Promise<boolean> {
    return this.updateAsOwner(key, owner, { update: 'SET #intent = :intent', names: { '#intent': 'intent' }, values: { ':intent': intent } });
  }

  /** Adds to the string set `announced` while `owner` holds the lock; false when it does not. */
  async addAnnounced(key: string, owner: string, announcement: string): Promise<boolean> {
    return this.updateAsOwner(key, owner, { update: 'ADD #announced :one', names: { '#announced': 'announced' }, values: { ':one': new Set([announcement]) } });
  }

  /** Sets `approvalId` (null removes it) while `owner` holds the lock; false when it does not. */
  async setApprovalId(key: string, owner: string, approvalId: string | null): Promise<boolean> {
    return this.updateAsOwner(key, owner, {
      update: approvalId ? 'SET #approval = :approval' : 'REMOVE #approval',
      names: { '#approval': 'approvalId' },
      values: approvalId ? { ':approval': approvalId } : {},
    });
  }

  /** Writes the announcement's claim unless a live one (its `expiresAt` not before `now`, epoch seconds) exists; false when one does. */
  async claimAnnouncement(fingerprint: string, claim: { summary: string; announcedAt: string; expiresAt: number }, now: number): Promise<boolean> {
    const written = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { lockKey: announcementKey(fingerprint), ...claim },
          // an expired item lingers until DynamoDB's TTL sweep deletes it
          ConditionExpression: 'attribute_not_exists(lockKey) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
    return written !== undefined;
  }

  async deleteAnnouncement(fingerprint: string): Promise<void> {
    await callAws('dynamodb:DeleteItem', () => this.doc.send(new DeleteCommand({ TableName: this.table, Key: { lockKey: announcementKey(fingerprint) } })));
  }

  async putBeginDecision(executionArn: string, decision: Record<string, unknown>): Promise<void> {
    await callAws('dynamodb:PutItem', () => this.doc.send(new PutCommand({ TableName: this.table, Item: { lockKey: beginKey(executionArn), ...decision } })));
  }

  /** Begin's decision as written, without its key and TTL. */
  async getBeginDecision(executionArn: string): Promise<Record<string, unknown> | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { lockKey: beginKey(executionArn) }, ConsistentRead: true })));
    if (!out.Item) return undefined;
    const { lockKey: _key, expiresAt: _ttl, ...decision } = out.Item;
    return decision;
  }

  /** One conditional UpdateItem of the lock; the lock as written, or undefined when the condition failed. */
  private async update(key: string, change: { update: string; condition: string; names: Record<string, string>; values: Record<string, unknown> }): Promise<LockItem | undefined> {
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
    return out?.Attributes as LockItem | undefined;
  }

  /** One UpdateItem of the lock, only while `owner` holds it (and `unless` holds too); false when it did not happen. */
  private async updateAsOwner(key: string, owner: string, change: { update: string; names: Record<string, string>; values: Record<string, unknown>; unless?: string }): Promise<boolean> {
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
    return done !== undefined;
  }
}

function beginKey(executionArn: string): string {
  return `begin#${executionArn}`;
}

function announcementKey(fingerprint: string): string {
  return `announced#${fingerprint}`;
}
