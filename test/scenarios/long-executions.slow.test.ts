import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusEvent, World } from '@eks-node-lifecycle/sandbox';
import { assertInvariantsHeld, callsOf, type DrainSetup, drains, drainsBlocked, drainsFinished, hookExpiries } from './fault-drain-helpers.js';
import { assertLineageWithinQuota, DAY, drainLineage, freeBudgets, heldDrain, HOUR, latestOf, lineage, oneAtATime, pausedRollout, releaseFinalizers, rolloutControl, stuckTerminating } from './long-executions.js';
import { cordoned, groupState, rollouts } from './rollout-helpers.js';

/**
 * Workflows that run for days (issue 14), with Step Functions' quotas enforced by the sandbox
 * (25,000 history events per execution, counted as AWS records them): a drain held by its
 * budgets for two days, pods stuck Terminating for a day, a rollout paused for two weeks, a
 * group replaced one node at a time. Each goes on in fresh executions of itself as it must,
 * keeps every execution far below the quota (this service allows itself 10,000), and ends
 * correctly: the hook completed once, the lock released, the invariants held. The full-size
 * versions (a 1000-node group) run in `npm run bench`.
 */
const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const completions = (s: DrainSetup) => callsOf(s.world, 'CompleteLifecycleAction', s.instanceId).filter((c) => !c.error);

function assertDrainedOnce(s: DrainSetup): void {
  const finished = drainsFinished(s.world, s.instanceId);
  assert.equal(finished.length, 1, 'Node Drain Finished published once, by the last execution');
  assert.deepEqual({ outcome: finished[0]!.outcome, lifecycleAction: finished[0]!.lifecycleAction }, { outcome: 'drained', lifecycleAction: 'continued' });
  assert.equal(finished[0]!.executionArn, drains(s.world)[0]!.executionArn, 'named by the drain’s first execution');
  assert.equal(completions(s).length, 1, 'the lifecycle action completed once');
  assert.deepEqual(hookExpiries(s.world, s.instanceId), [], 'the hook never expired');
}

describe('Long: a drain held by its budgets for two days', () => {
  // a 2 h heartbeat timeout: AWS's global timeout is min(100 × 2 h, 48 h) = 48 h
  let s: DrainSetup;
  before(async () => {
    s = await heldDrain(7200);
    await s.world.run(47 * HOUR);
  });
  after(() => s.world.stop());

  it('holds for 47 h in fresh executions of itself, each far below the history quota, the hook kept alive', () => {
    const chain = drainLineage(s);
    assert.equal(chain.at(-1)!.status, 'RUNNING', 'still holding');
    assert.ok(chain.length >= 2, `${chain.length} executions`);
    assert.equal(drainsBlocked(s.world, s.instanceId).length, 1, 'reported blocked once, however many executions');
    assert.deepEqual(hookExpiries(s.world, s.instanceId), []);
    assert.equal(completions(s).length, 0, 'nothing completed while pods are protected');
  });

  it('drains when the budgets are freed, completes the hook once, and ends every execution as it should', async (t) => {
    freeBudgets(s);
    await s.world.settle();
    assertDrainedOnce(s);
    t.diagnostic(assertLineageWithinQuota(drainLineage(s), { atLeast: 2 }));
    t.diagnostic(await assertInvariantsHeld(s));
  });
});

