import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type DefaultScenarioResult, instanceIdsOf, runDefaultScenario, World } from '@eks-node-lifecycle/sandbox';

/**
 * Ownership tagging end to end in the sandbox: the real handlers and the real node-join
 * workflow against the simulated account and cluster.
 */
const region = 'eu-west-1';
const ec2 = () => new EC2Client({ region });
const autoscaling = () => new AutoScalingClient({ region });

async function instances(ids?: string[]) {
  const out = await ec2().send(new DescribeInstancesCommand(ids ? { InstanceIds: ids } : {}));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}
const tag = (i: { Tags?: { Key?: string; Value?: string }[] }, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;
const callsOf = (world: World, command: string) => world.account.calls.filter((c) => c.command === command);
const brokenUserData = '#!/bin/bash\necho "this instance never runs the EKS bootstrap"\n';

describe('Scenario: ownership tagging', () => {
  describe('the default scenario (npm start)', () => {
    let world: World;
    let result: DefaultScenarioResult;
    before(async () => {
      world = await World.start();
      result = await runDefaultScenario(world, { release: false });
    });
    after(() => world.stop());

    it('tags every instance of both node groups kubernetes.io/cluster/prod=owned', async () => {
      const all = await instances();
      assert.equal(all.length, 5, '2 managed + 3 self-managed');
      for (const i of all) assert.equal(tag(i, 'kubernetes.io/cluster/prod'), 'owned', `${i.InstanceId}`);
    });

    it('makes the self-managed group\'s ownership tag propagate, so the scale-out launched tagged instances', async () => {
      const group = (await autoscaling().send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [result.selfManagedGroup] }))).AutoScalingGroups![0]!;
      assert.equal(group.Tags!.find((t) => t.Key === 'kubernetes.io/cluster/prod')?.PropagateAtLaunch, true);
      const tagWrites = callsOf(world, 'CreateTags').flatMap((c) => (c.input as { Resources: string[] }).Resources);
      assert.equal(tagWrites.length, 1, 'only the first instance needed tagging by us');
      for (const id of result.scaledOut) assert.ok(!tagWrites.includes(id), `${id} was tagged at launch`);
    });

    it('puts the scaled-out instances in service only after their nodes are Ready', async () => {
      assert.equal(result.scaledOut.length, 2);
      const states = (await autoscaling().send(new DescribeAutoScalingInstancesCommand({ InstanceIds: result.scaledOut.filter((id) => id !== result.drained) }))).AutoScalingInstances!;
      assert.ok(states.length >= 1 && states.every((s) => s.LifecycleState === 'InService'));
      const nodes = world.cluster('prod').store.list('nodes') as any[];
      for (const id of result.scaledOut) {
        const node = nodes.find((n) => n.spec.providerID.endsWith(`/${id}`));
        assert.ok(node, `node of ${id}`);
        const readyAt = Date.parse(node.status.conditions.find((c: any) => c.type === 'Ready' && c.status === 'True').lastTransitionTime);
        const completion = callsOf(world, 'CompleteLifecycleAction').find((c) => (c.input as any).InstanceId === id)!;
        assert.equal((completion.input as any).LifecycleActionResult, 'CONTINUE');
        assert.ok(completion.at >= readyAt, `CONTINUE for ${id} at ${new Date(completion.at).toISOString()} not before Ready at ${new Date(readyAt).toISOString()}`);
      }
    });

    it('runs one node-join per launch, all succeeded, waiting in Step Functions', () => {
      const executions = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-node-join'));
      assert.equal(executions.length, 3);
      assert.ok(executions.every((e) => e.status === 'SUCCEEDED'));
      assert.ok(executions.every((e) => e.history.some((h) => h.state === 'WaitForNode')), 'the wait is a Wait state, not a sleeping Lambda');
    });

    it('drains the scaled-in node, PDB respected, before its terminate hook is completed', () => {
      const drain = [...world.stepFunctions.executions.values()].find((e) => e.name.startsWith(`drain-${result.drained}`));
      assert.equal(drain?.status, 'SUCCEEDED');
      const completion = callsOf(world, 'CompleteLifecycleAction').filter((c) => (c.input as any).InstanceId === result.drained && (c.input as any).LifecycleHookName === 'drain');
      assert.equal(completion.length, 1);
      const finished = world.published.find((e) => e['detail-type'] === 'Node Drain Finished')!;
      assert.equal((finished.detail as any).outcome, 'drained');
    });

    it('logs with correlation keys', () => {
      const record = world.logs.find((l) => l.message === 'ownership ensured');
      assert.ok(record);
      assert.equal(record.cluster, 'prod');
      assert.match(String(record.instanceId), /^i-/);
      assert.equal(record.function_name, 'eks-node-lifecycle-sandbox-tagInstance');
      const step = world.logs.find((l) => l.message === 'join check');
      assert.match(String(step?.executionArn), /^arn:aws:states:eu-west-1:111122223333:execution:eks-node-lifecycle-sandbox-node-join:join-i-/);
    });
  });

  describe('a node that never joins', () => {
    let world: World;
    before(async () => {
      world = await World.start();
      await world.addCluster('prod');
      world.account.seedVpc();
      world.account.createSelfManagedGroup({
        cluster: 'prod',
        name: 'broken-workers',
        min: 0,
        max: 2,
        desired: 1,
        userData: brokenUserData,
        hooks: { launch: { name: 'eks-node-lifecycle-launch', heartbeatTimeout: 300, defaultResult: 'CONTINUE' } },
      });
      // long enough for our deadline (270 s) but stop before the replacement's own deadline
      await world.run(320_000);
    });
    after(() => world.stop());

    it('abandons the launch itself, before the hook would time out into its default result', () => {
      const [first] = world.account.events.filter((e) => e['detail-type'] === 'EC2 Instance-launch Lifecycle Action');
      const hookStart = Date.parse(first!.time);
      const completions = callsOf(world, 'CompleteLifecycleAction');
      assert.equal(completions.length, 1);
      assert.equal((completions[0]!.input as any).LifecycleActionResult, 'ABANDON');
      assert.ok(completions[0]!.at - hookStart < 300_000, 'ABANDON came from us, within the heartbeat timeout');
      assert.ok(completions[0]!.at - hookStart >= 270_000, 'not before the deadline');
    });

    it('reports the execution as failed with NodeNeverJoined, and the instance is terminated', async () => {
      const [execution] = world.stepFunctions.executions.values();
      assert.equal(execution!.status, 'FAILED');
      assert.equal(execution!.error, 'NodeNeverJoined');
      const instanceId = JSON.parse(execution!.input).instanceId;
      const [instance] = await instances([instanceId]);
      assert.ok(['shutting-down', 'terminated'].includes(instance!.State!.Name!), instance!.State!.Name);
    });
  });

  describe('events delivered more than once', () => {
    let world: World;
    before(async () => {
      world = await World.start({ deliveries: 3 });
      await world.addCluster('prod');
      world.account.seedVpc();
      world.account.createSelfManagedGroup({ cluster: 'prod', name: 'workers', min: 0, max: 2, desired: 0, ownershipTagPropagates: false, hooks: { launch: { name: 'eks-node-lifecycle-launch', heartbeatTimeout: 600 } } });
      await autoscaling().send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'workers', DesiredCapacity: 1 }));
      await world.settle();
    });
    after(() => world.stop());

    it('do the work once: one node-join, one CONTINUE, and no duplicate tag writes after the first', async () => {
      assert.equal(world.stepFunctions.executions.size, 1);
      assert.equal([...world.stepFunctions.executions.values()][0]!.status, 'SUCCEEDED');
      assert.equal(callsOf(world, 'CompleteLifecycleAction').length, 1);
      assert.equal(world.bus.failed.length, 0, 'no delivery failed');
      const launches = world.bus.deliveries.filter((d) => d.event['detail-type'] === 'EC2 Instance-launch Lifecycle Action');
      assert.equal(launches.length, 3);
      const [instanceId] = await instanceIdsOf(world, 'workers');
      const [instance] = await instances([instanceId!]);
      assert.equal(tag(instance!, 'kubernetes.io/cluster/prod'), 'owned');
    });
  });

  describe('instances that are not ours', () => {
    let world: World;
    before(async () => {
      world = await World.start({ params: { managedClusters: 'prod' } });
      await world.addCluster('prod');
      await world.addCluster('dev');
      world.account.seedVpc();
      const dev = world.account.createSelfManagedGroup({ cluster: 'dev', name: 'dev-workers', min: 1, max: 1, desired: 1, ownershipTagPropagates: false, hooks: { launch: { heartbeatTimeout: 300 } } });
      // a group of no cluster at all: no ownership tag anywhere
      const template = world.account.ec2.launchTemplates.create({ LaunchTemplateName: 'batch', LaunchTemplateData: { ImageId: dev.imageId, InstanceType: 'm5.large' } }).LaunchTemplate!;
      world.account.autoscaling.createAutoScalingGroup({
        AutoScalingGroupName: 'batch',
        LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId, Version: '$Latest' },
        MinSize: 1,
        MaxSize: 1,
        DesiredCapacity: 1,
        VPCZoneIdentifier: world.account.seedVpc().subnets.map((s) => s.subnetId).join(','),
      });
      await world.run(120_000);
    });
    after(() => world.stop());

    it('are ignored with a logged reason and never tagged, nor their hooks completed', () => {
      const reasons = world.logs.filter((l) => l.message === 'instance ignored').map((l) => String(l.reason));
      assert.ok(reasons.includes('cluster dev is not managed by this deployment'), reasons.join('; '));
      assert.ok(reasons.some((r) => r.startsWith('no cluster ownership tag')), reasons.join('; '));
      for (const command of ['CreateTags', 'CreateOrUpdateTags', 'CompleteLifecycleAction', 'StartExecution']) {
        assert.deepEqual(callsOf(world, command), [], `${command}`);
      }
      assert.equal(world.stepFunctions.executions.size, 0);
    });
  });
});
