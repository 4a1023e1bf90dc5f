import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isLeaving, snapshotGroup } from '../../shared/aws/auto-scaling-groups.js';
import { awsScope } from '../../shared/aws/clients.js';
import { AuditLog } from '../../shared/chatops/audit-log.js';
import type { DrainObserved, LaunchObserved, RolloutObserved } from '../../shared/events/observed.js';
import { chatParams, type DefaultScenarioResult, kubeClientOf as clientOf, kubeWrites, READ_COMMAND, recordServiceCalls, releaseAmi, runDefaultScenario, sandboxAccessPolicy, setupChat, startSandboxSlack, userResourceWrites, World } from '@eks-node-lifecycle/sandbox';
import { rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Observe mode (issue 16 part 4): the default scenario (`npm start`) run with the stage param
 * `mode=observe`. Every flow decides and reports — the launches it would tag, the scale-in it
 * would drain, the two rollouts it would start — and the sandbox, which sees every call a
 * function or a workflow makes (sim/service-writes.ts), counts no write to EC2, Auto Scaling,
 * EKS or Kubernetes. The scenario's own operator calls (SetDesiredCapacity,
 * TerminateInstanceInAutoScalingGroup) are made outside any invocation and are not the service's.
 */
const published = <T>(world: World, detailType: string) => world.published.filter((e) => e['detail-type'] === detailType).map((e) => e.detail as T);

