import * as z from 'zod/mini';
import { InvalidInputError, SlackSignatureError } from '../errors.js';
import type { AuditInput } from './chatops-table.js';
import { invalidReply } from './command-replies.js';
import { formatCommand, parseCommand } from './grammar.js';
import { helpReply } from './help.js';
import { toSlackMessage } from './render.js';
import { parseSlackRequest, principalOf, readFunctionUrlRequest, verifySlackSignature } from './slack-request.js';
import type { Reply } from './types.js';

/**
 * What the Slack entry hands to the worker: a request whose signature was verified, so the
 * principal (Slack team and user) is proven. Only the entry function may invoke the worker.
 */
export const ChatWorkSchema = z.object({
  kind: z.enum(['slack-command', 'slack-action']),
  text: z.string().check(z.maxLength(1000)),
  principal: z.object({
    id: z.string().check(z.regex(/^slack:[A-Z0-9]+:[A-Z0-9]+$/)),
    display: z.string().check(z.maxLength(100)),
    channel: z.optional(z.string().check(z.maxLength(30))),
    via: z.literal('slack'),
  }),
  responseUrl: z.url().check(z.maxLength(2000)),
  requestId: z.string().check(z.minLength(1), z.maxLength(100)),
  receivedAt: z.iso.datetime(),
});
export type ChatWork = z.infer<typeof ChatWorkSchema>;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface SlackFrontPorts {
  signingSecret: () => Promise<string>;
  isAllowedResponseUrl: (url: string) => boolean;
  /** invokes the worker asynchronously (Lambda InvocationType Event): returns once it is queued */
  handOver: (work: ChatWork) => Promise<void>;
  audit: (entry: AuditInput) => Promise<void>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

const json = (statusCode: number, body: unknown): HttpResponse => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function slackReply(reply: Reply): HttpResponse {
  return json(200, { response_type: 'ephemeral', ...toSlackMessage(reply) });
}

/**
 * Slack's entry (a Lambda function URL), which must answer within three seconds:
 * 1. the HTTP request as Slack sent it (raw body: the signature covers its exact bytes);
 * 2. the signature: `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret,
 *    the timestamp within five minutes — anything else is 401 and goes no further;
 * 3. the slash command or button click, validated;
 * 4. help and malformed commands are answered at once (and audited); everything else is
 *    handed to the worker, which authorizes, acts and answers through `response_url`.
 */
export async function receiveSlack(event: unknown, requestId: string, ports: SlackFrontPorts): Promise<HttpResponse> {
  const now = ports.now();
  let http;
  try {
    http = readFunctionUrlRequest(event);
  } catch (error) {
    if (error instanceof InvalidInputError) return json(400, { error: 'malformed request' });
    throw error;
  }
  if (http.method !== 'POST') return json(405, { error: 'POST only' });
  try {
    verifySlackSignature({ signingSecret: await ports.signingSecret(), timestamp: http.headers['x-slack-request-timestamp'], signature: http.headers['x-slack-signature'], rawBody: http.rawBody, now });
  } catch (error) {
    if (!(error instanceof SlackSignatureError)) throw error;
    ports.log('slack request refused', { reason: error.reason });
    return json(401, { error: 'invalid signature' });
  }
  let request;
  try {
    request = parseSlackRequest(http.rawBody, { isAllowedResponseUrl: ports.isAllowedResponseUrl });
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    ports.log('slack request malformed', { issues: error.issues });
    return json(400, { error: error.message.slice(0, 300) });
  }
  const principal = principalOf(request);
  const receivedAt = now.toISOString();

  if (request.kind === 'action') {
    if (request.actionId !== 'approve' && request.actionId !== 'deny') return json(200, {});
    await ports.handOver({ kind: 'slack-action', text: `${request.actionId} ${request.value}`.slice(0, 1000), principal, responseUrl: request.responseUrl, requestId, receivedAt });
    return json(200, {});
  }

  const parsed = parseCommand(request.text);
  if (!parsed.ok || parsed.command.name === 'help') {
    const reply = parsed.ok ? helpReply(parsed.command.name === 'help' ? parsed.command.topic : undefined) : invalidReply(parsed.error, parsed.usage);
    await ports.audit({
      requestId,
      at: now,
      principal,
      clusters: [],
      text: request.text,
      ...(parsed.ok ? { command: formatCommand(parsed.command) } : {}),
      result: parsed.ok ? 'done' : 'invalid',
      summary: parsed.ok ? 'help' : parsed.error,
    });
    return slackReply(reply);
  }
  await ports.handOver({ kind: 'slack-command', text: request.text, principal, responseUrl: request.responseUrl, requestId, receivedAt });
  return slackReply({ ok: true, title: `:hourglass_flowing_sand: Working on \`${formatCommand(parsed.command)}\`…`, sections: [] });
}

const SHOWN_TO_CHANNEL: ReadonlySet<string> = new Set(['rollout', 'drain', 'pause', 'resume', 'abort', 'approve', 'deny']);

/**
 * How the worker's answer appears: what changed something is shown to the channel (people
 * should see who started, paused or approved what); reads, refusals and errors only to the
 * person who asked. An approval answered with a button replaces the message with the buttons,
 * so nobody clicks them again; a refused click leaves them for someone else.
 */
export function answerStyle(work: Pick<ChatWork, 'kind'>, outcome: { reply: Reply; command?: { name: string } }): { ephemeral: boolean; replaceOriginal: boolean } {
  const changed = outcome.reply.ok && outcome.command !== undefined && SHOWN_TO_CHANNEL.has(outcome.command.name);
  return { ephemeral: !changed, replaceOriginal: work.kind === 'slack-action' && changed };
}
