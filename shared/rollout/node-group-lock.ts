import type { AwsScope } from '../aws/clients.js';
import type { Place } from '../aws/places.js';
import { LockRecords } from '../aws/lock-records.js';
import { epochSeconds } from '../clock.js';
import { LockLostError } from '../errors.js';
import type { GroupIntent } from './group-interference.js';
import { placeQualified } from './rollout-place.js';

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

/**
 * The lock of one node group: `<cluster>/<group>` in the hub's own place (as before member
 * accounts: a lock held across the upgrade is still found), `<account>/<region>/<cluster>/<group>`
 * in any other (rollout-place.ts), so two `prod/ng` in two accounts have two locks.
 */
export function lockKeyOf(cluster: string, group: string, place?: Partial<Place>): string {
  return placeQualified(`${cluster}/${group}`, place);
}

export type AcquireResult = { acquired: true } | { acquired: false; heldBy: string; expiresAt: string };

export class NodeGroupLocks {
  private readonly records: LockRecords;

  constructor(scope: AwsScope, table: string) {
    this.records = new LockRecords(scope, table);
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
      const lock = { lockKey: key, owner, acquiredAt: now.toISOString(), expiresAt, expiresAtIso: isoOf(expiresAt), ...(about ? { rollout: about } : {}) } satisfies NodeGroupLockRecord;
      if (await this.records.putUnlessHeld(lock, nowSeconds)) return { acquired: true };
      const holder = await this.get(key);
      if (holder && holder.owner !== owner && holder.expiresAt > nowSeconds) {
        return { acquired: false, heldBy: holder.owner, expiresAt: holder.expiresAtIso ?? isoOf(holder.expiresAt) };
      }
    }
    const holder = await this.get(key);
    return { acquired: false, heldBy: holder?.owner ?? 'unknown', expiresAt: holder?.expiresAtIso ?? now.toISOString() };
  }

  /**
   * Extends the owner's lease and returns the lock as it now is (with a person's pause or
   * abort); throws LockLostError when the caller no longer holds the lock. `blockedBy`, when
   * given, is what held the rollout's last drain pass back (status and `-w` show it): set when
   * there is some, removed when there is none — in the same write, so a step pays nothing for it.
   */
  async renew(key: string, owner: string, leaseSeconds: number, now: Date, blockedBy?: readonly string[]): Promise<NodeGroupLockRecord> {
    const expiresAt = epochSeconds(now) + Math.max(1, Math.ceil(leaseSeconds));
    const renewed = await this.records.extend(key, owner, { expiresAt, expiresAtIso: isoOf(expiresAt) }, blockedBy?.slice(0, 10).map((b) => b.slice(0, 300)));
    if (!renewed) throw new LockLostError(key, owner);
    return renewed as unknown as NodeGroupLockRecord;
  }

  /**
   * Releases the lock if `owner` holds it (releasing one held by someone else, or nobody, does
   * nothing); says since when it was held (a rollout's duration).
   */
  async release(key: string, owner: string): Promise<{ released: false } | { released: true; heldSince?: string }> {
    const released = await this.records.deleteIfOwner(key, owner);
    if (released === undefined) return { released: false };
    const heldSince = (released as Partial<NodeGroupLockRecord>).acquiredAt;
    return heldSince ? { released: true, heldSince } : { released: true };
  }

  /**
   * Records a person's pause (numbered: `pauses` counts them) or abort on the running
   * rollout's lock. Returns the lock as it now is, or undefined when no rollout holds the group.
   */
  async setControl(key: string, control: 'pause' | 'abort', by: string): Promise<NodeGroupLockRecord | undefined> {
    return (await this.records.setControl(key, control, by)) as NodeGroupLockRecord | undefined;
  }

  /**
   * Ends pause #`pause`, and only that one: the write is conditional on the lock still being
   * paused by it, so a resume sent for an older pause (a replay, or someone who had not seen
   * the newer one) changes nothing. `resumed: false` carries the lock as it is, to say why.
   */
  async resume(key: string, pause: number, by: string): Promise<{ resumed: true; lock: NodeGroupLockRecord } | { resumed: false; lock: NodeGroupLockRecord | undefined }> {
    const resumed = (await this.records.endPause(key, pause, by)) as NodeGroupLockRecord | undefined;
    return resumed ? { resumed: true, lock: resumed } : { resumed: false, lock: await this.get(key) };
  }

  /**
   * The rollout pauses itself (someone else changed the group): the lock says `pause`, so
   * `status` shows it and a person's `resume` clears it — unless a person already asked for
   * something (an abort stays an abort). Only the owner may.
   */
  async pauseIfUncontrolled(key: string, owner: string, by: string): Promise<void> {
    await this.records.pauseIfUncontrolled(key, owner, by.slice(0, 200));
  }

  /** Records what the owner is about to make of the group (see `intent`). */
  async recordIntent(key: string, owner: string, intent: GroupIntent): Promise<void> {
    if (!(await this.records.setIntent(key, owner, intent))) throw new LockLostError(key, owner);
  }

  /** Records that the owner announced `key` (see `announced`). */
  async markAnnounced(key: string, owner: string, announcement: string): Promise<void> {
    if (!(await this.records.addAnnounced(key, owner, announcement))) throw new LockLostError(key, owner);
  }

  /** Names the approval the rollout waits for, so `approve <cluster>/<group>` finds it; null clears it. */
  async setApprovalId(key: string, owner: string, approvalId: string | null): Promise<void> {
    if (!(await this.records.setApprovalId(key, owner, approvalId))) throw new LockLostError(key, owner);
  }

  async get(key: string): Promise<NodeGroupLockRecord | undefined> {
    return (await this.records.get(key)) as NodeGroupLockRecord | undefined;
  }

  /**
   * What the service announced once (a node group's configuration problem): an item per
   * fingerprint, outside the locks' keys, that expires (TTL) after `ttlSeconds`, when a
   * problem still there is announced again, as a reminder. True when this call claimed it.
   */
  async claimAnnouncement(fingerprint: string, summary: string, now: Date, ttlSeconds: number): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    return this.records.claimAnnouncement(fingerprint, { summary: summary.slice(0, 1000), announcedAt: now.toISOString(), expiresAt: nowSeconds + ttlSeconds }, nowSeconds);
  }

  /**
   * What Begin decided for a rollout (see BeginDecision), kept for whoever started it to read,
   * for a day (TTL). Begin writes it on each of its ways out; a retried Begin writes the same
   * decision again.
   */
  async recordBeginDecision(executionArn: string, decision: BeginDecision, now: Date): Promise<void> {
    await this.records.putBeginDecision(executionArn, { ...decision, decidedAt: now.toISOString(), expiresAt: epochSeconds(now) + BEGIN_DECISION_TTL_SECONDS });
  }

  /** Begin's decision for the rollout `executionArn` (its first execution), or undefined while Begin has not decided. */
  async beginDecision(executionArn: string): Promise<(BeginDecision & { decidedAt: string }) | undefined> {
    return (await this.records.getBeginDecision(executionArn)) as (BeginDecision & { decidedAt: string }) | undefined;
  }

  /** Gives a claim back (its announcement could not be made): the next run tries again. */
  async releaseAnnouncement(fingerprint: string): Promise<void> {
    await this.records.deleteAnnouncement(fingerprint);
  }
}

/** An epoch-seconds lease end as people read it. */
function isoOf(epoch: number): string {
  return new Date(epoch * 1000).toISOString();
}
