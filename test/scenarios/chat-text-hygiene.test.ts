import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsScope } from '../../shared/aws/clients.js';
import { AuditLog, NO_CLUSTER } from '../../shared/chatops/audit-log.js';
import { Approvals } from '../../shared/rollout/approvals.js';
import { type ChatDriver, chatParams, releaseAmi, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Text from people is echoed without power (security issue, part 6): a `<@U0VICTIM>` typed in
 * `--reason` is kept as typed but shown as text in every Slack message, never as a ping; a
 * reason holding a zero-width space or a tag character is refused, naming `--reason`, before
 * anything is answered — the rollout still waits for its approval.
 */
const A = 'U0ALICE';
const B = 'U0BOB';
const VICTIM = 'U0VICTIM';

describe('Scenario: what people type is shown as text, and invisible characters are refused', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let auditLog: AuditLog;
  let approvals: Approvals;
  let approvalId: string;

  /** Everything Slack was sent, every field of every message. */
  const everythingSlackSaw = () => JSON.stringify(receiver.messages);

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world } = await selfManagedWorld({ nodes: 2, name: 'web', tags: { 'eks-node-lifecycle/rollout': 'approve' }, world: { params: chatParams(receiver) } }));
    chat = setupChat(world, receiver, sandboxAccessPolicy({ sre: [A, B] }));
    auditLog = new AuditLog(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!);
    approvals = new Approvals(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!);
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    await chat.slash(A, 'rollout prod/web');
    await world.run(5 * 60_000);
    approvalId = /apr-[a-z0-9]{12}/.exec(receiver.messages.find((m) => m.kind === 'post' && m.text.includes('apr-'))?.text ?? '')?.[0] ?? '';
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  for (const [what, reason, codePoint] of [
    ['a zero-width space', 'not\u200Bnow', 'U+200B'],
    ['tag characters', 'fine\u{E0041}\u{E0042}', 'U+E0041'],
  ] as const) {
    it(`refuses a reason with ${what}, naming --reason, and answers nothing`, async () => {
      const out = await chat.slash(B, `deny ${approvalId} --reason ${reason}`);
      await world.settle();

      const answer = chat.responses(out.responseUrl).at(-1) ?? { text: out.body.text };
      assert.match(answer.text, new RegExp(`--reason contains an invisible format character \\(${codePoint.replace('+', '\\+')}\\)`));
      const approval = (await approvals.getApproval(approvalId))!;
      assert.equal(approval.status, 'pending', 'the approval is still open');
      assert.equal(approval.reason, undefined);
      assert.equal(rollouts(world)[0]!.status, 'RUNNING');
      // the attempt is in the audit trail (under no cluster: it never named one that parsed), its invisible characters written out, not carried
      const audit = (await auditLog.history(NO_CLUSTER, { limit: 20 })).filter((e) => e.result === 'invalid');
      assert.ok(audit.length > 0);
      for (const entry of audit) assert.doesNotMatch(JSON.stringify(entry), /[\u200B\u{E0000}-\u{E007F}]/u);
      assert.ok(audit.some((e) => e.text.includes(`\\u{${codePoint.slice(2).toLowerCase()}}`)), JSON.stringify(audit.map((e) => e.text)));
      assert.doesNotMatch(everythingSlackSaw(), /[\u200B\u{E0000}-\u{E007F}]/u);
    });
  }

  it(`denies with --reason "<@${VICTIM}> please": kept as typed, shown escaped everywhere in Slack, the victim never pinged`, async () => {
    const out = await chat.slash(B, `deny ${approvalId} --reason "<@${VICTIM}> please"`);
    await world.settle();

    const answer = chat.responses(out.responseUrl).at(-1)!;
    assert.match(answer.text, /Denied/);
    assert.match(answer.text, new RegExp(`by <@${B}>: &lt;@${VICTIM}&gt; please`), 'the denier is named live, the typed mention as text');
    const rejected = receiver.messages.find((m) => m.kind === 'post' && /Rollout rejected/.test(m.text))!;
    assert.ok(rejected, 'the thread says the rollout was rejected');
    assert.match(rejected.text, new RegExp(`Rejected by: <@${B}>`));
    assert.match(rejected.text, new RegExp(`Reason: &lt;@${VICTIM}&gt; please`));
    assert.ok(!everythingSlackSaw().includes(`<@${VICTIM}`), 'no live mention of the victim in any message, text or block');

    // stored verbatim: what was typed, inert because every rendering escapes it
    assert.equal((await approvals.getApproval(approvalId))!.reason, `<@${VICTIM}> please`);
    const entry = (await auditLog.history('prod', { limit: 20 })).find((e) => e.command?.startsWith(`deny ${approvalId}`))!;
    assert.equal(entry.command, `deny ${approvalId} --reason <@${VICTIM}> please`);
    assert.equal(rollouts(world)[0]!.status, 'FAILED');
  });

  it('shows the typed mention as text in `history` too', async () => {
    const out = await chat.slash(A, 'history prod');
    await world.settle();
    const shown = chat.responses(out.responseUrl)[0]!;
    assert.match(shown.text, new RegExp(`--reason &lt;@${VICTIM}&gt; please`));
    assert.match(shown.text, new RegExp(`<@${B}>`), 'who typed it is named by the service');
    assert.ok(!everythingSlackSaw().includes(`<@${VICTIM}`));
  });
});
