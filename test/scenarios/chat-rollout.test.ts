import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { awsScope } from '../../shared/aws/clients.js';
import { Approvals } from '../../shared/rollout/approvals.js';
import { type ChatDriver, chatParams, releaseAmi, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * The chat-ops story end to end in the sandbox: user A types `/nodes rollout prod/web` in
 * Slack; the rollout waits for approval; A's own Approve is refused; B approves with the
 * button; the group rolls; the channel's thread shows the plan, the progress and the summary.
 */
const A = 'U0ALICE';
const B = 'U0BOB';
const MALLORY = 'U0MALLORY';

describe('Scenario: a rollout from Slack, approved by a second person', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let newImage: string;
  let before0: Awaited<ReturnType<typeof groupState>>;
  let first: Awaited<ReturnType<ChatDriver['slash']>>;
  let ownApproval: Awaited<ReturnType<ChatDriver['click']>>;
  let approval: Awaited<ReturnType<ChatDriver['click']>>;
  let approvalId: string;

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world } = await selfManagedWorld({ nodes: 4, name: 'web', tags: { 'eks-node-lifecycle/rollout': 'approve', 'eks-node-lifecycle/max-unavailable': '2' }, world: { params: chatParams(receiver) } }));
    chat = setupChat(world, receiver, sandboxAccessPolicy({ sre: [A, B] }));
    before0 = await groupState('web');
    newImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;

    first = await chat.slash(A, 'rollout prod/web');
    await world.run(5 * 60_000);
    const request = receiver.messages.find((m) => m.kind === 'post' && m.text.includes('apr-'));
    approvalId = /apr-[a-z0-9]{12}/.exec(request?.text ?? '')?.[0] ?? '';
    ownApproval = await chat.click(A, 'approve', approvalId);
    await world.run(60_000);
    approval = await chat.click(B, 'approve', approvalId);
    await world.settle();
    if (process.env.DUMP_CHAT) writeFileSync(process.env.DUMP_CHAT, receiver.messages.map((m) => `[${m.kind} ${m.channel ?? m.responseId} ${m.threadTs ? 'thread ' + m.threadTs : m.ts ?? ''}]\n${m.text}`).join('\n\n'));
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('answers the slash command at once, and only to A, while the work goes on', () => {
    assert.equal(first.statusCode, 200);
    assert.equal(first.body.response_type, 'ephemeral');
    assert.match(first.body.text, /Working on `rollout prod\/web/);
    const later = chat.responses(first.responseUrl);
    assert.equal(later.length, 1);
    // not "started": Begin decided it waits for a second person, and the reply names the approval
    assert.match(later[0]!.text, new RegExp(`Rollout of prod/web is waiting for approval \\(approval ${approvalId}\\)`));
    assert.doesNotMatch(later[0]!.text, /started/);
    assert.equal(later[0]!.responseType, 'in_channel');
  });

  it('posts the approval request with Approve/Deny buttons that carry only the approval id', async () => {
    const token = (await new Approvals(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!).getApproval(approvalId))!.taskToken;
    const request = receiver.messages.find((m) => m.kind === 'post' && m.text.includes(approvalId))!;
    assert.ok(request, 'an approval request was posted');
    assert.equal(request.channel, SANDBOX_SLACK.channel);
    const actions = request.blocks.find((b) => b['type'] === 'actions') as { elements: { action_id: string; value: string }[] };
    assert.deepEqual(actions.elements.map((e) => [e.action_id, e.value]), [['approve', approvalId], ['deny', approvalId]]);
    const execution = rollouts(world)[0]!;
    // the task token itself is only in the approvals table, never in anything Slack saw
    assert.ok(token.length > 20);
    assert.ok(!JSON.stringify(receiver.messages).includes(token));
    assert.match(request.text, new RegExp(`<@${A}>`));
    assert.ok(execution.executionArn.includes('chat-prod-web-'));
  });

  it("refuses A's own approval, only to A, and leaves the buttons for someone else", () => {
    assert.equal(ownApproval.statusCode, 200);
    const answer = chat.responses(ownApproval.responseUrl);
    assert.equal(answer.length, 1);
    assert.match(answer[0]!.text, /you requested this rollout/i);
    assert.equal(answer[0]!.responseType, 'ephemeral');
    assert.notEqual(answer[0]!.replaceOriginal, true);
  });

  it("takes B's approval, replaces the buttons with who approved, and the group rolls onto the new image", async () => {
    const answer = chat.responses(approval.responseUrl);
    assert.equal(answer.length, 1);
    assert.match(answer[0]!.text, /Approved/);
    assert.equal(answer[0]!.replaceOriginal, true);
    const execution = rollouts(world)[0]!;
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error} ${execution.cause}`);
    const after0 = await groupState('web');
    assert.equal(after0.instances.length, before0.instances.length);
    assert.ok([...after0.images.values()].every((image) => image === newImage));
    assert.ok(after0.instances.every((id) => !before0.instances.includes(id)));
  });

  it('tells the story in one thread: approval request, approved, progress with a bar, the summary', () => {
    const posts = receiver.messages.filter((m) => m.kind === 'post' && m.channel === SANDBOX_SLACK.channel);
    const parent = posts[0]!;
    assert.ok(parent.text.includes(approvalId), 'the thread starts with the approval request');
    const thread = posts.filter((m) => m.threadTs === parent.ts);
    const texts = thread.map((m) => m.text);
    assert.ok(texts.some((t) => /approved/i.test(t)), texts.join('\n---\n'));
    assert.ok(texts.some((t) => /▰/.test(t) && /batch/i.test(t)), 'a progress bar');
    assert.ok(/every node runs|finished/i.test(texts.at(-1) ?? ''), `ends with the summary: ${texts.at(-1)}`);
    assert.equal(posts.length, thread.length + 1, 'nothing of this rollout outside its thread');
  });

  it('audits every command with who, what and the result, readable with `history prod`', async () => {
    const out = await chat.slash(B, 'history prod');
    await world.settle();
    const shown = chat.responses(out.responseUrl)[0]!.text;
    assert.match(shown, /rollout prod\/web/);
    assert.match(shown, new RegExp(`<@${A}>`));
    assert.match(shown, /refused/);
    assert.match(shown, /approve apr-/);
  });

  it('refuses someone outside the policy, and starts nothing', async () => {
    const count = rollouts(world).length;
    const out = await chat.slash(MALLORY, 'rollout prod/web --now', { channel: 'C0RANDOM' });
    await world.settle();
    const shown = chat.responses(out.responseUrl)[0]!;
    assert.match(shown.text, /not allowed/i);
    assert.equal(shown.responseType, 'ephemeral');
    assert.equal(rollouts(world).length, count);
  });
});
