import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { type BusEvent, crashLambda, createDeployment, createPdb, installSdkGate, releaseAmi, runningInvocation, type World } from '@eks-node-lifecycle/sandbox';
import { drainRecord, nodeOf } from './fault-drain-helpers.js';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { cordoned, groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * How a self-managed rollout ends when things go wrong around it (issue 23, B2 and the smaller
 * findings): a rollback that cannot finish, a Spot replacement reclaimed under the canary, a
 * maintenance window that closes mid-rollout, a step that crashes while rolling back, a drain
 * forced past its budget, a drain timeout shorter than the grace period cap. Each ends on the
 * invariant monitor.
 */

const region = 'eu-west-1';
const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const detailOf = (event: BusEvent | undefined): Record<string, any> => (event?.detail ?? {}) as Record<string, any>;
const instanceTypeOf = (world: World, group: string) => [...world.account.autoscaling.groups.get(group)!.instances.values()][0]!.instanceType;
const denyCapacity = (world: World, type: string, denied: boolean) => {
  for (const subnet of world.account.ec2.subnets.values()) world.account.ec2.setCapacity(type, subnet.subnet.AvailabilityZone!, !denied);
};
const newImageInstances = (state: Awaited<ReturnType<typeof groupState>>, image: string) => [...state.images].filter(([, id]) => id === image).map(([instance]) => instance);

describe('B2: a rollback that cannot finish leaves the group safe, and says what is left', () => {
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let monitor: InvariantMonitor;
  let image: string;
  let type: string;
  before(async () => {
    // canary, then batch 2 cannot launch (no capacity): rollback; the rollback launches an
    // old-version node back, but the canary's replacement holds a pod its budget never lets go
    setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world, cluster, group } = setup;
    await new AutoScalingClient({ region }).send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.autoScalingGroupName, MinSize: 2 }));
    image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    type = instanceTypeOf(world, group.autoScalingGroupName);
    monitor = watchInvariants(world);
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle(Date.parse('2026-11-21T09:03:00Z'));
    denyCapacity(world, type, true);
    await world.settle(Date.parse('2026-11-21T09:04:30Z'));
    // every old node is cordoned now: the ledger's one pod lands on the canary's replacement, under a budget of minAvailable 1
    createDeployment(cluster.store, { namespace: 'bank', name: 'ledger', replicas: 1, labels: { app: 'ledger' } });
    createPdb(cluster.store, { namespace: 'bank', name: 'ledger', selector: { app: 'ledger' }, minAvailable: 1 });
    await world.settle(Date.parse('2026-11-21T09:17:00Z'));
    denyCapacity(world, type, false);
    await world.settle();
  });
  after(() => setup.world.stop());

  it('rolled back, could not drain the new node, and gave up once, tidily', () => {
    const [execution] = rollouts(setup.world);
    assert.equal(execution!.error, 'RollbackFailed', `${execution!.status} ${execution!.error}: ${execution!.cause}`);
    assert.equal(published(setup.world, 'Rollout Rolling Back').length, 1);
    const failed = published(setup.world, 'Rollout Rollback Failed');
    assert.equal(failed.length, 1, 'announced once');
    assert.match(detailOf(failed[0]).reason, /rollback could not drain the new nodes/);
  });

  it('puts back the template, the processes, the cordons and the drains; keeps the nodes it could not take away undrained', async () => {
    const { world, group } = setup;
    const final = await groupState(group.autoScalingGroupName);
    assert.equal(final.launchTemplateVersion, '1', 'the template as it was set');
    assert.deepEqual(final.suspended, [], 'AZRebalance resumed');
    assert.deepEqual(cordoned(world), [], 'nothing cordoned: nothing is being drained any more');
    const stillNew = newImageInstances(final, image);
    assert.equal(stillNew.length, 1, 'the canary\'s replacement stays, with the pod its budget protects');
    assert.equal(final.desired, 5, 'not lowered to 4: Auto Scaling would take a node away undrained');
    assert.equal((await drainRecord(world, stillNew[0]!))?.status === 'running', false, 'its drain record released');
  });

  it('lists exactly what is left, each with the command that finishes it', () => {
    const left: string[] = detailOf(published(setup.world, 'Rollout Rollback Failed')[0]).left;
    assert.equal(left.length, 2, left.join('\n'));
    assert.match(left[0]!, /desired capacity left at 5 \(4 before the rollout\) so that no node is taken away undrained/);
    assert.match(left[0]!, /aws autoscaling update-auto-scaling-group --auto-scaling-group-name workers --desired-capacity 4 --min-size 2 --max-size 4/);
    assert.match(left[1]!, /1 instance still runs the new image: i-/);
  });

  it('holds the invariants: no budget violated, nothing terminated undrained, the lock released, every execution reported', async () => {
    const report = monitor.report();
    assert.deepEqual(report.budgetViolations, []);
    assert.deepEqual(report.terminations.filter((t) => t.podsToEvict.length > 0), []);
    await monitor.assertHeld();
  });

  it('afterwards, a person\'s drain of that node starts a drain of its own (nothing joined to a dead rollout)', async () => {
    const { world, group } = setup;
    const node = nodeOf(world, newImageInstances(await groupState(group.autoScalingGroupName), image)[0]!)!;
    world.cluster('prod').store.delete('poddisruptionbudgets', 'bank', 'ledger', {});
    const answer = (await world.lambda.invoke('requestDrain', { kind: 'manual-drain', cluster: 'prod', nodeName: node, requestedBy: 'alice' })) as { outcome: string };
    assert.equal(answer.outcome, 'started');
    await world.settle();
    assert.equal(detailOf(published(world, 'Node Drain Finished').at(-1)).outcome, 'drained');
    await monitor.assertHeld();
  });
});

