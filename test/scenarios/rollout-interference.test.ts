import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, SetDesiredCapacityCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type BusEvent, releaseAmi, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { rolloutControl } from './long-executions.js';
import { cordoned, groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * A rollout of a self-managed group while others change the group under it (issue 23, B4 and
 * B5): an autoscaler moving desired capacity, a person setting another launch template
 * version, groups that name `$Latest` or `$Default` rather than a number. The rollout notices,
 * pauses naming the change, never writes it back, and every ending leaves the group's own
 * settings as the group had them. Each scenario ends on the invariant monitor.
 */

const region = 'eu-west-1';
const autoscaling = () => new AutoScalingClient({ region });
const ec2 = () => new EC2Client({ region });
const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const detailOf = (event: BusEvent | undefined): Record<string, any> => (event?.detail ?? {}) as Record<string, any>;
const control = rolloutControl;

/** Writes by anyone but the rollout's own functions: what a person, a pipeline or an autoscaler did. */
const rolloutWrites = (world: World, since: number) =>
  world.account.writes().filter((c) => c.at >= since && !c.error && (c.input as { AutoScalingGroupName?: string }).AutoScalingGroupName === 'workers' && c.command === 'UpdateAutoScalingGroup');

async function launchTemplate(world: World, id: string) {
  const template = (await ec2().send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))).LaunchTemplates![0]!;
  const latest = (await ec2().send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Latest'] }))).LaunchTemplateVersions![0]!;
  void world;
  return { defaultVersion: template.DefaultVersionNumber!, latestVersion: template.LatestVersionNumber!, latestImage: latest.LaunchTemplateData?.ImageId };
}

describe('Interference: an autoscaler moves desired capacity while the canary launches', () => {
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let monitor: InvariantMonitor;
  let image: string;
  let startedAt: number;
  before(async () => {
    setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world, group } = setup;
    await autoscaling().send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.autoScalingGroupName, MaxSize: 10 }));
    image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    monitor = watchInvariants(world);
    startedAt = world.clock.now();
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    // the rollout has raised desired from 4 to 5 for the canary; the autoscaler wants two more nodes
    await world.settle(Date.parse('2026-11-21T09:02:30Z'));
    await autoscaling().send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group.autoScalingGroupName, DesiredCapacity: 7 }));
    await world.settle(Date.parse('2026-11-21T09:10:00Z'));
  });
  after(() => setup.world.stop());

  it('pauses at its next step, naming the change, and says so once', () => {
    const paused = published(setup.world, 'Rollout Paused');
    assert.equal(paused.length, 1);
    assert.deepEqual(detailOf(paused[0]).changes, ['desired capacity moved from 5 to 7']);
    assert.match(detailOf(paused[0]).summary, /changed outside this rollout: desired capacity moved from 5 to 7/);
    const [execution] = rollouts(setup.world);
    assert.equal(execution!.status, 'RUNNING');
    assert.equal(execution!.history.at(-1)?.state, 'Paused');
  });

  it('writes nothing back while paused, and blames no capacity', async () => {
    const writes = rolloutWrites(setup.world, Date.parse('2026-11-21T09:02:30Z'));
    assert.deepEqual(writes.map((w) => w.input), [], 'the autoscaler\'s 7 stands');
    assert.equal((await groupState(setup.group.autoScalingGroupName)).desired, 7);
    assert.equal(published(setup.world, 'Rollout Rolling Back').length, 0);
  });

  it('goes on when a person resumes, adopting the change: every node on the new image, 4 + 2 nodes at the end', async () => {
    const { world, group } = setup;
    await control(world, 'resume');
    await world.settle();
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
    const final = await groupState(group.autoScalingGroupName);
    assert.equal(final.desired, 6, 'the autoscaler asked for two more than the rollout had: kept');
    assert.equal(final.max, 10);
    assert.equal(final.instances.length, 6);
    assert.ok([...final.images.values()].every((id) => id === image), JSON.stringify([...final.images]));
    assert.deepEqual(detailOf(published(world, 'Rollout Finished')[0]).adopted, ['desired capacity moved from 5 to 7']);
    assert.equal(published(world, 'Rollout Resumed').length, 1);
    await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 2, sizes: { desired: 6 } }] });
    void startedAt;
  });
});

