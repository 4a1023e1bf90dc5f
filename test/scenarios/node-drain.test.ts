import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingInstancesCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { type BudgetMonitor, createPdb, type DrainNodeWorkloads, instanceIdsOf, populateNodeForDrain, watchBudgets, World } from '@eks-node-lifecycle/sandbox';

/**
 * Lifecycle-hook drains end to end in the sandbox: the real handlers and the node-drain
 * workflow, against the simulated account and the cluster's API server.
 */
const region = 'eu-west-1';
const autoscaling = () => new AutoScalingClient({ region });
const callsOf = (world: World, command: string) => world.account.calls.filter((c) => c.command === command);

interface Setup {
  world: World;
  instanceId: string;
  node: string;
  workloads: DrainNodeWorkloads;
  monitor: BudgetMonitor;
}

async function clusterWithBusyNode(options: { pods: number; tags?: Record<string, string>; deliveries?: number; heartbeatTimeout?: number }): Promise<Setup> {
  const world = await World.start({ deliveries: options.deliveries ?? 1 });
  const cluster = await world.addCluster('prod');
  world.account.seedVpc();
  world.account.createSelfManagedGroup({
    cluster: 'prod',
    name: 'workers',
    min: 1,
    max: 4,
    desired: 2,
    tags: options.tags ?? {},
    hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: options.heartbeatTimeout ?? 300, defaultResult: 'CONTINUE' } },
  });
  await world.settle();
  const [instanceId] = await instanceIdsOf(world, 'workers');
  const node = (cluster.store.list('nodes') as any[]).find((n) => n.spec.providerID.endsWith(`/${instanceId}`)).metadata.name as string;
  const workloads = populateNodeForDrain(cluster.store, node, { pods: options.pods, spareNodes: 3 });
  await world.run(30_000); // everything Running and Ready, budgets computed
  const monitor = watchBudgets(cluster.store);
  return { world, instanceId: instanceId!, node, workloads, monitor };
}

async function scaleIn(world: World, instanceId: string): Promise<void> {
  await autoscaling().send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));
}