describe('Scenario: the default scenario in observe mode (mode=observe) reports everything and writes nothing', () => {
  let world: World;
  let result: DefaultScenarioResult;
  let recorder: ReturnType<typeof recordServiceCalls>;
  /** the self-managed group's instances when detection ran (not those leaving it: the scale-in's) */
  let members: string[];

  before(async () => {
    world = await World.start({ params: { mode: 'observe' }, recordKubeRequests: true });
    recorder = recordServiceCalls();
    result = await runDefaultScenario(world);
    const group = await snapshotGroup(awsScope({ region: world.model.region }), result.selfManagedGroup);
    members = group!.instances.filter((i) => !isLeaving(i)).map((i) => i.instanceId);
    // past the hooks' timeouts (launch 600 s, terminate 300 s): nobody answers them
    await world.run(15 * 60_000);
  });
  after(async () => {
    recorder.remove();
    await world.stop();
  });

  it('makes no mutating call to EC2, Auto Scaling or EKS from any function or workflow', () => {
    assert.ok(recorder.calls.length > 0, 'the service ran');
    assert.deepEqual(userResourceWrites(recorder.calls), []);
  });

  it('sends no mutating Kubernetes request (no cordon, no eviction), though it read the drained node\'s pods and budgets', () => {
    assert.deepEqual(kubeWrites(world), []);
    const reads = world.kubeRequests.filter(({ request }) => clientOf(request.userAgent) === 'eks-node-lifecycle').map(({ request }) => `${request.verb} ${request.resource}`);
    assert.ok(reads.includes('list pods') && reads.includes('list poddisruptionbudgets'), reads.join(', '));
  });

  it('starts no workflow and takes no lock: its only own writes are the history entries of its reports', () => {
    assert.equal(world.stepFunctions.executions.size, 0);
    assert.deepEqual(recorder.calls.filter((c) => c.service === 'states'), []);
    const ownWrites = recorder.calls.filter((c) => c.service === 'dynamodb' && !READ_COMMAND.test(c.command));
    assert.ok(ownWrites.every((c) => c.fn === 'chatNotify' && c.command === 'Put'), ownWrites.map((c) => `${c.fn} ${c.command}`).join(', '));
    assert.equal(world.iam.counts.denied, 0);
  });

  it('reports the rollouts of both groups: the managed one by an EKS update, the self-managed one in batches of the instances it runs, canary first', () => {
    const observed = published<RolloutObserved>(world, 'Rollout Observed');
    assert.deepEqual(observed.map((o) => o.group).sort(), ['prod-workers', 'system']);
    assert.equal(rollouts(world).length, 0);
    for (const o of observed) {
      assert.equal(o.mode, 'observe');
      assert.equal(o.observedBy, 'service');
      assert.equal(o.target.imageId, result.newImage);
      assert.equal(o.window, 'now');
      assert.equal(o.approval, false);
    }
    const system = observed.find((o) => o.group === 'system')!;
    assert.equal(system.update, 'eks-update');
    assert.match(system.wouldDo[0]!, /^UpdateNodegroupVersion prod\/system to release 1\.31\.\d+-20261215$/);
    const workers = observed.find((o) => o.group === 'prod-workers')!;
    assert.equal(workers.update, 'batches');
    assert.match(workers.wouldDo[0]!, /^CreateLaunchTemplateVersion of launch template lt-\w+ from version 1 with ImageId ami-/);
    const batched = workers.batches!.flatMap((b) => b.instances.map((i) => i.instanceId));
    assert.deepEqual([...batched].sort(), [...members].sort(), 'the batches hold the instances of the group at detection');
    assert.ok(!batched.includes(result.drained), 'not the one leaving it');
    assert.equal(workers.batches![0]!.canary, true);
    assert.equal(workers.batches![0]!.instances.length, 1, 'canary=1');
    assert.ok(workers.batches!.slice(1).every((b) => !b.canary && b.instances.length === 1), 'max-unavailable=1');
  });

  it('reports the scale-in\'s drain: which pods would be evicted now and which the PodDisruptionBudget holds back', () => {
    const [drain, ...more] = published<DrainObserved>(world, 'Node Drain Observed');
    assert.equal(more.length, 0);
    assert.equal(drain!.instanceId, result.drained);
    assert.equal(drain!.trigger, 'terminate-hook');
    assert.equal(drain!.nodeFound, true);
    const web = [...drain!.evict, ...drain!.blocked.map((b) => b.pod)].filter((p) => p.namespace === 'shop');
    assert.equal(web.length, 2, 'the two shop/web pods of the node');
    assert.equal(drain!.evict.filter((p) => p.namespace === 'shop').length, 1, 'maxUnavailable 1: one may go now');
    assert.deepEqual(drain!.blocked.map((b) => b.pdb), ['shop/web']);
    assert.ok(drain!.skipped.some((s) => s.reason === 'daemonset'), 'aws-node is left alone');
    assert.deepEqual(drain!.lifecycleAction, { autoScalingGroupName: result.selfManagedGroup, lifecycleHookName: 'drain', defaultResult: 'CONTINUE', timeoutSeconds: 300 });
    assert.ok(drain!.wouldDo.some((s) => s.startsWith('cordon ')) && drain!.wouldDo.some((s) => s.startsWith('CompleteLifecycleAction CONTINUE on hook drain')));
  });

  it('reports the ownership tag each launch would get, and the launch hook it would answer, and tags nothing', async () => {
    const launches = published<LaunchObserved>(world, 'Node Launch Observed');
    for (const instanceId of result.scaledOut) {
      const mine = launches.filter((l) => l.instanceId === instanceId);
      assert.equal(mine.length, 1, `one report for ${instanceId}, with its launch hook (its state change adds none)`);
      assert.ok(mine.every((l) => l.instanceTags['kubernetes.io/cluster/prod'] === 'owned'));
      const hook = mine.find((l) => l.lifecycleAction)?.lifecycleAction;
      assert.deepEqual(hook, { autoScalingGroupName: result.selfManagedGroup, lifecycleHookName: 'wait-for-node', defaultResult: 'ABANDON', timeoutSeconds: 600 });
      assert.equal(world.account.ec2.instances.get(instanceId)?.instance.Tags?.find((t) => t.Key === 'kubernetes.io/cluster/prod'), undefined, 'not tagged');
    }
  });

  it('leaves every lifecycle action to its hook\'s default result: the launches ABANDON, the scale-in CONTINUE', () => {
    const timeouts = world.timeline.entries.filter((e) => e.source === 'aws' && /reached its .*; applying DefaultResult/.test(e.message)).map((e) => e.message);
    for (const instanceId of result.scaledOut) assert.ok(timeouts.some((m) => m.includes(` on ${instanceId} `) && m.endsWith('DefaultResult ABANDON')), `${instanceId}: ${timeouts.join('\n')}`);
    assert.ok(timeouts.some((m) => m.includes(` on ${result.drained} `) && m.endsWith('DefaultResult CONTINUE')), timeouts.join('\n'));
  });

  it('puts its reports in the cluster\'s history', async () => {
    const history = await new AuditLog(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!).history('prod', { limit: 100 });
    const observed = history.filter((e) => e.principal.id === 'observe');
    assert.ok(observed.some((e) => e.text === 'Rollout Observed' && e.summary.startsWith('observe mode: would roll prod/system')));
    assert.ok(observed.some((e) => e.text === 'Node Drain Observed' && e.summary.includes(result.drained)));
  });
});

