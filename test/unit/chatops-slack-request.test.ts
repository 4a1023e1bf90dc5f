import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_RESPONSE_URL_PREFIXES,
  MAX_SLACK_BODY_BYTES,
  parseSlackRequest,
  principalOf,
  readFunctionUrlRequest,
  SLACK_MAX_SKEW_SECONDS,
  slackResponseUrlAllowed,
  slackTeamAllowed,
  verifySlackSignature,
  type SlackRequest,
} from '../../shared/chatops/slack-request.js';
import { ConfigurationError, InvalidInputError, SlackSignatureError } from '../../shared/errors.js';

// Slack's worked example from "Verifying requests from Slack"
// (https://api.slack.com/authentication/verifying-requests-from-slack): signing secret,
// X-Slack-Request-Timestamp, the raw slash-command body and the X-Slack-Signature it yields.
const DOC = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  rawBody:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const DOC_NOW = new Date(Number(DOC.timestamp) * 1000 + 2_000);

/** Independent of the module under test: Slack's recipe, spelled out. */
function sign(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

function refusedFor(reason: SlackSignatureError['reason']) {
  return (error: unknown) => {
    assert.ok(error instanceof SlackSignatureError, `expected SlackSignatureError, got ${String(error)}`);
    assert.equal(error.name, 'SlackSignatureError');
    assert.equal(error.reason, reason);
    assert.equal(error.retryable, false);
    return true;
  };
}

const allowHooks = slackResponseUrlAllowed([...DEFAULT_RESPONSE_URL_PREFIXES]);

describe('Slack request signature', () => {
  it("accepts Slack's documented example", () => {
    assert.equal(sign(DOC.signingSecret, DOC.timestamp, DOC.rawBody), DOC.signature); // the vector itself is consistent
    assert.doesNotThrow(() => verifySlackSignature({ ...DOC, now: DOC_NOW }));
    // at exactly five minutes either way it is still fresh
    const edge = Number(DOC.timestamp) * 1000;
    verifySlackSignature({ ...DOC, now: new Date(edge + SLACK_MAX_SKEW_SECONDS * 1000) });
    verifySlackSignature({ ...DOC, now: new Date(edge - SLACK_MAX_SKEW_SECONDS * 1000) });
  });

  it('refuses the example with a changed body', () => {
    assert.throws(() => verifySlackSignature({ ...DOC, rawBody: DOC.rawBody.replace('text=', 'text=rollout'), now: DOC_NOW }), refusedFor('bad-signature'));
    assert.throws(() => verifySlackSignature({ ...DOC, rawBody: `${DOC.rawBody}&`, now: DOC_NOW }), refusedFor('bad-signature'));
  });

  it('refuses a changed timestamp carrying the old signature', () => {
    const timestamp = String(Number(DOC.timestamp) + 1);
    assert.throws(() => verifySlackSignature({ ...DOC, timestamp, now: DOC_NOW }), refusedFor('bad-signature'));
  });

  it('refuses a replay older than five minutes, and a request from more than five minutes ahead', () => {
    const signedAt = Number(DOC.timestamp) * 1000;
    assert.throws(() => verifySlackSignature({ ...DOC, now: new Date(signedAt + 301_000) }), refusedFor('stale'));
    assert.throws(() => verifySlackSignature({ ...DOC, now: new Date(signedAt + 3_600_000) }), refusedFor('stale'));
    assert.throws(() => verifySlackSignature({ ...DOC, now: new Date(signedAt - 301_000) }), refusedFor('stale'));
  });

  it('refuses a request without a timestamp header or without a signature header', () => {
    assert.throws(() => verifySlackSignature({ ...DOC, timestamp: undefined, now: DOC_NOW }), refusedFor('missing-header'));
    assert.throws(() => verifySlackSignature({ ...DOC, timestamp: '', now: DOC_NOW }), refusedFor('missing-header'));
    assert.throws(() => verifySlackSignature({ ...DOC, signature: undefined, now: DOC_NOW }), refusedFor('missing-header'));
    assert.throws(() => verifySlackSignature({ ...DOC, signature: '', now: DOC_NOW }), refusedFor('missing-header'));
  });

  it('refuses a malformed signature or timestamp', () => {
    for (const signature of [
      DOC.signature.slice(3), // no v0=
      `v1=${DOC.signature.slice(3)}`,
      DOC.signature.slice(0, -1), // 63 hex digits
      `${DOC.signature}0`, // 65
      `${DOC.signature.slice(0, -1)}g`,
      ` ${DOC.signature}`,
    ]) {
      assert.throws(() => verifySlackSignature({ ...DOC, signature, now: DOC_NOW }), refusedFor('malformed'), signature);
    }
    for (const timestamp of ['1531420618.5', '-1531420618', '1.5e9', 'now', ' 1531420618']) {
      assert.throws(() => verifySlackSignature({ ...DOC, timestamp, now: DOC_NOW }), refusedFor('malformed'), timestamp);
    }
  });

  it('refuses a request signed with another secret', () => {
    assert.throws(() => verifySlackSignature({ ...DOC, signingSecret: '8f742231b10e8888abcd99yyyzzz85a6', now: DOC_NOW }), refusedFor('bad-signature'));
    assert.throws(() => verifySlackSignature({ ...DOC, signingSecret: '', now: DOC_NOW }), ConfigurationError);
  });

  it('verifies any body signed with its secret, and refuses it after any one byte changes', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 500 }),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (signingSecret, body, seconds, at, flip) => {
          const timestamp = String(seconds);
          const signature = sign(signingSecret, timestamp, body);
          const now = new Date(seconds * 1000);
          verifySlackSignature({ signingSecret, timestamp, signature, rawBody: body, now });

          const bytes = Buffer.from(body, 'latin1');
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ flip;
          const changed = bytes.toString('latin1');
          assert.throws(() => verifySlackSignature({ signingSecret, timestamp, signature, rawBody: changed, now }), refusedFor('bad-signature'));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('Slack request: reading the function URL event', () => {
  const event = (overrides: Record<string, unknown> = {}) => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': DOC.signature, 'x-slack-request-timestamp': DOC.timestamp },
    requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '3.4.5.6', userAgent: 'Slackbot 1.0 (+https://api.slack.com/robots)' } },
    body: DOC.rawBody,
    isBase64Encoded: false,
    ...overrides,
  });

  it('returns the plain body as it came', () => {
    const request = readFunctionUrlRequest(event());
    assert.equal(request.method, 'POST');
    assert.equal(request.rawBody, DOC.rawBody);
    assert.equal(request.headers['x-slack-signature'], DOC.signature);
  });

  it('decodes a base64 body to the bytes Slack signed', () => {
    const request = readFunctionUrlRequest(event({ body: Buffer.from(DOC.rawBody).toString('base64'), isBase64Encoded: true }));
    assert.equal(request.rawBody, DOC.rawBody);
    verifySlackSignature({ signingSecret: DOC.signingSecret, timestamp: request.headers['x-slack-request-timestamp'], signature: request.headers['x-slack-signature'], rawBody: request.rawBody, now: DOC_NOW });
  });

  it('lower-cases header names', () => {
    const request = readFunctionUrlRequest(event({ headers: { 'X-Slack-Signature': 'v0=ab', 'X-Slack-Request-Timestamp': '1' } }));
    assert.deepEqual(request.headers, { 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': '1' });
  });

  it('treats a missing body as empty', () => {
    assert.equal(readFunctionUrlRequest(event({ body: undefined })).rawBody, '');
  });

  it('refuses a malformed event, a body that is not base64, and a body over 64 KiB', () => {
    for (const bad of [null, 'body', {}, { requestContext: {} }, event({ headers: { a: 1 } }), event({ body: 42 })]) {
      assert.throws(() => readFunctionUrlRequest(bad), InvalidInputError);
    }
    assert.throws(() => readFunctionUrlRequest(event({ body: 'not base64!', isBase64Encoded: true })), InvalidInputError);
    assert.doesNotThrow(() => readFunctionUrlRequest(event({ body: 'a'.repeat(MAX_SLACK_BODY_BYTES) })));
    assert.throws(() => readFunctionUrlRequest(event({ body: 'a'.repeat(MAX_SLACK_BODY_BYTES + 1) })), /larger than 65536 bytes/);
    assert.throws(() => readFunctionUrlRequest(event({ body: 'é'.repeat(MAX_SLACK_BODY_BYTES / 2 + 1) })), InvalidInputError); // bytes, not characters
    assert.throws(
      () => readFunctionUrlRequest(event({ body: Buffer.alloc(MAX_SLACK_BODY_BYTES + 1, 'a').toString('base64'), isBase64Encoded: true })),
      /larger than 65536 bytes/,
    );
  });
});

const command = (fields: Record<string, string> = {}) =>
  new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: 'T0001',
    team_domain: 'example',
    enterprise_id: 'E0001',
    enterprise_name: 'Globular Construct Inc',
    channel_id: 'C2147483705',
    channel_name: 'ops-rollouts',
    user_id: 'U2147483697',
    user_name: 'steve',
    command: '/nodes',
    text: 'rollout prod/web',
    api_app_id: 'A123456',
    is_enterprise_install: 'false',
    response_url: 'https://hooks.slack.com/commands/T0001/1234567890/AbCdEfGhIjKlMnOpQrStUv',
    trigger_id: '13345224609.738474920.8088930838d88f008e0',
    ...fields,
  }).toString();

