import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { slackApi, type SlackApi } from '../../shared/chatops/slack-api.js';
import { slackResponseUrlAllowed } from '../../shared/chatops/slack-request.js';
import type { SlackMessage } from '../../shared/chatops/types.js';
import { SlackApiError } from '../../shared/errors.js';

const TOKEN = 'xoxb-1111-2222-sandboxtokenvalue';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}
type Answer = (request: Received, response: ServerResponse) => void;

/** A stand-in for slack.com/api and hooks.slack.com on 127.0.0.1, answering as each test says. */
let server: Server;
let origin: string;
let received: Received[] = [];
let answer: Answer;

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request = { method: req.method!, path: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined };
      received.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  answer = json({ ok: true, channel: 'C0CA5', ts: '1700000000.000100' });
});

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Answer {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(body));
  };
}
function text(body: string, status = 200, headers: Record<string, string> = {}): Answer {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'text/html', ...headers });
    response.end(body);
  };
}

const message: SlackMessage = {
  text: 'Rollout of prod/web waits for approval',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*prod/web*: 3 nodes to replace' } }],
};

function api(overrides: Partial<Parameters<typeof slackApi>[0]> = {}): SlackApi {
  return slackApi({
    token: async () => TOKEN,
    baseUrl: `${origin}/api/`,
    isAllowedResponseUrl: slackResponseUrlAllowed([`${origin}/hooks/`]),
    ...overrides,
  });
}

