import * as z from 'zod/mini';
import { InvalidInputError, SlackSignatureError, UnverifiedCallerError } from '../errors.js';
import type { AuditInput } from './audit-log.js';
import { invalidReply } from './command-replies.js';
import { formatCommand, parseCommand } from './grammar.js';
import { helpReply } from './help.js';
import { toSlackMessage } from './render.js';
import { type CommandOutcome, type CommandPorts, runCommand } from './run-command.js';
import { MAX_SLACK_BODY_BYTES, parseSlackRequest, principalOf, readFunctionUrlRequest, SLACK_MAX_SKEW_SECONDS, type SlackRequest, verifySlackSignature } from './slack-request.js';
import type { Reply } from './types.js';

/**
 * What the Slack entry hands to the worker: the request exactly as Slack signed it, not what
 * the entry made of it. The worker verifies the signature again and derives everything —
 * who asked (team and user), the channel, the response_url — from the signed bytes, so a
 * payload someone else puts together (anyone who may invoke the worker) proves nothing.
 */
export const ChatWorkSchema = z.strictObject({
  kind: z.literal('slack-request'),
  rawBody: z.string().check(z.maxLength(MAX_SLACK_BODY_BYTES)),
  /** the `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers */
  timestamp: z.string().check(z.maxLength(32)),
  signature: z.string().check(z.maxLength(128)),
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
  /** see `slackTeamAllowed` */
  isAllowedTeam: (request: Pick<SlackRequest, 'teamId' | 'enterpriseId'>) => boolean;
  /** see `RequestGuards.acceptRequestOnce` */
  acceptOnce: (key: string, keepUntil: Date, now: Date) => Promise<boolean>;
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
 * 3. the slash command or button click, validated, with a response_url we may POST to;
 * 4. the workspace: only teams (or Enterprise Grid orgs) on `slackTeamIds` — else 403;
 * 5. once: the signature is written with a condition, so the same signed request replayed
 *    within its five minutes is 409 and runs nothing;
 * 6. help and malformed commands are answered at once (and audited); everything else is
 *    handed to the worker, which verifies it again, authorizes, acts and answers.
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
  const signed = { timestamp: http.headers['x-slack-request-timestamp'], signature: http.headers['x-slack-signature'], rawBody: http.rawBody };
  let request: SlackRequest;
  try {
    request = verifiedSlackRequest(signed, await ports.signingSecret(), now, ports);
  } catch (error) {
    if (error instanceof SlackSignatureError) {
      ports.log('slack request refused', { reason: error.reason });
      return json(401, { error: 'invalid signature' });
    }
    if (error instanceof UnverifiedCallerError) {
      ports.log('slack request refused', { reason: error.reason });
      return json(403, { error: error.message });
    }
    if (!(error instanceof InvalidInputError)) throw error;
    ports.log('slack request malformed', { issues: error.issues });
    return json(400, { error: error.message.slice(0, 300) });
  }
  if (!(await ports.acceptOnce(replayKeyOf(signed.signature!), replayWindowEnd(signed.timestamp!), now))) {
    ports.log('slack request refused', { reason: 'replayed' });
    return json(409, { error: 'this request was already received; nothing was done again' });
  }
  const principal = principalOf(request);
  const work: ChatWork = { kind: 'slack-request', rawBody: http.rawBody, timestamp: signed.timestamp!, signature: signed.signature!, requestId, receivedAt: now.toISOString() };

  if (request.kind === 'action') {
    if (request.actionId !== 'approve' && request.actionId !== 'deny') return json(200, {});
    await ports.handOver(work);
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
  await ports.handOver(work);
  return slackReply({ ok: true, title: `:hourglass_flowing_sand: Working on \`${formatCommand(parsed.command)}\`…`, sections: [] });
}

/**
 * Steps 2–4 of the entry, which the worker repeats on what it is handed: the signature over
 * the raw body, the request and its response_url, the workspace. Throws SlackSignatureError,
 * InvalidInputError or UnverifiedCallerError (`foreign-workspace`).
 */
export function verifiedSlackRequest(
  signed: { timestamp: string | undefined; signature: string | undefined; rawBody: string },
  signingSecret: string,
  now: Date,
  checks: Pick<SlackFrontPorts, 'isAllowedResponseUrl' | 'isAllowedTeam'>,
): SlackRequest {
  verifySlackSignature({ signingSecret, ...signed, now });
  const request = parseSlackRequest(signed.rawBody, { isAllowedResponseUrl: checks.isAllowedResponseUrl });
  if (!checks.isAllowedTeam(request)) {
    throw new UnverifiedCallerError('foreign-workspace', `Slack workspace ${request.teamId}${request.enterpriseId ? ` (org ${request.enterpriseId})` : ''} is not one this service answers (slackTeamIds)`);
  }
  return request;
}

/** The replay key of a signed Slack request: its signature, which covers timestamp and body. */
export function replayKeyOf(signature: string): string {
  return `slack:${signature.toLowerCase()}`;
}

/** Until when a request signed at `timestamp` could still verify: after that the timestamp check refuses it. */
function replayWindowEnd(timestamp: string): Date {
  return new Date((Number(timestamp) + SLACK_MAX_SKEW_SECONDS + 60) * 1000);
}

export interface SlackWorkPorts {
  signingSecret: () => Promise<string>;
  isAllowedResponseUrl: (url: string) => boolean;
  isAllowedTeam: SlackFrontPorts['isAllowedTeam'];
  /** see `RequestGuards.claimAcceptedRequest` */
  claimOnce: (key: string, now: Date) => Promise<boolean>;
  commands: CommandPorts;
  respond: (responseUrl: string, reply: Reply, style: { ephemeral: boolean; replaceOriginal: boolean }) => Promise<void>;
  now: () => Date;
}

/**
 * The worker's side of the hand-off, before any work:
 * 1. the signature, the request (with its response_url) and the workspace, checked again on
 *    the bytes Slack signed — never on what the payload says about them;
 * 2. the request was accepted by the entry and has not run yet (one conditional write), so
 *    a second invocation with the same payload does nothing;
 * then the command, as the signed user, answered through the signed response_url.
 */
export async function runSlackWork(work: ChatWork, ports: SlackWorkPorts): Promise<CommandOutcome> {
  const now = ports.now();
  const request = verifiedSlackRequest(work, await ports.signingSecret(), now, ports);
  if (!(await ports.claimOnce(replayKeyOf(work.signature), now))) {
    throw new UnverifiedCallerError('not-accepted', 'this Slack request was not accepted by the entry, or has already run: nothing was done');
  }
  const text = request.kind === 'action' ? `${request.actionId} ${request.value}`.slice(0, 1000) : request.text;
  const outcome = await runCommand({ text, principal: principalOf(request), requestId: work.requestId, receivedAt: new Date(work.receivedAt) }, ports.commands);
  await ports.respond(request.responseUrl, outcome.reply, answerStyle(request, outcome));
  return outcome;
}

const SHOWN_TO_CHANNEL: ReadonlySet<string> = new Set(['rollout', 'drain', 'uncordon', 'pause', 'resume', 'abort', 'approve', 'deny']);

/**
 * How the worker's answer appears: what changed something is shown to the channel (people
 * should see who started, paused or approved what); reads, refusals and errors only to the
 * person who asked. An approval answered with a button replaces the message with the buttons,
 * so nobody clicks them again; a refused click leaves them for someone else.
 */
export function answerStyle(request: Pick<SlackRequest, 'kind'>, outcome: { reply: Reply; command?: { name: string } }): { ephemeral: boolean; replaceOriginal: boolean } {
  const changed = outcome.reply.ok && outcome.command !== undefined && SHOWN_TO_CHANNEL.has(outcome.command.name);
  return { ephemeral: !changed, replaceOriginal: request.kind === 'action' && changed };
}
