import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type InstanceRefresh,
  type RefreshPreferences,
} from '@aws-sdk/client-auto-scaling';
import { VirtualClock } from '../clock';
import { SimAccount } from '../aws/account';
import { releaseAmi } from '../aws/ami-catalogue';
import { isTerminating } from '../aws/asg-model';
import type { AwsEvent, LifecycleActionDetail } from '../aws/events';
import { toBase64 } from '../aws/user-data';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

/**
 * A 10-node self-managed group on launch template version 1 with a terminate hook, and a
 * "drain" that completes each terminate action 60 s after it opens (as the service would).
 */
async function fleet(t: { after: (fn: () => void) => void }, options: { desired?: number; drainSeconds?: number; version?: string } = {}) {
  const clock = new VirtualClock();
  const events: AwsEvent[] = [];
  const drainSeconds = options.drainSeconds ?? 60;
  let account!: SimAccount;
  const drained: string[] = [];
  account = new SimAccount({
    clock,
    emit: (event) => {
      events.push(event);
      if (event['detail-type'] !== 'EC2 Instance-terminate Lifecycle Action') return;
      const detail = event.detail as unknown as LifecycleActionDetail;
      clock.after(drainSeconds * 1000, () => {
        drained.push(detail.EC2InstanceId);
        account.autoscaling.completeLifecycleAction({ AutoScalingGroupName: detail.AutoScalingGroupName, LifecycleHookName: detail.LifecycleHookName, LifecycleActionToken: detail.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' });
      });
    },
  }).bind();
  t.after(() => account.restore());
  account.seedVpc();
  account.eks.addCluster({ name: 'prod', version: '1.31' });
  const desired = options.desired ?? 10;
  const group = account.createSelfManagedGroup({
    cluster: 'prod', name: 'web', desired, min: desired, max: desired, launchTemplateVersion: options.version ?? '1',
    hooks: { terminate: { heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
  });
  await clock.advance(60_000);
  const image = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
  const v2 = account.ec2.launchTemplates.createVersion({ LaunchTemplateId: group.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { ImageId: image.image.ImageId } });
  const asg = new AutoScalingClient(config);
  const live = () => [...account.autoscaling.group('web').instances.values()].filter((i) => !isTerminating(i.lifecycleState));
  // the lowest InService count seen at any change of the group
  const watch = { minInService: Number.POSITIVE_INFINITY };
  account.onLog(() => {
    const inService = live().filter((i) => i.lifecycleState === 'InService' && i.health === 'Healthy').length;
    watch.minInService = Math.min(watch.minInService, inService);
  });
  return { clock, account, events, asg, group, drained, live, watch, newVersion: String(v2.LaunchTemplateVersion!.VersionNumber), imageId: image.image.ImageId! };
}

async function start(asg: AutoScalingClient, launchTemplateId: string, version: string, preferences: RefreshPreferences): Promise<string> {
  const out = await asg.send(new StartInstanceRefreshCommand({
    AutoScalingGroupName: 'web',
    Strategy: 'Rolling',
    DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: version } },
    Preferences: preferences,
  }));
  return out.InstanceRefreshId!;
}

async function refresh(asg: AutoScalingClient, id?: string): Promise<InstanceRefresh> {
  const out = await asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web', ...(id ? { InstanceRefreshIds: [id] } : {}) }));
  return out.InstanceRefreshes![0]!;
}

/** Advances in steps until the refresh leaves `statuses` (or the time runs out). */
async function until(clock: VirtualClock, asg: AutoScalingClient, id: string, statuses: string[], limitMs = 6 * 3600_000): Promise<InstanceRefresh> {
  const deadline = clock.now() + limitMs;
  for (;;) {
    const r = await refresh(asg, id);
    if (!statuses.includes(r.Status!) || clock.now() >= deadline) return r;
    await clock.advance(30_000);
  }
}

describe('Auto Scaling instance refresh (sandbox)', () => {
  it('replaces 10 instances one at a time with MinHealthyPercentage 90: never fewer than 9 InService, every one through the terminate hook', async (t) => {
    const { clock, account, asg, group, drained, live, watch, newVersion, imageId } = await fleet(t);
    const old = live().map((i) => i.instanceId).sort();
    assert.equal(old.length, 10);
    watch.minInService = 10;

    const id = await start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 90, InstanceWarmup: 60, SkipMatching: true });
    assert.equal((await refresh(asg, id)).Status, 'Pending');
    await clock.advance(10_000);
    const running = await refresh(asg, id);
    assert.equal(running.Status, 'InProgress');
    assert.equal(running.InstancesToUpdate, 10);
    assert.equal(running.Preferences?.MinHealthyPercentage, 90);
    // the group keeps its configuration until the refresh succeeds
    const during = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.equal(during.LaunchTemplate?.Version, '1');

    const done = await until(clock, asg, id, ['Pending', 'InProgress']);
    assert.equal(done.Status, 'Successful', done.StatusReason);
    assert.equal(done.PercentageComplete, 100);
    assert.equal(done.InstancesToUpdate, 0);
    assert.ok(watch.minInService >= 9, `InService dropped to ${watch.minInService}`);
    assert.deepEqual(drained.sort(), old, 'every old instance went through the terminate hook');
    const now = live();
    assert.equal(now.length, 10);
    for (const i of now) {
      assert.equal(i.launchTemplate?.Version, newVersion);
      assert.equal(i.imageId, imageId);
      assert.ok(!old.includes(i.instanceId));
    }
    const after = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.equal(after.LaunchTemplate?.Version, newVersion, 'the desired configuration becomes the group\'s');
    // one at a time: each wave waits for the 60 s drain and the old instance's shutdown
    assert.ok(done.EndTime!.getTime() - done.StartTime!.getTime() >= 10 * 90_000, `${(done.EndTime!.getTime() - done.StartTime!.getTime()) / 1000} s`);
    assert.ok(account.events.some((e) => e['detail-type'] === 'EC2 Auto Scaling Instance Refresh Started'));
    assert.ok(account.events.some((e) => e['detail-type'] === 'EC2 Auto Scaling Instance Refresh Succeeded'));
  });

  it('replaces two at a time with MinHealthyPercentage 80, rounding the floor up', async (t) => {
    const { clock, asg, group, live, watch, newVersion } = await fleet(t);
    watch.minInService = 10;
    const id = await start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 80, InstanceWarmup: 0, SkipMatching: true });
    await clock.advance(10_000);
    assert.equal(live().filter((i) => i.launchTemplate?.Version === newVersion).length, 2, 'two replacements in the first wave');
    const done = await until(clock, asg, id, ['Pending', 'InProgress']);
    assert.equal(done.Status, 'Successful');
    assert.equal(watch.minInService, 8);
  });

  it('skips instances already on the desired configuration (SkipMatching), and replaces them without it', async (t) => {
    const { clock, account, asg, group, live, drained } = await fleet(t, { desired: 4 });
    // the group already runs version 1: refreshing to version 1 has nothing to do
    const skip = await start(asg, group.launchTemplateId, '1', { MinHealthyPercentage: 50, InstanceWarmup: 0, SkipMatching: true });
    const skipped = await until(clock, asg, skip, ['Pending', 'InProgress']);
    assert.equal(skipped.Status, 'Successful');
    assert.equal(drained.length, 0);
    const before = live().map((i) => i.instanceId).sort();

    const all = await start(asg, group.launchTemplateId, '1', { MinHealthyPercentage: 50, InstanceWarmup: 0, SkipMatching: false });
    const replaced = await until(clock, asg, all, ['Pending', 'InProgress']);
    assert.equal(replaced.Status, 'Successful');
    assert.deepEqual(drained.sort(), before);
    assert.equal(live().filter((i) => before.includes(i.instanceId)).length, 0);
    // newest first
    const listed = (await asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }))).InstanceRefreshes!;
    assert.deepEqual(listed.map((r) => r.InstanceRefreshId), [all, skip]);
    assert.ok(account.calls.some((c) => c.command === 'DescribeInstanceRefreshes'));
  });

  it('pauses at a checkpoint for CheckpointDelay, InProgress with a reason naming the checkpoint, then continues', async (t) => {
    const { clock, account, asg, group, live, newVersion } = await fleet(t);
    const id = await start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 80, InstanceWarmup: 30, SkipMatching: true, CheckpointPercentages: [20, 100], CheckpointDelay: 1800 });
    const paused = await until(clock, asg, id, ['Pending', 'InProgress'], 20 * 60_000);
    // the loop stops on time: the refresh is still InProgress, paused
    assert.equal(paused.Status, 'InProgress');
    assert.match(paused.StatusReason ?? '', /checkpoint 20%/i);
    assert.equal(paused.PercentageComplete, 20);
    assert.equal(live().filter((i) => i.launchTemplate?.Version === newVersion).length, 2, 'paced to the checkpoint, not past it');
    const reached = account.events.filter((e) => e['detail-type'] === 'EC2 Auto Scaling Instance Refresh Checkpoint Reached');
    assert.equal(reached.length, 1);
    assert.deepEqual({ p: reached[0]!.detail.CheckpointPercentage, d: reached[0]!.detail.CheckpointDelay }, { p: '20', d: '1800' });
    const pausedAt = Date.parse(reached[0]!.time);

    await clock.advance(pausedAt + 1790_000 - clock.now());
    assert.equal(live().filter((i) => i.launchTemplate?.Version === newVersion).length, 2, 'nothing moves during the delay');
    assert.match((await refresh(asg, id)).StatusReason ?? '', /checkpoint/i);
    const done = await until(clock, asg, id, ['Pending', 'InProgress']);
    assert.equal(done.Status, 'Successful');
    assert.ok(done.EndTime!.getTime() - pausedAt >= 1800_000);
  });

  it('refuses a second refresh while one runs (InstanceRefreshInProgressFault); cancel ends it as Cancelled without undoing replacements', async (t) => {
    const { clock, asg, group, live, newVersion } = await fleet(t);
    const id = await start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 90, InstanceWarmup: 0, SkipMatching: true });
    await assert.rejects(start(asg, group.launchTemplateId, newVersion, {}), { name: 'InstanceRefreshInProgressFault' });
    await clock.advance(3 * 60_000);
    const cancelled = await asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    assert.equal(cancelled.InstanceRefreshId, id);
    assert.equal((await refresh(asg, id)).Status, 'Cancelling');
    const end = await until(clock, asg, id, ['Cancelling']);
    assert.equal(end.Status, 'Cancelled');
    const moved = live().filter((i) => i.launchTemplate?.Version === newVersion).length;
    assert.ok(moved >= 1 && moved < 10, `${moved} replaced before the cancel`);
    await clock.advance(30 * 60_000);
    assert.equal(live().filter((i) => i.launchTemplate?.Version === newVersion).length, moved, 'no replacement after Cancelled');
    assert.equal(live().length, 10);
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.equal(g.LaunchTemplate?.Version, '1');
    await assert.rejects(asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' })), { name: 'ActiveInstanceRefreshNotFoundFault' });
  });

  it('rolls back: the new instances are replaced by the previous configuration (RollbackInProgress → RollbackSuccessful)', async (t) => {
    const { clock, asg, group, live, newVersion } = await fleet(t, { desired: 4 });
    const id = await start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 75, InstanceWarmup: 0, SkipMatching: true, CheckpointPercentages: [50, 100], CheckpointDelay: 3600 });
    const paused = await until(clock, asg, id, ['Pending', 'InProgress'], 20 * 60_000);
    assert.equal(paused.PercentageComplete, 50);
    await asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    const rolling = await refresh(asg, id);
    assert.equal(rolling.Status, 'RollbackInProgress');
    assert.equal(rolling.RollbackDetails?.PercentageCompleteOnRollback, 50);
    const end = await until(clock, asg, id, ['RollbackInProgress']);
    assert.equal(end.Status, 'RollbackSuccessful');
    assert.equal(end.PercentageComplete, 0);
    assert.deepEqual(live().map((i) => i.launchTemplate?.Version), ['1', '1', '1', '1']);
  });

  it('refuses to roll back a group that launches from $Latest (IrreversibleInstanceRefreshFault)', async (t) => {
    const { clock, asg, group, newVersion } = await fleet(t, { desired: 2, version: '$Latest' });
    await start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 50, InstanceWarmup: 0 });
    await clock.advance(10_000);
    await assert.rejects(asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' })), { name: 'IrreversibleInstanceRefreshFault' });
  });

  it('fails the refresh when a replacement fails to launch, and leaves the group on its configuration', async (t) => {
    const { clock, account, asg, group, live } = await fleet(t, { desired: 3 });
    // a version whose instances cannot launch (an image that does not exist)
    const broken = account.ec2.launchTemplates.createVersion({ LaunchTemplateId: group.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-0000000000000dead', UserData: toBase64('#!/bin/bash\n') } });
    const id = await start(asg, group.launchTemplateId, String(broken.LaunchTemplateVersion!.VersionNumber), { MinHealthyPercentage: 60, InstanceWarmup: 0, SkipMatching: true });
    const end = await until(clock, asg, id, ['Pending', 'InProgress']);
    assert.equal(end.Status, 'Failed');
    assert.match(end.StatusReason ?? '', /launch/i);
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.equal(g.LaunchTemplate?.Version, '1');
    await clock.advance(30 * 60_000);
    assert.equal(live().length, 3, 'the group refills from its own configuration');
  });

  it('validates preferences as Auto Scaling does', async (t) => {
    const { asg, group, newVersion } = await fleet(t, { desired: 1 });
    await assert.rejects(start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 101 }), { name: 'ValidationError' });
    await assert.rejects(start(asg, group.launchTemplateId, newVersion, { MaxHealthyPercentage: 150 }), { name: 'ValidationError' });
    await assert.rejects(start(asg, group.launchTemplateId, newVersion, { CheckpointPercentages: [50, 20] }), { name: 'ValidationError' });
    await assert.rejects(start(asg, group.launchTemplateId, newVersion, { CheckpointDelay: 60 }), { name: 'ValidationError' });
    await assert.rejects(start(asg, group.launchTemplateId, '99', {}), { name: 'ValidationError' });
    await assert.rejects(start(asg, group.launchTemplateId, newVersion, { MinHealthyPercentage: 90, MaxHealthyPercentage: 110 }), { name: 'SandboxNotImplementedError' });
    await assert.rejects(asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'nope' })), { name: 'ValidationError' });
  });
});
