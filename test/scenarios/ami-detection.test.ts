import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateLaunchTemplateVersionCommand, DescribeLaunchTemplateVersionsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { cliInSandbox, sandboxOperator } from '../../scripts/cli-sandbox.js';
import { putAccessPolicy, releaseAmi, World } from '@eks-node-lifecycle/sandbox';

/**
 * AMI release detection in the sandbox: a release published in the simulated SSM (or a custom
 * AMI announced by an `EC2 AMI State Change` event) → detection → one ami-rollout per stale,
 * opted-in group → a launch template version with the new image and the family's bootstrap
 * → an instance launched from it joins the cluster.
 */
const region = 'eu-west-1';
const ec2 = () => new EC2Client({ region });

async function versionsOf(launchTemplateId: string) {
  return (await ec2().send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId }))).LaunchTemplateVersions ?? [];
}

async function launchFrom(world: World, launchTemplateId: string, version: number): Promise<string> {
  const subnet = world.account.seedVpc().subnets[0]!.subnetId;
  const out = await ec2().send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, SubnetId: subnet, LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: String(version) } }));
  return out.Instances![0]!.InstanceId!;
}

const joined = (world: World, instanceId: string) =>
  (world.cluster('prod').store.list('nodes') as any[]).some((n) => n.spec.providerID.endsWith(`/${instanceId}`));

