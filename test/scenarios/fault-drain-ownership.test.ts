import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AutoScalingClient, CompleteLifecycleActionCommand, PutLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import { createDeployment, createPdb, createPod, instanceIdsOf, releaseAmi, type World } from '@eks-node-lifecycle/sandbox';
import {
  assertInvariantsHeld,
  callsOf,
  type DrainSetup,
  drainRecord,
  drainRequests,
  drains,
  drainsFinished,
  drainWorld,
  GROUP,
  HOOK,
  heartbeats,
  hookExpiries,
  invariantFigures,
  longestHeartbeatGap,
  nodeOf,
  scaleIn,
  slowShutdown,
  terminationOf,
} from './fault-drain-helpers.js';
import { watchInvariants } from './fault-invariants.js';
import { rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Issue 23, item 1 — one owner per node, and every hook on it honoured — in the sandbox: a
 * drain record is believed only as far as it can be checked (a `running` one while its owner
 * lives, a `drained` one while the node is still cordoned by us and empty), and every terminate
 * lifecycle action on an instance is kept alive and completed once, whoever drains it. Each
 * scenario ends on the invariant monitor (fault-invariants.ts).
 */

const successfulCompletions = (world: World, instanceId: string) => callsOf(world, 'CompleteLifecycleAction', instanceId).filter((c) => !c.error);
const manualDrain = (s: DrainSetup) => s.world.lambda.invoke('requestDrain', { kind: 'manual-drain', cluster: 'prod', instanceId: s.instanceId, requestedBy: 'slack:T1:U0OPS' }) as Promise<{ outcome: string; reason?: string; executionName?: string }>;

/** A person gives the node back: `kubectl uncordon`, and our taint removed by hand. */
function uncordonByHand(s: DrainSetup): void {
  s.cluster.store.update('nodes', undefined, s.node, (node: any) => {
    delete node.spec.unschedulable;
    node.spec.taints = (node.spec.taints ?? []).filter((t: { key: string }) => t.key !== 'eks-node-lifecycle/draining');
  });
}

/** Workloads land on the node again: a Deployment of four under a budget that lets one go at a time. */
async function refill(s: DrainSetup): Promise<string[]> {
  const others = (s.cluster.store.list('nodes') as any[]).map((n) => n.metadata.name as string).filter((n) => n !== s.node);
  const cordon = (unschedulable: boolean) => {
    for (const name of others) s.cluster.store.update('nodes', undefined, name, (node: any) => (unschedulable ? (node.spec.unschedulable = true) : delete node.spec.unschedulable));
  };
  cordon(true); // the scheduler has only this node to place them on
  createDeployment(s.cluster.store, { namespace: 'shop', name: 'refill', replicas: 4, labels: { app: 'refill' } });
  createPdb(s.cluster.store, { namespace: 'shop', name: 'refill', selector: { app: 'refill' }, maxUnavailable: 1 });
  await s.world.run(30_000);
  cordon(false);
  const pods = (s.cluster.store.list('pods') as any[]).filter((p) => p.metadata.labels?.app === 'refill' && p.spec.nodeName === s.node);
  assert.equal(pods.length, 4, 'precondition: the node is full again');
  return pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

describe('Ownership: a `drained` record is believed only while the node is still drained (B3)', () => {
  it('a node drained, uncordoned by a person, refilled, then scaled in 14 days later: a new drain runs, and the hook is completed only once the pods are gone', async (t) => {
    const s = await drainWorld({ pods: 12, tags: { 'eks-node-lifecycle/rebalance': 'drain' } });
    try {
      // day 0: a rebalance recommendation drains the node (no hook: it stays)
      s.world.account.ec2.recommendRebalance(s.instanceId);
      await s.world.settle();
      assert.equal((await drainRecord(s.world, s.instanceId))?.status, 'drained');
      uncordonByHand(s);
      const refilled = await refill(s);
      const left = new Map<string, number>();
      s.cluster.store.on((event) => {
        const id = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
        if (event.resource === 'pods' && refilled.includes(id) && !left.has(id) && (event.type === 'DELETED' || event.object.metadata.deletionTimestamp)) left.set(id, s.world.clock.now());
      });

      // 14 days later (the record's last day), the group scales the node in
      await s.world.run(14 * 86_400_000 - 3600_000);
      await scaleIn(s.instanceId);
      await s.world.settle();

      assert.deepEqual(drainRequests(s.world, s.instanceId).slice(-1), ['started'], 'not completed at once from the old record');
      assert.deepEqual(drains(s.world).map((e) => [e.name, e.status]), [[`drain-${s.instanceId}-0`, 'SUCCEEDED'], [`drain-${s.instanceId}-1`, 'SUCCEEDED']]);
      const [completion, ...more] = successfulCompletions(s.world, s.instanceId);
      assert.equal(more.length, 0, 'the hook completed once');
      const termination = terminationOf(s.monitor, s.instanceId);
      assert.deepEqual(termination?.podsToEvict, [], `terminated with ${termination?.podsToEvict} still to evict`);
      assert.equal(termination?.cause, 'call');
      assert.deepEqual([...left.keys()].sort(), [...refilled].sort(), 'every refilled pod was drained');
      assert.ok([...left.values()].every((at) => at <= completion!.at), 'before CONTINUE');
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });

  it('a person asking again for a node that filled since is not answered "already drained"; asking while it is still drained is', async (t) => {
    const s = await drainWorld({ pods: 12 });
    try {
      assert.equal((await manualDrain(s)).outcome, 'started');
      await s.world.settle();
      const still = await manualDrain(s);
      assert.deepEqual([still.outcome, /still drained/.test(still.reason ?? '')], ['ignored', true]);
      uncordonByHand(s);
      await refill(s);
      const again = await manualDrain(s);
      assert.equal(again.outcome, 'started', `answered ${JSON.stringify(again)}`);
      assert.equal(again.executionName, `drain-${s.instanceId}-1`);
      await s.world.settle();
      assert.deepEqual(drainsFinished(s.world, s.instanceId).map((f) => f.outcome), ['drained', 'drained']);
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });
});

describe('Ownership: a `running` record is believed only while its owner runs', () => {
  /** A manual drain held by a frozen budget, whose execution a person then stops: its record still says running. */
  async function deadOwner(): Promise<DrainSetup & { stoppedAt: number }> {
    const s = await drainWorld({ pods: 12, tags: { 'eks-node-lifecycle/drain-timeout': '2h' } });
    createPdb(s.cluster.store, { namespace: 'shop', name: 'web-frozen', selector: { app: 'web' }, minAvailable: '100%' });
    await s.world.run(10_000);
    assert.equal((await manualDrain(s)).outcome, 'started');
    await s.world.run(60_000);
    const [first] = drains(s.world);
    s.world.stepFunctions.stop(first!.executionArn);
    assert.equal((await drainRecord(s.world, s.instanceId))?.status, 'running', 'precondition: the record outlives its execution');
    return { ...s, stoppedAt: s.world.clock.now() };
  }
  const unfreeze = (s: DrainSetup) => s.cluster.store.delete('poddisruptionbudgets', 'shop', 'web-frozen', {});

  it('a scale-in within the dead owner\'s lease: the hook is not trusted to it; the drain is taken over, and the hook completed once the pods are gone', async (t) => {
    const s = await deadOwner();
    try {
      await scaleIn(s.instanceId);
      await s.world.run(30 * 60_000);
      assert.deepEqual(drainRequests(s.world, s.instanceId), ['started', 'started']);
      assert.deepEqual(drains(s.world).map((e) => [e.name, e.status]), [[`drain-${s.instanceId}-0`, 'ABORTED'], [`drain-${s.instanceId}-1`, 'RUNNING']]);
      assert.deepEqual(hookExpiries(s.world, s.instanceId), [], 'the new owner keeps the hook alive');
      unfreeze(s);
      await s.world.settle();
      assert.equal(drains(s.world)[1]!.status, 'SUCCEEDED');
      assert.equal(successfulCompletions(s.world, s.instanceId).length, 1);
      assert.deepEqual(terminationOf(s.monitor, s.instanceId)?.podsToEvict, []);
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });

  it('the next trigger after the lease lapsed (a spot warning) takes the drain over', async (t) => {
    const s = await deadOwner();
    try {
      await s.world.run(11 * 60_000);
      s.world.account.ec2.interruptSpot(s.instanceId);
      await s.world.run(5_000);
      assert.deepEqual(drainRequests(s.world, s.instanceId), ['started', 'started']);
      assert.equal((await drainRecord(s.world, s.instanceId))?.executionArn, drains(s.world)[1]!.executionArn);
      unfreeze(s);
      await s.world.settle();
      assert.deepEqual(drainsFinished(s.world, s.instanceId).map((f) => f.outcome), ['drained']);
      t.diagnostic(await assertInvariantsHeld(s, { terminatedByAws: [s.instanceId] }));
    } finally {
      await s.world.stop();
    }
  });
});

describe('Ownership: every terminate hook of the service on an instance honoured, no other tool\'s', () => {
  it('two terminate hooks on one group (60 s and 120 s heartbeats), both the service\'s: both kept alive through a long drain, both completed once, after it', async (t) => {
    const s = await drainWorld({
      pods: 12,
      heartbeatTimeout: 60,
      // the second hook is named as the service's to answer
      tags: { 'eks-node-lifecycle/terminate-hook': 'log-shipper' },
      given: async ({ world }) => {
        await new AutoScalingClient({ region: 'eu-west-1' }).send(
          new PutLifecycleHookCommand({ AutoScalingGroupName: GROUP, LifecycleHookName: 'log-shipper', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 120, DefaultResult: 'CONTINUE' }),
        );
        await world.settle();
      },
    });
    try {
      slowShutdown(s, 300); // the drain outlasts both heartbeat timeouts several times
      const started = s.world.clock.now();
      await scaleIn(s.instanceId);
      await s.world.settle();

      assert.deepEqual(drainRequests(s.world, s.instanceId).sort(), ['joined', 'started'], 'two hooks, one drain');
      const completions = successfulCompletions(s.world, s.instanceId).map((c) => (c.input as { LifecycleHookName: string; LifecycleActionResult: string }));
      assert.deepEqual(completions.map((c) => `${c.LifecycleHookName}:${c.LifecycleActionResult}`).sort(), [`${HOOK}:CONTINUE`, 'log-shipper:CONTINUE']);
      assert.deepEqual(hookExpiries(s.world, s.instanceId), [], 'neither hook expired');
      const completedAt = Math.min(...successfulCompletions(s.world, s.instanceId).map((c) => c.at));
      assert.ok(completedAt - started >= 300_000, 'completed after the slow pods were gone');
      for (const [hook, timeout] of [[HOOK, 60_000], ['log-shipper', 120_000]] as const) {
        const beats = callsOf(s.world, 'RecordLifecycleActionHeartbeat', s.instanceId).filter((c) => !c.error && (c.input as { LifecycleHookName: string }).LifecycleHookName === hook).map((c) => c.at);
        assert.ok(longestHeartbeatGap(beats, started, completedAt) < timeout, `${hook}: ${longestHeartbeatGap(beats, started, completedAt) / 1000} s without a heartbeat`);
      }
      assert.ok(heartbeats(s.world, s.instanceId).length >= 6);
      const [finished] = drainsFinished(s.world, s.instanceId);
      assert.deepEqual(finished!.lifecycleAction, 'continued');
      assert.deepEqual((finished as unknown as { lifecycleActions: { hook: string; state: string }[] }).lifecycleActions.map((a) => `${a.hook}:${a.state}`).sort(), [`${HOOK}:completed`, 'log-shipper:completed']);
      assert.deepEqual(terminationOf(s.monitor, s.instanceId)?.podsToEvict, []);
      assert.equal(nodeOf(s.world, s.instanceId), undefined, 'the instance went once both were completed');
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });

  it('another tool\'s terminate hook on an owned group (a log shipper flushing) is never completed nor heartbeated by the service; its own still is', async (t) => {
    // Prepare: the log shipper's hook, which the log shipper completes itself once it has flushed (40 s)
    const s = await drainWorld({
      pods: 12,
      given: async ({ world }) => {
        await new AutoScalingClient({ region: 'eu-west-1' }).send(
          new PutLifecycleHookCommand({ AutoScalingGroupName: GROUP, LifecycleHookName: 'log-shipper-flush', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 120, DefaultResult: 'CONTINUE' }),
        );
        await world.settle();
      },
    });
    try {
      // Act: the scale-in; 40 s later the log shipper has flushed and completes its own hook
      await scaleIn(s.instanceId);
      await s.world.run(40_000);
      const shipper = s.world.account.events.map((e) => e.detail as { LifecycleHookName?: string; LifecycleActionToken?: string }).find((d) => d.LifecycleHookName === 'log-shipper-flush')!;
      await new AutoScalingClient({ region: 'eu-west-1' }).send(
        new CompleteLifecycleActionCommand({ AutoScalingGroupName: GROUP, LifecycleHookName: 'log-shipper-flush', LifecycleActionToken: shipper.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' }),
      );
      await s.world.settle();
      // Assess: the service answered its own hook, and never the log shipper's
      const byService = (command: string) => callsOf(s.world, command, s.instanceId).filter((c) => c.caller !== undefined).map((c) => (c.input as { LifecycleHookName: string }).LifecycleHookName);
      assert.deepEqual([...new Set(byService('CompleteLifecycleAction'))], [HOOK]);
      assert.ok(!byService('RecordLifecycleActionHeartbeat').includes('log-shipper-flush'), 'no heartbeat for another tool\'s hook');
      assert.ok(drainRequests(s.world, s.instanceId).includes('ignored'), 'the log shipper\'s event was left alone, with a reason');
      const [finished] = drainsFinished(s.world, s.instanceId);
      assert.deepEqual((finished as unknown as { lifecycleActions: { hook: string }[] }).lifecycleActions.map((a) => a.hook), [HOOK]);
      assert.equal(nodeOf(s.world, s.instanceId), undefined, 'the instance went once both tools were done');
      t.diagnostic(await assertInvariantsHeld(s));
    } finally {
      await s.world.stop();
    }
  });
});

/** A 3-node group under rollout, a ledger pod on each node under a budget that allows no disruption, the monitor watching. */
async function rolloutOverProtectedPods(drainTimeout: string) {
  const setup = await selfManagedWorld({ nodes: 3, tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/canary': '1', 'eks-node-lifecycle/drain-timeout': drainTimeout } });
  const { world, cluster, group } = setup;
  const old = await instanceIdsOf(world, group.autoScalingGroupName);
  for (const [i, id] of old.entries()) createPod(cluster.store, { namespace: 'payments', name: `ledger-${i}`, labels: { app: 'ledger' }, nodeName: nodeOf(world, id)! });
  createPdb(cluster.store, { namespace: 'payments', name: 'ledger', selector: { app: 'ledger' }, minAvailable: '100%' });
  await world.run(30_000);
  const monitor = watchInvariants(world);
  releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
  await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
  // the rollout reaches its first drain: the record says the rollout owns it
  let victim: string | undefined;
  for (let i = 0; i < 120 && !victim; i++) {
    await world.run(15_000);
    for (const id of old) if ((await drainRecord(world, id))?.executionArn?.includes('-ami-rollout:')) victim = id;
  }
  assert.ok(victim, 'precondition: the rollout drains a node');
  return { ...setup, monitor, victim, relax: () => cluster.store.delete('poddisruptionbudgets', 'payments', 'ledger', {}) };
}

describe('Ownership: a terminate hook that joins a rollout\'s drain (B1)', () => {
  // the rollback lets go of the drains of the batch it abandons (decide-self-managed.ts): a node a
  // scale-in chose is Terminating, not among the old nodes it uncordons, and its drain (the hook
  // open) is handed to node-drain rather than left to an ended rollout
  it('a rollback while a scale-in\'s hook is open on a node the rollout drains: the drain is handed to node-drain, the node stays cordoned, the hook completed once the pod can go', async (t) => {
    const { world, cluster, monitor, victim, relax } = await rolloutOverProtectedPods('10m');
    try {
      const [rollout] = rollouts(world);
      await scaleIn(victim);
      const node = nodeOf(world, victim)!;
      const uncordons: number[] = [];
      cluster.store.on((event) => {
        if (event.resource === 'nodes' && event.object.metadata.name === node && (event.oldObject as any)?.spec?.unschedulable && !(event.object as any).spec?.unschedulable) uncordons.push(world.clock.now());
      });
      // the rollout's drain deadline passes with the pod still held: it rolls back
      await world.run(40 * 60_000);
      assert.notEqual(rollout!.status, 'RUNNING', 'precondition: the rollout has rolled back');
      const handedTo = drains(world).find((e) => e.name === `drain-${victim}-1`);
      assert.ok(handedTo, `handed over to node-drain: ${drains(world).map((e) => e.name)}`);
      assert.equal(JSON.parse(handedTo.input).trigger, 'terminate-hook');
      assert.equal(JSON.parse(handedTo.input).rolloutExecutionArn, rollout!.executionArn);
      assert.equal((await drainRecord(world, victim))?.executionArn, handedTo.executionArn, 'the node-drain owns it now');
      assert.deepEqual(uncordons, [], 'a node a scale-in chose is never put back in service');
      assert.deepEqual(hookExpiries(world, victim), []);
      assert.equal(successfulCompletions(world, victim).length, 0);

      relax();
      await world.settle();
      assert.equal(handedTo.status, 'SUCCEEDED');
      assert.equal(successfulCompletions(world, victim).length, 1);
      const termination = monitor.report().terminations.find((x) => x.instanceId === victim);
      assert.deepEqual(termination?.podsToEvict, []);
      await monitor.assertHeld({});
      t.diagnostic(invariantFigures(monitor));
    } finally {
      await world.stop();
    }
  });

  it('the rollout drains a node holding a protected pod; a scale-in picks that node: the rollout heartbeats the hook, and completes it once when the pod can go', async (t) => {
    const { world, monitor, victim, relax } = await rolloutOverProtectedPods('30m');
    try {
      const [rollout] = rollouts(world);
      const scaledInAt = world.clock.now();
      await scaleIn(victim);
      await world.run(12 * 60_000);

      // the hook joined the rollout's drain: no node-drain of its own, kept alive by the rollout's passes
      assert.deepEqual(drainRequests(world, victim), ['joined']);
      assert.deepEqual(drains(world).map((e) => e.name), [], 'no second drain of the node');
      const record = await drainRecord(world, victim);
      assert.equal(record?.executionArn, rollout!.executionArn);
      assert.deepEqual(record?.lifecycleActions.map((a) => a.state), ['open']);
      assert.deepEqual(hookExpiries(world, victim), []);
      assert.ok(heartbeats(world, victim).length >= 2, `${heartbeats(world, victim).length} heartbeats in 12 min of a 600 s hook`);
      assert.ok(longestHeartbeatGap(heartbeats(world, victim), scaledInAt, world.clock.now()) < 600_000);
      assert.equal(successfulCompletions(world, victim).length, 0, 'not completed while the pod is held');

      // the budget is relaxed: the pod goes, the rollout ends the node's drain and completes the hook, once
      relax();
      await world.settle();
      const [completion, ...more] = successfulCompletions(world, victim);
      assert.equal(more.length, 0);
      assert.equal((completion!.input as { LifecycleActionResult: string }).LifecycleActionResult, 'CONTINUE');
      assert.ok(longestHeartbeatGap(heartbeats(world, victim), scaledInAt, completion!.at) < 600_000);
      const termination = monitor.report().terminations.find((x) => x.instanceId === victim);
      assert.deepEqual(termination?.podsToEvict, [], 'the protected pod was evicted first');
      assert.equal(termination?.cause, 'call');
      await monitor.assertHeld({});
      t.diagnostic(invariantFigures(monitor));
    } finally {
      await world.stop();
    }
  });
});
