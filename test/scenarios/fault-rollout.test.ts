import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeScalingActivitiesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { type BusEvent, crashLambda, type CrashPlan, releaseAmi, type SimExecution, throttleEveryService, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { cordoned, groupState, rolloutRequest, rollouts, selfManagedWorld } from './rollout-helpers.js';
import { prepareRollout } from './rollout-under-faults.js';

/**
 * The rollout half of the fault matrix (issue 7): each fault injected into a real rollout of
 * a self-managed group in the sandbox, every describe ending on the shared invariants
 * (fault-invariants.ts) and on what that fault must lead to.
 */

type Setup = Awaited<ReturnType<typeof selfManagedWorld>>;
type GroupState = Awaited<ReturnType<typeof groupState>>;

const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const detailOf = (event: BusEvent | undefined): Record<string, any> => (event?.detail ?? {}) as Record<string, any>;
const failedAttempts = (e: SimExecution, state: string): string[] => e.history.filter((h) => h.state === state && h.error).map((h) => h.error!);
const drains = (world: World): SimExecution[] => [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-node-drain'));

/** Instances the group launched since `since` (virtual ms): each is a replacement, or a retry of one. */
function launchedSince(world: World, group: string, since: number): string[] {
  return [...world.account.ec2.instances.records.values()]
    .filter((r) => r.instance.Tags?.some((t) => t.Key === 'aws:autoscaling:groupName' && t.Value === group) && r.instance.LaunchTime!.getTime() >= since)
    .map((r) => r.instance.InstanceId!);
}

/** The highest desired capacity any call asked of the group since the world began. */
function peakDesired(world: World, group: string): number {
  return Math.max(
    ...world.account
      .writes()
      .filter((c) => !c.error && (c.input as { AutoScalingGroupName?: string }).AutoScalingGroupName === group)
      .map((c) => (c.input as { DesiredCapacity?: number }).DesiredCapacity ?? 0),
  );
}

function assertEveryNodeReplaced(before_: GroupState, after_: GroupState, imageId: string): void {
  assert.equal(after_.instances.length, before_.instances.length);
  assert.deepEqual(after_.instances.filter((id) => before_.instances.includes(id)), [], 'no old instance left');
  assert.ok([...after_.images.values()].every((image) => image === imageId), JSON.stringify([...after_.images]));
  assert.deepEqual([after_.desired, after_.min, after_.max], [before_.desired, before_.min, before_.max]);
}

describe('Fault: AWS throttling on 30 % of all calls during a rollout', () => {
  /**
   * The account's services are throttled per attempt and the SDK's own standard retries absorb
   * what they would (3 attempts, throttling backed off on the virtual clock, the retry quota);
   * DynamoDB, Step Functions, EventBridge and Lambda are failed at `send`, where
   * `attemptsPerCall` stands in for those retries. `sdkAttempts: 1` takes the retries away
   * (AWS_MAX_ATTEMPTS=1, as a client configured so would have it): every throttle reaches a
   * handler, which no real client configured as ours would see.
   */
  async function throttledRollout(sdkAttempts: 1 | 3, from?: string, until?: string) {
    const prepared = await prepareRollout({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world, start } = prepared;
    if (sdkAttempts === 1) process.env.AWS_MAX_ATTEMPTS = '1';
    try {
      const arn = start('roll-while-throttled', 'alice');
      if (from) await world.settle(Date.parse(from));
      const throttling = throttleEveryService(world, 0.3, { seed: 7, attemptsPerCall: sdkAttempts });
      if (until) await world.settle(Date.parse(until));
      else await world.settle();
      throttling.restore();
      if (until) await world.settle();
      const { tally } = throttling;
      return { ...prepared, tally, execution: world.stepFunctions.executions.get(arn)! };
    } finally {
      delete process.env.AWS_MAX_ATTEMPTS;
    }
  }

  describe('as callers see it through the SDK standard retries (3 attempts per call)', () => {
    let run: Awaited<ReturnType<typeof throttledRollout>>;
    before(async () => {
      run = await throttledRollout(3);
    });
    after(() => run.world.stop());

    it('throttles 30 % of the attempts of every service the rollout calls, drains and hooks included', () => {
      const { tally } = run;
      assert.ok(tally.calls > 50, `${tally.calls} calls`);
      const share = tally.attemptsThrottled / tally.attempts;
      // 30 % within three standard deviations of a binomial share for this many attempts: a fixed
      // ±5 % window failed a seeded run whose sequence of attempts merely moved (0.3502 of 277)
      const spread = 3 * Math.sqrt((0.3 * 0.7) / tally.attempts);
      assert.ok(Math.abs(share - 0.3) < spread, `${share} of ${tally.attempts} attempts (30 % ± ${spread.toFixed(3)})`);
      const services = new Set(run.world.account.calls.filter((c) => c.at >= run.startedAt).map((c) => c.service));
      for (const service of ['ec2', 'autoscaling', 'eks']) assert.ok(services.has(service as never), `${service} called`);
      assert.ok(run.world.account.calls.some((c) => c.command === 'CompleteLifecycleAction' && !c.error), 'terminate hooks were completed');
    });

    it('retries the steps a throttle still failed, and replaces every node', async () => {
      const { execution, world } = run;
      assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
      const retried = [...world.stepFunctions.executions.values()].flatMap((e) => e.history.filter((h) => /^AwsTransientError/.test(h.error ?? '')));
      assert.ok(retried.length > 0, 'some step failed on a throttle and ran again');
      assertEveryNodeReplaced(run.before_, await groupState(run.group.autoScalingGroupName), run.image);
      assert.equal(published(world, 'Rollout Finished').length, 1);
    });

    it('holds the invariants: budgets, drained before terminated, capacity ≥ 4 − 2, one version, locks released, reported', async () => {
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 2 }] });
      assert.equal(run.monitor.report().terminations.length, 4);
    });
  });

  describe('with every throttle reaching the handlers (no SDK retries: harsher than AWS)', () => {
    let run: Awaited<ReturnType<typeof throttledRollout>>;
    before(async () => {
      run = await throttledRollout(1);
    });
    after(() => run.world.stop());

    it('gives up before changing anything, deterministically for the seed, and reports the throttling', async () => {
      const { execution, world } = run;
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'RolloutFailed');
      assert.ok(!execution.history.some((h) => h.state === 'Roll'), 'never reached the roll');
      // a step before the roll (Begin or Preflight, as the seed falls) used up its first try and 6 retries
      const exhausted = ['BeginRollout', 'Preflight'].map((state) => failedAttempts(execution, state)).find((f) => f.length === 7) ?? [];
      assert.equal(exhausted.length, 7, 'the first try and its 6 retries');
      assert.ok(exhausted.every((e) => /^AwsTransientError: transient AWS failure in \w+:\w+: (Rate exceeded|Request limit exceeded|The level of configured provisioned throughput for the table was exceeded)/.test(e)), exhausted.join('\n'));
      const failed = published(world, 'Rollout Failed');
      assert.equal(failed.length, 1);
      assert.match(JSON.stringify(detailOf(failed[0])), /AwsTransientError|Rate exceeded|Request limit exceeded/);
      assert.deepEqual(world.account.writes().filter((c) => c.at >= run.startedAt && !c.error), [], 'no AWS write went through');
      assert.deepEqual(await groupState(run.group.autoScalingGroupName), run.before_);
    });

    it('holds the invariants', async () => {
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 2 }] });
    });
  });

  describe('with every throttle reaching the handlers, a 12-minute storm from the middle of the roll on', () => {
    let run: Awaited<ReturnType<typeof throttledRollout>>;
    before(async () => {
      // the canary's replacement is launching when the storm begins; it passes 12 minutes later
      run = await throttledRollout(1, '2026-11-21T09:03:00Z', '2026-11-21T09:15:00Z');
    });
    after(() => run.world.stop());

    it('fails the roll, terminating no node undrained and keeping the floor, and reports it', async () => {
      const { execution, world } = run;
      assert.equal(execution.status, 'FAILED');
      assert.ok(execution.history.some((h) => h.state === 'RollAfterFailure'), 'the failed roll step led to the rollback');
      assert.ok(published(world, 'Rollout Rolled Back').length + published(world, 'Rollout Rollback Failed').length === 1, 'the end is reported');
      const report = run.monitor.report();
      assert.deepEqual(report.terminations.filter((t) => t.podsToEvict.length > 0), []);
      assert.ok(report.capacity[0]!.min >= 2, JSON.stringify(report.capacity));
    });

    // the storm fails the roll step through its retries; the rollback keeps retrying through
    // throttling (~20 min) and, the storm over, restores the group
    it('rolls back cleanly once the storm is over: the group as before, every invariant held', async () => {
      assert.equal(run.execution.error, 'RolledBack', `${run.execution.error}: ${run.execution.cause} ${JSON.stringify(published(run.world, 'Rollout Rollback Failed').map((e) => e.detail))}`);
      // where the storm caught the canary (the seeded draws follow the calls each step makes)
      // decides whether its old node was already gone: if it was, the rollback brought an
      // old-version instance back in its place, so one instance id differs; nothing else may
      // a node the rollout drained and asked to terminate, in a step that died before keeping its
      // state, and whose terminate-hook event requestDrain lost to the storm: found again by its
      // drain record, the rollback does not end while its hook is open (completed by the rollout
      // or by its own timeout, the node drained) — so the group is as before when it ends
      const after = await groupState(run.group.autoScalingGroupName);
      const shape = (g: typeof after) => ({ ...g, instances: g.instances.length, images: [...g.images.values()].sort() });
      assert.deepEqual(shape(after), shape(run.before_));
      assert.ok(after.instances.filter((id) => !run.before_.instances.includes(id)).length <= 1, 'at most one old-version instance launched back');
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 2 }] });
    });
  });
});

