import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { sandboxCredentials, sandboxOperator } from '../../scripts/cli-sandbox.js';
import { sendCommand } from '../../scripts/cli-send.js';
import { awsScope } from '../../shared/aws/clients.js';
import { AuditLog } from '../../shared/chatops/audit-log.js';
import { Approvals } from '../../shared/rollout/approvals.js';
import { type ChatDriver, chatParams, releaseAmi, SANDBOX_SLACK, setupChat, signedSlackEvent, SimFunctionUrls, type SlackReceiver, slashCommandBody, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { rolloutRequest, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Who is acting, proven by the transport and never by the payload (the security issue, parts
 * 2–5): each attack below is refused with a clear message, and nothing is written or sent.
 * One world: `prod/web` (2 nodes, `rollout=auto`) on a cluster whose access policy says
 * `requireApproval`; Alice and Bob are SREs of the sandbox workspace, the operator role acts
 * and approves through the CLI.
 */
const TEAM = SANDBOX_SLACK.team;
const A = 'U0ALICE';
const B = 'U0BOB';

describe('Security: identity from the transport, approvals that cannot be skipped, no replays, one workspace', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let urls: SimFunctionUrls;
  let auditLog: AuditLog;
  let approvals: Approvals;
  let group: { autoScalingGroupName: string; launchTemplateId: string };
  const operator = () => sandboxCredentials(world.model.accountId, 'sandbox-operator');
  const intruder = () => sandboxCredentials(world.model.accountId, 'intruder');
  let sentAnswers: string[];
  const workerRuns = () => world.lambda.invocations.filter((i) => i.function === 'chatWorker').length;
  const lockOf = async () => (await import('../../shared/rollout/node-group-lock.js')).NodeGroupLocks;
  const published = (type: string) => world.published.filter((e) => e['detail-type'] === type).length;
  const lastResponse = (responseUrl: string) => chat.responses(responseUrl).at(-1)?.text ?? '';
  // time passes while the CLI waits for its answer (a rollout's reply waits for Begin's decision)
  const cli = (text: string, credentials = operator()) => world.passTimeWhile(sendCommand(text, { url: urls.url('chatApi'), region: world.model.region, credentials, signingDate: world.clock.date(), send: urls.send }));
  const waiting = async () => {
    const Locks = await lockOf();
    return (await new Locks(awsScope({ region: world.model.region }), process.env['ROLLOUTS_TABLE']!).get('prod/web'))?.approvalId;
  };
  const anInstance = async () => {
    const out = await new EC2Client({ region: world.model.region }).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
    return out.Reservations![0]!.Instances![0]!.InstanceId!;
  };
  const slashEvent = (user: string, text: string, options: { team?: string; responseUrl?: string } = {}) => {
    const responseUrl = options.responseUrl ?? receiver.responseUrl();
    return { responseUrl, event: signedSlackEvent(SANDBOX_SLACK.signingSecret, slashCommandBody({ team: options.team ?? TEAM, user, channel: SANDBOX_SLACK.channel, text, responseUrl }), world.clock.date()) };
  };

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world, group } = await selfManagedWorld({ nodes: 2, name: 'web', tags: { 'eks-node-lifecycle/rollout': 'auto' }, world: { params: chatParams(receiver) } }));
    const op = sandboxOperator(world.model.accountId).id;
    chat = setupChat(world, receiver, {
      groups: { sre: [`slack:${TEAM}:${A}`, `slack:${TEAM}:${B}`, op] },
      clusters: { prod: { read: ['group:sre'], act: ['group:sre'], approve: ['group:sre'], notify: SANDBOX_SLACK.channel, requireApproval: true } },
    });
    urls = new SimFunctionUrls(world);
    urls.addCaller(operator());
    urls.addCaller(intruder());
    auditLog = new AuditLog(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!);
    approvals = new Approvals(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!);
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    // every SendTaskSuccess the service sends, as Step Functions receives it
    sentAnswers = [];
    const original = world.stepFunctions.sendTaskSuccess.bind(world.stepFunctions);
    world.stepFunctions.sendTaskSuccess = (token, output) => {
      sentAnswers.push(output ?? '');
      return original(token, output);
    };
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  describe('Slack: the hand-off', () => {
    it('accepts a signed request once: replayed twice it is 409, and the worker ran once', async () => {
      const before = workerRuns();
      const { event, responseUrl } = slashEvent(A, 'status prod');
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(((await world.lambda.invoke('chatSlack', event)) as { statusCode: number }).statusCode);
      await world.settle();
      assert.deepEqual(answers, [200, 409, 409]);
      assert.equal(workerRuns() - before, 1);
      assert.equal(chat.responses(responseUrl).length, 1);
    });

    it('the worker refuses a payload with a forged principal: the signature is over the raw body, and this one is not Slack’s', async () => {
      const responseUrl = receiver.responseUrl();
      const body = slashCommandBody({ team: TEAM, user: B, channel: SANDBOX_SLACK.channel, text: 'approve prod/web', responseUrl });
      const forged = { kind: 'slack-request', rawBody: body, timestamp: String(Math.floor(world.clock.now() / 1000)), signature: `v0=${'0'.repeat(64)}`, requestId: 'forged-1', receivedAt: world.clock.iso() };
      await assert.rejects(world.lambda.invoke('chatWorker', forged), (e: Error) => e.name === 'SlackSignatureError' && /does not match/.test(e.message));
      // the old shape, which carried the principal itself, is not even read
      const oldShape = { kind: 'slack-command', text: 'approve prod/web', principal: { id: `slack:${TEAM}:${B}`, display: `<@${B}>`, via: 'slack' }, responseUrl, requestId: 'forged-2', receivedAt: world.clock.iso() };
      await assert.rejects(world.lambda.invoke('chatWorker', oldShape), (e: Error) => e.name === 'InvalidInputError' && /kind/.test(e.message));
      assert.equal(chat.responses(responseUrl).length, 0);
      assert.deepEqual((await auditLog.history('prod')).filter((h) => h.requestId.startsWith('forged')), []);
    });

    it('the worker runs only what the entry accepted: a validly signed request handed straight to it is refused', async () => {
      const responseUrl = receiver.responseUrl();
      const body = slashCommandBody({ team: TEAM, user: A, channel: SANDBOX_SLACK.channel, text: 'status prod', responseUrl });
      const timestamp = String(Math.floor(world.clock.now() / 1000));
      const signature = `v0=${createHmac('sha256', SANDBOX_SLACK.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
      await assert.rejects(world.lambda.invoke('chatWorker', { kind: 'slack-request', rawBody: body, timestamp, signature, requestId: 'direct-1', receivedAt: world.clock.iso() }), (e: Error) => e.name === 'UnverifiedCallerError' && /not accepted/.test(e.message));
      assert.equal(chat.responses(responseUrl).length, 0);
    });

    it('the worker checks the response_url before any work: a signed request pointing elsewhere is refused, nothing claimed or run', async () => {
      const body = slashCommandBody({ team: TEAM, user: A, channel: SANDBOX_SLACK.channel, text: 'rollout prod/web --now', responseUrl: 'https://attacker.example/collect' });
      const timestamp = String(Math.floor(world.clock.now() / 1000));
      const signature = `v0=${createHmac('sha256', SANDBOX_SLACK.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
      const started = rollouts(world).length;
      await assert.rejects(world.lambda.invoke('chatWorker', { kind: 'slack-request', rawBody: body, timestamp, signature, requestId: 'elsewhere-1', receivedAt: world.clock.iso() }), (e: Error) => e.name === 'InvalidInputError' && /response_url/.test(e.message));
      assert.equal(rollouts(world).length, started);
    });

    it('refuses a request from another workspace with the same app (403), before anything runs or is audited', async () => {
      const before = workerRuns();
      const { event, responseUrl } = slashEvent(A, 'status prod', { team: 'T0OTHERTEAM' });
      const out = (await world.lambda.invoke('chatSlack', event)) as { statusCode: number; body: string };
      await world.settle();
      assert.equal(out.statusCode, 403);
      assert.match(out.body, /workspace T0OTHERTEAM is not one this service answers/);
      assert.equal(workerRuns(), before);
      assert.equal(chat.responses(responseUrl).length, 0);
    });
  });

  describe('approvals nobody can skip', () => {
    it('a rollout a person starts waits for approval, and its requester cannot approve it (identities from the signatures on both sides)', async () => {
      const started = await chat.slash(A, 'rollout prod/web --now');
      await world.run(5 * 60_000);
      const approvalId = await waiting();
      assert.match(approvalId ?? '', /^apr-/);
      // the cluster requires approval: the first reply says so (naming it), never "started"
      assert.match(lastResponse(started.responseUrl), new RegExp(`Rollout of prod/web is waiting for approval \\(approval ${approvalId}\\)`));
      const own = await chat.click(A, 'approve', approvalId!);
      await world.settle();
      assert.match(lastResponse(own.responseUrl), /you requested this rollout of prod\/web; someone else must approve or deny it/);
      assert.equal(sentAnswers.length, 0);
      await chat.slash(B, 'deny prod/web --reason security test');
      await world.settle();
      assert.equal(rollouts(world).at(-1)!.status, 'FAILED');
    });

    it('a rollout started by StartExecution with mode "auto" waits for approval on a cluster that requires it', async () => {
      const start = await rolloutRequest(world, group, { name: 'web' });
      start('direct-auto-1', `slack:${TEAM}:U0CAROL`);
      await world.run(5 * 60_000);
      assert.equal(rollouts(world).at(-1)!.status, 'RUNNING');
      assert.match((await waiting()) ?? '', /^apr-/, 'waiting at the approval gate');
      await chat.slash(B, 'deny prod/web --reason security test');
      await world.settle();
      assert.equal(rollouts(world).at(-1)!.status, 'FAILED');
    });

    let approvalId: string;
    it('a rollout started by detection waits for approval too', async () => {
      await world.lambda.invoke('detectStaleGroups', { kind: 'scheduled-detection' });
      await world.run(5 * 60_000);
      approvalId = (await waiting())!;
      assert.match(approvalId, /^apr-/);
      assert.equal(rollouts(world).at(-1)!.status, 'RUNNING');
    });

    it('rolloutControl with a forged requestedBy cannot approve: UnverifiedCallerError, nothing sent', async () => {
      await assert.rejects(world.lambda.invoke('rolloutControl', { kind: 'rollout-control', cluster: 'prod', group: 'web', action: 'approve', requestedBy: `slack:${TEAM}:${B}` }), (e: Error) => e.name === 'UnverifiedCallerError' && /cannot approve/.test(e.message));
      assert.equal(sentAnswers.length, 0);
      assert.equal((await approvals.getApproval(approvalId))!.status, 'pending');
    });

    it('chatInvoke (a direct invocation: nobody in particular) cannot approve, nor force a drain', async () => {
      const answer = (await world.lambda.invoke('chatInvoke', { command: `approve ${approvalId}` })) as string;
      assert.match(answer, /approve needs an authenticated person/);
      const drain = (await world.lambda.invoke('chatInvoke', { command: `drain ${await anInstance()} --force` })) as string;
      assert.match(drain, /drain --force needs an authenticated person/);
      assert.equal(sentAnswers.length, 0);
      assert.equal((await approvals.getApproval(approvalId))!.status, 'pending');
    });

    it('approved once: a second click and a click after the rollout ended are answered, with no second SendTaskSuccess and no second announcement', async () => {
      const first = await chat.click(A, 'approve', approvalId);
      await world.run(30_000);
      assert.match(lastResponse(first.responseUrl), /Approved/);
      const second = await chat.click(B, 'approve', approvalId);
      await world.run(30_000);
      assert.match(lastResponse(second.responseUrl), /already approved by slack:T0SANDBOX:U0ALICE/);
      await world.settle();
      assert.equal(rollouts(world).at(-1)!.status, 'SUCCEEDED');
      const late = await chat.click(B, 'approve', approvalId);
      await world.settle();
      assert.match(lastResponse(late.responseUrl), /already approved by .*nothing was sent again/);
      assert.equal(sentAnswers.length, 1);
      assert.equal(published('Rollout Approved'), 1);
    });
  });

  describe('control actions carry the state they expect', () => {
    it('a stale resume (of pause #1) after a newer pause (#2) is refused and the rollout stays paused; a replayed Slack resume is 409', async () => {
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
      const out = await cli('rollout prod/web --now');
      assert.equal(out.ok, true, out.text);
      await world.run(60_000);
      const approval = (await waiting())!;
      await chat.click(A, 'approve', approval);
      await world.run(10_000);
      await chat.slash(A, 'pause prod/web');
      const { event: resume1 } = slashEvent(B, 'resume prod/web --pause 1');
      assert.equal(((await world.lambda.invoke('chatSlack', resume1)) as { statusCode: number }).statusCode, 200);
      await world.run(5_000);
      const paused2 = await chat.slash(A, 'pause prod/web');
      await world.run(5_000);
      assert.match(lastResponse(paused2.responseUrl), /pause #2/);
      // the captured Slack request, again: refused at the door
      assert.equal(((await world.lambda.invoke('chatSlack', resume1)) as { statusCode: number }).statusCode, 409);
      // the same resume, sent anew (rolloutControl, the CLI): refused by the lock's pause number
      const stale = (await world.lambda.invoke('rolloutControl', { kind: 'rollout-control', cluster: 'prod', group: 'web', action: 'resume', pause: 1, requestedBy: 'replayer' })) as { result: string; summary: string };
      assert.equal(stale.result, 'stale');
      assert.match(stale.summary, /this resume is for pause #1.*paused \(#2 by/);
      const viaCli = await cli('resume prod/web --pause 1');
      assert.equal(viaCli.ok, false);
      const Locks = await lockOf();
      const lock = await new Locks(awsScope({ region: world.model.region }), process.env['ROLLOUTS_TABLE']!).get('prod/web');
      assert.equal(lock?.control, 'pause');
      assert.equal(lock?.pauses, 2);
      assert.equal((await cli('resume prod/web --pause 2')).ok, true);
      await world.settle();
      assert.equal(rollouts(world).at(-1)!.status, 'SUCCEEDED');
    });
  });

  describe('the CLI: checked by the service', () => {
    it('a caller the policy does not name is refused by the service, which audits it as that IAM caller', async () => {
      const out = await cli('rollout prod/web --now', intruder());
      assert.equal(out.ok, false);
      assert.match(out.text, /arn:aws:iam::\d{12}:role\/intruder may not act on cluster prod/);
      const entry = (await auditLog.history('prod')).find((h) => h.principal.id.endsWith('role/intruder'));
      assert.equal(entry?.principal.via, 'cli');
      assert.equal(entry?.result, 'refused');
    });

    it('an unsigned or wrongly signed request is 403 and never reaches the function; a replayed signed one is 409', async () => {
      const before = world.lambda.invocations.filter((i) => i.function === 'chatApi').length;
      const unsigned = await urls.send(urls.url('chatApi'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command: 'status prod', requestId: 'unsigned-0001' }) });
      assert.equal(unsigned.status, 403);
      const wrong = await cli('status prod', { ...operator(), secretAccessKey: 'not-the-secret' });
      assert.equal(wrong.status, 403);
      assert.match(wrong.text, /signature we calculated does not match/);
      assert.equal(world.lambda.invocations.filter((i) => i.function === 'chatApi').length, before);
      // one signed request, captured and sent again
      let captured: Parameters<SimFunctionUrls['send']> | undefined;
      const first = await sendCommand('status prod', {
        url: urls.url('chatApi'), region: world.model.region, credentials: operator(), signingDate: world.clock.date(),
        send: (u, init) => {
          captured = [u, init];
          return urls.send(u, init);
        },
      });
      assert.equal(first.ok, true, first.text);
      const again = await urls.send(...captured!);
      assert.equal(again.status, 409);
    });
  });

  describe('forced drains', () => {
    it('a manual forced drain invoked directly (no grant, or a made-up one) is refused, and no drain starts', async () => {
      const instanceId = await anInstance();
      const drains = () => [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-node-drain')).length;
      const before = drains();
      for (const forceGrant of [undefined, 'fdg-0123456789abcdef0123']) {
        await assert.rejects(
          world.lambda.invoke('requestDrain', { kind: 'manual-drain', cluster: 'prod', instanceId, force: true, requestedBy: `slack:${TEAM}:${B}`, ...(forceGrant ? { forceGrant } : {}) }),
          (e: Error) => e.name === 'UnverifiedCallerError' && /forced drain needs a person authorized/.test(e.message),
        );
      }
      assert.equal(drains(), before);
    });

    it('the same forced drain asked by an authorized person (the CLI) goes through, once, on the grant the service wrote', async () => {
      const instanceId = await anInstance();
      const out = await cli(`drain ${instanceId} --force`);
      assert.equal(out.ok, true, out.text);
      assert.match(out.text, /force: pods still blocked/);
      await world.settle();
    });
  });
});