async function slackError(promise: Promise<unknown>): Promise<SlackApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SlackApiError, `expected SlackApiError, got ${String(error)}`);
    assert.equal(error.name, 'SlackApiError');
    assert.ok(!error.message.includes(TOKEN) && !JSON.stringify(error).includes(TOKEN), 'the token leaked into the error');
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('Slack API: chat.postMessage and chat.update', () => {
  it('posts the message as JSON with the bearer token, and answers channel and ts', async () => {
    const posted = await api().postMessage('C0CA5', message);
    assert.deepEqual(posted, { channel: 'C0CA5', ts: '1700000000.000100' });
    assert.equal(received.length, 1);
    const [request] = received;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.path, '/api/chat.postMessage');
    assert.equal(request!.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(request!.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(request!.body, { channel: 'C0CA5', text: message.text, blocks: message.blocks });
  });

  it('threads a reply under a message with thread_ts', async () => {
    await api().postMessage('C0CA5', message, { threadTs: '1699999999.000200' });
    assert.deepEqual(received[0]!.body, { channel: 'C0CA5', text: message.text, blocks: message.blocks, thread_ts: '1699999999.000200' });
  });

  it('updates a message with chat.update', async () => {
    answer = json({ ok: true, channel: 'C0CA5', ts: '1700000000.000100', text: message.text });
    await api().updateMessage('C0CA5', '1700000000.000100', message);
    assert.equal(received[0]!.path, '/api/chat.update');
    assert.equal(received[0]!.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(received[0]!.body, { channel: 'C0CA5', ts: '1700000000.000100', text: message.text, blocks: message.blocks });
  });

  it('reads the token for each call, so a rotated token is used', async () => {
    const tokens = ['xoxb-old', 'xoxb-new'];
    const slack = api({ token: async () => tokens.shift()! });
    await slack.postMessage('C0CA5', message);
    await slack.postMessage('C0CA5', message);
    assert.deepEqual(received.map((r) => r.headers.authorization), ['Bearer xoxb-old', 'Bearer xoxb-new']);
  });

  it("maps { ok: false, error: 'channel_not_found' } to a SlackApiError that is not retryable", async () => {
    answer = json({ ok: false, error: 'channel_not_found' });
    const error = await slackError(api().postMessage('C404', message));
    assert.equal(error.operation, 'chat.postMessage');
    assert.equal(error.slackError, 'channel_not_found');
    assert.equal(error.retryable, false);
  });

  it("maps Slack's transient error codes to a retryable SlackApiError", async () => {
    for (const code of ['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']) {
      answer = json({ ok: false, error: code });
      const error = await slackError(api().updateMessage('C0CA5', '1.2', message));
      assert.equal(error.slackError, code);
      assert.equal(error.retryable, true, code);
    }
  });

  it('maps HTTP 429 to a retryable SlackApiError that says when to retry', async () => {
    answer = json({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': '30' });
    const error = await slackError(api().postMessage('C0CA5', message));
    assert.equal(error.slackError, 'ratelimited');
    assert.equal(error.retryable, true);
    assert.match(error.message, /Retry-After 30 s/);
  });

  it('maps 5xx to retryable and other HTTP errors to not retryable', async () => {
    answer = text('<html>bad gateway</html>', 502);
    const gateway = await slackError(api().postMessage('C0CA5', message));
    assert.deepEqual([gateway.slackError, gateway.retryable], ['http_502', true]);
    answer = text('not found', 404);
    const missing = await slackError(api().postMessage('C0CA5', message));
    assert.deepEqual([missing.slackError, missing.retryable], ['http_404', false]);
  });

  it('maps an answer that is not JSON to a SlackApiError', async () => {
    answer = text('<html>captive portal</html>');
    const error = await slackError(api().postMessage('C0CA5', message));
    assert.equal(error.slackError, 'invalid_response');
  });

  it('maps a refused connection and a timeout to retryable SlackApiErrors', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await slackError(api({ baseUrl: `http://127.0.0.1:${port}/api/` }).postMessage('C0CA5', message));
    assert.deepEqual([refused.slackError, refused.retryable], ['network_error', true]);

    answer = () => undefined; // never answers
    const slow = await slackError(api({ timeoutMs: 100 }).postMessage('C0CA5', message));
    assert.deepEqual([slow.slackError, slow.retryable], ['request_timeout', true]);
    server.closeAllConnections();
  });
});

describe('Slack API: response_url', () => {
  it('posts the reply to the response_url, ephemeral by default, without the bot token', async () => {
    answer = text('ok');
    await api().respond(`${origin}/hooks/commands/T1/2/abc`, message);
    assert.equal(received[0]!.path, '/hooks/commands/T1/2/abc');
    assert.equal(received[0]!.headers.authorization, undefined);
    assert.equal(received[0]!.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(received[0]!.body, { text: message.text, blocks: message.blocks, response_type: 'ephemeral', replace_original: false });
  });

  it('posts in channel and replaces the original when asked', async () => {
    answer = text('ok');
    await api().respond(`${origin}/hooks/actions/T1/2/abc`, message, { ephemeral: false, replaceOriginal: true });
    assert.deepEqual(received[0]!.body, { text: message.text, blocks: message.blocks, response_type: 'in_channel', replace_original: true });
  });

  it('refuses a response_url the predicate rejects, without sending anything', async () => {
    const error = await slackError(api().respond('https://attacker.example/collect', message));
    assert.equal(error.slackError, 'response_url_not_allowed');
    assert.equal(error.retryable, false);
    assert.ok(!error.message.includes('attacker.example'));
    assert.equal(received.length, 0);
  });

  it("maps an expired response_url to a SlackApiError that is not retryable, and 429 to a retryable one", async () => {
    answer = text('expired_url', 404);
    const expired = await slackError(api().respond(`${origin}/hooks/commands/T1/2/abc`, message));
    assert.deepEqual([expired.slackError, expired.retryable], ['expired_url', false]);
    answer = text('rate limited', 429, { 'retry-after': '1' });
    const limited = await slackError(api().respond(`${origin}/hooks/commands/T1/2/abc`, message));
    assert.deepEqual([limited.slackError, limited.retryable], ['ratelimited', true]);
    answer = json({ ok: false, error: 'no_text' });
    const refused = await slackError(api().respond(`${origin}/hooks/commands/T1/2/abc`, message));
    assert.deepEqual([refused.slackError, refused.retryable], ['no_text', false]);
  });
});