describe('Scenario: node drain on a terminate lifecycle hook', () => {
  describe('a node with 64 pods: DaemonSets, a mirror pod, a budgeted Deployment, emptyDir and bare pods', () => {
    let s: Setup;
    const leaving: { id: string; at: number }[] = [];
    before(async () => {
      s = await clusterWithBusyNode({ pods: 64 });
      s.world.cluster('prod').store.on((event) => {
        const pod = event.object as any;
        if (event.resource !== 'pods' || pod.spec?.nodeName !== s.node) return;
        if (event.type === 'DELETED' || (pod.metadata.deletionTimestamp && !(event.oldObject as any)?.metadata?.deletionTimestamp)) {
          leaving.push({ id: `${pod.metadata.namespace}/${pod.metadata.name}`, at: s.world.clock.now() });
        }
      });
      await scaleIn(s.world, s.instanceId);
      await s.world.settle();
    });
    after(() => s.world.stop());

    it('never lets a PodDisruptionBudget be violated', () => {
      assert.deepEqual(s.monitor.violations, []);
    });

    it('leaves DaemonSet and mirror pods untouched and removes everything else before the hook is completed', () => {
      const completedAt = callsOf(s.world, 'CompleteLifecycleAction')[0]!.at;
      const leftBefore = new Set(leaving.filter((l) => l.at <= completedAt).map((l) => l.id));
      for (const id of s.workloads.evictable) assert.ok(leftBefore.has(id), `${id} left the node before CONTINUE`);
      for (const id of [...s.workloads.daemonSetPods, s.workloads.mirrorPod]) assert.ok(!leftBefore.has(id), `${id} was left alone`);
      const final = s.world.logs.filter((l) => l.message === 'drain pass').at(-1)!;
      assert.equal(final.phase, 'drained');
      assert.equal(final.skipped, s.workloads.daemonSetPods.length + 1, 'DaemonSet pods and the mirror pod were skipped');
    });

    it('completes the lifecycle action with CONTINUE exactly once, after the drain', () => {
      const completions = callsOf(s.world, 'CompleteLifecycleAction');
      assert.equal(completions.length, 1);
      assert.equal((completions[0]!.input as any).LifecycleActionResult, 'CONTINUE');
      assert.equal((completions[0]!.input as any).InstanceId, s.instanceId);
    });

    it('publishes Node Drain Finished: drained', () => {
      const finished = s.world.published.filter((e) => e['detail-type'] === 'Node Drain Finished');
      assert.equal(finished.length, 1);
      assert.deepEqual(
        { outcome: (finished[0]!.detail as any).outcome, trigger: (finished[0]!.detail as any).trigger, lifecycleAction: (finished[0]!.detail as any).lifecycleAction },
        { outcome: 'drained', trigger: 'terminate-hook', lifecycleAction: 'continued' },
      );
    });
  });

  describe('a budget that never allows a disruption', () => {
    const blockEverything = (s: Setup) =>
      createPdb(s.world.cluster('prod').store, { namespace: 'payments', name: 'api-frozen', selector: { app: 'api' }, minAvailable: '100%' });

    it('waits three hours with the hook kept alive by heartbeats when the policy allows it', async () => {
      const s = await clusterWithBusyNode({ pods: 20, tags: { 'eks-node-lifecycle/drain-timeout': '4h' } });
      try {
        blockEverything(s);
        await s.world.run(10_000);
        await scaleIn(s.world, s.instanceId);
        await s.world.run(3 * 3600_000);
        const [execution] = s.world.stepFunctions.executions.values();
        assert.equal(execution!.status, 'RUNNING');
        const state = (await autoscaling().send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [s.instanceId] }))).AutoScalingInstances![0]!.LifecycleState;
        assert.equal(state, 'Terminating:Wait', 'the hook never expired');
        const heartbeats = callsOf(s.world, 'RecordLifecycleActionHeartbeat');
        assert.ok(heartbeats.length >= (3 * 3600) / 300, `${heartbeats.length} heartbeats for a 300 s hook over three hours`);
        const gaps = heartbeats.slice(1).map((h, i) => h.at - heartbeats[i]!.at);
        assert.ok(Math.max(...gaps) < 300_000, 'never more than the heartbeat timeout between heartbeats');
        assert.deepEqual(s.monitor.violations, []);
        const last = s.world.logs.filter((l) => l.message === 'drain pass').at(-1)!;
        assert.ok((last.blocked as string[]).some((b) => b.includes('payments/api-frozen')), JSON.stringify(last.blocked));
      } finally {
        await s.world.stop();
      }
    });

    it('with on-drain-timeout=force, deletes what is blocked at the drain timeout and continues', async () => {
      const s = await clusterWithBusyNode({ pods: 20, tags: { 'eks-node-lifecycle/drain-timeout': '15m', 'eks-node-lifecycle/on-drain-timeout': 'force', 'eks-node-lifecycle/max-grace-period': '1m' } });
      try {
        blockEverything(s);
        await s.world.run(10_000);
        const started = s.world.clock.now();
        await scaleIn(s.world, s.instanceId);
        await s.world.settle();
        const [execution] = s.world.stepFunctions.executions.values();
        assert.equal(execution!.status, 'SUCCEEDED');
        const finished = s.world.published.find((e) => e['detail-type'] === 'Node Drain Finished')!;
        assert.equal((finished.detail as any).outcome, 'forced');
        const completion = callsOf(s.world, 'CompleteLifecycleAction')[0]!;
        assert.equal((completion.input as any).LifecycleActionResult, 'CONTINUE');
        const took = completion.at - started;
        assert.ok(took >= 15 * 60_000 && took <= 15 * 60_000 + 3 * 60_000, `ended ${took / 1000} s after the scale-in`);
      } finally {
        await s.world.stop();
      }
    });

    it('with on-drain-timeout=fail, reports the blockers by name once and holds the node for its hook, then finishes when the budget lets the pods go', async () => {
      const s = await clusterWithBusyNode({ pods: 20, tags: { 'eks-node-lifecycle/drain-timeout': '10m' }, heartbeatTimeout: 900 });
      try {
        blockEverything(s);
        await s.world.run(10_000);
        await scaleIn(s.world, s.instanceId);
        await s.world.run(40 * 60_000);
        // past the deadline: the node is leaving its group, so the drain holds rather than fail
        const [execution] = s.world.stepFunctions.executions.values();
        assert.equal(execution!.status, 'RUNNING');
        const blocked = s.world.published.filter((e) => e['detail-type'] === 'Node Drain Blocked').map((e) => e.detail as any);
        assert.equal(blocked.length, 1, 'Node Drain Blocked published once');
        assert.ok(blocked[0].blockers.length > 0);
        assert.ok(blocked[0].blockers.every((b: any) => b.pdb?.name === 'api-frozen' && b.pdb.namespace === 'payments' && b.pdb.disruptionsAllowed === 0), JSON.stringify(blocked[0].blockers));
        assert.deepEqual(blocked[0].budgets, ['payments/api-frozen']);
        assert.equal(s.world.published.filter((e) => e['detail-type'] === 'Node Drain Finished').length, 0);
        assert.equal(callsOf(s.world, 'CompleteLifecycleAction').length, 0, 'the hook is held, not completed');
        const state = (await autoscaling().send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [s.instanceId] }))).AutoScalingInstances![0]!.LifecycleState;
        assert.equal(state, 'Terminating:Wait', 'the hook is kept alive past the drain timeout');
        const node = s.world.cluster('prod').store.get('nodes', undefined, s.node) as any;
        assert.equal(node.spec.unschedulable, true);
        const passes = s.world.logs.filter((l) => l.message === 'drain pass');
        const waits = passes.slice(-3).map((l) => l.waitSeconds as number);
        assert.ok(waits.every((w) => w > 60 && w <= 300), `holding passes back off beyond a minute, never past the 450 s heartbeat interval: ${waits}`);

        // someone frees the budget: the held drain evicts the pods and lets the node go
        s.world.cluster('prod').store.delete('poddisruptionbudgets', 'payments', 'api-frozen', {});
        await s.world.settle();
        assert.equal(execution!.status, 'SUCCEEDED');
        const finished = s.world.published.filter((e) => e['detail-type'] === 'Node Drain Finished').map((e) => e.detail as any);
        assert.deepEqual(finished.map((f) => [f.outcome, f.lifecycleAction]), [['drained', 'continued']]);
        assert.equal(callsOf(s.world, 'CompleteLifecycleAction').filter((c) => !c.error).length, 1);
        assert.deepEqual(s.monitor.violations, []);
      } finally {
        await s.world.stop();
      }
    });
  });

  describe('the same terminate event delivered three times', () => {
    let s: Setup;
    before(async () => {
      s = await clusterWithBusyNode({ pods: 12, deliveries: 3 });
      await scaleIn(s.world, s.instanceId);
      await s.world.settle();
    });
    after(() => s.world.stop());

    it('starts one execution and completes the action once', () => {
      assert.equal(s.world.stepFunctions.executions.size, 1);
      assert.equal(callsOf(s.world, 'CompleteLifecycleAction').length, 1);
      assert.equal(s.world.bus.failed.length, 0);
    });
  });

  describe('a spot interruption warning', () => {
    let s: Setup;
    let warnedAt: number;
    before(async () => {
      s = await clusterWithBusyNode({ pods: 16 });
      warnedAt = s.world.clock.now();
      s.world.account.ec2.interruptSpot(s.instanceId);
      await s.world.run(5_000);
      // the group's terminate hook fires for the same instance: still one drain
      await scaleIn(s.world, s.instanceId);
      await s.world.settle();
    });
    after(() => s.world.stop());

    it('drains within the two-minute notice, once, and completes the hook that arrived meanwhile', () => {
      assert.equal(s.world.stepFunctions.executions.size, 1);
      const finished = s.world.published.find((e) => e['detail-type'] === 'Node Drain Finished')!;
      assert.equal((finished.detail as any).outcome, 'drained');
      assert.equal((finished.detail as any).trigger, 'spot-interruption');
      assert.ok(Date.parse(finished.time) - warnedAt < 120_000, `drained ${(Date.parse(finished.time) - warnedAt) / 1000} s after the warning`);
      assert.deepEqual(s.monitor.violations, []);
      assert.equal(callsOf(s.world, 'CompleteLifecycleAction').length, 1);
    });
  });
});

