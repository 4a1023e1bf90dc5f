import type { PromotionPolicy } from './promotion-policy.js';
import { currentRing, hasReached, type PromotionState, type RingProgress } from './promotion-state.js';
import { compareLineReleases, type Release, releaseLine } from './release.js';

/**
 * What people do to a promotion (`hold`, `release`, `promote --to`), as pure changes of its
 * state; the chat commands check the `act` permission (and approval, for `promote`) and audit
 * them, then store what these return. A refusal says why.
 */
export type ActionResult = { ok: true; state: PromotionState; detail: string } | { ok: false; reason: string };

/** `hold RELEASE --reason …`: nothing starts it anywhere until a person releases it. */
export function holdRelease(state: PromotionState, request: { reason: string; by: string }, now: Date): ActionResult {
  if (state.hold) return { ok: false, reason: `${state.key} is already held: ${state.hold.reason}` };
  const hold = { kind: 'manual' as const, since: now.toISOString(), reason: request.reason, by: request.by, evidence: [] };
  return { ok: true, state: { ...state, hold }, detail: `${state.key} held by ${request.by}: ${request.reason}` };
}

/**
 * `release RELEASE`: lifts the hold. The ring the promotion was at is rolled again from the
 * start (its groups may have been rolled back) and its soak begins anew: nothing counts the
 * time under a hold as soak.
 */
export function releaseHold(state: PromotionState, request: { by: string }, now: Date): ActionResult {
  if (!state.hold) return { ok: false, reason: `${state.key} is not held` };
  const { hold: _lifted, ...rest } = state;
  const progress = currentRing(rest);
  const restart: RingProgress | undefined = progress && hasReached(progress) ? { ring: progress.ring, status: 'rolling', since: now.toISOString() } : undefined;
  const rings = rest.rings.map((r) => (restart && r.ring === restart.ring ? restart : r));
  return { ok: true, state: { ...rest, rings }, detail: `${state.key} released by ${request.by}${restart ? `; ring ${restart.ring} rolls and soaks again` : ''}` };
}

/**
 * `promote RELEASE --to RING` (approved): every ring before RING passes as promoted by the
 * person, whatever its soak, and RING is entered (its approval is this one).
 */
export function promoteTo(state: PromotionState, policy: PromotionPolicy, request: { ring: string; by: string }, now: Date): ActionResult {
  if (state.hold) return { ok: false, reason: `${state.key} is held (${state.hold.reason}): release it first` };
  const target = policy.rings.findIndex((r) => r.name === request.ring);
  if (target < 0) return { ok: false, reason: `${request.ring} is not a ring of the promotion policy (${policy.rings.map((r) => r.name).join(', ')})` };
  const progress = state.rings.find((r) => r.ring === request.ring);
  if (progress && hasReached(progress)) return { ok: false, reason: `${state.key} has already reached ring ${request.ring}` };
  const at = now.toISOString();
  const before = new Set(policy.rings.slice(0, target).map((r) => r.name));
  const rings = policy.rings.map((r): RingProgress => {
    const own = state.rings.find((p) => p.ring === r.name) ?? { ring: r.name, status: 'waiting' as const };
    if (before.has(r.name) && own.status !== 'passed') return { ring: r.name, status: 'passed', at, how: 'promoted', by: request.by };
    if (r.name === request.ring) return { ring: r.name, status: 'rolling', since: at };
    return own;
  });
  return { ok: true, state: { ...state, rings }, detail: `${state.key} promoted to ring ${request.ring} by ${request.by}` };
}

/**
 * The last good release of `release`'s line: the newest older release whose promotion passed
 * every ring and is not held. Custom releases carry no order of their own: none (a rollback
 * then returns each group to its previous image).
 */
export function lastGoodRelease(promotions: readonly PromotionState[], release: Release): Release | undefined {
  const line = releaseLine(release);
  let best: Release | undefined;
  for (const p of promotions) {
    if (!p.finishedAt || p.hold || releaseLine(p.release) !== line) continue;
    if ((compareLineReleases(p.release, release) ?? 0) >= 0) continue;
    if (!best || (compareLineReleases(p.release, best) ?? 0) > 0) best = p.release;
  }
  return best;
}
