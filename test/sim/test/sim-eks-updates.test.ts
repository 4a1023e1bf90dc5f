import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListUpdatesCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  type Update,
} from '@aws-sdk/client-eks';
import { releaseAmi } from '../aws/ami-catalogue';
import { EXCLUDE_FROM_LB_LABEL } from '../aws/eks-updates';
import { watchBudgets } from '../kube/budget-monitor';
import { createDeployment, createPdb } from '../kube/controllers';
import { World } from '../world';

const eks = () => new EKSClient({ region: 'eu-west-1' });

async function small(t: { after: (fn: () => Promise<void>) => void }, options: { pdb?: { minAvailable: number }; replicas?: number } = {}) {
  const world = await World.start();
  t.after(() => world.stop());
  const cluster = await world.addCluster('prod');
  world.account
  world.account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 3, max: 3 });
  await world.settle();
  const before = structuredClone(world.account.eks.requireNodegroup('prod', 'general').nodegroup);
  assert.equal(before.status, 'ACTIVE');
  createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: options.replicas ?? 6, labels: { app: 'web' } });
  if (options.pdb) createPdb(cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: options.pdb.minAvailable });
  await world.run(30_000);
  const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
  return { world, cluster, before, release: image.releaseVersion! };
}

function instances(world: World): string[] {
  const ng = world.account.eks.requireNodegroup('prod', 'general');
  return [...world.account.autoscaling.group(ng.autoScalingGroupName).instances.keys()].sort();
}

async function describe_(id: string): Promise<Update> {
  return (await eks().send(new DescribeUpdateCommand({ name: 'prod', nodegroupName: 'general', updateId: id }))).update!;
}