/** A rollout of 4 nodes (2 at a time) in which the given steps die midway; the world after it settled. */
async function crashedRollout(plans: CrashPlan[]) {
  const setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
  const { world } = setup;
  const before_ = await groupState(setup.group.autoScalingGroupName);
  const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
  const monitor = watchInvariants(world);
  const startedAt = world.clock.now();
  const crashes = crashLambda(world, plans);
  await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
  await world.settle();
  crashes.restore();
  return { ...setup, before_, image, monitor, startedAt, crashes: crashes.crashes, rollout: rollouts(world)[0]! };
}

/** The Task attempts that failed with a crash, across every execution, as `State: Error`. */
const crashedAttempts = (world: World): string[] =>
  [...world.stepFunctions.executions.values()].flatMap((e) => e.history.filter((h) => /^(Lambda\.Unknown|Sandbox\.Timedout):/.test(h.error ?? '')).map((h) => `${h.state}: ${h.error!.split(':')[0]}`));

describe('Fault: a Lambda step crashing midway, retried by the workflow', () => {
  describe('prepareLaunchTemplate killed after creating the version; the evicting step timed out after its first eviction', () => {
    let run: Awaited<ReturnType<typeof crashedRollout>>;
    before(async () => {
      run = await crashedRollout([
        // killed right after creating the version: the retry must find it, not make another
        { function: 'prepareLaunchTemplate', error: 'Lambda.Unknown', after: (w) => w.what === 'ec2:CreateLaunchTemplateVersion' },
        // timed out right after its first eviction (node-drain's drainStep, or the roll step
        // where the roll drains inline): the retry evicts only the rest
        { function: ['drainStep', 'rollStep'], error: 'Sandbox.Timedout', after: (w) => w.via === 'kube' && w.what.endsWith('/eviction') },
      ]);
    });
    after(() => run.world.stop());

    it('crashed each step once, right after its write, with the error Step Functions reports, and retried it', () => {
      assert.equal(run.crashes.length, 2);
      assert.deepEqual(run.crashes.map((c) => c.after.what.replace(/\/namespaces\/.*\//, '/…/')), ['ec2:CreateLaunchTemplateVersion', 'POST /api/v1/…/eviction']);
      const attempts = crashedAttempts(run.world);
      assert.ok(attempts.includes('PrepareLaunchTemplate: Lambda.Unknown'), attempts.join());
      assert.ok(attempts.some((a) => /^(DrainPass|Roll): Sandbox\.Timedout$/.test(a)), attempts.join());
    });

    it('completes the rollout: every node replaced, one launch template version, every drain finished', async () => {
      assert.equal(run.rollout.status, 'SUCCEEDED', `${run.rollout.error}: ${run.rollout.cause}`);
      assertEveryNodeReplaced(run.before_, await groupState(run.group.autoScalingGroupName), run.image);
      assert.deepEqual(run.monitor.report().launchTemplateVersions.map((v) => [v.imageId, v.versions.length]), [[run.image, 1]], 'the retried step found its version');
      assert.ok(drains(run.world).every((e) => e.status === 'SUCCEEDED' && (e.output as { outcome?: string }).outcome !== 'failed'));
    });

    it('holds the invariants, budgets included: the retried drain evicts nothing its budget cannot afford', async () => {
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 2 }] });
    });
  });

  describe('rollStep killed right after raising desired for the replacements', () => {
    let run: Awaited<ReturnType<typeof crashedRollout>>;
    before(async () => {
      run = await crashedRollout([
        { function: 'rollStep', error: 'Lambda.Unknown', after: (w) => w.what === 'autoscaling:UpdateAutoScalingGroup' && ((w.input as { DesiredCapacity?: number }).DesiredCapacity ?? 0) > 4 },
      ]);
    });
    after(() => run.world.stop());

    it('crashed the step once after its write, and the workflow retried it', () => {
      assert.deepEqual(run.crashes.map((c) => [c.function, (c.after.input as { DesiredCapacity?: number }).DesiredCapacity]), [['rollStep', 5]]);
      assert.deepEqual(crashedAttempts(run.world), ['Roll: Lambda.Unknown']);
      const roll = run.rollout.history.findIndex((h) => h.error?.startsWith('Lambda.Unknown'));
      assert.equal(run.rollout.history[roll + 1]?.state, 'Roll', 'retried, not caught');
    });

    it('holds the invariants whatever the retry led to: capacity, budgets, locks, the group as it should be', async () => {
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 2 }] });
    });

    // The retried step starts again from the state before the crash ('start'), sees the
    // replacement the crashed attempt launched among the group's instances, and counts it in
    // the new cycle's `known` (decide-self-managed.ts beginBatch): it then raises desired once
    // more (an extra instance), or, with desired capped at the surge, waits for a replacement
    // that never comes and rolls back after 15 min, reporting "no instance launched".
    it('does only the rest: completes, desired never past 4 + 2, each old node replaced by exactly one launch', async () => {
      assert.equal(run.rollout.status, 'SUCCEEDED', `${run.rollout.error}: ${run.rollout.cause}`);
      assertEveryNodeReplaced(run.before_, await groupState(run.group.autoScalingGroupName), run.image);
      assert.ok(peakDesired(run.world, run.group.autoScalingGroupName) <= 4 + 2, `peak desired ${peakDesired(run.world, run.group.autoScalingGroupName)}`);
      assert.equal(launchedSince(run.world, run.group.autoScalingGroupName, run.startedAt).length, 4);
    });
  });

  // The same question from the other side: replacements the roll did not launch in this
  // execution. An aborted rollout leaves nodes on the new version; the next rollout onto the
  // same image reuses that version, and must count those nodes as done, not as replacements
  // on their way for its first batch (which lowers desired below the group's size).
  describe('a rollout started again onto the same image after one was aborted midway', () => {
    let setup: Setup;
    let monitor: InvariantMonitor;
    let image: string;
    let again: SimExecution;
    let mixed: GroupState;
    before(async () => {
      setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
      const { world } = setup;
      image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
      const start = await rolloutRequest(world, setup.group);
      start('first', 'alice');
      await world.settle(Date.parse('2026-11-21T09:04:30Z'));
      await world.lambda.invoke('rolloutControl', { kind: 'rollout-control', cluster: 'prod', group: 'workers', action: 'abort', requestedBy: 'alice' });
      await world.settle();
      mixed = await groupState(setup.group.autoScalingGroupName);
      monitor = watchInvariants(world);
      again = world.stepFunctions.executions.get(start('again', 'bob'))!;
      await world.settle();
    });
    after(() => setup.world.stop());

    it('left the first rollout aborted with nodes on both images', () => {
      assert.equal(published(setup.world, 'Rollout Aborted').length, 1);
      const images = [...mixed.images.values()];
      assert.ok(images.includes(image) && images.some((id) => id !== image), JSON.stringify(images));
    });

    it('finishes the job: every node on the image, no version added, every invariant held', async () => {
      assert.equal(again.status, 'SUCCEEDED', `${again.error}: ${JSON.stringify(published(setup.world, 'Rollout Rolled Back').map((e) => detailOf(e).reason))}`);
      const final = await groupState(setup.group.autoScalingGroupName);
      assert.ok([...final.images.values()].every((id) => id === image), JSON.stringify([...final.images]));
      assert.deepEqual(monitor.report().launchTemplateVersions, []);
      await monitor.assertHeld({ groups: [{ name: setup.group.autoScalingGroupName, floor: 2 }] });
    });
  });
});

