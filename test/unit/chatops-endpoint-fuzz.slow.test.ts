import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { awsScope, clientOf } from '../../shared/aws/clients.js';
import type { AccessPolicy } from '../../shared/chatops/access-policy.js';
import { parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { parseCommand } from '../../shared/chatops/grammar.js';
import { runCommand, type CommandPorts } from '../../shared/chatops/run-command.js';
import { type ChatWork, ChatWorkSchema, receiveSlack, verifiedSlackRequest } from '../../shared/chatops/slack-front.js';
import { slackResponseUrlAllowed, slackTeamAllowed } from '../../shared/chatops/slack-request.js';

/**
 * Fuzzing the chat entry points: whatever arrives — random bytes, mutated Slack forms and
 * payloads, signed or not, random command text — nothing crashes, nothing is started unless
 * the request is a signed, well-formed command, and every answer says something.
 */
const SECRET = 'fuzz-signing-secret';
const NOW = new Date('2026-11-22T10:00:00Z');
const TS = String(Math.floor(NOW.getTime() / 1000));
const RESPONSE = 'https://hooks.slack.com/commands/T0FUZZ/1/abc';
const RUNS = 10_000;

function event(body: string, headers: Record<string, string>, method = 'POST') {
  return { version: '2.0', headers, requestContext: { http: { method } }, body, isBase64Encoded: false };
}
function signed(body: string) {
  const signature = `v0=${createHmac('sha256', SECRET).update(`v0:${TS}:${body}`).digest('hex')}`;
  return event(body, { 'x-slack-request-timestamp': TS, 'x-slack-signature': signature, 'content-type': 'application/x-www-form-urlencoded' });
}

function front() {
  const handedOver: ChatWork[] = [];
  const audited: unknown[] = [];
  const seen = new Set<string>();
  const ports = {
    signingSecret: async () => SECRET,
    isAllowedResponseUrl: slackResponseUrlAllowed(['https://hooks.slack.com/']),
    isAllowedTeam: slackTeamAllowed(['T0FUZZ']),
    acceptOnce: async (key: string) => !seen.has(key) && Boolean(seen.add(key)),
    handOver: async (work: ChatWork) => {
      handedOver.push(work);
    },
    audit: async (entry: unknown) => {
      audited.push(entry);
    },
    now: () => NOW,
    log: () => undefined,
  };
  return { ports, handedOver, audited };
}

const TOKENS = ['rollout', 'status', 'plan', 'drain', 'approve', 'deny', 'pause', 'resume', 'abort', 'history', 'approvals', 'help', 'prod/web', 'prod', '--now', '--ami', 'latest', 'ami-0123456789abcdef0', '--max-unavailable', '10%', '0', 'apr-0123456789ab', 'i-0123456789abcdef0', '“', '"', "'", '—', '&amp;', '<http://x|y>', '/', ' ', '\u0000', '🚀'];
const commandText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 120 }), fc.array(fc.constantFrom(...TOKENS), { maxLength: 8 }).map((t) => t.join(' ')));

