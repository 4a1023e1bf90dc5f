import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { blockedBackoffSeconds, countBlockedPasses, nextPassDelaySeconds } from '../../shared/kube/drain/next-wait.js';
import type { Blocker, DrainProgress, PodRef } from '../../shared/kube/drain/types.js';

const CHECKED = '2026-11-21T09:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(CHECKED) + seconds * 1000).toISOString();
const ref = (name: string): PodRef => ({ namespace: 'shop', name, uid: `uid-${name}` });
const blocker = (name: string): Blocker => ({ pod: ref(name), pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'refused' });

function progress(overrides: Partial<DrainProgress> = {}): DrainProgress {
  return {
    node: 'node-a',
    phase: 'draining',
    remaining: [ref('web-1')],
    evicted: [],
    terminating: [],
    blocked: [],
    skipped: [],
    requests: 3,
    checkedAt: CHECKED,
    nextTerminationAt: null,
    ...overrides,
  };
}

describe('Drain: the wait before the next pass', () => {
  const table: { case: string; progress: DrainProgress; blockedPasses: number; seconds: number }[] = [
    { case: 'drained: no wait', progress: progress({ phase: 'drained', remaining: [] }), blockedPasses: 0, seconds: 0 },
    { case: 'node gone: no wait', progress: progress({ phase: 'node-gone', remaining: [] }), blockedPasses: 4, seconds: 0 },
    { case: 'pods leaving: until the first grace period ends', progress: progress({ terminating: [ref('a')], nextTerminationAt: at(30) }), blockedPasses: 0, seconds: 30 },
    { case: 'pods leaving: a part second rounds up', progress: progress({ terminating: [ref('a')], nextTerminationAt: at(7.2) }), blockedPasses: 0, seconds: 8 },
    { case: 'pods leaving: at least 2 s', progress: progress({ evicted: [ref('a')], nextTerminationAt: at(0) }), blockedPasses: 0, seconds: 2 },
    { case: 'pods leaving: at most 60 s', progress: progress({ terminating: [ref('a')], nextTerminationAt: at(3600) }), blockedPasses: 0, seconds: 60 },
    { case: 'pods overdue (the kubelet is late): 10 s', progress: progress({ terminating: [ref('a')], nextTerminationAt: null }), blockedPasses: 0, seconds: 10 },
    { case: 'blocked, first time: 5 s', progress: progress({ blocked: [blocker('a')] }), blockedPasses: 1, seconds: 5 },
    { case: 'blocked after a pass that got something through: 5 s', progress: progress({ blocked: [blocker('a')], evicted: [ref('b')], nextTerminationAt: at(30) }), blockedPasses: 0, seconds: 5 },
    { case: 'blocked a 4th time: 40 s', progress: progress({ blocked: [blocker('a')] }), blockedPasses: 4, seconds: 40 },
    { case: 'blocked a 9th time: 60 s', progress: progress({ blocked: [blocker('a')] }), blockedPasses: 9, seconds: 60 },
    { case: 'blocked for long, but a pod ends its grace sooner: the sooner', progress: progress({ blocked: [blocker('a')], terminating: [ref('b')], nextTerminationAt: at(12) }), blockedPasses: 6, seconds: 12 },
    { case: 'nothing leaving, nothing blocked, yet something remains: 2 s', progress: progress(), blockedPasses: 0, seconds: 2 },
  ];
  for (const row of table) {
    it(row.case, () => assert.equal(nextPassDelaySeconds(row.progress, row.blockedPasses), row.seconds));
  }

  it('backs off 5, 10, 20, 40, 60, 60 s over consecutive blocked passes', () => {
    let count = 0;
    const delays: number[] = [];
    for (let pass = 0; pass < 6; pass++) {
      const blocked = progress({ blocked: [blocker('a')] });
      count = countBlockedPasses(count, blocked);
      delays.push(nextPassDelaySeconds(blocked, count));
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 60, 60]);
  });

  it('pods stuck Terminating (overdue, a finalizer): 10, 20, 40, 60 s, and up to five minutes once patient', () => {
    let count = 0;
    const delays: number[] = [];
    for (let pass = 0; pass < 6; pass++) {
      const stuck = progress({ terminating: [ref('a')], nextTerminationAt: null });
      count = countBlockedPasses(count, stuck);
      delays.push(nextPassDelaySeconds(stuck, count));
    }
    assert.deepEqual(delays, [10, 20, 40, 60, 60, 60]);
    assert.equal(nextPassDelaySeconds(progress({ terminating: [ref('a')], nextTerminationAt: null }), 40, 300), 300);
    assert.equal(countBlockedPasses(5, progress({ terminating: [ref('a')], nextTerminationAt: at(30) })), 0, 'pods leaving on time are progress');
    assert.equal(countBlockedPasses(5, progress({ terminating: [ref('a')], nextTerminationAt: null, evicted: [ref('b')] })), 0, 'an eviction is progress');
  });

  it('counts a pass blocked only when it evicted nothing', () => {
    assert.equal(countBlockedPasses(3, progress({ blocked: [blocker('a')] })), 4);
    assert.equal(countBlockedPasses(3, progress({ blocked: [blocker('a')], evicted: [ref('b')] })), 0);
    assert.equal(countBlockedPasses(3, progress()), 0);
  });

  it('is never 0 while anything remains, and never more than a minute', () => {
    fc.assert(
      fc.property(
        fc.record({
          blocked: fc.boolean(),
          evicted: fc.boolean(),
          terminating: fc.boolean(),
          endsIn: fc.option(fc.double({ min: -3600, max: 7200, noNaN: true })),
          blockedPasses: fc.integer({ min: 0, max: 1_000 }),
        }),
        (c) => {
          const p = progress({
            blocked: c.blocked ? [blocker('a')] : [],
            evicted: c.evicted ? [ref('b')] : [],
            terminating: c.terminating ? [ref('c')] : [],
            nextTerminationAt: c.endsIn === null ? null : at(c.endsIn),
          });
          const seconds = nextPassDelaySeconds(p, c.blockedPasses);
          assert.ok(Number.isInteger(seconds) && seconds >= 2 && seconds <= 60, `${seconds}`);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('backs off monotonically', () => {
    for (let n = 1; n < 50; n++) assert.ok(blockedBackoffSeconds(n + 1) >= blockedBackoffSeconds(n));
  });
});