const blockActions = (overrides: Record<string, unknown> = {}) => ({
  type: 'block_actions',
  user: { id: 'U0CA5', username: 'amy.mcgee', name: 'amy.mcgee', team_id: 'T3MDE' },
  api_app_id: 'A0CA5',
  token: 'Shh_its_a_seekrit',
  container: { type: 'message', message_ts: '1548261231.000200', channel_id: 'C0CA5', is_ephemeral: false },
  trigger_id: '12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3',
  team: { id: 'T3MDE', domain: 'ops' },
  enterprise: null,
  is_enterprise_install: false,
  channel: { id: 'C0CA5', name: 'ops-rollouts' },
  message: { type: 'message', ts: '1548261231.000200', text: 'Rollout of prod/web waits for approval', blocks: [] },
  state: { values: {} },
  response_url: 'https://hooks.slack.com/actions/T3MDE/1234567890/AbCdEfGhIjKlMnOp',
  actions: [
    {
      action_id: 'approve',
      block_id: 'approval',
      text: { type: 'plain_text', text: 'Approve', emoji: true },
      value: 'apr-abc123def456',
      style: 'primary',
      type: 'button',
      action_ts: '1548426417.840180',
    },
  ],
  ...overrides,
});
const interaction = (payload: unknown) => new URLSearchParams({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }).toString();

