import * as z from 'zod/mini';
import { clusterName } from '../events/eventbridge.js';
import { ACCOUNT_ID } from '../ids.js';
import { type PromotionPolicy, RING_NAME } from './promotion-policy.js';
import { type Release, releaseKey, ReleaseSchema } from './release.js';
import { HealthReportSchema } from './workload-health.js';

/**
 * One promotion of one release, as its workflow carries it from decision to decision: where
 * each ring stands, and whether the release is held. Everything is data that fits a Step
 * Functions state (ten rings at most, bounded evidence).
 */
const iso = z.iso.datetime({ offset: true });
const ring = z.string().check(z.regex(RING_NAME));
const person = z.string().check(z.minLength(1), z.maxLength(200));

export const GroupRefSchema = z.object({
  /** absent: the deployment's own account and region */
  account: z.optional(z.string().check(z.regex(ACCOUNT_ID))),
  region: z.optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/))),
  cluster: clusterName,
  group: z.string().check(z.minLength(1), z.maxLength(255)),
});
export type GroupRef = z.infer<typeof GroupRefSchema>;

/** One name per group across accounts and regions: `123456789012/eu-west-1/prod/web`, or `prod/web` in the deployment's own. */
export function groupKey(ref: GroupRef): string {
  return [ref.account, ref.region, ref.cluster, ref.group].filter((part) => part !== undefined).join('/');
}

/**
 * Where a ring stands for the release:
 * - `waiting`: the promotion has not reached it;
 * - `awaiting-approval`: reached, and a person must approve entering it;
 * - `rolling`: its stale groups are being rolled (a few at once);
 * - `soaking`: every group runs the release; health is watched until the soak is over;
 * - `passed`: `soaked`, `empty` (no group of the ring takes the release) or `promoted` by a person.
 */
export const RingProgressSchema = z.discriminatedUnion('status', [
  z.object({ ring, status: z.literal('waiting') }),
  z.object({ ring, status: z.literal('awaiting-approval'), since: iso }),
  z.object({ ring, status: z.literal('rolling'), since: iso }),
  z.object({ ring, status: z.literal('soaking'), since: iso, lastEvaluation: z.optional(z.object({ at: iso, verdict: HealthReportSchema.shape.verdict })) }),
  z.object({ ring, status: z.literal('passed'), at: iso, how: z.enum(['soaked', 'empty', 'promoted']), by: z.optional(person) }),
]);
export type RingProgress = z.infer<typeof RingProgressSchema>;
export type RingStatus = RingProgress['status'];

export const HealthEvidenceSchema = z.object({ ring, cluster: clusterName, report: HealthReportSchema });
export type HealthEvidence = z.infer<typeof HealthEvidenceSchema>;

/**
 * A held release: no group anywhere starts it, running rollouts of it stop at their next
 * batch boundary. Only a person lifts a hold (`release RELEASE`).
 */
export const HoldSchema = z.object({
  kind: z.enum(['regression', 'recalled', 'deprecated', 'manual']),
  since: iso,
  reason: z.string().check(z.minLength(1), z.maxLength(2000)),
  by: z.optional(person),
  /** the reports that showed the regression, per ring and cluster */
  evidence: z.array(HealthEvidenceSchema).check(z.maxLength(20)),
});
export type Hold = z.infer<typeof HoldSchema>;

export const PromotionStateSchema = z.object({
  /** releaseKey(release): the promotion's name */
  key: z.string().check(z.minLength(1), z.maxLength(80)),
  release: ReleaseSchema,
  startedAt: iso,
  /** one per ring of the policy, in its order */
  rings: z.array(RingProgressSchema).check(z.minLength(1), z.maxLength(10)),
  hold: z.optional(HoldSchema),
  /** every ring passed */
  finishedAt: z.optional(iso),
});
export type PromotionState = z.infer<typeof PromotionStateSchema>;

/** A promotion that has just begun: no ring reached yet (the first decision enters the first). */
export function newPromotion(release: Release, policy: PromotionPolicy, now: Date): PromotionState {
  return { key: releaseKey(release), release, startedAt: now.toISOString(), rings: policy.rings.map((r) => ({ ring: r.name, status: 'waiting' })) };
}

/** The ring the promotion works on: the first not passed (undefined once every ring passed). */
export function currentRing(state: PromotionState): RingProgress | undefined {
  return state.rings.find((r) => r.status !== 'passed');
}

/** A ring the promotion has reached: its groups may run the release. */
export function hasReached(progress: RingProgress): boolean {
  return progress.status !== 'waiting' && progress.status !== 'awaiting-approval';
}
