import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeUpdateCommand, EKSClient, UpdateNodegroupVersionCommand } from '@aws-sdk/client-eks';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SimAccount } from '../aws/account.js';
import { releaseAmi } from '../aws/ami-catalogue.js';
import { MemoryNodeRegistry } from '../aws/memory-node-registry.js';
import { VirtualClock } from '../clock.js';
import { World } from '../world.js';

/**
 * A released image whose nodes never join (a bad bootstrap): what the rollout's canary must
 * catch. The instances boot and run; the kubelet never registers; the reason is in the
 * kubelet's notes, as it would be in the instance's console output.
 */
const AL2023_PARAMETER = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id';

function sandboxAccount() {
  const clock = new VirtualClock();
  const registry = new MemoryNodeRegistry();
  const account = new SimAccount({ clock, nodes: (cluster) => (cluster === 'prod' ? registry : undefined) });
  account.seedVpc();
  account.eks.addCluster({ name: 'prod', version: '1.31' });
  return { clock, account, registry };
}

function instancesOf(account: SimAccount, group: string) {
  return [...account.autoscaling.groups.get(group)!.instances.values()];
}

describe('Sandbox AMI catalogue: an image whose nodes never join', () => {
  it('boots instances that run and stay InService while no node ever registers, with the bootstrap failure noted', async () => {
    // Prepare
    const { clock, account, registry } = sandboxAccount();
    const good = account.ssm.value(AL2023_PARAMETER)!;
    const broken = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: true }).image.ImageId!;
    // Act
    account.createSelfManagedGroup({ cluster: 'prod', name: 'canary', amiFamily: 'al2023', imageId: broken, desired: 2 });
    account.createSelfManagedGroup({ cluster: 'prod', name: 'control', amiFamily: 'al2023', imageId: good, desired: 1 });
    await clock.advance(10 * 60_000);
    // Assess
    const canary = instancesOf(account, 'canary');
    assert.equal(canary.length, 2);
    for (const instance of canary) {
      assert.equal(account.ec2.instances.get(instance.instanceId)!.instance.State.Name, 'running');
      assert.equal(instance.lifecycleState, 'InService');
      assert.equal(registry.byInstance(instance.instanceId), undefined, 'no node registered');
      const note = account.kubeletNotes.find((n) => n.instanceId === instance.instanceId)!;
      assert.equal(note.joined, false);
      assert.equal(note.cluster, 'prod');
      assert.match(note.reason, /^bootstrap failed: nodeadm init exited 1 .*the kubelet never registered$/);
    }
    const control = instancesOf(account, 'control')[0]!;
    assert.ok(registry.byInstance(control.instanceId), 'the previous release still joins');
    assert.equal(registry.nodes.size, 1);
  });

  it('looks like any other release from EC2 and SSM: recommended, available, no telltale tag', async () => {
    // Prepare
    const { account } = sandboxAccount();
    account.bind();
    try {
      // Act
      const broken = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: 'bootstrap failed: custom' }).image.ImageId!;
      const { Images } = await new EC2Client({ region: 'eu-west-1' }).send(new DescribeImagesCommand({ ImageIds: [broken] }));
      const { Parameter } = await new SSMClient({ region: 'eu-west-1' }).send(new GetParameterCommand({ Name: AL2023_PARAMETER }));
      // Assess
      assert.equal(Parameter!.Value, broken);
      assert.equal(Images![0]!.State, 'available');
      assert.deepEqual(Images![0]!.Tags ?? [], []);
      assert.doesNotMatch(JSON.stringify(Images![0]), /broken|bootstrap failed/i);
    } finally {
      account.restore();
    }
  });

  it('uses the failure text it is given, and fails each family with its own boot tooling', async () => {
    // Prepare
    const { clock, account } = sandboxAccount();
    const custom = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261202', brokenBootstrap: 'nodeadm: could not read NodeConfig', recommend: false }).image.ImageId!;
    const bottlerocket = releaseAmi(account, { family: 'bottlerocket', kubernetesVersion: '1.31', date: '20261202', brokenBootstrap: true, recommend: false }).image.ImageId!;
    // Act
    account.createSelfManagedGroup({ cluster: 'prod', name: 'custom', amiFamily: 'al2023', imageId: custom, desired: 1 });
    account.createSelfManagedGroup({ cluster: 'prod', name: 'rocket', amiFamily: 'bottlerocket', imageId: bottlerocket, desired: 1 });
    await clock.advance(5 * 60_000);
    // Assess
    const reason = (group: string) => account.kubeletNotes.find((n) => n.instanceId === instancesOf(account, group)[0]!.instanceId)!.reason;
    assert.equal(reason('custom'), 'nodeadm: could not read NodeConfig');
    assert.match(reason('rocket'), /^bootstrap failed: early-boot-config/);
  });

  it('makes a launch hook that waits for the node time out and abandon the instance', async () => {
    // Prepare
    const { clock, account } = sandboxAccount();
    const broken = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: true }).image.ImageId!;
    // Act
    account.createSelfManagedGroup({ cluster: 'prod', name: 'canary', amiFamily: 'al2023', imageId: broken, desired: 1, hooks: { launch: { heartbeatTimeout: 300, defaultResult: 'ABANDON' } } });
    await clock.advance(2 * 60_000);
    const [first] = instancesOf(account, 'canary');
    const waiting = first!.lifecycleState;
    await clock.advance(5 * 60_000);
    // Assess
    assert.equal(waiting, 'Pending:Wait', 'launched, waiting for its node');
    assert.equal(account.ec2.instances.get(first!.instanceId)!.instance.State.Name, 'terminated');
    assert.ok(account.log.some((l) => l.instanceId === first!.instanceId && /applying DefaultResult ABANDON/.test(l.message)));
  });

  it('fails an EKS managed node group update onto it with NodeCreationFailure', async (t) => {
    // Prepare
    const world = await World.start();
    t.after(() => world.stop());
    await world.addCluster('prod');
    world.account.seedVpc();
    world.account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 2, max: 2 });
    await world.settle();
    const release = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: true }).releaseVersion!;
    const eks = new EKSClient({ region: 'eu-west-1' });
    // Act
    const { update } = await eks.send(new UpdateNodegroupVersionCommand({ clusterName: 'prod', nodegroupName: 'general', releaseVersion: release }));
    await world.settle();
    // Assess
    const done = (await eks.send(new DescribeUpdateCommand({ name: 'prod', nodegroupName: 'general', updateId: update!.id! }))).update!;
    assert.equal(done.status, 'Failed');
    assert.equal(done.errors![0]!.errorCode, 'NodeCreationFailure');
    const newNodes = done.errors![0]!.resourceIds!;
    assert.ok(newNodes.length > 0);
    assert.ok(newNodes.every((id) => world.account.kubeletNotes.some((n) => n.instanceId === id && !n.joined && /nodeadm init exited 1/.test(n.reason))));
  });
});
