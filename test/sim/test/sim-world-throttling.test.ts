import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { World } from '../world.js';

/**
 * The world's switch for production's rate limits: AWS API throttling on the account and
 * API Priority and Fairness on every cluster's API server — on unless a scenario switches them
 * off, since the sandbox must refuse what AWS and Kubernetes refuse.
 */
describe('World: throttling switch', () => {
  it('is on by default, on the account and on the API servers; `throttling: {}` turns both off', async () => {
    // one world at a time: a world binds the SDK clients for the process
    for (const [options, enabled] of [[undefined, true], [{ throttling: {} }, false]] as const) {
      // Prepare
      const world = await World.start(options);
      try {
        // Act
        const cluster = await world.addCluster('prod');
        // Assess
        assert.equal(world.throttling.aws.enabled, enabled);
        assert.equal(world.throttling.kube.enabled, enabled);
        assert.equal(cluster.server.flowControl.enabled, enabled);
      } finally {
        await world.stop();
      }
    }
  });

  it('switches both on from World.start, for clusters added afterwards too, with their options', async (t) => {
    // Prepare
    const world = await World.start({ throttling: { aws: { seed: 7 }, kube: { burst: 10, perSecond: 5 } } });
    t.after(() => world.stop());
    // Act
    const cluster = await world.addCluster('prod');
    // Assess
    assert.equal(world.account.throttling.enabled, true);
    assert.equal(cluster.server.flowControl.enabled, true);
    const tally = world.throttling.tally();
    assert.deepEqual([...tally.kube.keys()], ['prod']);
    assert.equal(tally.aws.callsFailed.size, 0);
  });

  it('switches each side off and on again mid-scenario', async (t) => {
    // Prepare
    const world = await World.start({ throttling: { aws: true, kube: true } });
    t.after(() => world.stop());
    const cluster = await world.addCluster('prod');
    // Act
    world.throttling.kube.disable();
    world.throttling.aws.disable();
    const off = [world.throttling.aws.enabled, cluster.server.flowControl.enabled];
    world.throttling.kube.enable();
    // Assess
    assert.deepEqual(off, [false, false]);
    assert.equal(cluster.server.flowControl.enabled, true);
  });

  it('refuses a switch it does not know, loudly', async () => {
    // Act, Assess
    await assert.rejects(World.start({ throttling: { kubernetes: true } as never }), /unknown throttling switch kubernetes/);
  });
});
