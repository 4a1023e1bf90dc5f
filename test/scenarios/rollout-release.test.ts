import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { type BudgetMonitor, type CapacityMonitor, createDeployment, createPdb, metricTotal, releaseAmi, runDefaultScenario, watchBudgets, watchCapacity, World } from '@eks-node-lifecycle/sandbox';
import { cordoned, groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';
import { heldLocks } from './fault-invariants.js';

/**
 * The release scenario of issue 5: a new EKS AMI rolls a 6-node managed group (an EKS
 * update by release version) and a 10-node self-managed group (our batches) at once, with
 * capacity and budgets watched at every change.
 */
describe('Scenario: a new AMI release rolls a 6-node managed group and a 10-node self-managed group', () => {
  let world: World;
  let selfManaged: { autoScalingGroupName: string };
  let managedAsg: string;
  let capacity: { selfManaged: CapacityMonitor; managed: CapacityMonitor };
  let budgets: BudgetMonitor;
  let before_: Awaited<ReturnType<typeof groupState>>;
  let managedBefore: Awaited<ReturnType<typeof groupState>>;
  let newImage: string;

  before(async () => {
    const setup = await selfManagedWorld({ nodes: 10, tags: { 'eks-node-lifecycle/max-unavailable': '3', 'eks-node-lifecycle/canary': '1' } });
    world = setup.world;
    selfManaged = setup.group;
    const ng = world.account.createManagedNodegroup({ cluster: 'prod', name: 'system', amiType: 'AL2023_x86_64_STANDARD', min: 6, max: 6, desired: 6, tags: { 'eks-node-lifecycle/rollout': 'auto' } });
    managedAsg = ng.resources!.autoScalingGroups![0]!.name!;
    await world.settle();
    createDeployment(setup.cluster.store, { namespace: 'kube-system', name: 'coredns', replicas: 6, labels: { app: 'coredns' }, nodeSelector: { 'eks.amazonaws.com/nodegroup': 'system' } } as any);
    createPdb(setup.cluster.store, { namespace: 'kube-system', name: 'coredns', selector: { app: 'coredns' }, maxUnavailable: 1 });
    await world.run(60_000);
    before_ = await groupState(selfManaged.autoScalingGroupName);
    managedBefore = await groupState(managedAsg);
    budgets = watchBudgets(setup.cluster.store);
    capacity = {
      selfManaged: watchCapacity(world, { cluster: 'prod', autoScalingGroup: selfManaged.autoScalingGroupName, floor: 10 - 3 }),
      managed: watchCapacity(world, { cluster: 'prod', autoScalingGroup: managedAsg, floor: 6 - 1 }),
    };
    newImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
  });
  after(() => world.stop());

  it('finishes both rollouts', () => {
    const all = rollouts(world);
    assert.equal(all.length, 2);
    for (const e of all) assert.equal(e.status, 'SUCCEEDED', `${e.name}: ${e.error} ${e.cause}`);
  });

  it('never lets either group fall below desired − max-unavailable, and never breaks a budget', () => {
    assert.deepEqual(capacity.selfManaged.violations, []);
    assert.deepEqual(capacity.managed.violations, []);
    assert.ok(capacity.selfManaged.samples > 50 && capacity.managed.samples > 20, 'the monitors saw the roll');
    assert.ok(capacity.selfManaged.min >= 7 && capacity.managed.min >= 5);
    assert.deepEqual(budgets.violations, []);
  });

  it('ends with every node of both groups on the new image and the sizes restored', async () => {
    const selfAfter = await groupState(selfManaged.autoScalingGroupName);
    const managedAfter = await groupState(managedAsg);
    assert.ok([...selfAfter.images.values()].every((id) => id === newImage), 'self-managed');
    assert.ok([...managedAfter.images.values()].every((id) => id === newImage), 'managed');
    assert.deepEqual([selfAfter.desired, selfAfter.min, selfAfter.max], [before_.desired, before_.min, before_.max]);
    assert.deepEqual([managedAfter.desired, managedAfter.min, managedAfter.max], [managedBefore.desired, managedBefore.min, managedBefore.max]);
    const ng = (await new EKSClient({ region: 'eu-west-1' }).send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'system' }))).nodegroup!;
    assert.equal(ng.releaseVersion, rollouts(world).map((e) => JSON.parse(e.input)).find((i) => i.group.kind === 'managed').target.release);
    assert.deepEqual(cordoned(world), []);
  });

  it('releases both locks', async () => {
    assert.deepEqual(await heldLocks(world), []);
  });
});

describe('Scenario: the default scenario (npm start) ends with an AMI release', () => {
  it('detects both groups, rolls them, and tells the story in order: planned, canary, batches, finished', async () => {
    const world = await World.start();
    try {
      const result = await runDefaultScenario(world);
      const all = rollouts(world);
      assert.equal(all.length, 2);
      for (const e of all) assert.equal(e.status, 'SUCCEEDED', `${e.name}: ${e.error} ${e.cause}`);
      const told = world.timeline.entries.filter((e) => e.source === 'notify' && e.message.includes('prod-workers')).map((e) => e.message.split(':')[0]);
      assert.deepEqual(told, ['Rollout Planned', 'Rollout Canary Passed', 'Rollout Batch Finished', 'Rollout Finished']);
      const workers = await groupState(result.selfManagedGroup);
      const system = await groupState(result.managedGroupAsg);
      for (const images of [workers.images, system.images]) assert.ok([...images.values()].every((id) => id === result.newImage));

      // what the dashboard and alarms would have seen (EMF in Lambda; test/sim/metrics.ts here)
      const m = world.metrics;
      assert.equal(metricTotal(m, 'RolloutsEnded', 'finished', 'prod'), 2);
      assert.equal(metricTotal(m, 'RolloutsEnded', 'rolled-back'), 0);
      assert.equal(m.filter((p) => p.name === 'RolloutDuration' && p.dimension?.value === 'finished' && p.value > 0).length, 2, 'each rollout timed from its lock to its end');
      assert.equal(metricTotal(m, 'NodesReplaced', undefined, 'prod'), workers.images.size, 'the self-managed roll replaced every node (the managed update reports none)');
      assert.equal(metricTotal(m, 'StaleGroups', 'stale', 'prod'), 2);
      // the scale-out's two nodes joined (and the self-managed rollout's replacements)
      assert.ok(metricTotal(m, 'NodeJoins', 'CONTINUE', 'prod') >= 2);
      assert.equal(metricTotal(m, 'NodeJoins', 'ABANDON'), 0);
      assert.ok(m.some((p) => p.name === 'TimeToReady' && p.value > 0 && p.unit === 'Seconds'));
      // the scale-in drain and the rollout's drains, every one drained
      assert.ok(metricTotal(m, 'DrainsFinished', 'drained', 'prod') >= 2);
      assert.equal(metricTotal(m, 'DrainsFinished', 'failed'), 0);
    } finally {
      await world.stop();
    }
  });
});
