import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type BudgetMonitor, type CapacityMonitor, createDaemonSet, createDeployment, createPdb, releaseAmi, type SimExecution, watchBudgets, watchCapacity, type World } from '@eks-node-lifecycle/sandbox';
import { cordoned, groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * A self-managed group rolled onto a new AMI end to end in the sandbox: detection → the
 * ami-rollout workflow (begin, preflight, launch template, the roll loop with canary,
 * surge batches, drains through node-drain, terminations, health gates) → finished.
 */

describe('Scenario: a new AMI release rolls a 10-node self-managed group', () => {
  let world: World;
  let group: { autoScalingGroupName: string; imageId: string };
  let before_: Awaited<ReturnType<typeof groupState>>;
  let monitor: BudgetMonitor;
  let newImage: string;
  let detection: any;
  before(async () => {
    const setup = await selfManagedWorld({ nodes: 10, tags: { 'eks-node-lifecycle/max-unavailable': '3', 'eks-node-lifecycle/canary': '1' } });
    world = setup.world;
    group = setup.group;
    before_ = await groupState(group.autoScalingGroupName);
    monitor = watchBudgets(setup.cluster.store);
    newImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    detection = await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
    if (process.env['SHOW_ROLLOUT']) writeFileSync('/tmp/rollout-logs.json', JSON.stringify({ logs: world.logs, history: rollouts(world).map((e) => e.history) }, null, 1));
  });
  after(() => world.stop());

  it('runs one rollout that finishes', () => {
    assert.equal(detection.started.length, 1);
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
    const states = execution!.history.map((h) => h.state);
    for (const state of ['BeginRollout', 'Preflight', 'PrepareLaunchTemplate', 'Roll', 'WaitForReplacements', 'WaitForDrains', 'FinishRoll']) {
      assert.ok(states.includes(state), `${state} in ${[...new Set(states)].join(', ')}`);
    }
  });

  it('ends with every node on the new image, the sizes restored, nothing cordoned, AZRebalance resumed', async () => {
    const after_ = await groupState(group.autoScalingGroupName);
    assert.equal(after_.instances.length, 10);
    assert.ok([...after_.images.values()].every((image) => image === newImage), JSON.stringify([...after_.images]));
    assert.deepEqual([after_.desired, after_.min, after_.max], [before_.desired, before_.min, before_.max]);
    assert.notEqual(after_.launchTemplateVersion, before_.launchTemplateVersion);
    assert.equal(after_.instances.filter((id) => before_.instances.includes(id)).length, 0);
    assert.deepEqual(cordoned(world), []);
    assert.ok(!after_.suspended.includes('AZRebalance'));
  });

  it('never violates a PodDisruptionBudget', () => {
    assert.deepEqual(monitor.violations, []);
  });

  it('releases the lock and announces each phase: planned, canary, batches, finished', () => {
    const types = world.published.map((e: any) => e.DetailType ?? e['detail-type']);
    assert.ok(types.includes('Rollout Planned'), types.join(', '));
    assert.ok(types.includes('Rollout Canary Passed'));
    assert.ok(types.filter((t: string) => t === 'Rollout Batch Finished').length >= 3);
    assert.equal(types.at(-1), 'Rollout Finished');
  });
});

describe('Scenario: two rollout requests for the same group', () => {
  it('runs one; the other ends at once, answered with the first', async () => {
    const { world, group } = await selfManagedWorld({ nodes: 3, tags: {} });
    try {
      const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image;
      const detected = (await world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true })) as any;
      const plan = detected.plans.find((p: any) => p.group === 'workers');
      const input = (who: string) => ({
        cluster: 'prod',
        group: { kind: 'self-managed', name: 'workers', autoScalingGroup: group.autoScalingGroupName, launchTemplate: { id: group.launchTemplateId, version: 1 } },
        target: plan.to,
        from: plan.from,
        startedBy: { kind: 'person', who, startNow: true },
      });
      const machine = world.model.stateMachines.find((m) => m.name.endsWith('-ami-rollout'))!.arn;
      const first = world.stepFunctions.start(machine, 'roll-by-alice', JSON.stringify(input('alice')));
      const second = world.stepFunctions.start(machine, 'roll-by-bob', JSON.stringify(input('bob')));
      await world.settle();
      const both = [first, second].map((s) => world.stepFunctions.executions.get(s.executionArn)!);
      assert.ok(both.every((e) => e.status === 'SUCCEEDED'), both.map((e) => `${e.name} ${e.status} ${e.error} ${e.cause}`).join('\n'));
      // whichever reached the lock first rolls; the other is told who holds the group
      const declined = both.filter((e) => (e.output as any)?.decision === 'already-rolling');
      const rolled = both.filter((e) => e.history.some((h) => h.state === 'Roll'));
      assert.equal(declined.length, 1);
      assert.equal(rolled.length, 1);
      assert.equal((declined[0]!.output as any).heldBy, rolled[0]!.executionArn);
      assert.ok(!declined[0]!.history.some((h) => h.state === 'Preflight'), 'the declined one never went further');
      const final = await groupState(group.autoScalingGroupName);
      assert.ok([...final.images.values()].every((id) => id === image.ImageId));
      assert.ok(world.published.some((e: any) => (e.DetailType ?? e['detail-type']) === 'Rollout Declined' && JSON.parse(e.Detail ?? JSON.stringify(e.detail)).heldBy === rolled[0]!.executionArn));
    } finally {
      await world.stop();
    }
  });
});

