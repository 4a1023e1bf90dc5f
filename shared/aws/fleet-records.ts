import { InvalidInputError } from '../errors.js';
import type { RestartSample } from '../fleet/cluster-facts.js';
import { describeScope, type Freeze, type FreezeScope, FreezeSchema } from '../fleet/freeze.js';
import type { FleetView } from '../fleet/may-start.js';
import { type GroupRef, groupKey, type PromotionState, PromotionStateSchema } from '../fleet/promotion-state.js';
import { invalidInput } from '../schema-issues.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './call.js';
import { ChatopsItems, type Item } from './chatops-items.js';
import { type Place, placeKey } from './places.js';

/**
 * The fleet table (serverless.yml FleetTable, key `pk` + `sk`): what fleet promotion keeps
 * between decisions and what every rollout asks at its batch boundaries.
 *
 * | pk | sk | item |
 * |---|---|---|
 * | `promotion` | release key | the promotion's state (`state`), `version` (each write +1) |
 * | `freeze` | `all`, `ring <name>`, `cluster <name>` | a freeze |
 * | `promotion#<key>` | `approval#<ring>` | a person's approval to enter the ring |
 * | `promotion#<key>` | `group#<group key>` | the group's last rollout of the release: how it ended, the image it left |
 * | `restarts` | `<account>/<region>/<cluster>` (the hub's: `<cluster>`) | the cluster's pod restart counts at a few moments (cluster-facts.ts), expiring a day after the last write |
 * | `promote-request` | its id (`prm-…`) | a person's `promote --to` waiting for a second person (expires: `expiresAt`) |
 *
 * Promotions sit in one partition: a fleet runs a few promotions a month, and every rollout's
 * batch boundary reads them all with the freezes (two Queries). A promotion is written by its
 * workflow and by people (hold, release, promote): every write names the version it read, so
 * neither loses the other's change (a refused write is read again and decided again).
 */
export interface StoredPromotion {
  state: PromotionState;
  version: number;
}

export interface RingApproval {
  ring: string;
  by: string;
  at: string;
}

/**
 * How a group's rollout of a release went, as its rollout records it at its start and its end
 * (with the release's key in the rollout's `fleet` input): what the promotion's decisions read
 * (`failed-health` holds the release) and where a rollback returns the group (`from`).
 */
export interface GroupOutcome {
  ref: GroupRef;
  ring?: string;
  state: 'rolling' | 'current' | 'failed' | 'failed-health' | 'stopped' | 'rolled-back';
  /** the image the group ran before the release: a rollback's target */
  from?: { imageId?: string; release?: string };
  to: { imageId: string };
  executionName?: string;
  detail?: string;
  at: string;
  /** a `failed-health` or `stopped` group whose rollback has since finished: it is back on `from` */
  rolledBack?: boolean;
}

/** A person's `promote RELEASE --to RING`, waiting for someone else to approve it. */
export interface PromoteRequest {
  id: string;
  key: string;
  ring: string;
  /** the requester's principal id: never the approver */
  by: string;
  /** the requester as people read them */
  byDisplay: string;
  at: string;
  /** epoch seconds: DynamoDB's TTL removes it, and a request past it is not answered */
  expiresAt: number;
}

const PROMOTIONS = 'promotion';
const PROMOTE_REQUESTS = 'promote-request';
const FREEZES = 'freeze';
const RESTARTS = 'restarts';
/** Restart samples of a cluster no evaluation looked at for a day are of no use: DynamoDB's TTL removes them. */
const RESTARTS_KEPT_SECONDS = 86_400;

export class FleetRecords extends ChatopsItems {
  async promotions(): Promise<StoredPromotion[]> {
    return (await this.queryAll(PROMOTIONS)).map(promotionOf);
  }

  async promotion(key: string): Promise<StoredPromotion | undefined> {
    const item = await this.get(PROMOTIONS, key);
    return item ? promotionOf(item) : undefined;
  }

  /** Records a promotion that has just begun; false when one of that release exists (its own state stands). */
  async createPromotion(state: PromotionState, at: string): Promise<boolean> {
    return this.putNew({ pk: PROMOTIONS, sk: state.key, state, version: 1, updatedAt: at });
  }

  /** Writes the promotion's state if it is still at `version`; the new version, or undefined when another write came first. */
  async savePromotion(state: PromotionState, version: number, at: string): Promise<number | undefined> {
    const written = await this.updateIfExists(PROMOTIONS, state.key, { state, version: version + 1, updatedAt: at }, { condition: '#version = :read', values: { ':read': version } });
    return written ? version + 1 : undefined;
  }

  async freezes(): Promise<Freeze[]> {
    return (await this.queryAll(FREEZES)).map(freezeOf);
  }

  /** Sets the freeze; it replaces one of the same scope (a new reason, a new person). */
  async setFreeze(freeze: Freeze): Promise<void> {
    await this.put({ pk: FREEZES, sk: describeScope(freeze.scope), ...freeze });
  }

  /** Lifts the freeze of the scope; the freeze lifted, or undefined when nothing was frozen there. */
  async liftFreeze(scope: FreezeScope): Promise<Freeze | undefined> {
    const old = await this.remove(FREEZES, describeScope(scope));
    return old ? freezeOf(old) : undefined;
  }