describe('Fault: the nodes of the new image never become Ready', () => {
  let setup: Setup;
  let monitor: InvariantMonitor;
  let before_: GroupState;
  before(async () => {
    setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2', 'eks-node-lifecycle/canary': '1' } });
    before_ = await groupState(setup.group.autoScalingGroupName);
    monitor = watchInvariants(setup.world);
    releaseAmi(setup.world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: true });
    await setup.world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await setup.world.settle();
  });
  after(() => setup.world.stop());

  it('rolls back and reports Rollout Rolled Back with the reason', () => {
    const [execution] = rollouts(setup.world);
    assert.equal(execution!.error, 'RolledBack');
    const rolledBack = published(setup.world, 'Rollout Rolled Back');
    assert.equal(rolledBack.length, 1);
    assert.match(detailOf(rolledBack[0]).reason, /not Ready within 15 min/);
  });

  it('leaves the group as before, terminates no old node and keeps the capacity floor', async () => {
    assert.deepEqual(await groupState(setup.group.autoScalingGroupName), before_);
    assert.deepEqual(cordoned(setup.world), []);
    const report = monitor.report();
    assert.deepEqual(report.terminations.filter((t) => before_.instances.includes(t.instanceId)), []);
    assert.equal(report.capacity.find((c) => c.group === setup.group.autoScalingGroupName)!.min, 4);
    await monitor.assertHeld({ groups: [{ name: setup.group.autoScalingGroupName, floor: 2 }] });
  });
});

