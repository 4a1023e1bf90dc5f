import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../../shared/events/promotion-events.js';
import { type FleetScenarioResult, RINGS, runFleetScenario } from './fleet-promotion-scenario.js';

/**
 * Issue 21, the small version of `npm run fleet` (scripts/fleet.ts; the full one is in `npm run
 * bench`): six clusters in three rings across the hub and two member accounts, soaks of an hour,
 * health every ten minutes. A good release reaches every ring, one ring after the other; a bad
 * release (its pods crash-loop on its nodes) is held in ring 0, whose groups roll back, and no
 * group outside ring 0 ever runs it; a release frozen mid-promotion moves not at all until the
 * freeze is lifted. Ends on the invariant monitor, with IAM enforced on every call.
 */
describe('Scenario: fleet promotion across three rings and three accounts', () => {
  let result: FleetScenarioResult;
  const events = (key: string): PromotionProgressDetail[] => result.world.published.filter((e) => e['detail-type'] === PROMOTION_PROGRESS).map((e) => e.detail as PromotionProgressDetail).filter((d) => d.key === key);
  const release = (kind: 'good' | 'bad' | 'freeze') => result.releases.find((r) => r.kind === kind)!;

  before(async () => {
    result = await runFleetScenario({ soakHours: [1, 1, 1], evaluateMinutes: 10, nodes: 2 });
  });
  after(() => result?.world.stop());

  it('a good release passes every ring in order, each after its full soak', () => {
    const good = release('good');
    assert.deepEqual(good.ringsPassed, [...RINGS], JSON.stringify(good));
    assert.equal(good.groupsRolled, 6);
    assert.equal(good.held, false);
    const timeline = events(good.key);
    for (const [i, ring] of RINGS.entries()) {
      const soaked = timeline.find((e) => e.kind === 'soak-started' && e.ring === ring);
      const passed = timeline.find((e) => e.kind === 'ring-passed' && e.ring === ring);
      assert.ok(soaked && passed, `${ring} soaked and passed`);
      assert.ok(Date.parse(passed.at) - Date.parse(soaked.at) >= 3600_000, `${ring} soaked its hour`);
      // the next ring is entered only once this one passed
      const next = RINGS[i + 1];
      if (next) assert.ok(Date.parse(timeline.find((e) => e.kind === 'ring-entered' && e.ring === next)!.at) >= Date.parse(passed.at), `${next} after ${ring}`);
    }
    assert.ok(good.promotionSeconds! >= good.soakSeconds, 'no soak cut short');
  });

  it('a bad release is held in ring 0: its groups roll back, no group outside ring 0 ever runs it, and the hold names the crash-looping pods', () => {
    const bad = release('bad');
    assert.equal(bad.held, true, JSON.stringify(bad));
    assert.equal(bad.outsideRing0, 0);
    assert.deepEqual(bad.ringsReached, [RINGS[0]]);
    assert.equal(bad.groupsRolled, 2, 'both ring 0 groups took it');
    assert.equal(bad.groupsRolledBack, 2, 'and are back on their previous image');
    assert.match(bad.holdReason!, /crash-loops/);
    const held = events(bad.key).find((e) => e.kind === 'held')!;
    assert.ok(held.hold!.evidence.some((e) => e.report.signals.some((s) => s.signal === 'crash-loops' && s.status === 'regressed')), 'the evidence carries the crash-loop signal');
    // held within one health evaluation (ten minutes) of the first pod crash-looping, not at the end of the soak
    assert.ok(bad.thresholdToHoldSeconds! <= 600, `held ${bad.thresholdToHoldSeconds} s after the first crash loop`);
    assert.ok(bad.detectionDelaySeconds! < 3600, `held ${bad.detectionDelaySeconds} s after the first new node, within the soak`);
  });

  it('a freeze set mid-promotion stops every move until it is lifted; then the release reaches every ring', () => {
    const frozen = release('freeze');
    assert.equal(frozen.transitionsWhileFrozen, 0);
    assert.ok(frozen.frozenSeconds! >= 6 * 3600);
    assert.deepEqual(frozen.ringsPassed, [...RINGS]);
  });

  it('holds the invariants in every account: no budget violated, nothing terminated with pods to evict, hooks completed once, locks released; no IAM denial', async () => {
    await result.monitor.assertHeld({ groups: result.sites.map((s) => ({ name: s.group, place: s.place, floor: 1 })) });
    assert.deepEqual(result.world.iam.denials.map((d) => `${d.caller} ${d.request.action}`), []);
  });
});
