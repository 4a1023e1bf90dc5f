import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Slack, as far as the service talks to it, on 127.0.0.1: the Web API methods it calls
 * (`chat.postMessage`, `chat.update`, with the bot token checked) and `response_url`
 * endpoints (`/response/<id>`, which, like Slack's, take five messages). Everything
 * received is kept in order, so a test reads the conversation as a channel would show it.
 * `signedCommand` / `signedAction` build the requests Slack would send the service.
 */
export interface SlackMessageSeen {
  kind: 'post' | 'update' | 'response';
  channel?: string;
  /** the message's own ts (posts), or the ts it updates */
  ts?: string;
  threadTs?: string;
  responseId?: string;
  responseType?: string;
  replaceOriginal?: boolean;
  text: string;
  blocks: Record<string, unknown>[];
}

export interface SlackReceiver {
  url: string;
  /** the Web API base URL the service is configured with */
  apiUrl: string;
  messages: SlackMessageSeen[];
  /** a fresh response_url (as Slack gives one per command or click) */
  responseUrl(): string;
  close(): Promise<void>;
}

const RESPONSE_USES = 5;

export async function startSlackReceiver(options: { botToken: string }): Promise<SlackReceiver> {
  const messages: SlackMessageSeen[] = [];
  const used = new Map<string, number>();
  let ts = 1_700_000_000;
  let responses = 0;
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const reply = (status: number, payload: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      };
      const path = req.url ?? '';
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(body || '{}');
      } catch {
        return reply(400, 'invalid_json', 'text/plain');
      }
      if (path.startsWith('/api/')) {
        if (req.headers.authorization !== `Bearer ${options.botToken}`) return reply(200, { ok: false, error: 'invalid_auth' });
        const method = path.slice('/api/'.length);
        if (method === 'chat.postMessage') {
          const posted = `${++ts}.000100`;
          messages.push({ kind: 'post', channel: String(data['channel']), ts: posted, ...(data['thread_ts'] ? { threadTs: String(data['thread_ts']) } : {}), text: String(data['text'] ?? ''), blocks: (data['blocks'] as Record<string, unknown>[]) ?? [] });
          return reply(200, { ok: true, channel: data['channel'], ts: posted });
        }
        if (method === 'chat.update') {
          messages.push({ kind: 'update', channel: String(data['channel']), ts: String(data['ts']), text: String(data['text'] ?? ''), blocks: (data['blocks'] as Record<string, unknown>[]) ?? [] });
          return reply(200, { ok: true, channel: data['channel'], ts: data['ts'] });
        }
        return reply(200, { ok: false, error: 'unknown_method' });
      }
      if (path.startsWith('/response/')) {
        const id = path.slice('/response/'.length);
        const count = (used.get(id) ?? 0) + 1;
        used.set(id, count);
        if (count > RESPONSE_USES) return reply(404, 'expired_url', 'text/plain');
        messages.push({
          kind: 'response',
          responseId: id,
          ...(typeof data['response_type'] === 'string' ? { responseType: data['response_type'] } : {}),
          ...(typeof data['replace_original'] === 'boolean' ? { replaceOriginal: data['replace_original'] } : {}),
          text: String(data['text'] ?? ''),
          blocks: (data['blocks'] as Record<string, unknown>[]) ?? [],
        });
        return reply(200, 'ok', 'text/plain');
      }
      return reply(404, 'not_found', 'text/plain');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    apiUrl: `${url}/api/`,
    messages,
    responseUrl: () => `${url}/response/R${String(++responses).padStart(4, '0')}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** A Lambda function URL event (payload 2.0) carrying a body Slack signed with `secret` at `now`. */
export function signedSlackEvent(secret: string, body: string, now: Date, options: { base64?: boolean; timestamp?: number } = {}): Record<string, unknown> {
  const timestamp = String(options.timestamp ?? Math.floor(now.getTime() / 1000));
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    version: '2.0',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
    requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'Slackbot' }, requestId: 'sandbox', timeEpoch: now.getTime() },
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
  };
}

/** The form Slack posts for `/nodes <text>`. */
export function slashCommandBody(fields: { team: string; user: string; userName?: string; channel: string; text: string; responseUrl: string }): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: fields.team,
    team_domain: 'sandbox',
    channel_id: fields.channel,
    channel_name: 'ops',
    user_id: fields.user,
    user_name: fields.userName ?? fields.user.toLowerCase(),
    command: '/nodes',
    text: fields.text,
    api_app_id: 'A0SANDBOX',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl,
    trigger_id: `${Date.now()}.1.sandbox`,
  }).toString();
}

/** The form Slack posts when someone clicks a button (block_actions). */
export function blockActionBody(fields: { team: string; user: string; channel: string; actionId: string; value: string; responseUrl: string; messageTs?: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: fields.user, username: fields.user.toLowerCase(), team_id: fields.team },
    api_app_id: 'A0SANDBOX',
    team: { id: fields.team, domain: 'sandbox' },
    channel: { id: fields.channel, name: 'ops' },
    container: { type: 'message', message_ts: fields.messageTs ?? '1700000001.000100', channel_id: fields.channel },
    trigger_id: `${Date.now()}.2.sandbox`,
    response_url: fields.responseUrl,
    actions: [{ type: 'button', action_id: fields.actionId, block_id: 'approval', value: fields.value, action_ts: String(Date.now() / 1000) }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
