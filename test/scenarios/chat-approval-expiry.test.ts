import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChatDriver, chatParams, releaseAmi, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Nobody answers an approval: after 24 hours the rollout ends with nothing changed, the
 * approval message loses its buttons and says it expired, and a late click is told so.
 * A denial ends the next rollout the same way, saying who denied it and why.
 */
const A = 'U0ALICE';
const B = 'U0BOB';

describe('Scenario: an approval nobody answers, and one that is denied', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let before0: Awaited<ReturnType<typeof groupState>>;
  let approvalId: string;
  let late: Awaited<ReturnType<ChatDriver['click']>>;

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world } = await selfManagedWorld({ nodes: 2, name: 'web', tags: { 'eks-node-lifecycle/rollout': 'approve' }, world: { params: chatParams(receiver) } }));
    chat = setupChat(world, receiver, sandboxAccessPolicy({ sre: [A, B] }));
    before0 = await groupState('web');
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    await chat.slash(A, 'rollout prod/web');
    await world.run(5 * 60_000);
    // a day goes by: the approval gate's callback task times out
    await world.run(24 * 3600_000);
    await world.settle();
    approvalId = /apr-[a-z0-9]{12}/.exec(receiver.messages.find((m) => m.kind === 'post' && m.text.includes('apr-'))?.text ?? '')?.[0] ?? '';
    late = await chat.click(B, 'approve', approvalId);
    await world.settle();
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('ends the rollout after 24 hours with nothing changed', async () => {
    const execution = rollouts(world)[0]!;
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'ApprovalExpired');
    assert.deepEqual(await groupState('web'), before0);
  });

  it('replaces the approval message (and its buttons) with the expiry, and says so in the thread', () => {
    const request = receiver.messages.find((m) => m.kind === 'post' && m.text.includes(approvalId))!;
    const update = receiver.messages.find((m) => m.kind === 'update' && m.ts === request.ts && m.channel === SANDBOX_SLACK.channel);
    assert.ok(update, 'the approval message was updated');
    assert.match(update!.text, /expired/i);
    assert.ok(!update!.blocks.some((b) => b['type'] === 'actions'), 'no buttons left');
    assert.ok(receiver.messages.some((m) => m.kind === 'post' && m.threadTs === request.ts && /expired/i.test(m.text)));
  });

  it('tells a late approver that the approval expired, and sends nothing to the workflow', () => {
    const answer = chat.responses(late.responseUrl);
    assert.equal(answer.length, 1);
    assert.match(answer[0]!.text, /expired/);
    assert.equal(answer[0]!.responseType, 'ephemeral');
  });

  it('a denial ends the next rollout before it changes anything, naming who denied it and why', async () => {
    await chat.slash(A, 'rollout prod/web');
    await world.run(5 * 60_000);
    const id = [...receiver.messages].reverse().map((m) => /apr-[a-z0-9]{12}/.exec(m.text)?.[0]).find((found) => found && found !== approvalId)!;
    assert.ok(id, 'a second approval was requested');
    const out = await chat.slash(B, `deny ${id} --reason not during the sale`);
    await world.settle();
    assert.match(chat.responses(out.responseUrl)[0]!.text, /Denied/);
    const second = rollouts(world).find((e) => e.status !== 'FAILED' || e.error !== 'ApprovalExpired')!;
    assert.equal(second.status, 'FAILED');
    assert.equal(second.error, 'RolloutRejected');
    const told = receiver.messages.find((m) => m.kind === 'post' && /Rollout rejected/.test(m.text));
    assert.ok(told, 'the thread says the rollout was rejected');
    assert.match(told!.text, new RegExp(`Rejected by: <@${B}>`));
    assert.match(told!.text, /Reason: not during the sale/);
    assert.deepEqual(await groupState('web'), before0);
  });
});
