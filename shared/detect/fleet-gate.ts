import type { ConfigProblem } from '../config/node-group-config.js';
import { type FleetView, mayStart, type StartVerdict } from '../fleet/may-start.js';
import type { GroupRef } from '../fleet/promotion-state.js';
import { type Release, releaseKey } from '../fleet/release.js';
import type { GroupPlan } from './plan-rollouts.js';

/**
 * Fleet promotion as detection sees it (pure): whether a stale group may begin its rollout now
 * (fleet/may-start.ts), and which releases need a promotion begun. Groups in no ring start as
 * they always have unless a freeze covers them or their release is held.
 */
export type RollPlan = Extract<GroupPlan, { action: 'roll' }>;

/** What detection did not start, and why: a freeze, a hold, or a ring the promotion has not reached (or is rolling itself). */
export interface DeferredRollout {
  accountId?: string;
  region?: string;
  cluster: string;
  group: string;
  verdict: Exclude<StartVerdict['verdict'], 'allowed'>;
  reason: string;
}

/** The plan's group as the fleet names it (GroupRef: `account`, absent for the hub's own). */
export function groupRefOf(plan: Pick<GroupPlan, 'accountId' | 'region' | 'cluster' | 'group'>): GroupRef {
  return { ...(plan.accountId ? { account: plan.accountId } : {}), ...(plan.region ? { region: plan.region } : {}), cluster: plan.cluster, group: plan.group };
}

/** mayStart for a plan: its ring (none when it has none), its release (undefined: only freezes apply). */
export function startVerdictOf(plan: RollPlan, fleet: FleetView): StartVerdict {
  return mayStart({ ref: groupRefOf(plan), membership: plan.ring ?? { kind: 'none' } }, plan.release, fleet, 'detection');
}

export function deferredOf(plan: RollPlan, verdict: Exclude<StartVerdict, { verdict: 'allowed' }>): DeferredRollout {
  return { ...(plan.accountId ? { accountId: plan.accountId } : {}), ...(plan.region ? { region: plan.region } : {}), cluster: plan.cluster, group: plan.group, verdict: verdict.verdict, reason: verdict.reason };
}

/**
 * The releases a promotion must begin for: those a ring group's plan rolls to that have no
 * promotion yet, once each, in the plans' order. `acted`: some group of it would really roll
 * (not only observed: observe mode begins nothing, it reports).
 */
export function releasesToPromote(plans: readonly RollPlan[], fleet: FleetView): { key: string; release: Release; acted: boolean }[] {
  const found = new Map<string, { key: string; release: Release; acted: boolean }>();
  for (const plan of plans) {
    if (plan.ring?.kind !== 'ring' || !plan.release) continue;
    const key = releaseKey(plan.release);
    if (fleet.promotions.some((p) => p.key === key)) continue;
    const seen = found.get(key) ?? { key, release: plan.release, acted: false };
    found.set(key, { ...seen, acted: seen.acted || !plan.observe });
  }
  return [...found.values()];
}

/** A ring tag naming no ring (or given while no policy is configured), as a configuration problem to announce: it stops the group's rollouts like a misspelt tag. */
export function ringProblemOf(plan: GroupPlan | undefined): ConfigProblem[] {
  return plan?.ring?.kind === 'misconfigured' ? [{ key: 'ring', governs: 'rollout', message: plan.ring.problem }] : [];
}
