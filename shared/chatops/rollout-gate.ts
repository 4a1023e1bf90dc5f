import { type RollPlan, startVerdictOf } from '../detect/fleet-gate.js';
import type { FleetView } from '../fleet/may-start.js';
import type { PromotionPolicy } from '../fleet/promotion-policy.js';
import { releaseKey } from '../fleet/release.js';

/**
 * What a person's `rollout` asks before it begins, as detection does (fleet/may-start.ts): the
 * promotion policy (which ring the group's tag names) and the fleet table's promotions and
 * freezes. Built by functions/lib/chat-ports.ts; absent, rollouts begin as before.
 */
export interface RolloutGate {
  policy: () => Promise<PromotionPolicy | undefined>;
  fleetView: () => Promise<FleetView>;
}

/**
 * Why a person may not begin this rollout now, with what to do instead; undefined when they
 * may. A freeze or a hold of the release refuses it, for a group in a ring or not. A ring the
 * release's promotion has not reached (or is rolling itself, a few groups at once) refuses it
 * too: rolling it by hand would be the very thing the rings exist to prevent, so the way
 * forward is the promotion's own (`promote RELEASE --to RING`, which a second person approves).
 */
export function rolloutRefusal(plan: RollPlan, fleet: FleetView): { reason: string; next: string[] } | undefined {
  const verdict = startVerdictOf(plan, fleet);
  const key = plan.release ? releaseKey(plan.release) : undefined;
  switch (verdict.verdict) {
    case 'allowed':
      return undefined;
    case 'frozen':
      return { reason: verdict.reason, next: ['`status` shows the freezes; `unfreeze` lifts one'] };
    case 'held':
      return { reason: verdict.reason, next: [`\`promotion status ${key}\` shows the evidence; \`release ${key}\` lifts the hold`] };
    case 'misconfigured':
      return { reason: verdict.reason, next: ['fix the ring tag (`doctor` shows it)'] };
    case 'waiting-for-ring':
    case 'left-to-promotion':
      return { reason: verdict.reason, next: [`the promotion rolls ring ${verdict.ring} when it gets there; \`promote ${key} --to ${verdict.ring}\` takes it there sooner`] };
  }
}
