import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Freeze, freezeCovering, withFreeze, withoutFreeze } from '../../shared/fleet/freeze.js';
import { atBatchBoundary, type FleetView, mayStart, type StartingGroup } from '../../shared/fleet/may-start.js';
import { parsePromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { newPromotion, type PromotionState } from '../../shared/fleet/promotion-state.js';
import { type Release, releaseKey } from '../../shared/fleet/release.js';
import type { RingMembership } from '../../shared/fleet/ring-membership.js';

/** What detection asks before it begins a rollout, and what a running rollout asks at each batch boundary. */
const RELEASE: Release = { source: 'eks-optimized', identity: { family: 'bottlerocket', architecture: 'arm64', variant: 'standard', kubernetesVersion: '1.31' }, release: '1.26.0' };
const KEY = releaseKey(RELEASE);
const T = '2026-12-07T09:00:00.000Z';
const POLICY = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'dev', soak: '2h' }, { name: 'staging', soak: '1d', approval: true }, { name: 'prod', soak: '2d' }] }));

const inRing = (ring: string, cluster = 'c1'): StartingGroup => ({ ref: { cluster, group: 'web' }, membership: { kind: 'ring', ring, index: POLICY.rings.findIndex((r) => r.name === ring), from: 'group' } });
const ringless: StartingGroup = { ref: { cluster: 'c1', group: 'web' }, membership: { kind: 'none' } };
const misconfigured: StartingGroup = { ref: { cluster: 'c1', group: 'web' }, membership: { kind: 'misconfigured', from: 'cluster', problem: 'eks-node-lifecycle/ring=prd is not a ring' } satisfies RingMembership };

function promotion(statuses: PromotionState['rings'][number]['status'][], hold?: PromotionState['hold']): PromotionState {
  const state = newPromotion(RELEASE, POLICY, new Date(T));
  const rings = state.rings.map((r, i): PromotionState['rings'][number] => {
    switch (statuses[i] ?? 'waiting') {
      case 'waiting':
        return { ring: r.ring, status: 'waiting' };
      case 'awaiting-approval':
        return { ring: r.ring, status: 'awaiting-approval', since: T };
      case 'rolling':
        return { ring: r.ring, status: 'rolling', since: T };
      case 'soaking':
        return { ring: r.ring, status: 'soaking', since: T };
      case 'passed':
        return { ring: r.ring, status: 'passed', at: T, how: 'soaked' };
    }
  });
  return { ...state, rings, ...(hold ? { hold } : {}) };
}

const freeze = (scope: Freeze['scope']): Freeze => ({ scope, reason: 'incident 4711', by: 'slack:T1:U1', since: T });
const view = (promotions: PromotionState[], freezes: Freeze[] = []): FleetView => ({ promotions, freezes });
const HOLD = { kind: 'regression' as const, since: T, reason: 'crash loops in dev', evidence: [] };