describe('Interference: a person points the group at another launch template version mid-rollout', () => {
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let monitor: InvariantMonitor;
  let theirs: string;
  before(async () => {
    setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world, group } = setup;
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    monitor = watchInvariants(world);
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle(Date.parse('2026-11-21T09:04:10Z'));
    // their own version (a copy of the original), set by hand in the middle of batch 2
    const created = await ec2().send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: group.launchTemplateId, SourceVersion: '1', VersionDescription: 'hotfix by bob', LaunchTemplateData: {} }));
    theirs = String(created.LaunchTemplateVersion!.VersionNumber);
    await autoscaling().send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.autoScalingGroupName, LaunchTemplate: { LaunchTemplateId: group.launchTemplateId, Version: theirs } }));
    await world.settle(Date.parse('2026-11-21T09:12:00Z'));
  });
  after(() => setup.world.stop());

  it('pauses naming the template change, and never points the group back at its own version', async () => {
    const [paused] = published(setup.world, 'Rollout Paused');
    assert.ok(paused, 'paused');
    assert.match(detailOf(paused).changes.join(), new RegExp(`launch template changed from ${setup.group.launchTemplateId} version 2 to ${setup.group.launchTemplateId} version ${theirs}`));
    assert.equal((await groupState(setup.group.autoScalingGroupName)).launchTemplateVersion, theirs);
  });

  it('aborted, it leaves their version, uncordons what it cordoned, restores the sizes, and releases the lock', async () => {
    const { world, group } = setup;
    await control(world, 'abort');
    await world.settle();
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
    const aborted = published(world, 'Rollout Aborted');
    assert.equal(aborted.length, 1);
    const final = await groupState(group.autoScalingGroupName);
    assert.equal(final.launchTemplateVersion, theirs, 'their version stays');
    assert.deepEqual([final.desired, final.min, final.max], [4, 4, 4]);
    assert.deepEqual(cordoned(world), []);
    assert.ok(!final.suspended.includes('AZRebalance'));
    // a mixed group (aborted midway), on a version nobody's instances run yet: judged on budgets, terminations, locks
    const report = monitor.report();
    assert.deepEqual(report.budgetViolations, []);
    assert.deepEqual(report.terminations.filter((t) => t.podsToEvict.length > 0), []);
    await monitor.assertHeld();
  });
});

describe('A group that names $Default or $Latest gets that setting back, whatever the end', () => {
  async function roll(setting: '$Latest' | '$Default', outcome: 'finished' | 'rolled-back') {
    const setup = await selfManagedWorld({ nodes: 2, tags: {}, launchTemplateVersion: setting });
    const { world, group } = setup;
    const monitor = watchInvariants(world);
    const target = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', ...(outcome === 'rolled-back' ? { brokenBootstrap: true } : {}) }).image.ImageId!;
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
    return { ...setup, monitor, target, execution: rollouts(world)[0]! };
  }

  it('$Latest, rolled back: the rollout\'s version is dropped, so $Latest names the original again', async () => {
    const run = await roll('$Latest', 'rolled-back');
    try {
      assert.equal(run.execution.error, 'RolledBack');
      const final = await groupState(run.group.autoScalingGroupName);
      assert.equal(final.launchTemplateVersion, '$Latest');
      const template = await launchTemplate(run.world, run.group.launchTemplateId);
      assert.equal(template.latestVersion, 1, 'version 2 (the broken image) is gone');
      assert.notEqual(template.latestImage, run.target);
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 1 }] });
    } finally {
      await run.world.stop();
    }
  });

  it('$Latest, finished: $Latest, which names the new version', async () => {
    const run = await roll('$Latest', 'finished');
    try {
      assert.equal(run.execution.status, 'SUCCEEDED', `${run.execution.error}: ${run.execution.cause}`);
      assert.equal((await groupState(run.group.autoScalingGroupName)).launchTemplateVersion, '$Latest');
      assert.equal((await launchTemplate(run.world, run.group.launchTemplateId)).latestImage, run.target);
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 1 }] });
    } finally {
      await run.world.stop();
    }
  });

  it('$Default, rolled back: $Default, whose version never moved', async () => {
    const run = await roll('$Default', 'rolled-back');
    try {
      assert.equal(run.execution.error, 'RolledBack');
      assert.equal((await groupState(run.group.autoScalingGroupName)).launchTemplateVersion, '$Default');
      assert.equal((await launchTemplate(run.world, run.group.launchTemplateId)).defaultVersion, 1);
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 1 }] });
    } finally {
      await run.world.stop();
    }
  });

  it('$Default, finished: the new version becomes the default, and the group names $Default again', async () => {
    const run = await roll('$Default', 'finished');
    try {
      assert.equal(run.execution.status, 'SUCCEEDED', `${run.execution.error}: ${run.execution.cause}`);
      assert.equal((await groupState(run.group.autoScalingGroupName)).launchTemplateVersion, '$Default');
      const template = await launchTemplate(run.world, run.group.launchTemplateId);
      assert.equal(template.defaultVersion, 2);
      assert.equal(template.latestImage, run.target);
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 1 }] });
    } finally {
      await run.world.stop();
    }
  });
});
