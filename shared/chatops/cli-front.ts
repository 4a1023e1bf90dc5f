import * as z from 'zod/mini';
import { iamPrincipalArn } from '../aws/access-entries.js';
import { InvalidInputError } from '../errors.js';
import { parseUntrusted } from '../schema-issues.js';
import { mentionsAsText } from './mentions.js';
import { toText } from './render.js';
import type { ReplyData } from './reply-data.js';
import { type CommandPorts, runCommand } from './run-command.js';
import { readFunctionUrlRequest } from './slack-request.js';
import type { Principal, Reply } from './types.js';

/**
 * The CLI's entry: a Lambda function URL with `AWS_IAM` auth. Lambda checks the SigV4
 * signature and the caller's `lambda:InvokeFunctionUrl` before the function runs, and names
 * the caller in `requestContext.authorizer.iam` (Lambda developer guide, "Control access to
 * Lambda function URLs" and "Invoking Lambda function URLs": the request payload's
 * `authorizer.iam` fields). So the command runs here, in the service, as that caller —
 * authorized by the service's access policy, never by the caller's own process.
 */
export const CliCommandSchema = z.strictObject({
  command: z.string().check(z.minLength(1), z.maxLength(1000)),
  /** chosen by the CLI per request and covered by the signature: the same signed request twice is a replay */
  requestId: z.string().check(z.regex(/^[A-Za-z0-9-]{8,64}$/, 'must be 8 to 64 letters, digits or -')),
  /** `json`: the answer's data too (`-o json`); text otherwise */
  output: z.optional(z.enum(['text', 'json'])),
});

/**
 * What the CLI gets back: `text` as Slack's fallback and Amazon Q show it (what an older CLI
 * prints), the reply itself for the CLI to render for a terminal at the service's `now`,
 * `unreachable` when the service could not reach a cluster, and `data` when asked for JSON.
 */
export interface CliAnswer {
  ok: boolean;
  text: string;
  reply: Omit<Reply, 'data'>;
  now: string;
  unreachable?: true;
  data?: ReplyData;
}

const IamAuthorizerSchema = z.object({
  requestContext: z.object({ authorizer: z.object({ iam: z.object({ userArn: z.string().check(z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S{1,1000}$/, 'is not an IAM or STS ARN')) }) }) }),
});

/** How long a signed request is remembered: SigV4 accepts a request signed up to 5 minutes away, either side. */
const REPLAY_WINDOW_MS = 15 * 60_000;

export interface CliFrontPorts {
  commands: CommandPorts;
  /** see `RequestGuards.acceptRequestOnce` */
  acceptOnce: (key: string, keepUntil: Date, now: Date) => Promise<boolean>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export interface CliResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const json = (statusCode: number, body: unknown): CliResponse => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * 1. the caller, as Lambda's IAM auth named it — no caller (an invocation that did not come
 *    through the URL) is 403, and nothing else is read;
 * 2. POST with `{command, requestId}`;
 * 3. once: the caller and request id are written with a condition, so the same signed
 *    request replayed is 409 and runs nothing;
 * 4. the command, as `iam:<caller>` (an assumed role as its role), with its text answer.
 */
export async function receiveCliRequest(event: unknown, ports: CliFrontPorts): Promise<CliResponse> {
  const now = ports.now();
  const caller = IamAuthorizerSchema.safeParse(event);
  if (!caller.success) return json(403, { error: 'no authenticated IAM caller: this entry only takes SigV4-signed requests through its function URL (AWS_IAM auth)' });
  let body: z.infer<typeof CliCommandSchema>;
  try {
    const http = readFunctionUrlRequest(event);
    if (http.method !== 'POST') return json(405, { error: 'POST only' });
    body = parseUntrusted(CliCommandSchema, parseJson(http.rawBody));
  } catch (error) {
    if (error instanceof InvalidInputError) return json(400, { error: error.message.slice(0, 500) });
    throw error;
  }
  const arn = iamPrincipalArn(caller.data.requestContext.authorizer.iam.userArn);
  const principal: Principal = { id: `iam:${arn}`, display: arn, via: 'cli' };
  if (!(await ports.acceptOnce(`${principal.id}#${body.requestId}`, new Date(now.getTime() + REPLAY_WINDOW_MS), now))) {
    ports.log('cli request refused', { reason: 'replayed', principal: principal.id });
    return json(409, { error: `request ${body.requestId} was already received; nothing was done again` });
  }
  const outcome = await runCommand({ text: body.command, principal, requestId: body.requestId, receivedAt: now }, ports.commands);
  const { data, ...reply } = outcome.reply;
  // mentions as text (`<@U…>`): the CLI has no Slack to make them live
  const answer: CliAnswer = JSON.parse(
    mentionsAsText(
      JSON.stringify({
        // a done answer that found something blocking (doctor's problems) is not ok to a script
        ok: reply.ok && !reply.blocking,
        text: toText(outcome.reply),
        reply,
        now: now.toISOString(),
        ...(reply.unreachable ? { unreachable: true } : {}),
        ...(body.output === 'json' && data ? { data } : {}),
      }),
    ),
  );
  return json(200, answer);
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new InvalidInputError([{ path: 'body', message: 'is not JSON' }], { cause: error });
  }
}