describe('Fleet: may a group start the release?', () => {
  const table: [string, StartingGroup, FleetView, 'detection' | 'promotion', string][] = [
    ['a group in no ring: as today', ringless, view([]), 'detection', 'allowed'],
    ['a ring tag that names no ring: never read as "no ring"', misconfigured, view([]), 'detection', 'misconfigured'],
    ['a ring before any promotion of the release began', inRing('dev'), view([]), 'detection', 'waiting-for-ring'],
    ['a ring the promotion has not reached', inRing('prod'), view([promotion(['rolling'])]), 'detection', 'waiting-for-ring'],
    ['a ring awaiting approval to be entered', inRing('staging'), view([promotion(['passed', 'awaiting-approval'])]), 'detection', 'waiting-for-ring'],
    ['a ring the promotion is rolling: left to it, a few at once', inRing('dev'), view([promotion(['rolling'])]), 'detection', 'left-to-promotion'],
    ["the promotion's own roll of that ring", inRing('dev'), view([promotion(['rolling'])]), 'promotion', 'allowed'],
    ['the promotion never rolls a ring it has not reached', inRing('staging'), view([promotion(['rolling'])]), 'promotion', 'waiting-for-ring'],
    ['a ring soaking (a group that joined late)', inRing('dev'), view([promotion(['soaking'])]), 'detection', 'allowed'],
    ['a ring passed', inRing('dev'), view([promotion(['passed', 'rolling'])]), 'detection', 'allowed'],
    ['a held release, in a reached ring', inRing('dev'), view([promotion(['soaking'], HOLD)]), 'promotion', 'held'],
    ['a held release, for a group in no ring too', ringless, view([promotion(['soaking'], HOLD)]), 'detection', 'held'],
    ['a freeze of everything', ringless, view([], [freeze({ kind: 'all' })]), 'detection', 'frozen'],
    ["a freeze of the group's ring", inRing('dev'), view([promotion(['rolling'])], [freeze({ kind: 'ring', ring: 'dev' })]), 'promotion', 'frozen'],
    ["a freeze of the group's cluster", inRing('dev', 'c9'), view([promotion(['soaking'])], [freeze({ kind: 'cluster', cluster: 'c9' })]), 'detection', 'frozen'],
    ['a freeze of another ring or cluster', inRing('dev'), view([promotion(['soaking'])], [freeze({ kind: 'ring', ring: 'prod' }), freeze({ kind: 'cluster', cluster: 'c9' })]), 'detection', 'allowed'],
  ];
  for (const [name, group, fleet, asker, verdict] of table) {
    it(`${verdict}: ${name}`, () => assert.equal(mayStart(group, RELEASE, fleet, asker).verdict, verdict));
  }

  it('says where the promotion is when a ring waits for it', () => {
    assert.deepEqual(mayStart(inRing('prod'), KEY, view([promotion(['passed', 'rolling'])])), { verdict: 'waiting-for-ring', ring: 'prod', reached: 'staging', reason: `the promotion of ${KEY} has not reached ring prod; the promotion is at ring staging` });
  });

  it('a target no release names (an image resolution cannot identify): only freezes and a wrong ring tag stop it', () => {
    const held = view([promotion(['waiting'], HOLD)]);
    assert.equal(mayStart(ringless, undefined, held).verdict, 'allowed');
    // no promotion can carry it: a ring group is not kept waiting for one that will never come
    assert.deepEqual(mayStart(inRing('prod'), undefined, held), { verdict: 'allowed', reason: 'the target names no release: no promotion carries it' });
    assert.equal(mayStart(inRing('prod'), undefined, view([], [freeze({ kind: 'ring', ring: 'prod' })])).verdict, 'frozen');
    assert.equal(mayStart(ringless, undefined, view([], [freeze({ kind: 'cluster', cluster: 'c1' })])).verdict, 'frozen');
    assert.equal(mayStart(misconfigured, undefined, view([])).verdict, 'misconfigured');
  });

  it('a running rollout goes on, pauses under a freeze, or stops when the release is held, at its next batch boundary', () => {
    assert.deepEqual(atBatchBoundary(inRing('dev'), RELEASE, view([promotion(['rolling'])])), { verdict: 'continue' });
    assert.equal(atBatchBoundary(inRing('dev'), RELEASE, view([promotion(['rolling'])], [freeze({ kind: 'all' })])).verdict, 'pause');
    assert.deepEqual(atBatchBoundary(ringless, RELEASE, view([promotion(['rolling'], HOLD)])), { verdict: 'stop', hold: HOLD, reason: `${KEY} is held: crash loops in dev` });
  });
});

describe('Fleet: freezes', () => {
  it('the widest freeze covering a group is the one told', () => {
    const freezes = [freeze({ kind: 'cluster', cluster: 'c1' }), freeze({ kind: 'ring', ring: 'dev' }), freeze({ kind: 'all' })];
    assert.deepEqual(freezeCovering(freezes, { cluster: 'c1', ring: 'dev' })?.scope, { kind: 'all' });
    assert.deepEqual(freezeCovering(freezes.slice(0, 2), { cluster: 'c1', ring: 'dev' })?.scope, { kind: 'ring', ring: 'dev' });
    assert.equal(freezeCovering(freezes.slice(0, 2), { cluster: 'c2' }), undefined);
  });

  it('one freeze per scope: setting it again replaces the reason; unfreeze lifts only that scope', () => {
    const once = withFreeze([], freeze({ kind: 'ring', ring: 'dev' }));
    const twice = withFreeze(once, { ...freeze({ kind: 'ring', ring: 'dev' }), reason: 'still' });
    assert.deepEqual(twice.map((f) => f.reason), ['still']);
    const both = withFreeze(twice, freeze({ kind: 'all' }));
    const lifted = withoutFreeze(both, { kind: 'all' });
    assert.deepEqual([lifted.freezes.length, lifted.lifted?.scope], [1, { kind: 'all' }]);
    assert.equal(withoutFreeze(lifted.freezes, { kind: 'cluster', cluster: 'x' }).lifted, undefined);
  });
});