describe('Fault: InsufficientInstanceCapacity on every launch', () => {
  let setup: Setup;
  let monitor: InvariantMonitor;
  let before_: GroupState;
  let instanceType: string;
  before(async () => {
    setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world } = setup;
    before_ = await groupState(setup.group.autoScalingGroupName);
    monitor = watchInvariants(world);
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    instanceType = [...world.account.autoscaling.groups.get(setup.group.autoScalingGroupName)!.instances.values()][0]!.instanceType;
    for (const subnet of world.account.ec2.subnets.values()) world.account.ec2.setCapacity(instanceType, subnet.subnet.AvailabilityZone!, false);
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
  });
  after(() => setup.world.stop());

  it('raises desired, and Auto Scaling reports failed launches naming InsufficientInstanceCapacity', async () => {
    const activities = (await new AutoScalingClient({ region: 'eu-west-1' }).send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: setup.group.autoScalingGroupName }))).Activities!;
    const failed = activities.filter((a) => a.StatusCode === 'Failed');
    assert.ok(failed.length > 0);
    for (const a of failed) assert.match(a.StatusMessage!, new RegExp(`^Could not launch On-Demand Instances\\. InsufficientInstanceCapacity - We currently do not have sufficient ${instanceType.replace('.', '\\.')} capacity`));
    assert.match(failed[0]!.Cause!, /increasing the capacity from 4 to 5/);
  });

  it('terminates nothing it could not replace, rolls back, and says why in words an operator can act on', async () => {
    const [execution] = rollouts(setup.world);
    assert.equal(execution!.error, 'RolledBack');
    assert.deepEqual(monitor.report().terminations, [], 'no instance terminated');
    assert.equal(monitor.report().capacity.find((c) => c.group === setup.group.autoScalingGroupName)!.min, 4);
    const reason = String(detailOf(published(setup.world, 'Rollout Rolled Back')[0]).reason);
    assert.match(reason, /no instance launched/);
    assert.match(reason, /InsufficientInstanceCapacity/);
    assert.deepEqual(await groupState(setup.group.autoScalingGroupName), before_);
  });

  it('holds the invariants', async () => {
    await monitor.assertHeld({ groups: [{ name: setup.group.autoScalingGroupName, floor: 2 }] });
  });
});

