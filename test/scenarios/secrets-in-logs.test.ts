import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { awsScope } from '../../shared/aws/clients.js';
import { Approvals } from '../../shared/rollout/approvals.js';
import { EksTokenCache, TOKEN_PREFIX } from '../../shared/kube/eks-token.js';
import { type ChatDriver, chatParams, type Invocation, releaseAmi, SANDBOX_CREDENTIALS, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, signedSlackEvent, type SlackReceiver, slashCommandBody, startSlackReceiver, type World } from '@eks-node-lifecycle/sandbox';
import { rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Secrets never reach a log line, an event, an audit row or a Slack message. The sandbox holds
 * known secrets — the Slack signing secret and bot token (SecureString parameters), the AWS
 * secret access key, the EKS bearer tokens the functions mint, the approval gate's task token —
 * while a chat-ops story runs that uses every one of them: a signed slash command, a rollout
 * that waits for approval (posted with the bot token), an approval, drains through the
 * Kubernetes API; and the ways it goes wrong, where secrets leak: forged and stale signatures,
 * an eviction the API server fails, Slack refusing the bot token halfway through.
 */
const A = 'U0ALICE';
const B = 'U0BOB';

/** everything the process writes to stdout/stderr while the story runs (Powertools records are captured by the world) */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const wrap = (stream: NodeJS.WriteStream) => {
    const original = stream.write;
    stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    return () => {
      stream.write = original;
    };
  };
  const restores = [wrap(process.stdout), wrap(process.stderr)];
  return { text: () => chunks.join(''), restore: () => restores.forEach((restore) => restore()) };
}

/** a secret as it could appear: itself, base64, base64url */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')];
}

/** an EKS token, the presigned STS URL inside it, and that URL's signature */
function eksTokenForms(token: string): string[] {
  const url = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8');
  const signature = new URL(url).searchParams.get('X-Amz-Signature');
  assert.ok(signature && signature.length >= 64, `a presigned URL: ${url.slice(0, 60)}`);
  return [...forms(token), url, signature];
}

