import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, CreateOrUpdateTagsCommand } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../../shared/aws/clients.js';
import { NodeGroupLocks } from '../../shared/rollout/node-group-lock.js';
import { accountThrottlingError, type ChatDriver, chatParams, releaseAmi, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Issue 16 part 8: a rollout asked for in chat is reported as started only once Begin has
 * decided it runs now. The sandbox starts on Saturday 2026-11-21 09:00 UTC. One group, its
 * tags changed between the requests: outside its window (Sunday 02:00–06:00 UTC) the first
 * reply is Begin's refusal; inside one (Saturday 08:00–12:00 UTC) it is "started"; with
 * `rollout=approve` it names the approval it waits for.
 */
const A = 'U0ALICE';
const B = 'U0BOB';

describe('Scenario: the first reply to a chat rollout is what Begin decided', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let group: { autoScalingGroupName: string; launchTemplateId: string };
  let monitor: InvariantMonitor;
  let newImage: string;

  const tag = (key: string, value: string) =>
    new AutoScalingClient({ region: world.model.region }).send(
      new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: group.autoScalingGroupName, ResourceType: 'auto-scaling-group', Key: `eks-node-lifecycle/${key}`, Value: value, PropagateAtLaunch: false }] }),
    );
  /** the command's one reply (chatWorker answers through the response_url) */
  const ask = async (text: string): Promise<string> => {
    const out = await chat.slash(A, text);
    await world.run(30_000);
    const replies = chat.responses(out.responseUrl);
    assert.equal(replies.length, 1, JSON.stringify(replies));
    return replies[0]!.text;
  };

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world, group } = await selfManagedWorld({ nodes: 2, name: 'web', tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/window': 'sun 02:00-06:00 UTC' }, world: { params: chatParams(receiver) } }));
    // the cluster's policy does not require approval: the group's tag decides
    const policy = sandboxAccessPolicy({ sre: [A, B] }) as { clusters: { prod: Record<string, unknown> } };
    policy.clusters.prod['requireApproval'] = false;
    chat = setupChat(world, receiver, policy);
    monitor = watchInvariants(world);
    newImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('outside the window: the reply is the refusal, not "started", and nothing was changed', async () => {
    const before0 = await groupState('web');
    const text = await ask('rollout prod/web');
    assert.match(text, /Rollout of prod\/web refused: outside the maintenance window "sun 02:00-06:00 UTC"; it opens at 2026-11-22T02:00:00.000Z/);
    assert.doesNotMatch(text, /started/);
    await world.settle();
    const [refused] = rollouts(world);
    assert.equal(refused!.status, 'FAILED');
    assert.equal(refused!.error, 'RolloutRefused');
    assert.deepEqual((await groupState('web')).images, before0.images);
  });

  it('inside the window: "started", and the group rolls', async () => {
    await tag('window', 'sat 08:00-12:00 UTC');
    const text = await ask('rollout prod/web');
    assert.match(text, /:rocket: Rollout of prod\/web started/);
    await world.settle();
    const started = rollouts(world).at(-1)!;
    assert.equal(started.status, 'SUCCEEDED', `${started.error} ${started.cause}`);
    const images = [...(await groupState('web')).images.values()];
    assert.ok(images.length === 2 && images.every((image) => image === newImage), images.join(' '));
  });

  it('with rollout=approve: the reply names the approval it waits for, and says nothing started', async () => {
    await tag('rollout', 'approve');
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
    const text = await ask('rollout prod/web');
    const lock = await new NodeGroupLocks(awsScope({ region: world.model.region }), process.env['ROLLOUTS_TABLE']!).get('prod/web');
    assert.match(lock?.approvalId ?? '', /^apr-[a-z0-9]{12}$/);
    assert.match(text, new RegExp(`Rollout of prod/web is waiting for approval \\(approval ${lock!.approvalId}\\)`));
    assert.doesNotMatch(text, /started/);
    assert.equal(rollouts(world).at(-1)!.status, 'RUNNING');
    // B denies it: the rollout ends having changed nothing
    await chat.slash(B, 'deny prod/web --reason not today');
    await world.settle();
    assert.equal(rollouts(world).at(-1)!.status, 'FAILED');
  });

  it('Begin held up past the bound (Auto Scaling throttling its reads for a minute): "accepted, not yet started", and the rollout goes on', async () => {
    await tag('rollout', 'auto');
    const release = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261230' }).image.ImageId!;
    const until = world.clock.now() + 60_000;
    world.account.faults.set('autoscaling:DescribeAutoScalingGroups', (_input, attempt) => (attempt.call.startsWith('beginRollout') && world.clock.now() < until ? accountThrottlingError('autoscaling') : undefined));
    const text = await ask('rollout prod/web');
    assert.match(text, /Rollout of prod\/web accepted, not yet started: progress follows in the thread/);
    assert.doesNotMatch(text, /:rocket:/);
    await world.settle();
    world.account.faults.delete('autoscaling:DescribeAutoScalingGroups');
    const last = rollouts(world).at(-1)!;
    assert.equal(last.status, 'SUCCEEDED', `${last.error} ${last.cause}`);
    assert.ok([...(await groupState('web')).images.values()].every((image) => image === release));
  });

  it('ends with every invariant held: budgets, capacity, no lock or drain left', async () => {
    await monitor.assertHeld();
  });
});