describe('Fault: three rollouts of one group started at the same instant (detection, CLI, chat)', () => {
  let setup: Setup;
  let monitor: InvariantMonitor;
  let image: string;
  let all: SimExecution[];
  before(async () => {
    setup = await selfManagedWorld({ nodes: 3, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world } = setup;
    image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    const start = await rolloutRequest(world, setup.group);
    monitor = watchInvariants(world);
    const at = world.clock.now();
    // the clock stands still while the detection handler runs: all three start at `at`
    const detection = world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    start('roll-from-cli', 'alice');
    start('roll-from-chat', 'bob');
    await detection;
    all = rollouts(world);
    assert.ok(all.every((e) => e.startDate.getTime() === at), 'started at one instant');
    await world.settle();
  });
  after(() => setup.world.stop());

  it('rolls exactly one; the others end already-rolling naming it, and say so', () => {
    assert.equal(all.length, 3);
    assert.ok(all.every((e) => e.status === 'SUCCEEDED'), all.map((e) => `${e.name} ${e.status} ${e.error}`).join('\n'));
    const rolled = all.filter((e) => e.history.some((h) => h.state === 'Roll'));
    const declined = all.filter((e) => (e.output as { decision?: string }).decision === 'already-rolling');
    assert.equal(rolled.length, 1);
    assert.equal(declined.length, 2);
    for (const e of declined) {
      assert.equal((e.output as { heldBy?: string }).heldBy, rolled[0]!.executionArn);
      assert.ok(published(setup.world, 'Rollout Declined').some((p) => detailOf(p).executionArn === e.executionArn && detailOf(p).heldBy === rolled[0]!.executionArn));
    }
  });

  it('creates one launch template version, rolls every node onto it, and releases the lock', async () => {
    assert.deepEqual(monitor.report().launchTemplateVersions.map((v) => [v.imageId, v.versions.length]), [[image, 1]]);
    const final = await groupState(setup.group.autoScalingGroupName);
    assert.ok([...final.images.values()].every((id) => id === image));
    await monitor.assertHeld({ groups: [{ name: setup.group.autoScalingGroupName, floor: 1 }] });
  });
});

describe('Fault: the planned image is withdrawn before the roll starts (maintenance window)', () => {
  /**
   * Planned at 09:02 on a Saturday for a window opening at 10:00: the rollout waits in
   * WaitForWindow. At 09:30 the image is withdrawn; the roll must not start onto it.
   */
  async function withdrawnBeforeRoll(withdraw: (world: World, imageId: string) => void) {
    const setup = await selfManagedWorld({ nodes: 3, tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/window': 'sat 10:00-12:00 UTC' } });
    const { world } = setup;
    const before_ = await groupState(setup.group.autoScalingGroupName);
    const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image;
    const monitor = watchInvariants(world);
    const startedAt = world.clock.now();
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle(Date.parse('2026-11-21T09:30:00Z'));
    const [execution] = rollouts(world);
    assert.equal(execution!.history.at(-1)?.state, 'WaitForWindow', 'planned, waiting for the window');
    withdraw(world, image.ImageId!);
    await world.settle();
    return { ...setup, before_, image, monitor, startedAt, execution: execution! };
  }

  function assertRefusedCleanly(run: Awaited<ReturnType<typeof withdrawnBeforeRoll>>, reason: RegExp) {
    return async () => {
      const { execution, world } = run;
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'PreflightFailed');
      assert.ok(!execution.history.some((h) => h.state === 'PrepareLaunchTemplate' || h.state === 'Roll'));
      const failed = published(world, 'Rollout Failed');
      assert.equal(failed.length, 1);
      assert.match(JSON.stringify(detailOf(failed[0])), reason);
      assert.deepEqual(world.account.writes().filter((c) => c.at >= run.startedAt && !c.error).map((c) => c.command), [], 'nothing changed');
      assert.deepEqual(await groupState(run.group.autoScalingGroupName), run.before_);
      await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor: 2 }] });
    };
  }

  describe('deprecated', () => {
    let run: Awaited<ReturnType<typeof withdrawnBeforeRoll>>;
    before(async () => {
      run = await withdrawnBeforeRoll((world, imageId) => world.account.ec2.deprecateImage(imageId));
    });
    after(() => run.world.stop());
    it('refuses at preflight naming the image and its deprecation; nothing changed, lock released, Rollout Failed', () =>
      assertRefusedCleanly(run, new RegExp(`${run.image.ImageId}[^"]*deprecated`))());
  });

  describe('deregistered', () => {
    let run: Awaited<ReturnType<typeof withdrawnBeforeRoll>>;
    before(async () => {
      run = await withdrawnBeforeRoll((world, imageId) => world.account.ec2.setImageState(imageId, 'deregistered'));
    });
    after(() => run.world.stop());
    it('refuses at preflight: the image is not found; nothing changed, lock released, Rollout Failed', () =>
      assertRefusedCleanly(run, new RegExp(`image ${run.image.ImageId} does not exist or is not visible`))());
  });
});