describe('Scenario: terminate hooks installed for opted-in groups', () => {
  it('lets a group tagged eks-node-lifecycle/drain=on, with no hook of its own, drain on scale-in', async () => {
    const world = await World.start();
    try {
      await world.addCluster('prod');
      world.account.seedVpc();
      world.account.createSelfManagedGroup({ cluster: 'prod', name: 'opted-in', min: 1, max: 3, desired: 2, tags: { 'eks-node-lifecycle/drain': 'on' } });
      world.account.createSelfManagedGroup({ cluster: 'prod', name: 'not-opted-in', min: 1, max: 3, desired: 1 });
      await world.settle();

      const result = (await world.lambda.invoke('ensureTerminateHooks', {})) as { installed: string[] };
      assert.deepEqual(result.installed, ['opted-in']);
      assert.deepEqual((await world.lambda.invoke('ensureTerminateHooks', {}) as { installed: string[] }).installed, [], 'idempotent');

      const [instanceId] = await instanceIdsOf(world, 'opted-in');
      await scaleIn(world, instanceId!);
      await world.settle();
      const finished = world.published.find((e) => e['detail-type'] === 'Node Drain Finished')!;
      assert.equal((finished.detail as any).outcome, 'drained');
      const completion = callsOf(world, 'CompleteLifecycleAction')[0]!;
      assert.equal((completion.input as any).LifecycleHookName, 'eks-node-lifecycle-drain');
    } finally {
      await world.stop();
    }
  });
});

