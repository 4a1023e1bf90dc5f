import { type Freeze, freezeCovering } from './freeze.js';
import { type GroupRef, type Hold, type PromotionState } from './promotion-state.js';
import { type Release, releaseKey } from './release.js';
import type { RingMembership } from './ring-membership.js';

/**
 * May this group begin a rollout of this release now? Pure; what detection (and a person's
 * rollout, and the promotion's own `roll`) asks before beginning one. In order:
 * 1. a freeze of everything, of the group's ring or of its cluster: `frozen`;
 * 2. a held release (a regression, a recall, a person): `held`, for every group, in a ring or not;
 * 3. a group in no ring: `allowed` (today's behaviour);
 * 4. a ring tag that names no ring: `misconfigured` (never read as "no ring");
 * 5. a ring the promotion of the release has not reached (or no promotion yet): `waiting-for-ring`;
 * 6. a ring the promotion is rolling: its groups start by the promotion's `roll`, a few at a
 *    time (`left-to-promotion` for anyone else);
 * 7. a ring soaking or passed: `allowed` (a group that joined late, a window that opened late).
 * `release` undefined: a target no release names (an image resolution cannot identify): no
 * promotion carries it and no hold names it, so only freezes (and a wrong ring tag) stop it.
 */
export type StartVerdict =
  | { verdict: 'allowed'; reason: string }
  | { verdict: 'waiting-for-ring'; ring: string; reached?: string; reason: string }
  | { verdict: 'left-to-promotion'; ring: string; reason: string }
  | { verdict: 'held'; hold: Hold; reason: string }
  | { verdict: 'frozen'; freeze: Freeze; reason: string }
  | { verdict: 'misconfigured'; reason: string };

export interface FleetView {
  promotions: readonly PromotionState[];
  freezes: readonly Freeze[];
}

export interface StartingGroup {
  ref: GroupRef;
  membership: RingMembership;
}

export function mayStart(group: StartingGroup, release: Release | string | undefined, fleet: FleetView, asker: 'detection' | 'promotion' = 'detection'): StartVerdict {
  const stopped = stoppedBy(group, release, fleet);
  if (stopped) return stopped;
  const { membership } = group;
  if (membership.kind === 'none') return { verdict: 'allowed', reason: 'the group is in no ring: it rolls on its own' };
  if (membership.kind === 'misconfigured') return { verdict: 'misconfigured', reason: membership.problem };
  if (release === undefined) return { verdict: 'allowed', reason: 'the target names no release: no promotion carries it' };
  const key = typeof release === 'string' ? release : releaseKey(release);
  const promotion = fleet.promotions.find((p) => p.key === key);
  const progress = promotion?.rings.find((r) => r.ring === membership.ring);
  const ring = membership.ring;
  if (!promotion) return { verdict: 'waiting-for-ring', ring, reason: `no promotion of ${key} has begun: ring ${ring} waits for it` };
  // a ring added to the policy since the promotion began: its next decision takes the ring in, waiting
  if (!progress) return { verdict: 'waiting-for-ring', ring, reason: `ring ${ring} joined the policy after the promotion of ${key} began: it waits its turn` };
  switch (progress.status) {
    case 'waiting':
    case 'awaiting-approval': {
      const reached = promotion.rings.find((r) => r.status !== 'passed')?.ring;
      const where = reached === undefined || reached === ring ? '' : `; the promotion is at ring ${reached}`;
      const why = progress.status === 'awaiting-approval' ? 'awaits approval to enter' : 'has not reached';
      return { verdict: 'waiting-for-ring', ring, ...(reached !== undefined ? { reached } : {}), reason: `the promotion of ${key} ${why} ring ${ring}${where}` };
    }
    case 'rolling':
      return asker === 'promotion'
        ? { verdict: 'allowed', reason: `the promotion of ${key} is rolling ring ${ring}` }
        : { verdict: 'left-to-promotion', ring, reason: `the promotion of ${key} rolls ring ${ring}'s groups, a few at once` };
    case 'soaking':
    case 'passed':
      return { verdict: 'allowed', reason: `the promotion of ${key} has reached ring ${ring}` };
  }
}

/**
 * What a running rollout of the release does at its next batch boundary: go on, pause while a
 * freeze covers it, or stop because the release is held.
 */
export type BoundaryVerdict = { verdict: 'continue' } | { verdict: 'pause'; freeze: Freeze; reason: string } | { verdict: 'stop'; hold: Hold; reason: string };

export function atBatchBoundary(group: StartingGroup, release: Release | string, fleet: FleetView): BoundaryVerdict {
  const stopped = stoppedBy(group, release, fleet);
  if (!stopped) return { verdict: 'continue' };
  return stopped.verdict === 'frozen' ? { verdict: 'pause', freeze: stopped.freeze, reason: stopped.reason } : { verdict: 'stop', hold: stopped.hold, reason: stopped.reason };
}

/** A freeze covering the group, else a hold of the release. */
function stoppedBy(group: StartingGroup, release: Release | string | undefined, fleet: FleetView): Extract<StartVerdict, { verdict: 'frozen' | 'held' }> | undefined {
  const ring = group.membership.kind === 'ring' ? group.membership.ring : undefined;
  const freeze = freezeCovering(fleet.freezes, { cluster: group.ref.cluster, ...(ring ? { ring } : {}) });
  if (freeze) return { verdict: 'frozen', freeze, reason: `frozen (${freeze.reason}, by ${freeze.by} since ${freeze.since})` };
  if (release === undefined) return undefined;
  const key = typeof release === 'string' ? release : releaseKey(release);
  const hold = fleet.promotions.find((p) => p.key === key)?.hold;
  if (hold) return { verdict: 'held', hold, reason: `${key} is held: ${hold.reason}` };
  return undefined;
}