describe('Scenario: a new EKS-optimized release', () => {
  let world: World;
  const groups: Record<string, { launchTemplateId: string; imageId: string }> = {};
  let first: any;
  let second: any;
  let newImage: string;
  before(async () => {
    world = await World.start();
    await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    const make = (name: string, tags: Record<string, string>, amiFamily: 'al2023' | 'bottlerocket' = 'al2023') => {
      const g = world.account.createSelfManagedGroup({ cluster: 'prod', name, amiFamily, min: 0, max: 2, desired: 0, tags });
      groups[name] = { launchTemplateId: g.launchTemplateId, imageId: g.imageId };
    };
    make('web', { 'eks-node-lifecycle/rollout': 'auto' });
    make('soaking', { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/channel': 'soak=7d' });
    make('not-opted-in', {});
    make('bottlerocket', { 'eks-node-lifecycle/rollout': 'approve' }, 'bottlerocket');
    await world.settle();
    const current = (world.account.ec2 as any).images.get(groups.web!.imageId).image;
    make('pinned', { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/channel': `pinned=${current.ImageId}` });

    newImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261120' }).image.ImageId!;
    releaseAmi(world.account, { family: 'bottlerocket', kubernetesVersion: '1.31', date: '20261120' });
    first = await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    second = await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
  });
  after(() => world.stop());

  it('plans exactly the opted-in stale groups; pinned, soaking and not-opted-in ones stay', () => {
    const actions = Object.fromEntries(first.plans.map((p: any) => [p.group, p.action]));
    assert.deepEqual(actions, { web: 'roll', soaking: 'current', 'not-opted-in': 'skip', bottlerocket: 'roll', pinned: 'current' });
    const web = first.plans.find((p: any) => p.group === 'web');
    assert.equal(web.to.imageId, newImage);
    assert.equal(web.from.imageId, groups.web!.imageId);
  });

  it('starts one rollout per stale group, and none when detection runs again', () => {
    assert.deepEqual(first.started.map((s: any) => [s.group, s.alreadyRunning]).sort(), [['bottlerocket', false], ['web', false]]);
    // the same names again: Step Functions hands back the executions already there
    assert.deepEqual(second.started.map((s: any) => s.executionName).sort(), first.started.map((s: any) => s.executionName).sort());
    const rollouts = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout'));
    assert.equal(rollouts.length, 2);
    const byGroup = Object.fromEntries(rollouts.map((e) => [JSON.parse(e.input).group.name, e]));
    assert.equal(byGroup['web']!.status, 'SUCCEEDED', `${byGroup['web']!.error} ${byGroup['web']!.cause}`);
    // rollout=approve: the execution waits at its approval gate, having changed nothing
    assert.equal(byGroup['bottlerocket']!.status, 'RUNNING');
    assert.equal(byGroup['bottlerocket']!.history.at(-1)!.state, 'RequestApproval');
    assert.ok(world.published.some((e: any) => (e.DetailType ?? e['detail-type']) === 'Rollout Approval Requested'));
  });

  it('creates one launch template version with the new image, from which an instance joins the cluster', async () => {
    const versions = await versionsOf(groups.web!.launchTemplateId);
    const withNew = versions.filter((v) => v.LaunchTemplateData?.ImageId === newImage);
    assert.equal(withNew.length, 1);
    const tags = withNew[0]!.LaunchTemplateData!.TagSpecifications!;
    for (const type of ['instance', 'volume']) {
      assert.ok(tags.some((t) => t.ResourceType === type && t.Tags!.some((x) => x.Key === 'kubernetes.io/cluster/prod' && x.Value === 'owned')), type);
    }
    const instanceId = await launchFrom(world, groups.web!.launchTemplateId, withNew[0]!.VersionNumber!);
    await world.run(120_000);
    assert.ok(joined(world, instanceId), JSON.stringify(world.account.kubeletNotes.filter((n: any) => JSON.stringify(n).includes(instanceId))));
  });

  it('does the same for Bottlerocket once a person approves', async () => {
    assert.equal((await versionsOf(groups.bottlerocket!.launchTemplateId)).length, 1, 'nothing written before approval');
    // an approval comes from an authenticated person: here the CLI, through the service's function URL
    putAccessPolicy(world, { clusters: { prod: { approve: [sandboxOperator(world.model.accountId).id] } } });
    const answer = await cliInSandbox(world)('approve prod/bottlerocket');
    assert.equal(answer.ok, true, answer.text);
    await world.settle();
    const versions = await versionsOf(groups.bottlerocket!.launchTemplateId);
    const latest = versions.sort((a, b) => b.VersionNumber! - a.VersionNumber!)[0]!;
    assert.notEqual(latest.LaunchTemplateData!.ImageId, groups.bottlerocket!.imageId);
    const instanceId = await launchFrom(world, groups.bottlerocket!.launchTemplateId, latest.VersionNumber!);
    await world.run(120_000);
    assert.ok(joined(world, instanceId));
  });
});

describe('Scenario: a custom AMI announced by EC2 AMI State Change', () => {
  it('rolls the group whose selector matches onto it, with a full bootstrap that joins', async () => {
    const world = await World.start();
    try {
      await world.addCluster('prod', { version: '1.31' });
      world.account.seedVpc();
      const group = world.account.createSelfManagedGroup({
        cluster: 'prod',
        name: 'golden',
        amiFamily: 'al2023',
        min: 0,
        max: 2,
        desired: 0,
        tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/ami-name-prefix': 'acme-eks-al2023-' },
      });
      await world.settle();
      const image = world.account.ec2.registerImage({
        name: 'acme-eks-al2023-1.31-20261121',
        family: 'al2023',
        kubernetesVersion: '1.31',
        ownerId: world.model.accountId,
        state: 'pending',
        tags: [
          { Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' },
          { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' },
        ],
      });
      world.account.ec2.setImageState(image.image.ImageId!, 'available');
      await world.settle();

      const rollouts = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout'));
      assert.equal(rollouts.length, 1, world.logs.filter((l) => l.message === 'detection').map((l) => JSON.stringify(l)).join('\n'));
      assert.equal(rollouts[0]!.status, 'SUCCEEDED', `${rollouts[0]!.error} ${rollouts[0]!.cause}`);
      const versions = await versionsOf(group.launchTemplateId);
      const custom = versions.find((v) => v.LaunchTemplateData?.ImageId === image.image.ImageId)!;
      assert.ok(custom);
      const instanceId = await launchFrom(world, group.launchTemplateId, custom.VersionNumber!);
      await world.run(120_000);
      assert.ok(joined(world, instanceId));
    } finally {
      await world.stop();
    }
  });
});

describe('Scenario: a launch template that breaks an EKS rule', () => {
  it('fails the rollout naming the rule, and writes no version', async () => {
    const world = await World.start();
    try {
      await world.addCluster('prod', { version: '1.31' });
      world.account.seedVpc();
      const group = world.account.createSelfManagedGroup({ cluster: 'prod', name: 'web', min: 0, max: 2, desired: 0, tags: { 'eks-node-lifecycle/rollout': 'auto' } });
      // IMDSv2 required with a hop limit of 1: pods cannot reach the instance metadata
      await ec2().send(
        new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: group.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } } }),
      );
      await world.settle();
      const before = (await versionsOf(group.launchTemplateId)).length;
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261120' });
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      const [rollout] = [...world.stepFunctions.executions.values()];
      assert.equal(rollout!.status, 'FAILED');
      // preflight validates the template before anything is written
      assert.equal(rollout!.error, 'PreflightFailed');
      const report = (world.lambda.invocations.find((i) => i.function === 'rolloutPreflight')!.outcome as { result: { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] } }).result;
      const check = report.checks.find((c) => c.name === 'launch-template-valid')!;
      assert.equal(check.ok, false);
      assert.match(check.detail, /imds-hop-limit/);
      assert.ok(!world.lambda.invocations.some((i) => i.function === 'prepareLaunchTemplate'));
      assert.equal((await versionsOf(group.launchTemplateId)).length, before, 'nothing was written');
    } finally {
      await world.stop();
    }
  });
});