describe('A Spot replacement reclaimed under the canary is simply replaced', () => {
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let monitor: InvariantMonitor;
  let image: string;
  let reclaimed: string;
  before(async () => {
    setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world, cluster, group } = setup;
    // the canary's old node takes four minutes to empty: its pods shut down slowly
    for (const pod of cluster.store.list('pods').filter((p) => p.metadata.namespace === 'shop')) {
      cluster.store.update('pods', 'shop', pod.metadata.name!, (p) => {
        p.spec.terminationGracePeriodSeconds = 240;
      });
    }
    const before_ = await groupState(group.autoScalingGroupName);
    image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    monitor = watchInvariants(world);
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    // the canary's replacement is up: EC2 reclaims it (the warning now, the end two minutes later)
    await world.settle(Date.parse('2026-11-21T09:03:10Z'));
    reclaimed = newImageInstances(await groupState(group.autoScalingGroupName), image)[0]!;
    assert.ok(!before_.instances.includes(reclaimed));
    world.account.ec2.interruptSpot(reclaimed);
    await world.settle();
  });
  after(() => setup.world.stop());

  it('judges the instance launched in its place, passes the canary and finishes: no rollback', async () => {
    const [execution] = rollouts(setup.world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${JSON.stringify(published(setup.world, 'Rollout Rolled Back').map((e) => detailOf(e).reason))}`);
    assert.equal(published(setup.world, 'Rollout Rolling Back').length, 0);
    assert.equal(published(setup.world, 'Rollout Canary Passed').length, 1);
    const final = await groupState(setup.group.autoScalingGroupName);
    assert.ok(!final.instances.includes(reclaimed));
    assert.ok([...final.images.values()].every((id) => id === image));
  });

  it('holds the invariants (the reclaimed node is EC2\'s doing)', async () => {
    await monitor.assertHeld({ groups: [{ name: setup.group.autoScalingGroupName, floor: 2 }], terminatedByAws: [reclaimed] });
  });
});

describe('The maintenance window is honoured to its end', () => {
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let monitor: InvariantMonitor;
  let image: string;
  const closes = Date.parse('2026-11-21T09:06:00Z');
  const reopens = Date.parse('2026-11-28T09:00:00Z');
  before(async () => {
    setup = await selfManagedWorld({ nodes: 6, tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/window': 'sat 09:00-09:06 UTC' } });
    image = releaseAmi(setup.world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    monitor = watchInvariants(setup.world);
    await setup.world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await setup.world.settle();
  });
  after(() => setup.world.stop());

  const batchStarts = (world: World) =>
    world.account
      .writes()
      .filter((c) => !c.error && c.command === 'UpdateAutoScalingGroup' && ((c.input as { DesiredCapacity?: number }).DesiredCapacity ?? 0) > 6)
      .map((c) => c.at);

  it('starts no batch while the window is closed; the batch running when it closed finishes', () => {
    const starts = batchStarts(setup.world);
    assert.ok(starts.length >= 6, `${starts.length} batches`);
    const during = starts.filter((at) => at >= closes && at < reopens);
    assert.deepEqual(during.map((at) => new Date(at).toISOString()), [], 'nothing between the close and the next opening');
    assert.ok(starts.some((at) => at < closes) && starts.some((at) => at >= reopens));
    const [paused] = published(setup.world, 'Rollout Paused');
    assert.equal(detailOf(paused).reason, 'window');
    assert.equal(detailOf(paused).opensAt, new Date(reopens).toISOString());
  });

  it('waits in steps of at most 30 minutes, goes on when the window opens, and finishes', async () => {
    const [execution] = rollouts(setup.world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
    const waits = execution!.history.filter((h) => h.state === 'WaitForWindowToOpen').map((h) => Date.parse(h.at));
    assert.ok(waits.length >= 7 * 48 - 2, `${waits.length} waits of ≤ 30 min over a week`);
    assert.equal(published(setup.world, 'Rollout Resumed').length, 1);
    const final = await groupState(setup.group.autoScalingGroupName);
    assert.ok([...final.images.values()].every((id) => id === image));
    await monitor.assertHeld({ groups: [{ name: setup.group.autoScalingGroupName, floor: 5 }] });
  });
});

describe('Rolling Back is announced once, however often its step runs', () => {
  // once the announcement is published and recorded on the lock, a step that dies later (a crash,
  // a throttle that outlasts the retries) does not make it again; only a death between the
  // publish and its record can (at least once, never lost)
  it('a rollback step that dies after announcing it, again and again, is retried without announcing it again', async () => {
    const setup = await selfManagedWorld({ nodes: 3, tags: {} });
    const { world, group } = setup;
    try {
      const monitor = watchInvariants(world);
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', brokenBootstrap: true });
      const crashes = crashLambda(world, [
        {
          function: 'rollStep',
          error: 'Lambda.Unknown',
          times: 3,
          after: (w) => w.what === 'autoscaling:TerminateInstanceInAutoScalingGroup' || (w.what === 'autoscaling:UpdateAutoScalingGroup' && JSON.stringify(w.input).includes('"Version":"1"')),
        },
      ]);
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      crashes.restore();
      assert.ok(crashes.crashes.length >= 2, `the rolling-back step died ${crashes.crashes.length} times`);
      assert.ok(world.published.findIndex((e) => e['detail-type'] === 'Rollout Rolling Back') >= 0);
      assert.equal(published(world, 'Rollout Rolling Back').length, 1);
      assert.equal(published(world, 'Rollout Rolled Back').length, 1);
      assert.equal(rollouts(world)[0]!.error, 'RolledBack');
      await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 2 }] });
    } finally {
      await world.stop();
    }
  });
});

describe('A rollout reports what it forced and what is wrong with its configuration', () => {
  it('forced deletions: each pod and its budget, in the batch that forced them and at the end', async () => {
    const setup = await selfManagedWorld({ nodes: 2, tags: { 'eks-node-lifecycle/on-drain-timeout': 'force', 'eks-node-lifecycle/drain-timeout': '5m', 'eks-node-lifecycle/max-grace-period': '1m' } });
    const { world, cluster, group } = setup;
    try {
      createPdb(cluster.store, { namespace: 'shop', name: 'web-frozen', selector: { app: 'web' }, minAvailable: '100%' });
      const monitor = watchInvariants(world);
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      assert.equal(rollouts(world)[0]!.status, 'SUCCEEDED');
      const canary: string[] = detailOf(published(world, 'Rollout Canary Passed')[0]).forced;
      // each names the budget its eviction was refused by (shop/web or shop/web-frozen: both select the pods)
      assert.ok(canary.length > 0 && canary.every((p) => /^shop\/web-[a-z0-9-]+ \(PodDisruptionBudget shop\/web(-frozen)?\)$/.test(p)), JSON.stringify(canary));
      const all: string[] = detailOf(published(world, 'Rollout Finished')[0]).forced;
      assert.ok(all.length >= canary.length && canary.every((p) => all.includes(p)), JSON.stringify(all));
      const forcedNodes = monitor.report().terminations.map((t) => t.instanceId);
      await monitor.assertHeld({ forcedInstances: forcedNodes, groups: [{ name: group.autoScalingGroupName, floor: 1 }] });
    } finally {
      await world.stop();
    }
  });

  it('a drain timeout shorter than the grace period cap is a configuration problem, shown with the plan', async () => {
    const setup = await selfManagedWorld({ nodes: 2, tags: { 'eks-node-lifecycle/drain-timeout': '5m' } });
    const { world } = setup;
    try {
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      const [planned] = published(world, 'Rollout Planned');
      assert.deepEqual(detailOf(planned).problems, [
        'eks-node-lifecycle/drain-timeout (5m) is shorter than eks-node-lifecycle/max-grace-period (10m): a pod that takes its grace period outlives the drain, which then fails; make the drain timeout longer or the grace period cap shorter',
      ]);
    } finally {
      await world.stop();
    }
  });
});

describe('Terminate hooks whose events never reach requestDrain', () => {
  it('are completed by the rollout that drained the nodes, two minutes on, not left to expire', async (t) => {
    const setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } });
    const { world, group } = setup;
    // every call requestDrain makes is refused: the hook events go unanswered (Lambda's retries too)
    const refuse = installSdkGate(() => (runningInvocation()?.function === 'requestDrain' ? Object.assign(new Error('simulated outage of requestDrain'), { name: 'AccessDeniedException' }) : 'pass'));
    try {
      const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
      const monitor = watchInvariants(world);
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      const [execution] = rollouts(world);
      assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
      assert.ok(world.lambda.invocations.filter((i) => i.function === 'requestDrain').every((i) => !('result' in i.outcome)), 'requestDrain answered no hook');
      const completions = world.account.calls.filter((c) => c.command === 'CompleteLifecycleAction' && !c.error);
      assert.equal(completions.length, 4, 'each old node\'s hook completed once');
      assert.ok(completions.every((c) => (c.input as { LifecycleActionToken?: string }).LifecycleActionToken === undefined), 'by instance id: the tokens never reached us');
      await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 2 }] });
      assert.deepEqual(monitor.report().hookExpiries, [], 'none expired');
      const state = await groupState(group.autoScalingGroupName);
      assert.deepEqual([...new Set(state.images.values())], [image]);
      t.diagnostic(`${completions.length} hooks completed by the rollout`);
    } finally {
      refuse();
      await world.stop();
    }
  });
});
