import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type BatchPolicy, capacityFloor, type NodeToRoll, planBatches, resolveMaxUnavailable } from '../../shared/rollout/plan-batches.js';

const NOW = new Date('2025-01-15T12:00:00Z');
const AZS = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

function nodes(count: number): NodeToRoll[] {
  // node-0 is the newest, node-(count-1) the oldest
  return Array.from({ length: count }, (_, i) => ({
    name: `node-${i}`,
    instanceId: `i-${String(i).padStart(4, '0')}`,
    availabilityZone: AZS[i % 3]!,
    launchedAt: new Date(Date.UTC(2024, 11, 31) - i * 3_600_000).toISOString(),
  }));
}

const policy = (p: Partial<BatchPolicy> = {}): BatchPolicy => ({ maxUnavailable: 1, canary: 1, strategy: 'surge', ...p });

function sizes(plan: ReturnType<typeof planBatches>): number[] {
  assert.equal(plan.decision, 'roll');
  return plan.decision === 'roll' ? plan.batches.map((b) => b.nodes.length) : [];
}

describe('Rollout: plan batches', () => {
  it('has nothing to do when no node needs replacing', () => {
    assert.deepEqual(planBatches([], policy(), NOW), { decision: 'nothing-to-do', reason: 'no node to replace: every node runs the target image' });
  });

  it('replaces the canary first, then the rest by max-unavailable, oldest first', () => {
    const plan = planBatches(nodes(5), policy({ maxUnavailable: 2 }), NOW);
    assert.equal(plan.decision, 'roll');
    if (plan.decision !== 'roll') return;
    assert.deepEqual(plan.batches.map((b) => [b.canary, b.nodes.map((n) => n.name)]), [
      [true, ['node-4']],
      [false, ['node-3', 'node-2']],
      [false, ['node-1', 'node-0']],
    ]);
    assert.equal(plan.maxUnavailable, 2);
    assert.equal(plan.plannedAt, NOW.toISOString());
  });

  const table: [string, Partial<BatchPolicy>, number, number[], { groupSize?: number }?][] = [
    ['25% of 10 rounds up to 3', { maxUnavailable: '25%' }, 10, [1, 3, 3, 3]],
    ['1% of 10 is still one node', { maxUnavailable: '1%' }, 10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ['100% replaces the rest at once', { maxUnavailable: '100%' }, 6, [1, 5]],
    ['canary 0 means no canary', { maxUnavailable: 2, canary: 0 }, 5, [2, 2, 1]],
    ['a canary larger than max-unavailable is capped by it (fail closed)', { maxUnavailable: 1, canary: 3 }, 3, [1, 1, 1]],
    ['a canary of 2 inside max-unavailable 3', { maxUnavailable: 3, canary: 2 }, 7, [2, 3, 2]],
    ['a canary larger than the group takes the whole group', { maxUnavailable: 10, canary: 5 }, 2, [2]],
    ['a percentage resolves against the group size when given', { maxUnavailable: '50%' }, 4, [1, 3], { groupSize: 6 }],
  ];
  for (const [name, p, count, expected, options] of table) {
    it(name, () => assert.deepEqual(sizes(planBatches(nodes(count), policy(p), NOW, options)), expected));
  }

  it('surge launches replacements first; minimal terminates first', () => {
    const surge = planBatches(nodes(3), policy({ strategy: 'surge' }), NOW);
    const minimal = planBatches(nodes(3), policy({ strategy: 'minimal' }), NOW);
    assert.ok(surge.decision === 'roll' && surge.batches.every((b) => b.launchFirst));
    assert.ok(minimal.decision === 'roll' && minimal.batches.every((b) => !b.launchFirst));
  });

  it('launches each replacement in the zone of the node it replaces', () => {
    const plan = planBatches(nodes(6), policy({ maxUnavailable: 3 }), NOW);
    assert.ok(plan.decision === 'roll');
    for (const n of plan.batches.flatMap((b) => b.nodes)) assert.equal(n.replacementAvailabilityZone, n.availabilityZone);
  });

  it('orders equal launch times by name, and treats an unreadable launch time as the oldest', () => {
    const same = '2024-01-01T00:00:00.000Z';
    const plan = planBatches(
      [
        { name: 'b', instanceId: 'i-b', availabilityZone: 'a', launchedAt: same },
        { name: 'a', instanceId: 'i-a', availabilityZone: 'a', launchedAt: new Date(same) },
        { name: 'z', instanceId: 'i-z', availabilityZone: 'a', launchedAt: 'yesterday-ish' },
      ],
      policy({ maxUnavailable: 5 }),
      NOW,
    );
    assert.ok(plan.decision === 'roll');
    assert.deepEqual(plan.batches.flatMap((b) => b.nodes.map((n) => n.name)), ['z', 'a', 'b']);
    assert.equal(plan.batches[0]!.nodes[0]!.launchedAt, 'yesterday-ish');
  });

  it('lists a node given twice once', () => {
    const [n] = nodes(1);
    assert.deepEqual(sizes(planBatches([n!, n!], policy(), NOW)), [1]);
  });
});

describe('Rollout: max-unavailable and the capacity floor', () => {
  const floors: [number, number | `${number}%`, number][] = [
    [10, 1, 9],
    [10, 3, 7],
    [10, '25%', 7], // 2.5 rounds up to 3
    [4, '50%', 2],
    [3, '100%', 0],
    [1, 1, 0],
    [0, 1, 0],
    [2, 5, 0],
  ];
  for (const [desired, max, floor] of floors) {
    it(`keeps at least ${floor} of ${desired} nodes with max-unavailable ${max}`, () => assert.equal(capacityFloor(desired, max), floor));
  }

  it('property: a percentage rounds up, and is never below one node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 5000 }), (p, total) => {
        const k = resolveMaxUnavailable(`${p}%`, total);
        assert.ok(k >= 1);
        assert.ok(k * 100 >= p * total, 'covers the percentage');
        assert.ok(k === 1 || (k - 1) * 100 < p * total, 'the smallest count that covers it');
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('Rollout: plan batches properties', () => {
  const nodesArb = fc
    .uniqueArray(
      fc.record({
        instanceId: fc.stringMatching(/^i-[0-9a-f]{6}$/),
        availabilityZone: fc.constantFrom(...AZS),
        launchedAt: fc.integer({ min: 1_600_000_000_000, max: 1_700_000_000_000 }).map((t) => new Date(t).toISOString()),
      }),
      { selector: (n) => n.instanceId, maxLength: 60 },
    )
    .map((list) => list.map((n) => ({ ...n, name: `ip-${n.instanceId}` })));
  const policyArb = fc.record({
    maxUnavailable: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 100 }).map((p): `${number}%` => `${p}%`)),
    canary: fc.integer({ min: 0, max: 5 }),
    strategy: fc.constantFrom('surge' as const, 'minimal' as const),
  });

  it('every node is in exactly one batch; batches respect max-unavailable; the canary comes first; zones are kept; oldest first', () => {
    fc.assert(
      fc.property(nodesArb, policyArb, (input, p) => {
        const plan = planBatches(input, p, NOW);
        if (input.length === 0) return assert.equal(plan.decision, 'nothing-to-do');
        assert.equal(plan.decision, 'roll');
        if (plan.decision !== 'roll') return;
        const k = typeof p.maxUnavailable === 'number' ? p.maxUnavailable : Math.max(1, Math.ceil((parseInt(p.maxUnavailable) * input.length) / 100));
        const all = plan.batches.flatMap((b) => b.nodes);
        assert.deepEqual(all.map((n) => n.instanceId).sort(), input.map((n) => n.instanceId).sort(), 'each node exactly once');
        for (const b of plan.batches) {
          assert.ok(b.nodes.length >= 1 && b.nodes.length <= k, `batch of ${b.nodes.length} within ${k}`);
          assert.equal(b.launchFirst, p.strategy === 'surge');
        }
        plan.batches.forEach((b, i) => assert.equal(b.canary, i === 0 && p.canary > 0, 'only the first batch is the canary'));
        if (p.canary > 0) assert.ok(plan.batches[0]!.nodes.length <= p.canary);
        const az = new Map(input.map((n) => [n.instanceId, n.availabilityZone]));
        for (const n of all) assert.equal(n.replacementAvailabilityZone, az.get(n.instanceId));
        for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.launchedAt <= all[i]!.launchedAt, 'oldest first');
      }),
      { numRuns: 10_000 },
    );
  });
});