  /** A person's approval to enter a ring; the first one stands (false when the ring was approved already). */
  async approveRing(key: string, approval: RingApproval): Promise<boolean> {
    return this.putNew({ pk: `${PROMOTIONS}#${key}`, sk: `approval#${approval.ring}`, ...approval });
  }

  async ringApprovals(key: string): Promise<RingApproval[]> {
    return (await this.queryAll(`${PROMOTIONS}#${key}`, 'approval#')).map((item) => ({ ring: String(item.ring), by: String(item.by), at: String(item.at) }));
  }

  /** Records a promote request; false when one with this id exists (a retried command asks once). */
  async requestPromote(request: PromoteRequest): Promise<boolean> {
    return this.putNew({ pk: PROMOTE_REQUESTS, sk: request.id, ...request });
  }

  async promoteRequest(id: string): Promise<PromoteRequest | undefined> {
    const item = await this.get(PROMOTE_REQUESTS, id);
    return item ? promoteRequestOf(item) : undefined;
  }

  /** Takes the request away to answer it: only one of two people answering at once gets it (the other, undefined). */
  async takePromoteRequest(id: string): Promise<PromoteRequest | undefined> {
    const item = await this.remove(PROMOTE_REQUESTS, id);
    return item ? promoteRequestOf(item) : undefined;
  }


  /**
   * Records how the group's rollout of the release stands (the latest write wins: one rollout of
   * a group at a time, under its lock) — except that the rollback ending a rollout which failed
   * its health gate, or which a hold stopped, keeps that state (`rolledBack: true` added): the
   * promotion must still see that the release hurt workloads there, not only that the group is
   * back on its old image. A failed end after either (a managed group that cannot go back, a
   * rollback that failed) keeps it too: the group is still on the release that hurt it.
   */
  async recordOutcome(key: string, outcome: GroupOutcome): Promise<void> {
    const item = { pk: `${PROMOTIONS}#${key}`, sk: `group#${groupKey(outcome.ref)}`, ...outcome };
    if (outcome.state !== 'rolled-back' && outcome.state !== 'failed') return this.put(item);
    const written = await conditionalWrite('dynamodb:PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR NOT (#state IN (:health, :stopped))',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':health': 'failed-health', ':stopped': 'stopped' },
        }),
      ),
    );
    if (written === undefined) await this.updateIfExists(item.pk, item.sk, { ...(outcome.state === 'rolled-back' ? { rolledBack: true } : {}), at: outcome.at, ...(outcome.detail ? { detail: outcome.detail } : {}) }, {});
  }

  async outcomes(key: string): Promise<GroupOutcome[]> {
    return (await this.queryAll(`${PROMOTIONS}#${key}`, 'group#')).map(({ pk: _pk, sk: _sk, ...outcome }) => outcome as unknown as GroupOutcome);
  }

  /** The restart samples kept for a cluster, oldest first (none: never sampled, or expired). */
  async restartSamples(cluster: string, place?: Place): Promise<RestartSample[]> {
    const item = await this.get(RESTARTS, restartsKey(cluster, place));
    return Array.isArray(item?.samples) ? (item.samples as RestartSample[]) : [];
  }

  /** Replaces the cluster's samples (the latest write wins: an evaluation's samples are as good as another's). */
  async saveRestartSamples(cluster: string, place: Place | undefined, samples: readonly RestartSample[], now: Date): Promise<void> {
    await this.put({ pk: RESTARTS, sk: restartsKey(cluster, place), samples, expiresAt: Math.floor(now.getTime() / 1000) + RESTARTS_KEPT_SECONDS });
  }

  /** What mayStart and atBatchBoundary (shared/fleet/may-start.ts) decide from. */
  async fleetView(): Promise<FleetView> {
    const [promotions, freezes] = await Promise.all([this.promotions(), this.freezes()]);
    return { promotions: promotions.map((p) => p.state), freezes };
  }
}

function restartsKey(cluster: string, place: Place | undefined): string {
  return place ? `${placeKey(place)}/${cluster}` : cluster;
}

/** A stored item that does not read as what it should be is refused, naming the item: deciding from a half-read promotion could start what a hold stops. */
function promotionOf(item: Item): StoredPromotion {
  const parsed = PromotionStateSchema.safeParse(item.state);
  if (!parsed.success) throw invalidInput(parsed.error, `fleet table promotion/${String(item.sk)}.state`);
  if (typeof item.version !== 'number') throw new InvalidInputError([{ path: `fleet table promotion/${String(item.sk)}.version`, message: 'must be a number' }]);
  return { state: parsed.data, version: item.version };
}

function promoteRequestOf(item: Item): PromoteRequest {
  return { id: String(item.id), key: String(item.key), ring: String(item.ring), by: String(item.by), byDisplay: String(item.byDisplay), at: String(item.at), expiresAt: Number(item.expiresAt) };
}

function freezeOf(item: Item): Freeze {
  const { pk: _pk, sk, ...fields } = item;
  const parsed = FreezeSchema.safeParse(fields);
  if (!parsed.success) throw invalidInput(parsed.error, `fleet table freeze/${String(sk)}`);
  return parsed.data;
}