describe('The invariant monitor', () => {
  it('catches a group that named $Latest left pinned to a number (B5), and accepts the setting as it was', async () => {
    const { world, group } = await selfManagedWorld({ nodes: 2, tags: {}, launchTemplateVersion: '$Latest' });
    try {
      const monitor = watchInvariants(world);
      const pin = (version: string) => new AutoScalingClient({ region: 'eu-west-1' }).send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.autoScalingGroupName, LaunchTemplate: { LaunchTemplateId: group.launchTemplateId, Version: version } }));
      await pin('1');
      const violation = await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 2 }] }).then(() => '', (e: Error) => e.message);
      assert.match(violation, /7\. workers: the group names launch template version 1, it named \$Latest/);
      await pin('$Latest');
      await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 2 }] });
    } finally {
      await world.stop();
    }
  });

  it('catches a serving node terminated by our own call, and the capacity lost with it; a force policy excuses it', async () => {
    const { world, group } = await selfManagedWorld({ nodes: 3, tags: {} });
    try {
      const monitor = watchInvariants(world);
      const victim = [...world.account.autoscaling.groups.get(group.autoScalingGroupName)!.instances.keys()][0]!;
      // what no product code may do without a force policy: terminate a serving node undrained
      await new EC2Client({ region: 'eu-west-1' }).send(new TerminateInstancesCommand({ InstanceIds: [victim] }));
      await world.run(5 * 60_000);
      const violations = (expect: Parameters<InvariantMonitor['assertHeld']>[0]) => monitor.assertHeld(expect).then(() => '', (e: Error) => e.message);

      const strict = await violations({ groups: [{ name: group.autoScalingGroupName, floor: 3 }] });
      assert.match(strict, new RegExp(`2\\. ${victim} \\(ip-[^)]+\\) terminated with pods still to evict`));
      assert.match(strict, /3\. capacity of workers below its floor 3 \(min 2\)/);
      const record = monitor.report().terminations.find((t) => t.instanceId === victim)!;
      assert.equal(record.cause, 'call');
      assert.equal(record.call, 'ec2:TerminateInstances');
      assert.ok(record.podsToEvict.some((p) => p.startsWith('shop/web-')), JSON.stringify(record));
      // AWS may end an undrained node (a hook's deadline); our own call never excuses it
      assert.match(await violations({ terminatedByAws: [victim] }), /2\. .*terminated with pods still to evict/);
      assert.equal(await violations({ forcedInstances: [victim], groups: [{ name: group.autoScalingGroupName, floor: 2 }] }), '', 'forced, floor 2: the group healed');
    } finally {
      await world.stop();
    }
  });
});
