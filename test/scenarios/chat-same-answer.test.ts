import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliInSandbox, sandboxOperator } from '../../scripts/cli-sandbox.js';
import { type ChatDriver, chatParams, releaseAmi, runDefaultScenario, SANDBOX_SLACK, setupChat, type SlackReceiver, startSandboxSlack, World } from '@eks-node-lifecycle/sandbox';

/**
 * One grammar, one answer: the same command typed in Slack, invoked directly (Amazon Q
 * Developer's custom action) and run on the CLI reads the same, word for word. (Slack's
 * `text` escapes `&`, `<` and `>` as Slack requires; unescaped it is the CLI's text.)
 */
const USER = 'U0OPS';
const unescape = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('Scenario: Slack, Amazon Q Developer (direct invocation) and the CLI give the same answer', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;

  before(async () => {
    receiver = await startSandboxSlack();
    world = await World.start({ params: chatParams(receiver) });
    const operator = sandboxOperator(world.model.accountId);
    const invoker = `iam:arn:aws:lambda:${world.model.region}:${world.model.accountId}:function:eks-node-lifecycle-sandbox-chatInvoke`;
    chat = setupChat(world, receiver, {
      groups: { ops: [`slack:${SANDBOX_SLACK.team}:${USER}`, operator.id, invoker] },
      clusters: { prod: { read: ['group:ops'], act: ['group:ops'], approve: ['group:ops'], notify: SANDBOX_SLACK.channel } },
    });
    await runDefaultScenario(world, { release: false });
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  async function viaSlack(text: string): Promise<string> {
    const out = await chat.slash(USER, text);
    await world.settle();
    const later = chat.responses(out.responseUrl);
    // help and malformed commands are answered at once; the rest through response_url
    return unescape(later.length > 0 ? later.at(-1)!.text : out.body.text);
  }

  const commands = ['help', 'help rollout', 'status prod', 'status prod/system', 'plan prod', 'plan prod/prod-workers', 'rollout prod', 'frobnicate the nodes', 'rollout prod/web --max-unavailable 0', 'pause prod/system', 'approve apr-000000000000', 'drain ip-10-9-9-9.eu-west-1.compute.internal'];

  for (const command of commands) {
    it(`\`${command}\``, async () => {
      const slack = await viaSlack(command);
      const direct = (await world.lambda.invoke('chatInvoke', { command })) as string;
      const cli = await cliInSandbox(world)(command);
      assert.equal(cli.text, slack);
      // a direct invocation cannot say who calls: it may not answer approvals (the rest is word for word the same)
      if (/^(approve|deny) /.test(command)) assert.match(direct, /needs an authenticated person/);
      else assert.equal(direct, cli.text);
      assert.ok(cli.text.length > 0);
    });
  }

  it('a command that acts is done once, whichever way it came: the second rollout of a group is refused while the first runs', async () => {
    const first = await cliInSandbox(world)('rollout prod/prod-workers --now');
    assert.equal(first.ok, true, first.text);
    const second = await viaSlack('rollout prod/prod-workers --now');
    assert.match(second, /already rolling/);
    await world.settle();
  });
});