describe('EKS managed node group updates', () => {
  it('rolls a release update through setup, scale-up, upgrade and scale-down without breaking a budget', async (t) => {
    const { world, cluster, before, release } = await small(t, { pdb: { minAvailable: 5 } });
    const budgets = watchBudgets(cluster.store);
    const oldInstances = instances(world);
    assert.equal(oldInstances.length, 3);

    const { update } = await eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: release }));
    assert.equal(update!.status, 'InProgress');
    assert.equal(update!.type, 'VersionUpdate');
    assert.deepEqual(update!.params, [{ type: 'Version', value: '1.31' }, { type: 'ReleaseVersion', value: release }]);
    assert.equal((await eks().send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'general' }))).nodegroup!.status, 'UPDATING');

    // scale-up: 3 AZs → desired and max += 6; old nodes cordoned and excluded from load balancers
    await world.run(5 * 60_000);
    const group = world.account.autoscaling.group(world.account.eks.requireNodegroup('prod', 'general').autoScalingGroupName);
    assert.equal(group.max, 9);
    const oldNode = cluster.store.get('nodes', undefined, world.account.kubelet.nodeName(oldInstances[2]!)!);
    assert.ok(oldNode, 'the last old node is still there five minutes in');
    assert.equal(oldNode.spec?.unschedulable, true);
    assert.equal(oldNode.metadata.labels?.[EXCLUDE_FROM_LB_LABEL], 'true');

    await world.settle();
    if (process.env.SHOW_TIMELINE) for (const e of world.account.log.filter((e) => e.source === 'eks')) console.log(e.time, e.message);
    const done = await describe_(update!.id!);
    assert.equal(done.status, 'Successful', JSON.stringify(done.errors));
    assert.deepEqual(done.errors, []);
    const after = (await eks().send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'general' }))).nodegroup!;
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after.releaseVersion, release);
    assert.notEqual(before.releaseVersion, release);
    const now = instances(world);
    assert.equal(now.length, 3);
    assert.equal(now.filter((id) => oldInstances.includes(id)).length, 0, 'every node replaced');
    assert.equal(group.desired, 3);
    assert.equal(group.max, 3);
    const image = world.account.ec2.images.get(world.account.ec2.instances.get(now[0]!)!.instance.ImageId!)!;
    assert.equal(image.releaseVersion, release);
    const nodes = cluster.store.list('nodes');
    assert.equal(nodes.length, 3);
    for (const node of nodes) assert.equal(node.metadata.labels?.['eks.amazonaws.com/nodegroup-image'], image.image.ImageId);
    assert.deepEqual(budgets.violations, []);
    const pods = cluster.store.list('pods', { namespace: 'shop' });
    assert.equal(pods.length, 6);
    const phases = world.account.log.filter((e) => e.source === 'eks').map((e) => e.message);
    for (const phase of ['setup:', 'scale-up:', 'upgrade:', 'scale-down:']) assert.ok(phases.some((m) => m.includes(phase)), `a timeline note for ${phase}`);
    const ids = (await eks().send(new ListUpdatesCommand({ name: 'prod', nodegroupName: 'general' }))).updateIds;
    assert.deepEqual(ids, [update!.id]);
  });

  it('refuses a second update while one is InProgress (ResourceInUseException)', async (t) => {
    const { world, release } = await small(t);
    await eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: release }));
    await assert.rejects(eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general' })), { name: 'ResourceInUseException' });
    await assert.rejects(eks().send(new UpdateNodegroupConfigCommand({ clusterName: 'prod', nodegroupName: 'general', updateConfig: { maxUnavailable: 2 } })), { name: 'ResourceInUseException' });
    await assert.rejects(eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'nope' })), { name: 'ResourceNotFoundException' });
    await world.settle();
  });

  it('fails with PodEvictionFailure after 15 virtual minutes when a budget never allows a disruption', async (t) => {
    const { world, release } = await small(t, { pdb: { minAvailable: 6 } });
    const started = world.clock.now();
    const { update } = await eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: release }));
    await world.settle();
    const done = await describe_(update!.id!);
    assert.equal(done.status, 'Failed');
    assert.equal(done.errors!.length, 1);
    assert.equal(done.errors![0]!.errorCode, 'PodEvictionFailure');
    assert.match(done.errors![0]!.errorMessage!, /Reached max retries while trying to evict pods from nodes in node group general/);
    assert.equal(done.errors![0]!.resourceIds!.length, 1);
    const failedAt = world.account.log.find((e) => e.message.includes('Failed'))!.at;
    assert.ok(failedAt - started >= 15 * 60_000, `failed after ${(failedAt - started) / 60_000} min`);
    assert.ok(failedAt - started < 25 * 60_000);
    const ng = world.account.eks.requireNodegroup('prod', 'general').nodegroup;
    assert.notEqual(ng.releaseVersion, release);
    assert.equal(ng.status, 'ACTIVE');
  });

  it('with force, deletes the pods a budget protects and ends Successful', async (t) => {
    const { world, release } = await small(t, { pdb: { minAvailable: 6 } });
    const oldInstances = instances(world);
    const { update } = await eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: release, force: true }));
    await world.settle();
    const done = await describe_(update!.id!);
    assert.equal(done.status, 'Successful', JSON.stringify(done.errors));
    assert.equal(world.account.eks.requireNodegroup('prod', 'general').nodegroup.releaseVersion, release);
    assert.equal(instances(world).filter((id) => oldInstances.includes(id)).length, 0);
  });

  it('refuses releaseVersion with a launch template that names an AMI (InvalidParameterException)', async (t) => {
    const world = await World.start();
    t.after(() => world.stop());
    await world.addCluster('prod');
    world.account
    const imageId = [...world.account.ec2.images.values()].find((i) => i.family === 'al2023' && i.kubernetesVersion === '1.31')!.image.ImageId;
    const ng = world.account.createManagedNodegroup({ cluster: 'prod', name: 'custom', desired: 1, launchTemplate: { imageId, instanceType: 'm5.large', userData: '#!/bin/bash\necho custom\n' } });
    const release = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).releaseVersion!;
    ng.status = 'ACTIVE';
    world.account.eks.requireNodegroup('prod', 'custom').nodegroup.status = 'ACTIVE';
    await assert.rejects(
      eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'custom', releaseVersion: release, launchTemplate: { id: ng.launchTemplate!.id, version: '1' } })),
      { name: 'InvalidParameterException' },
    );
    await assert.rejects(eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'custom', version: '1.31' })), { name: 'InvalidParameterException' });
  });

  it('fails with NodeCreationFailure when the new nodes never join', async (t) => {
    const { world, release } = await small(t);
    world.account.eks.failNextUpdate('prod', 'general', 'NodeCreationFailure');
    const { update } = await eks().send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: release }));
    await world.settle();
    const done = await describe_(update!.id!);
    assert.equal(done.status, 'Failed');
    assert.equal(done.errors![0]!.errorCode, 'NodeCreationFailure');
    assert.equal(done.errors![0]!.resourceIds!.length, 6);
  });

  it('applies a config update (maxUnavailable, scaling) as a ConfigUpdate', async (t) => {
    const { world } = await small(t);
    const { update } = await eks().send(new UpdateNodegroupConfigCommand({ clusterName: 'prod', nodegroupName: 'general', updateConfig: { maxUnavailable: 2 }, scalingConfig: { maxSize: 5, desiredSize: 4 } }));
    assert.equal(update!.type, 'ConfigUpdate');
    await world.settle();
    assert.equal((await describe_(update!.id!)).status, 'Successful');
    const ng = world.account.eks.requireNodegroup('prod', 'general');
    assert.equal(ng.nodegroup.updateConfig!.maxUnavailable, 2);
    assert.deepEqual(ng.nodegroup.scalingConfig, { minSize: 1, maxSize: 5, desiredSize: 4 });
    assert.equal(instances(world).length, 4);
    await assert.rejects(eks().send(new UpdateNodegroupConfigCommand({ clusterName: 'prod', nodegroupName: 'general', updateConfig: { maxUnavailable: 1, maxUnavailablePercentage: 10 } })), { name: 'InvalidParameterException' });
  });
});