describe('Scenario: a rebalance recommendation', () => {
  it('drains the node of a group tagged rebalance=drain (no hook involved) and leaves it cordoned; a group without the tag is left alone (default ignore)', async () => {
    const s = await clusterWithBusyNode({ pods: 12, tags: { 'eks-node-lifecycle/rebalance': 'drain' } });
    try {
      s.world.account.ec2.recommendRebalance(s.instanceId);
      await s.world.settle();
      const finished = s.world.published.find((e) => e['detail-type'] === 'Node Drain Finished')!.detail as any;
      assert.deepEqual({ outcome: finished.outcome, trigger: finished.trigger, lifecycleAction: finished.lifecycleAction }, { outcome: 'drained', trigger: 'rebalance', lifecycleAction: 'none' });
      const node = s.world.cluster('prod').store.get('nodes', undefined, s.node) as any;
      assert.equal(node.spec.unschedulable, true);
      assert.deepEqual(s.monitor.violations, []);
    } finally {
      await s.world.stop();
    }
    // no tag: a recommendation is not an interruption, and the default is to ignore it
    const ignoring = await clusterWithBusyNode({ pods: 12 });
    try {
      ignoring.world.account.ec2.recommendRebalance(ignoring.instanceId);
      await ignoring.world.settle();
      assert.equal(ignoring.world.stepFunctions.executions.size, 0);
      assert.ok(ignoring.world.logs.some((l) => l.message === 'drain request ignored' && String(l.reason).includes('rebalance')));
    } finally {
      await ignoring.world.stop();
    }
  });
});