describe('Scenario: a node role that may not join', () => {
  it('stops at preflight, says why, and writes nothing', async () => {
    const { world, group } = await selfManagedWorld({ nodes: 2, tags: {} });
    try {
      // the role loses its access entry: running nodes stay, new ones could not register
      const roleArn = `arn:aws:iam::${world.model.accountId}:role/workers-node`;
      world.account.eks.require('prod').accessEntries.delete(roleArn);
      (world.account.eks.require('prod').cluster.accessConfig ??= {}).authenticationMode = 'API';
      const before = await groupState(group.autoScalingGroupName);
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
      const writesBefore = world.account.writes().length;
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      const [execution] = rollouts(world);
      assert.equal(execution!.status, 'FAILED');
      assert.equal(execution!.error, 'PreflightFailed');
      const report = (world.lambda.invocations.find((i) => i.function === 'rolloutPreflight')!.outcome as any).result;
      const join = report.checks.find((c: any) => c.name === 'node-role-can-join');
      assert.equal(join.ok, false);
      assert.match(join.detail, /workers-node/);
      assert.match(join.fix ?? '', /create-access-entry/);
      assert.deepEqual(world.account.writes().slice(writesBefore).map((c) => c.command), []);
      assert.deepEqual(await groupState(group.autoScalingGroupName), before);
      const failed = world.published.find((e: any) => (e.DetailType ?? e['detail-type']) === 'Rollout Failed');
      assert.ok(failed, 'the failure is announced');
    } finally {
      await world.stop();
    }
  });
});

describe('Scenario: nodes of the new image never join (bad bootstrap)', () => {
  let world: World;
  let group: { autoScalingGroupName: string; imageId: string };
  let before_: Awaited<ReturnType<typeof groupState>>;
  let capacity: CapacityMonitor;
  before(async () => {
    const setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2', 'eks-node-lifecycle/canary': '1' } });
    world = setup.world;
    group = setup.group;
    before_ = await groupState(group.autoScalingGroupName);
    capacity = watchCapacity(world, { cluster: 'prod', autoScalingGroup: group.autoScalingGroupName, floor: 4 - 2 });
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: true });
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
  });
  after(() => world.stop());

  it('fails the canary and rolls back', () => {
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'FAILED');
    assert.equal(execution!.error, 'RolledBack');
    const rolledBack = world.published.find((e: any) => (e.DetailType ?? e['detail-type']) === 'Rollout Rolled Back');
    assert.ok(rolledBack, 'announced');
    assert.match(JSON.stringify(rolledBack), /not Ready within 15 min/);
    assert.ok(!world.published.some((e: any) => (e.DetailType ?? e['detail-type']) === 'Rollout Canary Passed'));
  });

  it('leaves the group exactly as it was: template version, sizes, instances, images; nothing cordoned', async () => {
    const after_ = await groupState(group.autoScalingGroupName);
    assert.deepEqual(after_, before_);
    assert.deepEqual(cordoned(world), []);
  });

  it('kept the capacity at or above the floor throughout', () => {
    assert.deepEqual(capacity.violations, []);
    assert.equal(capacity.min, 4, 'the old nodes were never touched: the canary never got that far');
  });
});