describe('Long: a drain held with a 10 min heartbeat timeout (a heartbeat every 5 min) for 16 h', () => {
  // AWS's global timeout: min(100 × 10 min, 48 h) = 16 h 40 min
  it('holds, heartbeating every 5 minutes, then drains when freed, the hook completed once', async (t) => {
    const s = await heldDrain(600);
    try {
      await s.world.run(16 * HOUR);
      freeBudgets(s);
      await s.world.settle();
      assertDrainedOnce(s);
      t.diagnostic(assertLineageWithinQuota(drainLineage(s), { atLeast: 1 }));
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });
});

describe('Long: pods stuck Terminating for a day', () => {
  it('waits for them, backing off, then drains and completes the hook once', async (t) => {
    const s = await stuckTerminating(7200);
    try {
      await s.world.run(DAY);
      for (const [namespace, name] of s.stuck) assert.ok(s.cluster.store.get('pods', namespace, name)?.metadata.deletionTimestamp, `${namespace}/${name} still Terminating after a day`);
      const passes = drainLineage(s).flatMap((e) => e.history).filter((h) => h.state === 'DrainPass').length;
      assert.ok(passes < 600, `${passes} passes in a day: the waits back off`);
      releaseFinalizers(s);
      await s.world.settle();
      assertDrainedOnce(s);
      t.diagnostic(`${passes} passes in the day; ${assertLineageWithinQuota(drainLineage(s), { atLeast: 1 })}`);
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });
});

describe('Long: a rollout paused for 14 days, then resumed (max-pause=15d)', () => {
  let setup: Awaited<ReturnType<typeof pausedRollout>>;
  before(async () => {
    setup = await pausedRollout({ 'eks-node-lifecycle/max-pause': '15d' });
    await setup.world.run(14 * DAY);
  });
  after(() => setup.world.stop());

  it('stays paused for two weeks in fresh executions of itself, holding its lock', () => {
    const chain = lineage(setup.world, rollouts(setup.world)[0]!);
    assert.equal(chain.at(-1)!.status, 'RUNNING');
    assert.ok(chain.length >= 5, `${chain.length} executions for two weeks of polls`);
    assert.equal(published(setup.world, 'Rollout Paused').length, 1, 'announced once, across executions');
  });

  it('goes on when resumed, finishes every node on the new image, and releases the lock', async (t) => {
    const { world, group, image, monitor } = setup;
    await rolloutControl(world, 'resume');
    await world.settle();
    const chain = lineage(world, rollouts(world)[0]!);
    assert.equal(chain.at(-1)!.status, 'SUCCEEDED', `${chain.at(-1)!.error}: ${chain.at(-1)!.cause}`);
    assert.equal(rollouts(world).length, chain.length, 'no other rollout');
    const state = await groupState(group.autoScalingGroupName);
    assert.deepEqual([...new Set(state.images.values())], [image]);
    for (const type of ['Rollout Resumed', 'Rollout Finished']) {
      const events = published(world, type);
      assert.equal(events.length, 1, `${type} once`);
      assert.equal((events[0]!.detail as { executionArn?: string }).executionArn, chain[0]!.executionArn, `${type} names the rollout by its first execution (its chat thread)`);
    }
    t.diagnostic(assertLineageWithinQuota(chain, { atLeast: 5 }));
    await monitor.assertHeld({ groups: [{ name: 'workers', floor: 2 }] });
  });
});

describe('Long: a rollout paused past its max-pause (the default, 7 days)', () => {
  it('ends tidily at the limit, saying why, the lock released', async (t) => {
    const { world, monitor, pausedAt } = await pausedRollout();
    try {
      await world.run(8 * DAY);
      await world.settle();
      const chain = lineage(world, rollouts(world)[0]!);
      const last = chain.at(-1)!;
      assert.notEqual(last.status, 'RUNNING');
      assert.ok(last.stopDate!.getTime() - pausedAt <= 7 * DAY + 15 * 60_000, `ended ${(last.stopDate!.getTime() - pausedAt) / HOUR} h after the pause`);
      const ended = published(world, 'Rollout Aborted').concat(published(world, 'Rollout Finished'), published(world, 'Rollout Failed'));
      assert.equal(ended.length, 1);
      assert.match(JSON.stringify(ended[0]!.detail), /paused for more than 7d/);
      t.diagnostic(assertLineageWithinQuota(chain, { atLeast: 2 }));
      // ended as aborted after its canary: a mixed group by design (see rollout-interference),
      // judged on budgets, terminations, hooks, locks and reports; its sizes and cordons here
      await monitor.assertHeld({});
      const final = await groupState('workers');
      assert.deepEqual([final.desired, final.min, final.max], [4, 4, 4]);
      assert.deepEqual(cordoned(world), []);
      assert.equal(latestOf(world, chain[0]!.executionArn), last);
    } finally {
      await world.stop();
    }
  });
});

describe('Long: a group replaced one node at a time (max-unavailable 1)', () => {
  // 1000 nodes in `npm run bench`; here enough for the roll loop to pass its 400 steps
  it('goes on in a fresh execution past 400 steps, every node replaced, at most 30 history events per node', async (t) => {
    const { world, monitor, chain, figures } = await oneAtATime(160);
    try {
      assert.equal(figures.status, 'SUCCEEDED', `${chain.at(-1)!.error}: ${chain.at(-1)!.cause}`);
      assert.equal(figures.replaced, 160);
      assert.ok(figures.allOnNewImage);
      assert.ok(figures.perReplacedNode <= 30, `${figures.perReplacedNode.toFixed(1)} history events per replaced node`);
      t.diagnostic(`${assertLineageWithinQuota(chain, { atLeast: 2 })}; ${figures.perReplacedNode.toFixed(1)} events per replaced node; ${(figures.wallMs / 1000).toFixed(1)} s`);
      // light nodes, most of them empty: an empty node the rollout cordoned serves nothing, and the
      // capacity monitor counts it unavailable; the floor is judged with real load in rollout-self-managed
      await monitor.assertHeld({ groups: [{ name: 'workers', floor: 0 }] });
    } finally {
      await world.stop();
    }
  });
});