const slashForm = fc.record(
  {
    team_id: fc.oneof(fc.constant('T0FUZZ'), fc.string({ maxLength: 12 })),
    user_id: fc.oneof(fc.constant('U0FUZZ'), fc.string({ maxLength: 12 })),
    channel_id: fc.oneof(fc.constant('C0FUZZ'), fc.string({ maxLength: 12 })),
    command: fc.oneof(fc.constant('/nodes'), fc.string({ maxLength: 10 })),
    text: commandText,
    response_url: fc.oneof(fc.constant(RESPONSE), fc.constant('https://evil.example/'), fc.webUrl(), fc.string({ maxLength: 30 })),
  },
  { requiredKeys: [] },
);
const actionPayload = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        type: fc.oneof(fc.constant('block_actions'), fc.string({ maxLength: 15 })),
        user: fc.record({ id: fc.oneof(fc.constant('U0FUZZ'), fc.string({ maxLength: 10 })) }, { requiredKeys: [] }),
        team: fc.oneof(fc.constant({ id: 'T0FUZZ' }), fc.constant(null), fc.jsonValue()),
        response_url: fc.oneof(fc.constant(RESPONSE), fc.string({ maxLength: 30 })),
        actions: fc.array(fc.record({ action_id: fc.constantFrom('approve', 'deny', 'other', ''), value: fc.oneof(fc.constant('apr-0123456789ab'), fc.string({ maxLength: 40 })) }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((p) => JSON.stringify(p)),
);
const body = fc.oneof(
  slashForm.map((f) => new URLSearchParams(f as Record<string, string>).toString()),
  actionPayload.map((p) => new URLSearchParams({ payload: p }).toString()),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

describe('Chat endpoint fuzz (fast-check)', () => {
  it(`${RUNS} signed random and mutated Slack requests: never a crash, a clear answer, work handed over only for a valid command or click`, async () => {
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const { ports, handedOver } = front();
        const response = await receiveSlack(signed(raw), 'req-1', ports);
        assert.ok([200, 400, 403].includes(response.statusCode), `status ${response.statusCode}`);
        assert.ok(response.body.length > 0);
        for (const work of handedOver) {
          ChatWorkSchema.parse(work);
          // what the worker will make of it: the same checks, on the same signed bytes
          const request = verifiedSlackRequest(work, SECRET, NOW, ports);
          assert.equal(request.teamId === 'T0FUZZ' || request.enterpriseId === 'T0FUZZ', true);
          assert.ok(request.responseUrl.startsWith('https://hooks.slack.com/'));
          const parsed = request.kind === 'command' ? parseCommand(request.text) : undefined;
          if (parsed) assert.ok(parsed.ok && parsed.command.name !== 'help', `handed over an invalid command: ${request.kind === 'command' && request.text}`);
        }
        if (response.statusCode !== 200) assert.equal(handedOver.length, 0);
        // the same signed request again is a replay, whatever it asked
        if (response.statusCode === 200) {
          const again = await receiveSlack(signed(raw), 'req-2', ports);
          assert.equal(again.statusCode, 409);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`${RUNS} unsigned, badly signed, stale or replayed requests: 401 (or 400/405 before reading), nothing parsed, nothing handed over`, async () => {
    const valid = new URLSearchParams({ team_id: 'T0FUZZ', user_id: 'U0FUZZ', channel_id: 'C0FUZZ', command: '/nodes', text: 'rollout prod/web --now', response_url: RESPONSE }).toString();
    const forged = fc.oneof(
      fc.record({ ts: fc.string({ maxLength: 12 }), sig: fc.string({ maxLength: 80 }), raw: body }).map(({ ts, sig, raw }) => event(raw, { 'x-slack-request-timestamp': ts, 'x-slack-signature': sig })),
      fc.integer({ min: 301, max: 10 ** 7 }).map((age) => {
        const ts = String(Number(TS) - age);
        const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${valid}`).digest('hex')}`;
        return event(valid, { 'x-slack-request-timestamp': ts, 'x-slack-signature': sig });
      }),
      fc.nat({ max: valid.length - 1 }).map((at) => {
        const tampered = `${valid.slice(0, at)}${valid[at] === 'x' ? 'y' : 'x'}${valid.slice(at + 1)}`;
        return { ...signed(valid), body: tampered };
      }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(forged, async (request) => {
        const { ports, handedOver, audited } = front();
        const response = await receiveSlack(request, 'req-1', ports);
        assert.ok([400, 401, 405].includes(response.statusCode), `status ${response.statusCode}`);
        assert.equal(handedOver.length, 0);
        assert.equal(audited.length, 0);
      }),
      { numRuns: RUNS },
    );
  });

  it(`${RUNS} random command texts through runCommand: a clear reply; nothing is started or changed unless the command parsed and was allowed`, async (t) => {
    const policy: AccessPolicy = parseAccessPolicy(JSON.stringify({ clusters: { prod: { read: ['slack:T0FUZZ:U0READ'] } } }));
    let writes = 0;
    const refuse = () => {
      writes++;
      throw new Error('must not be called');
    };
    // the commands' own calls (start a rollout, answer an approval, find a node) are refused; the inventory's reads answer
    const aws = awsScope({ region: 'eu-west-1' });
    const inventory = awsScope({ region: 'eu-west-1' });
    const sfn = mockClient(SFNClient).onAnyCommand().callsFake(refuse);
    const ec2 = mockClient(EC2Client).onAnyCommand().callsFake((_input: unknown, getClient: () => unknown) => (getClient() === clientOf(aws, EC2Client) ? refuse() : { Images: [] }));
    const eks = mockClient(EKSClient).onAnyCommand().resolves({ clusters: ['prod'] });
    const autoscaling = mockClient(AutoScalingClient).onAnyCommand().resolves({ AutoScalingGroups: [] });
    const ssm = mockClient(SSMClient).onAnyCommand().resolves({ Parameters: [] });
    t.after(() => [sfn, ec2, eks, autoscaling, ssm].forEach((m) => m.restore()));
    const ports = {
      policy: async () => policy,
      // the per-person rate limit's counter is bookkeeping, not a change: it answers "within the limit"
      auditLog: { audit: async () => undefined, history: async () => [] },
      guards: { takeCommandToken: async () => true },
      approvals: { pendingApprovals: async () => [], answerApproval: refuse, getApproval: async () => undefined, markApprovalExpired: refuse },
      locks: { get: async () => undefined, setControl: refuse, setApprovalId: refuse },
      aws,
      amiRolloutStateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:x',
      inventory: { aws: inventory, managedClusters: '*', now: () => NOW, log: () => undefined },
      requestDrain: refuse,
      notifier: () => refuse,
      now: () => NOW,
      log: () => undefined,
    } as unknown as CommandPorts;
    await fc.assert(
      fc.asyncProperty(commandText, async (text) => {
        const outcome = await runCommand({ text, principal: { id: 'slack:T0FUZZ:U0READ', display: '<@U0READ>', channel: 'C0FUZZ', via: 'slack' }, requestId: 'r', receivedAt: NOW }, ports);
        assert.ok(outcome.reply.title.length > 0);
        if (!parseCommand(text).ok) assert.equal(outcome.audit.result, 'invalid');
        assert.equal(writes, 0, `a write for ${JSON.stringify(text)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