function invalidAt(path: string, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`);
    assert.ok(
      error.issues.some((i) => i.path === path && (!message || message.test(i.message))),
      `no issue at ${path}: ${JSON.stringify(error.issues)}`,
    );
    return true;
  };
}

describe('Slack request: parsing', () => {
  it('reads a slash command', () => {
    const request = parseSlackRequest(command(), { isAllowedResponseUrl: allowHooks });
    assert.deepEqual(request, {
      kind: 'command',
      teamId: 'T0001',
      enterpriseId: 'E0001',
      userId: 'U2147483697',
      userName: 'steve',
      channelId: 'C2147483705',
      command: '/nodes',
      text: 'rollout prod/web',
      responseUrl: 'https://hooks.slack.com/commands/T0001/1234567890/AbCdEfGhIjKlMnOpQrStUv',
      triggerId: '13345224609.738474920.8088930838d88f008e0',
    } satisfies SlackRequest);
  });

  it("reads Slack's documented example command, with its empty text", () => {
    const request = parseSlackRequest(DOC.rawBody, { isAllowedResponseUrl: allowHooks });
    assert.equal(request.kind, 'command');
    assert.equal(request.kind === 'command' && request.text, '');
    assert.equal(request.channelId, 'G8PSS9T3V');
  });

  it('decodes form encoding in the text (+ and %XX)', () => {
    const raw = command().replace('text=rollout+prod%2Fweb', 'text=rollout+prod%2Fweb+--max-unavailable%3D25%25');
    const request = parseSlackRequest(raw, { isAllowedResponseUrl: allowHooks });
    assert.equal(request.kind === 'command' && request.text, 'rollout prod/web --max-unavailable=25%');
  });

  it('reads a button click (block_actions)', () => {
    const request = parseSlackRequest(interaction(blockActions()), { isAllowedResponseUrl: allowHooks });
    assert.deepEqual(request, {
      kind: 'action',
      teamId: 'T3MDE',
      userId: 'U0CA5',
      userName: 'amy.mcgee',
      channelId: 'C0CA5',
      actionId: 'approve',
      value: 'apr-abc123def456',
      responseUrl: 'https://hooks.slack.com/actions/T3MDE/1234567890/AbCdEfGhIjKlMnOp',
      messageTs: '1548261231.000200',
    } satisfies SlackRequest);
  });

  it("takes the message ts from message.ts when there is no container, and the team from the user's on org-wide installs", () => {
    const request = parseSlackRequest(interaction(blockActions({ container: undefined, team: null, message: { ts: '1548261231.000300' } })), { isAllowedResponseUrl: allowHooks });
    assert.equal(request.kind === 'action' && request.messageTs, '1548261231.000300');
    assert.equal(request.teamId, 'T3MDE');
  });

  it('refuses a payload that is not JSON', () => {
    assert.throws(() => parseSlackRequest(interaction('{"type":"block_actions",'), { isAllowedResponseUrl: allowHooks }), invalidAt('payload', /not JSON/));
  });

  it('refuses interaction types other than block_actions', () => {
    for (const type of ['view_submission', 'shortcut', 'interactive_message']) {
      assert.throws(() => parseSlackRequest(interaction(blockActions({ type })), { isAllowedResponseUrl: allowHooks }), invalidAt('payload.type', /only block_actions/));
    }
    assert.throws(() => parseSlackRequest(interaction({}), { isAllowedResponseUrl: allowHooks }), invalidAt('payload.type'));
  });

  it('refuses a request without a user', () => {
    assert.throws(() => parseSlackRequest(interaction(blockActions({ user: undefined })), { isAllowedResponseUrl: allowHooks }), invalidAt('payload.user'));
    const noUser = new URLSearchParams(command());
    noUser.delete('user_id');
    assert.throws(() => parseSlackRequest(noUser.toString(), { isAllowedResponseUrl: allowHooks }), invalidAt('user_id'));
  });

  it('refuses ids that are not Slack ids', () => {
    assert.throws(() => parseSlackRequest(command({ user_id: 'C2147483705' }), { isAllowedResponseUrl: allowHooks }), invalidAt('user_id'));
    assert.throws(() => parseSlackRequest(command({ team_id: 'T' }), { isAllowedResponseUrl: allowHooks }), invalidAt('team_id'));
    assert.throws(() => parseSlackRequest(command({ channel_id: 'c123' }), { isAllowedResponseUrl: allowHooks }), invalidAt('channel_id'));
    assert.throws(() => parseSlackRequest(interaction(blockActions({ channel: { id: 'X1' } })), { isAllowedResponseUrl: allowHooks }), invalidAt('payload.channel.id'));
  });

  it('refuses a response_url the predicate does not allow', () => {
    for (const url of ['https://evil.example/commands/T0001/1/x', 'https://hooks.slack.com.evil.example/x', 'http://hooks.slack.com/commands/x', 'https://user@hooks.slack.com/x']) {
      assert.throws(() => parseSlackRequest(command({ response_url: url }), { isAllowedResponseUrl: allowHooks }), invalidAt('response_url', /not an allowed/), url);
    }
    assert.throws(
      () => parseSlackRequest(interaction(blockActions({ response_url: 'https://attacker.example/' })), { isAllowedResponseUrl: allowHooks }),
      invalidAt('payload.response_url'),
    );
    assert.throws(() => parseSlackRequest(command(), { isAllowedResponseUrl: () => false }), invalidAt('response_url'));
  });

  it('refuses text over 4000 characters and a button value over 2000', () => {
    assert.doesNotThrow(() => parseSlackRequest(command({ text: 'x'.repeat(4000) }), { isAllowedResponseUrl: allowHooks }));
    assert.throws(() => parseSlackRequest(command({ text: 'x'.repeat(4001) }), { isAllowedResponseUrl: allowHooks }), invalidAt('text'));
    const long = blockActions({ actions: [{ action_id: 'approve', value: 'v'.repeat(2001), type: 'button' }] });
    assert.throws(() => parseSlackRequest(interaction(long), { isAllowedResponseUrl: allowHooks }), invalidAt('payload.actions.0.value'));
  });

  it('refuses a click without actions, a body that is neither, and a field given twice', () => {
    assert.throws(() => parseSlackRequest(interaction(blockActions({ actions: [] })), { isAllowedResponseUrl: allowHooks }), invalidAt('payload.actions'));
    assert.throws(() => parseSlackRequest('team_id=T1&user_id=U1', { isAllowedResponseUrl: allowHooks }), InvalidInputError);
    assert.throws(() => parseSlackRequest(`${command()}&user_id=U999`, { isAllowedResponseUrl: allowHooks }), invalidAt('user_id', /more than once/));
  });
});

describe('Slack request: response_url allow-list', () => {
  it('matches by origin and path prefix, not by string prefix', () => {
    const allowed = slackResponseUrlAllowed(['https://hooks.slack.com/']);
    assert.equal(allowed('https://hooks.slack.com/commands/T1/2/abc'), true);
    assert.equal(allowed('https://hooks.slack.com:443/actions/T1/2/abc'), true);
    assert.equal(allowed('https://hooks.slack.com.evil.example/commands'), false);
    assert.equal(allowed('https://hooks.slack.com@evil.example/commands'), false);
    assert.equal(allowed('https://evil.example/https://hooks.slack.com/'), false);
    assert.equal(allowed('https://hooks.slack.com:8443/commands'), false);
    assert.equal(allowed('not a url'), false);
    const local = slackResponseUrlAllowed(['http://127.0.0.1:8080/hooks/']);
    assert.equal(local('http://127.0.0.1:8080/hooks/T1'), true);
    assert.equal(local('http://127.0.0.1:8080/other'), false);
  });

  it('fails at build time on a prefix that is a typo', () => {
    assert.throws(() => slackResponseUrlAllowed([]), ConfigurationError);
    assert.throws(() => slackResponseUrlAllowed(['hooks.slack.com/']), ConfigurationError);
    assert.throws(() => slackResponseUrlAllowed(['http://hooks.slack.com/']), ConfigurationError);
    assert.throws(() => slackResponseUrlAllowed(['https://hooks.slack.com/commands']), ConfigurationError); // path must end in /
  });
});

describe('Slack request: workspaces', () => {
  it('takes a request from an allowed team, or through an allowed Enterprise Grid org, and nothing else', () => {
    const allowed = slackTeamAllowed(['T0001', 'E0ORG']);
    assert.equal(allowed({ teamId: 'T0001' }), true);
    assert.equal(allowed({ teamId: 'T0999', enterpriseId: 'E0ORG' }), true);
    assert.equal(allowed({ teamId: 'T0999' }), false);
    assert.equal(allowed({ teamId: 'T0999', enterpriseId: 'E0OTHER' }), false);
  });

  it('refuses every request when no workspace is configured, and fails at cold start on a malformed id', () => {
    assert.equal(slackTeamAllowed([])({ teamId: 'T0001' }), false);
    assert.throws(() => slackTeamAllowed(['t0001']), ConfigurationError);
  });
});

describe('Slack request: principal', () => {
  it('names the user by team and user, and keeps the channel', () => {
    const request = parseSlackRequest(command(), { isAllowedResponseUrl: allowHooks });
    assert.deepEqual(principalOf(request), { id: 'slack:T0001:U2147483697', display: '<@U2147483697>', channel: 'C2147483705', enterprise: 'E0001', via: 'slack' });
    const click = parseSlackRequest(interaction(blockActions({ channel: undefined })), { isAllowedResponseUrl: allowHooks });
    assert.deepEqual(principalOf(click), { id: 'slack:T3MDE:U0CA5', display: '<@U0CA5>', via: 'slack' });
  });
});
