import { executionNameOf } from '../aws/partition.js';
import type { GroupOutcome } from '../aws/fleet-records.js';
import type { GroupView } from '../detect/inventory.js';
import { type GroupPlan, memberPlaceOf, rolloutExecutionName } from '../detect/plan-rollouts.js';
import type { GroupFact } from '../fleet/decide-promotion.js';
import { type GroupRef, groupKey } from '../fleet/promotion-state.js';
import { releaseKey } from '../fleet/release.js';

/**
 * Where each group stands with one release, from what detection plans for it now and what its
 * rollouts recorded (the fleet table's outcomes of the release). Pure; the lock of a group
 * whose outcome says `rolling` is read by the caller (`lockHeld`).
 *
 * - a plan that targets the release: `current` when the group runs it, else `stale` — unless
 *   its rollout of it is `rolling` under a live lock (`rolling`), another rollout holds the
 *   group (`blocked`), or it is only observed (`blocked`);
 * - a rollout of the release that failed its health gate: `failed-health`, whatever the plan
 *   says now (the release is the suspect until a person releases it); one that failed for its
 *   own reasons: `failed`, until the group runs the release;
 * - a group whose plan targets another release (a newer one) but whose rollouts took this
 *   one: as its outcome says (`current`, `rolling`, failed), so the ring it is in still sees it.
 *
 * A group whose plan names no ring is in no ring (`ring` absent): it matters only to a recall.
 */
export interface PlannedGroup {
  ref: GroupRef;
  view?: GroupView;
  plan?: GroupPlan;
  outcome?: GroupOutcome;
  fact: GroupFact;
}

export function refOfView(view: Pick<GroupView, 'home' | 'place' | 'cluster' | 'name'>): GroupRef {
  return { ...(view.home ? {} : { account: view.place.accountId, region: view.place.region }), cluster: view.cluster, group: view.name };
}

export function groupsOfRelease(
  key: string,
  groups: readonly GroupView[],
  plans: readonly GroupPlan[],
  outcomes: readonly GroupOutcome[],
  /** who holds the group's lock (an execution ARN), if anyone */
  lockOwner: (ref: GroupRef) => string | undefined,
): PlannedGroup[] {
  const byKey = new Map(outcomes.map((o) => [groupKey(o.ref), o]));
  const found: PlannedGroup[] = [];
  for (const plan of plans) {
    const view = groups.find((g) => g.cluster === plan.cluster && g.name === plan.group && (g.home ? plan.accountId === undefined : g.place.accountId === plan.accountId && g.place.region === plan.region));
    const ref = view ? refOfView(view) : { ...(plan.accountId ? { account: plan.accountId } : {}), ...(plan.region ? { region: plan.region } : {}), cluster: plan.cluster, group: plan.group };
    const id = groupKey(ref);
    const outcome = byKey.get(id);
    const targets = plan.release !== undefined && releaseKey(plan.release) === key && (plan.action === 'roll' || plan.action === 'current');
    if (!targets && !outcome) continue;
    const ring = plan.ring?.kind === 'ring' ? plan.ring.ring : outcome?.ring;
    const fact = (state: GroupFact['state'], detail?: string): GroupFact => ({ ref, ...(ring !== undefined ? { ring } : {}), state, ...(detail ? { detail: detail.slice(0, 300) } : {}) });
    found.push({ ref, ...(view ? { view } : {}), plan, ...(outcome ? { outcome } : {}), fact: stateOf(targets ? plan : undefined, outcome, lockOwner(ref), fact) });
  }
  // a group with an outcome but no plan any more (deleted, or its place unreadable) is not counted: an unreadable place waits the ring (`unreadable`)
  return found;
}

function stateOf(plan: GroupPlan | undefined, outcome: GroupOutcome | undefined, owner: string | undefined, fact: (state: GroupFact['state'], detail?: string) => GroupFact): GroupFact {
  const locked = owner !== undefined;
  if (outcome?.state === 'failed-health') return fact('failed-health', outcome.detail);
  if (plan?.action === 'current') return fact('current');
  if (outcome?.state === 'failed') return fact('failed', outcome.detail);
  if (plan?.action === 'roll') {
    // the rollout of the release holds the lock: it says `rolling` once begun; just started, the lock alone says so
    // detection's name, or the ring's re-roll of it after a released hold (promotion-step.ts rollName)
    const name = rolloutExecutionName(plan.cluster, plan.group, plan.to, memberPlaceOf(plan));
    const held = owner !== undefined ? executionNameOf(owner) : undefined;
    const ours = held !== undefined && (held === name || held.startsWith(name.slice(0, 70)));
    if (locked && (outcome?.state === 'rolling' || ours)) return fact('rolling', outcome?.executionName);
    if (plan.observe) return fact('blocked', `only observed (${plan.observe})`);
    if (locked) return fact('blocked', `another rollout holds its lock (${owner})`);
    return fact('stale');
  }
  // its plan targets another release: as its rollouts of this one left it
  switch (outcome?.state) {
    case 'current':
      return fact('current');
    case 'rolling':
      return locked ? fact('rolling', outcome.executionName) : fact('blocked', `its rollout ${outcome.executionName ?? ''} ended without recording how`.trim());
    default:
      return fact('blocked', `${outcome?.state ?? 'no rollout'}; detection now targets another release: ${plan?.reason ?? 'not planned'}`);
  }
}