describe('Scenario: a group tagged rollout=observe is planned and reported, another group of the same cluster is rolled', () => {
  it('reports the managed group\'s rollout and rolls the self-managed one', async () => {
    const world = await World.start({ recordKubeRequests: true });
    const recorder = recordServiceCalls();
    try {
      const result = await runDefaultScenario(world, { groupTags: { system: { 'eks-node-lifecycle/rollout': 'observe' } } });
      const observed = published<RolloutObserved>(world, 'Rollout Observed');
      assert.deepEqual(observed.map((o) => [o.group, o.observedBy]), [['system', 'group']]);
      const started = rollouts(world);
      assert.equal(started.length, 1);
      assert.match(started[0]!.name, /^roll-prod-prod-workers-/);
      assert.equal(started[0]!.status, 'SUCCEEDED', `${started[0]!.error} ${started[0]!.cause}`);
      // the observed group: no EKS update, no launch template version; the other group: written
      const writes = userResourceWrites(recorder.calls);
      assert.ok(!writes.some((w) => /eks:UpdateNodegroup/.test(w)), writes.join('\n'));
      assert.ok(writes.some((w) => /ec2:CreateLaunchTemplateVersion/.test(w)));
      assert.ok(published<{ group: string }>(world, 'Rollout Finished').every((f) => f.group === 'prod-workers'));
      assert.ok(result.newImage);
    } finally {
      recorder.remove();
      await world.stop();
    }
  });
});

describe('Scenario: chat in observe mode answers what it would do', () => {
  it('rollout replies "would roll" with its batches, drain "would drain" with its pods; nothing starts, the drain\'s report reaches the channel and history', async () => {
    const receiver = await startSandboxSlack();
    const { world, cluster } = await selfManagedWorld({ nodes: 3, name: 'web', tags: {}, world: { params: { ...chatParams(receiver), mode: 'observe' }, recordKubeRequests: true } });
    const recorder = recordServiceCalls();
    try {
      const chat = setupChat(world, receiver, sandboxAccessPolicy({ sre: ['U0ALICE'] }));
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
      const rollout = await chat.slash('U0ALICE', 'rollout prod/web');
      await world.settle();
      const rolled = chat.responses(rollout.responseUrl).map((m) => m.text).join('\n');
      assert.match(rolled, /observe mode \(the service's mode param\): would roll prod\/web from ami-\w+ to .* after approval in 3 batches; nothing was changed/);
      assert.match(rolled, /batch 1 of 3 \(canary\)/);
      const node = (cluster.store.list('nodes') as { metadata: { name: string } }[])[0]!.metadata.name;
      const drain = await chat.slash('U0ALICE', `drain ${node}`);
      await world.settle();
      const drained = chat.responses(drain.responseUrl).map((m) => m.text).join('\n');
      assert.match(drained, new RegExp(`observe mode \\(the service's mode param\\): would drain ${node.replace(/\./g, '\\.')}`));
      assert.match(drained, /evict \d+ pods? now: shop\/web-/);
      assert.equal(world.stepFunctions.executions.size, 0);
      assert.deepEqual(userResourceWrites(recorder.calls), []);
      assert.deepEqual(kubeWrites(world), []);
      assert.ok(receiver.messages.some((m) => m.kind === 'post' && m.text.includes(`would drain ${node}`)), 'the Node Drain Observed report in the channel');
      const history = await chat.slash('U0ALICE', 'history prod');
      await world.settle();
      const told = chat.responses(history.responseUrl).map((m) => m.text).join('\n');
      assert.match(told, /rollout prod\/web .*would roll prod\/web/, 'the rollout command, answered');
      assert.match(told, /observe mode: prod: would drain/, 'the Node Drain Observed report');
    } finally {
      recorder.remove();
      await world.stop();
      await receiver.close();
    }
  });
});