async function scan(world: World, suffix: string): Promise<Record<string, unknown>[]> {
  const table = world.model.tables.map((t) => String((t as { TableName?: string }).TableName)).find((name) => name.endsWith(suffix))!;
  const client = new DynamoDBClient({ region: world.model.region, endpoint: world.dynamo.endpoint, credentials: SANDBOX_CREDENTIALS });
  try {
    return ((await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? []).map((item) => unmarshall(item));
  } finally {
    client.destroy();
  }
}

describe('Scenario: secrets never reach a log, an event, an audit row or a Slack message', () => {
  const slackAuth = { botToken: SANDBOX_SLACK.botToken };
  const minted = new Set<string>();
  const invocations: Invocation[] = [];
  const mintToken = EksTokenCache.prototype.get;
  let output: ReturnType<typeof captureOutput>;
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let approvalId: string;
  let taskToken: string;
  let forged: { statusCode: number };
  let stale: { statusCode: number };
  let evictionsFailed = 0;
  let rows: Record<string, unknown>[];

  before(async () => {
    output = captureOutput();
    // the tokens the functions present to the Kubernetes API
    EksTokenCache.prototype.get = async function get(this: EksTokenCache, cluster: string) {
      const token = await mintToken.call(this, cluster);
      minted.add(token);
      return token;
    };
    // a receiver whose expected token the test can revoke
    receiver = await startSlackReceiver(slackAuth);
    ({ world } = await selfManagedWorld({ nodes: 2, name: 'web', tags: { 'eks-node-lifecycle/rollout': 'approve', 'eks-node-lifecycle/max-unavailable': '1' }, world: { params: chatParams(receiver) } }));
    world.lambda.onInvoked((invocation) => invocations.push(invocation));
    chat = setupChat(world, receiver, sandboxAccessPolicy({ sre: [A, B] }));
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });

    // 1. a signed slash command starts a rollout that waits for approval (posted with the bot token)
    await chat.slash(A, 'rollout prod/web');
    await world.run(5 * 60_000);
    approvalId = /apr-[a-z0-9]{12}/.exec(receiver.messages.find((m) => m.kind === 'post' && m.text.includes('apr-'))?.text ?? '')?.[0] ?? '';
    taskToken = (await new Approvals(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!).getApproval(approvalId))!.taskToken;

    // 2. forged and replayed requests: signed with another secret, and with a timestamp ten minutes old
    const body = slashCommandBody({ team: SANDBOX_SLACK.team, user: A, channel: SANDBOX_SLACK.channel, text: 'abort prod/web', responseUrl: receiver.responseUrl() });
    forged = (await world.lambda.invoke('chatSlack', signedSlackEvent('not-the-signing-secret', body, world.clock.date()))) as { statusCode: number };
    stale = (await world.lambda.invoke('chatSlack', signedSlackEvent(SANDBOX_SLACK.signingSecret, body, world.clock.date(), { timestamp: Math.floor(world.clock.now() / 1000) - 600 }))) as { statusCode: number };
    // the requester may not approve; an approval id that does not exist
    await chat.click(A, 'approve', approvalId);
    await chat.click(B, 'approve', 'apr-000000000000');

    // 3. B approves (SendTaskSuccess with the task token); the first eviction fails on the API server
    world.cluster('prod').server.faults = {
      before: (request) => (request.subresource === 'eviction' && evictionsFailed++ === 0 ? { status: 500 } : undefined),
    };
    await chat.click(B, 'approve', approvalId);
    await world.run(60_000);
    // 4. Slack revokes the bot token halfway: every later post fails with the token in its request
    slackAuth.botToken = 'xoxb-revoked-and-replaced';
    await world.settle();
    // and a line a function could print outside Powertools: the pass-through the capture must see
    console.log('plain console line from the sandbox');
    rows = [...(await scan(world, '-chatops')), ...(await scan(world, '-rollouts')), ...(await scan(world, '-drains'))];
  });

  after(async () => {
    EksTokenCache.prototype.get = mintToken;
    output?.restore();
    await world?.stop();
    await receiver?.close();
  });

  it('ran the story, the error paths included', () => {
    assert.equal(rollouts(world)[0]?.status, 'SUCCEEDED');
    assert.equal(forged.statusCode, 401);
    assert.equal(stale.statusCode, 401);
    assert.ok(evictionsFailed >= 2, 'an eviction failed, then the drain went on');
    assert.ok(minted.size > 0, 'the functions minted EKS tokens');
    assert.ok(taskToken.length > 20, 'the approval holds a task token');
    assert.ok(receiver.messages.some((m) => m.kind === 'post'), 'posted with the bot token');
    const logged = JSON.stringify(world.logs);
    assert.match(logged, /invalid_auth/, 'Slack refused the revoked token, and it was logged');
  });

  it('captured the logs for real: every function that took part, with what identifies the story', () => {
    const functions = new Set(world.logs.map((r) => String(r['function_name'] ?? '')));
    for (const fn of ['chatSlack', 'chatWorker', 'chatNotify', 'requestApproval', 'rollStep', 'requestDrain']) {
      assert.ok([...functions].some((name) => name.endsWith(`-${fn}`)), `${fn} logged (${[...functions].join(', ')})`);
    }
    const logged = JSON.stringify(world.logs);
    assert.ok(logged.includes(approvalId), 'the approval id');
    assert.ok(logged.includes('prod'), 'the cluster');
    assert.ok(output.text().includes('plain console line from the sandbox'), 'output outside Powertools is captured too');
  });

  it('keeps the task token in the approval record and nowhere else in DynamoDB', () => {
    const approval = rows.find((r) => r['sk'] === 'approval' && r['id'] === approvalId);
    assert.equal(approval?.['taskToken'], taskToken);
    assert.ok(rows.some((r) => String(r['sk'] ?? '').length > 0 && r['sk'] !== 'approval'), 'audit rows were written');
  });

  it('never writes a secret, nor its base64, to a log, an error, an event, an audit row or Slack', () => {
    const secrets: [string, string[]][] = [
      ['Slack signing secret', forms(SANDBOX_SLACK.signingSecret)],
      ['Slack bot token', forms(SANDBOX_SLACK.botToken)],
      ['AWS secret access key', forms(SANDBOX_CREDENTIALS.secretAccessKey)],
      ['approval task token', forms(taskToken)],
      ...[...minted].map((token, i): [string, string[]] => [`EKS token #${i + 1}`, eksTokenForms(token)]),
    ];
    const leaksIn = (places: Record<string, string>) =>
      Object.entries(places).flatMap(([place, text]) => secrets.flatMap(([name, values]) => (values.some((v) => text.includes(v)) ? [`${name} in ${place}`] : [])));
    // the search finds a secret where one is: the approval record, its designated store
    assert.deepEqual(leaksIn({ 'the approvals': JSON.stringify(rows) }), ['approval task token in the approvals']);

    const withoutStoredToken = rows.map((r) => (r['sk'] === 'approval' ? { ...r, taskToken: undefined } : r));
    const places: Record<string, string> = {
      'a function log record': world.logs.map((r) => JSON.stringify(r)).join('\n'),
      'stdout/stderr': output.text(),
      'a function result or error (what Lambda logs, Step Functions keeps, a caller sees)': invocations.map((i) => JSON.stringify(i.outcome)).join('\n'),
      'an EventBridge event': JSON.stringify(world.published),
      'a DynamoDB row': JSON.stringify(withoutStoredToken),
      'a Slack message': JSON.stringify(receiver.messages),
    };
    assert.ok(places['a function log record']!.length > 10_000 && invocations.length > 20 && world.published.length > 3, 'there is something to search');
    assert.deepEqual(leaksIn(places), []);
  });
});
