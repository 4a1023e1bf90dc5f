import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { type ChatDriver, chatParams, instanceIdsOf, releaseAmi, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, World } from '@eks-node-lifecycle/sandbox';
import { drains, drainsFinished } from './fault-drain-helpers.js';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { rollouts } from './rollout-helpers.js';

/**
 * Safe by default, loud on misconfiguration: a group whose tags say something the service
 * cannot read as written is not rolled onto a default that may be riskier than what was
 * meant; the problem is shown in `plan`, `status`, the dry run and one event; drains go on
 * with the safe default.
 */
const P = 'eks-node-lifecycle/';
const A = 'U0SRE';
const PROBLEM = 'Node Group Configuration Problem';

describe('Scenario: node groups configured wrong', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let monitor: InvariantMonitor;
  let dryRun: any;
  let planText: string;
  let statusText: string;
  let drained: string;

  before(async () => {
    receiver = await startSandboxSlack();
    world = await World.start({ params: chatParams(receiver) });
    await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    // soaking: the soak mistyped (falling back would roll the newest image), and a drain timeout mistyped
    world.account.createSelfManagedGroup({
      cluster: 'prod',
      name: 'soaking',
      min: 0,
      max: 4,
      desired: 2,
      tags: { [`${P}rollout`]: 'auto', [`${P}channel`]: 'soak=7days', [`${P}drain-timeout`]: '15min' },
      hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 300, defaultResult: 'CONTINUE' } },
    });
    // typo: a misspelt key; casual: only a value in another case
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'typo', min: 0, max: 2, desired: 0, tags: { [`${P}rollout`]: 'auto', [`${P}max-unavialable`]: '2' } });
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'casual', min: 0, max: 2, desired: 0, tags: { [`${P}rollout`]: 'Auto' } });
    await world.settle();
    // rollouts here need no person: what is under test is which groups detection starts at all
    const policy = sandboxAccessPolicy({ sre: [A] }) as { clusters: { prod: Record<string, unknown> } };
    policy.clusters.prod.requireApproval = false;
    chat = setupChat(world, receiver, policy);
    monitor = watchInvariants(world);

    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
    dryRun = await world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true });
    await world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
    await world.settle();
    await world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
    await world.settle();

    const plan = await chat.slash(A, 'plan prod');
    const status = await chat.slash(A, 'status prod');
    await world.settle();
    planText = chat.responses(plan.responseUrl).map((m) => m.text).join('\n');
    statusText = chat.responses(status.responseUrl).map((m) => m.text).join('\n');

    // a scale-in of the soaking group: drained, on the default drain timeout
    drained = (await instanceIdsOf(world, 'soaking'))[0]!;
    await new AutoScalingClient({ region: world.model.region }).send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: drained, ShouldDecrementDesiredCapacity: true }));
    await world.settle();
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('does not roll a group whose channel is malformed (no fall back to recommended), nor one with a misspelt key; rolls the one read with a note', () => {
    const rolled = rollouts(world).map((e) => (JSON.parse(e.input) as { group: { name: string } }).group.name);
    assert.deepEqual([...new Set(rolled)], ['casual']);
    const plans = Object.fromEntries(dryRun.plans.map((p: any) => [p.group, p]));
    assert.equal(plans.soaking.action, 'skip');
    assert.match(plans.soaking.reason, /not rolled until its configuration is fixed: eks-node-lifecycle\/channel=soak=7days needs a duration like soak=7d/);
    assert.equal(plans.typo.action, 'skip');
    assert.match(plans.typo.reason, /max-unavialable is not a setting; did you mean eks-node-lifecycle\/max-unavailable\?/);
    assert.equal(plans.casual.action, 'roll');
    assert.deepEqual(plans.casual.notes, [`${P}rollout=Auto read as auto; write it auto`]);
    assert.ok(plans.soaking.problems.some((p: string) => p.startsWith(`${P}drain-timeout=15min`)), 'the dry run shows the drain problem too');
  });

  it('announces each distinct problem once, across two detections, and nothing on a dry run', () => {
    const events = world.published.filter((e) => e['detail-type'] === PROBLEM).map((e) => e.detail as { group: string; key: string; governs: string; stopsAutomaticRollouts: boolean });
    assert.deepEqual(
      events.map((e) => [e.group, e.key, e.governs, e.stopsAutomaticRollouts]).sort(),
      [
        ['soaking', 'channel', 'rollout', true],
        ['soaking', 'drain-timeout', 'drain', false],
        ['typo', 'max-unavialable', 'rollout', true],
      ],
    );
  });

  it('shows the problems in the plan and status chat replies', () => {
    assert.match(planText, /Configuration problems/);
    assert.match(planText, /prod\/soaking: eks-node-lifecycle\/channel=soak=7days needs a duration like soak=7d or soak=36h — automatic rollouts of this group are stopped until it is fixed/);
    assert.match(statusText, /auto \(stopped: configuration problems\)/);
    assert.match(statusText, /prod\/typo: eks-node-lifecycle\/max-unavialable is not a setting; did you mean eks-node-lifecycle\/max-unavailable\?/);
    assert.match(statusText, /prod\/casual: eks-node-lifecycle\/rollout=Auto read as auto/);
  });

  it('drains the misconfigured group on the default drain timeout, and reports the problem', () => {
    const drain = drains(world).find((e) => JSON.stringify(e.input).includes(drained))!;
    assert.ok(drain, 'the scale-in was drained');
    assert.equal((JSON.parse(drain.input) as { policy: { drainTimeoutSeconds: number } }).policy.drainTimeoutSeconds, 15 * 60);
    assert.equal(drainsFinished(world, drained)[0]?.outcome, 'drained');
    assert.ok(JSON.stringify(world.logs).includes('drain-timeout=15min is not a duration like 15m or 3h; using the default'), 'the drain logged the problem');
  });

  it('holds every invariant', async () => {
    await monitor.assertHeld();
  });
});
