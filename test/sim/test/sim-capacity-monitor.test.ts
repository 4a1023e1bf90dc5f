import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AutoScalingClient, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { watchCapacity } from '../capacity-monitor.js';
import { createDaemonSet, createDeployment } from '../kube/controllers.js';
import type { KubeNode } from '../kube/types.js';
import { World } from '../world.js';

/**
 * The capacity monitor the rollout scenarios rely on: "at no instant is capacity below
 * desired − max-unavailable". Driven by hand here: cordons, drains and terminations at known
 * instants, and the monitor must see each loss exactly then.
 */
const autoscaling = () => new AutoScalingClient({ region: 'eu-west-1' });

/** A cluster with a 3-node self-managed group, a DaemonSet on every node and 6 web pods. */
async function smallWorld(t: { after: (fn: () => Promise<void>) => void }, options: { max?: number; replicas?: number } = {}) {
  const world = await World.start();
  t.after(() => world.stop());
  const cluster = await world.addCluster('prod');
  world.account.seedVpc();
  const group = world.account.createSelfManagedGroup({ cluster: 'prod', name: 'web', amiFamily: 'al2023', min: 1, max: options.max ?? 3, desired: 3 });
  await world.settle();
  createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
  createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: options.replicas ?? 6, labels: { app: 'web' } });
  await world.run(30_000);
  const registry = world.nodeRegistry('prod')!;
  const nodeOf = (instanceId: string) => (cluster.store.list('nodes') as KubeNode[]).find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`))!.metadata.name!;
  const instances = () => [...world.account.autoscaling.groups.get(group.autoScalingGroupName)!.instances.keys()];
  return { world, cluster, registry, asg: group.autoScalingGroupName, nodeOf, instances };
}

describe('Sandbox capacity monitor', () => {
  it('sees a drained node and a terminated instance leave, at the instant each happens', async (t) => {
    // Prepare
    const { world, registry, asg, nodeOf, instances } = await smallWorld(t);
    const [a, b] = instances();
    const [nodeA, nodeB] = [nodeOf(a!), nodeOf(b!)];
    const monitor = watchCapacity(world, { cluster: 'prod', autoScalingGroup: asg, floor: 2 });
    assert.equal(monitor.available, 3);

    // Act 1: cordon A: its pods still run there
    registry.cordonNode!(nodeA);
    const afterCordon = monitor.available;
    // Act 2: drain A: from the first eviction, A no longer counts
    const drainedAt = world.clock.iso();
    registry.drainNode!(nodeA, { force: false });
    const afterDrain = monitor.available;
    await world.run(60_000);
    // Act 3: B is terminated while A is away: below the floor at that very instant
    const terminatedAt = world.clock.iso();
    await autoscaling().send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: b, ShouldDecrementDesiredCapacity: false }));
    const afterTerminate = monitor.available;
    await world.settle();

    // Assess
    assert.equal(afterCordon, 3, 'a cordoned node that still serves its pods is capacity');
    assert.equal(afterDrain, 2);
    assert.equal(afterTerminate, 1);
    assert.equal(monitor.min, 1);
    assert.equal(monitor.violations.length, 1, monitor.violations.map((v) => v.detail).join('\n'));
    const [violation] = monitor.violations;
    assert.equal(violation!.at, terminatedAt);
    assert.equal(violation!.available, 1);
    assert.match(violation!.detail, new RegExp(`^${b} \\(${nodeB.replace(/\./g, '\\.')}\\) is Terminating`));
    const drain = monitor.changes.find((c) => c.detail.includes(`${a} (${nodeA})`))!;
    assert.equal(drain.at, drainedAt);
    assert.match(drain.detail, /is being drained/);
    // the replacement for B joins and is Ready: capacity is back to 2 (A stays drained)
    assert.equal(monitor.available, 2);
    assert.match(monitor.changes.at(-1)!.detail, /^\+i-/);
    assert.ok(monitor.samples > monitor.changes.length, 'sampled on every relevant change, not only when the count moved');
  });

  it('sees no dip when a replacement surges in before the old node is cordoned, drained and terminated', async (t) => {
    // Prepare
    const { world, registry, asg, nodeOf, instances } = await smallWorld(t, { max: 4 });
    const old = instances();
    const monitor = watchCapacity(world, { cluster: 'prod', autoScalingGroup: asg, floor: 3 });

    // Act: surge one, cordon every old node up front, drain and terminate one old node
    await autoscaling().send(new SetDesiredCapacityCommand({ AutoScalingGroupName: asg, DesiredCapacity: 4 }));
    await world.settle();
    const surged = monitor.available;
    for (const id of old) registry.cordonNode!(nodeOf(id));
    const cordoned = monitor.available;
    registry.drainNode!(nodeOf(old[0]!), { force: false });
    await world.run(60_000);
    await autoscaling().send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: old[0], ShouldDecrementDesiredCapacity: true }));
    await world.settle();

    // Assess
    assert.equal(surged, 4);
    assert.equal(cordoned, 4, 'cordoning alone costs no capacity');
    assert.equal(monitor.available, 3);
    assert.equal(monitor.min, 3);
    assert.deepEqual(monitor.violations, []);
  });

  it('counts a cordoned node with only DaemonSet pods left as gone, and an uncordoned one as back', async (t) => {
    // Prepare: one web pod only, so some node runs nothing but the DaemonSet
    const { world, cluster, registry, asg, nodeOf, instances } = await smallWorld(t, { replicas: 1 });
    const busy = new Set((cluster.store.list('pods', { namespace: 'shop' }) as { spec: { nodeName?: string } }[]).map((p) => p.spec.nodeName));
    const idle = instances().find((id) => !busy.has(nodeOf(id)))!;
    const monitor = watchCapacity(world, { cluster: 'prod', autoScalingGroup: asg, floor: 3 });

    // Act
    registry.cordonNode!(nodeOf(idle));
    const whileCordoned = monitor.available;
    cluster.store.patch('nodes', undefined, nodeOf(idle), { spec: { unschedulable: false } }, 'merge');
    monitor.stop();
    registry.cordonNode!(nodeOf(idle));

    // Assess
    assert.equal(whileCordoned, 2);
    assert.equal(monitor.violations.length, 1);
    assert.match(monitor.violations[0]!.detail, /is cordoned with no pods left/);
    assert.equal(monitor.available, 3, 'uncordoned, it counts again; after stop() nothing more is seen');
  });
});
