import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { World } from '@eks-node-lifecycle/sandbox';
import type { InvariantMonitor } from './fault-invariants.js';
import { type ScaleInFigures, scaleInUnderLoad } from './scale-in-load.js';

/**
 * The scale-in load scenario (issue 23, item 7) in small: 40 nodes, 30 of them taken away within
 * a minute, with AWS's token buckets and the API server's Priority and Fairness on. The full
 * size (500 of 600) runs in `npm run bench`.
 */
describe('Load: 30 of 40 nodes scaled in within a minute, throttling on', () => {
  let world: World;
  let monitor: InvariantMonitor;
  let figures: ScaleInFigures;
  before(async () => {
    ({ world, monitor, figures } = await scaleInUnderLoad({ instances: 40, scaleInBy: 30, deployments: 4, replicas: 24 }));
  });
  after(() => world.stop());

  it('drains every node it takes away through one drain each, and completes each hook once', () => {
    assert.equal(figures.drainExecutions, 30);
    assert.equal(figures.drained, 30, 'every drain ended drained');
    assert.equal(figures.hooksCompleted, 30);
  });

  it('goes through the throttling switched on: the buckets and the flow control saw every call', () => {
    assert.ok(figures.aws.attempts > 100, `${figures.aws.attempts} AWS attempts`);
    assert.ok(figures.kube.requests > 200, `${figures.kube.requests} Kubernetes requests`);
    assert.equal(figures.aws.callsFailed, 0, 'no call failed past the SDK\'s retries');
  });

  it('holds every invariant: no budget violated, nothing terminated with pods, no hook expired, every lock and record released', async () => {
    await monitor.assertHeld({ groups: [{ name: 'workers', floor: 0, sizes: { desired: 10 } }] });
  });
});
