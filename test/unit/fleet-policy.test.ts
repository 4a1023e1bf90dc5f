import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigurationError } from '../../shared/errors.js';
import { atOnce, parseLimit, tolerated } from '../../shared/fleet/limit.js';
import { criteriaFor, parsePromotionPolicy, type PromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { RING_TAG, ringOf } from '../../shared/fleet/ring-membership.js';
import { DEFAULT_HEALTH_CRITERIA } from '../../shared/fleet/workload-health.js';

/** The promotion policy (an SSM parameter, JSON), ring membership by tag, and the limits both use. */
const EXAMPLE = {
  rings: [
    { name: 'dev', soak: '2h', concurrency: '50%' },
    { name: 'staging', soak: '2d', alarms: ['staging-5xx'] },
    { name: 'prod', soak: '4d', approval: true, concurrency: 1, health: { maxCrashLoopingPods: '1%', restarts: { ratio: 1.5 } } },
  ],
  health: { notReadyGrace: '5m', restarts: { floorPerPodHour: 1 } },
  clusters: { 'prod-eu': { alarms: ['checkout-latency-p99', 'staging-5xx'] } },
  onRegression: 'hold-in-place',
};

function problemsOf(policy: unknown): string {
  try {
    parsePromotionPolicy(JSON.stringify(policy));
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, 'a bad policy is a ConfigurationError');
    return error.message;
  }
  assert.fail('the policy was accepted');
}

describe('Fleet: promotion policy', () => {
  it('reads rings in order, durations in seconds, limits as counts or shares, with every default filled', () => {
    const policy = parsePromotionPolicy(JSON.stringify(EXAMPLE));
    assert.deepEqual(
      policy.rings.map((r) => [r.name, r.soak, r.approval, r.concurrency, r.alarms]),
      [
        ['dev', 7200, false, { percent: 50 }, []],
        ['staging', 172_800, false, { count: 1 }, ['staging-5xx']],
        ['prod', 345_600, true, { count: 1 }, []],
      ],
    );
    assert.equal(policy.evaluateEvery, 300, 'health is evaluated every 5 minutes by default');
    assert.equal(policy.onRegression, 'hold-in-place');
    assert.equal(policy.onRecall, 'offer-rollback', 'a recall offers the rollback unless the policy says to give it');
  });

  it('gives each ring and cluster its thresholds: the defaults, under the policy, under the ring; alarms of the ring and the cluster, once each', () => {
    const policy = parsePromotionPolicy(JSON.stringify(EXAMPLE));
    const prod = criteriaFor(policy, 'prod', 'prod-eu');
    assert.equal(prod.notReadyGraceSeconds, 300, "the policy's health");
    assert.deepEqual(prod.maxCrashLoopingPods, { percent: 1 }, "the ring's own");
    assert.deepEqual(prod.restarts, { ...DEFAULT_HEALTH_CRITERIA.restarts, floorPerPodHour: 1, ratio: 1.5 }, 'merged key by key');
    assert.deepEqual(prod.alarms, ['checkout-latency-p99', 'staging-5xx']);
    assert.deepEqual(criteriaFor(policy, 'staging', 'prod-eu').alarms, ['staging-5xx', 'checkout-latency-p99']);
    assert.deepEqual(criteriaFor(policy, 'dev', 'dev-1'), { ...DEFAULT_HEALTH_CRITERIA, notReadyGraceSeconds: 300, restarts: { ...DEFAULT_HEALTH_CRITERIA.restarts, floorPerPodHour: 1 }, alarms: [] });
  });

  const refusals: [string, unknown, RegExp][] = [
    ['a typo in a key is refused, with the key it most likely meant', { rings: [{ name: 'dev', soka: '2h', soak: '1h' }] }, /rings\.0\.soka: is not a setting; did you mean soak\?/],
    ['a typo at the top', { rings: [{ name: 'dev', soak: '1h' }], onRegresion: 'rollback' }, /onRegresion: is not a setting; did you mean onRegression\?/],
    ['a typo among the thresholds', { rings: [{ name: 'dev', soak: '1h', health: { restart: {} } }] }, /rings\.0\.health\.restart: is not a setting; did you mean restarts\?/],
    ['a typo in the restart criteria', { rings: [{ name: 'dev', soak: '1h' }], health: { restarts: { ration: 2 } } }, /health\.restarts\.ration: is not a setting; did you mean ratio\?/],
    ['a missing soak', { rings: [{ name: 'dev' }] }, /rings\.0\.soak: is required/],
    ['a soak that is no duration', { rings: [{ name: 'dev', soak: '2 days' }] }, /rings\.0\.soak: must be a duration from 0s to 30d/],
    ['a soak over 30 days', { rings: [{ name: 'dev', soak: '31d' }] }, /rings\.0\.soak: must be a duration/],
    ['no rings', { rings: [] }, /rings: Too small/],
    ['a ring named twice', { rings: [{ name: 'dev', soak: '1h' }, { name: 'dev', soak: '2h' }] }, /rings\.1\.name: ring "dev" is named twice/],
    ['a ring name people cannot type as a tag value', { rings: [{ name: 'Prod EU', soak: '1h' }] }, /rings\.0\.name: must be lower case/],
    ['a concurrency of 0 (nothing would ever roll)', { rings: [{ name: 'dev', soak: '1h', concurrency: 0 }] }, /rings\.0\.concurrency: must be a whole number from 1/],
    ['a share over 100%', { rings: [{ name: 'dev', soak: '1h', concurrency: '150%' }] }, /rings\.0\.concurrency/],
    ['a negative tolerance', { rings: [{ name: 'dev', soak: '1h', health: { maxNodesNotReady: -1 } }] }, /rings\.0\.health\.maxNodesNotReady: must be a whole number from 0/],
    ['a fractional tolerance', { rings: [{ name: 'dev', soak: '1h', health: { maxPendingPods: 1.5 } }] }, /maxPendingPods/],
    ['a ratio below 1 (healthy pods would regress)', { rings: [{ name: 'dev', soak: '1h' }], health: { restarts: { ratio: 0.5 } } }, /health\.restarts\.ratio: Too small/],
    ['an evaluation interval under a minute', { rings: [{ name: 'dev', soak: '1h' }], evaluateEvery: '10s' }, /evaluateEvery: must be a duration from 1m to 1h/],
    ['an unknown circuit-breaker action', { rings: [{ name: 'dev', soak: '1h' }], onRegression: 'ignore' }, /onRegression/],
    ['a cluster entry with a typo', { rings: [{ name: 'dev', soak: '1h' }], clusters: { 'prod-eu': { alarm: ['x'] } } }, /clusters\.prod-eu\.alarm: is not a setting; did you mean alarms\?/],
  ];
  for (const [name, policy, expected] of refusals) {
    it(`refuses ${name}`, () => assert.match(problemsOf(policy), expected));
  }

  it('names every problem at once, so one fix suffices', () => {
    const message = problemsOf({ rings: [{ name: 'dev', soka: '2h' }, { name: 'dev', soak: 'x' }], evaluateEvery: '1d' });
    for (const path of ['rings.0.soak', 'rings.0.soka', 'rings.1.soak', 'rings.1.name', 'evaluateEvery']) assert.ok(message.includes(`${path}:`), `${path} in ${message}`);
  });

  it('refuses what is not JSON', () => {
    assert.throws(() => parsePromotionPolicy('{rings'), (e: unknown) => e instanceof ConfigurationError && /not JSON/.test(e.message));
  });
});

describe('Fleet: limits fail closed', () => {
  it('a share tolerates no more than its exact part, and never a negative count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100_000 }), (percent, population) => {
        const n = tolerated({ percent }, population);
        assert.ok(Number.isInteger(n) && n >= 0 && n <= (percent * population) / 100);
        assert.ok(n + 1 > (percent * population) / 100, 'rounded down by less than one');
      }),
      { numRuns: 2000 },
    );
  });

  it('at least one group rolls at once, and never more than the share allows (beyond that one)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 1000 }), (percent, groups) => {
        const n = atOnce({ percent }, groups);
        assert.ok(n >= 1 && (n === 1 || n <= (percent * groups) / 100));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only whole counts and whole percentages up to 100%', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer({ min: -1000, max: 1000 }), fc.string(), fc.integer({ min: -50, max: 300 }).map((n) => `${n}%`)), (value) => {
        const limit = parseLimit(value, 0);
        if (limit === undefined) return;
        if ('count' in limit) assert.ok(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
        else assert.ok(typeof value === 'string' && /^\d{1,3}%$/.test(value) && limit.percent <= 100);
      }),
      { numRuns: 5000 },
    );
    assert.deepEqual(parseLimit('0%', 1), undefined, 'a concurrency of 0% would never roll anything');
    assert.deepEqual(parseLimit(' 5%', 0), undefined);
  });
});

describe('Fleet: ring membership', () => {
  const policy: PromotionPolicy = parsePromotionPolicy(JSON.stringify(EXAMPLE));
  const table: [string, Record<string, string>, Record<string, string>, PromotionPolicy | undefined, unknown][] = [
    ['a group in no ring rolls as it always has', {}, {}, policy, { kind: 'none' }],
    ["the group's tag", { [RING_TAG]: 'staging' }, {}, policy, { kind: 'ring', ring: 'staging', index: 1, from: 'group' }],
    ["the cluster's tag, for all its groups", {}, { [RING_TAG]: 'prod' }, policy, { kind: 'ring', ring: 'prod', index: 2, from: 'cluster' }],
    ["the group's tag wins over its cluster's", { [RING_TAG]: 'dev' }, { [RING_TAG]: 'prod' }, policy, { kind: 'ring', ring: 'dev', index: 0, from: 'group' }],
    ['a value in another case is read, with a note', { [RING_TAG]: ' Prod ' }, {}, policy, { kind: 'ring', ring: 'prod', index: 2, from: 'group', note: `${RING_TAG}=Prod on the node group read as prod; write it prod` }],
  ];
  for (const [name, group, cluster, p, expected] of table) it(name, () => assert.deepEqual(ringOf(group, cluster, p), expected));

  it('a ring the policy does not know never reads as "no ring": the group is misconfigured', () => {
    assert.deepEqual(ringOf({ [RING_TAG]: 'stagign' }, {}, policy), {
      kind: 'misconfigured',
      from: 'group',
      problem: `${RING_TAG}=stagign on the node group is not a ring of the promotion policy (dev, staging, prod); did you mean staging?`,
    });
    assert.equal(ringOf({ [RING_TAG]: '' }, { [RING_TAG]: 'prod' }, policy).kind, 'misconfigured', "an empty group tag does not fall back to the cluster's");
    assert.deepEqual(ringOf({}, { [RING_TAG]: 'prod' }, undefined), { kind: 'misconfigured', from: 'cluster', problem: `${RING_TAG}=prod on the cluster names a ring, but no promotion policy is configured` });
  });
});
