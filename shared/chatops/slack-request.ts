/**
 * What Slack sends to the chat-ops function URL, checked before anything acts on it.
 *
 * The order matters, and the handler keeps it:
 *  1. `readFunctionUrlRequest` — the raw body exactly as Slack sent it (base64 undone), capped;
 *  2. `verifySlackSignature` — over those raw bytes, before any parsing: an unsigned or
 *     replayed request is refused without looking at what it asks;
 *  3. `parseSlackRequest` — the form (slash command) or the interaction payload (button),
 *     validated, with a response_url we are willing to POST to;
 *  4. `principalOf` — who asked, as authorization and the audit log name them;
 *  5. `slackTeamAllowed` — only from the workspaces this deployment serves.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { ConfigurationError, InvalidInputError, SlackSignatureError } from '../errors.js';
import { parseUntrusted } from '../schema-issues.js';
import type { Principal } from './types.js';

// ---- 2. signature ----

/** Slack's replay window: a request signed more than five minutes away from now is refused. */
export const SLACK_MAX_SKEW_SECONDS = 300;

const TIMESTAMP = /^[0-9]{1,15}$/;
const SIGNATURE = /^v0=([0-9a-fA-F]{64})$/;

export interface SlackSignatureInput {
  signingSecret: string;
  /** the `X-Slack-Request-Timestamp` header (Unix seconds) */
  timestamp: string | undefined;
  /** the `X-Slack-Signature` header (`v0=<hex HMAC-SHA256>`) */
  signature: string | undefined;
  /** the body exactly as received: Slack signs bytes, not the parsed form */
  rawBody: string;
  now: Date;
}

/**
 * Proves a request came from Slack (Slack's "Verifying requests from Slack"): the signature
 * is `v0=` + hex HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`), and the timestamp
 * must be within five minutes of now, in either direction, so a captured request cannot be
 * replayed later. The digests are compared in constant time. Throws `SlackSignatureError`
 * whose `reason` says which check failed; returns nothing when the request is genuine.
 */
export function verifySlackSignature(input: SlackSignatureInput): void {
  const { signingSecret, timestamp, signature, rawBody, now } = input;
  if (!signingSecret) throw new ConfigurationError('the Slack signing secret is empty');
  if (!timestamp) throw new SlackSignatureError('missing-header', 'X-Slack-Request-Timestamp header is missing');
  if (!signature) throw new SlackSignatureError('missing-header', 'X-Slack-Signature header is missing');
  if (!TIMESTAMP.test(timestamp)) throw new SlackSignatureError('malformed', 'X-Slack-Request-Timestamp is not a Unix time in seconds');
  const hex = SIGNATURE.exec(signature)?.[1];
  if (!hex) throw new SlackSignatureError('malformed', 'X-Slack-Signature is not v0= followed by 64 hex digits');

  const skewSeconds = Math.abs(now.getTime() - Number(timestamp) * 1000) / 1000;
  if (skewSeconds > SLACK_MAX_SKEW_SECONDS) {
    throw new SlackSignatureError('stale', `request timestamp is ${Math.round(skewSeconds)} s away from now (at most ${SLACK_MAX_SKEW_SECONDS} s): refused as a possible replay`);
  }

  const expected = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`, 'utf8').digest();
  const given = Buffer.from(hex, 'hex');
  // both are 32 bytes (the regex fixed the length), as timingSafeEqual requires
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SlackSignatureError('bad-signature', 'X-Slack-Signature does not match the request');
  }
}

// ---- 1. the function URL event ----

/** Slack's payloads are small; anything larger is not from Slack and is not worth hashing. */
export const MAX_SLACK_BODY_BYTES = 64 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The parts of a Lambda function URL event (payload format 2.0) that chat-ops reads. */
export const FunctionUrlEventSchema = z.object({
  requestContext: z.object({ http: z.object({ method: z.string().check(z.minLength(1), z.maxLength(16)) }) }),
  headers: z.optional(z.record(z.string(), z.string())),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

export interface FunctionUrlRequest {
  method: string;
  /** names lower-cased */
  headers: Record<string, string>;
  /** the body as Slack sent it (decoded when the function URL base64-encoded it) */
  rawBody: string;
}

/**
 * Reads a Lambda function URL event. The function URL base64-encodes bodies it does not
 * consider text, so the raw body is restored here; the signature covers those bytes.
 * Header names are lower-cased (AWS already does, a test event might not). A malformed
 * event or a body over 64 KiB is an `InvalidInputError`.
 */
export function readFunctionUrlRequest(event: unknown): FunctionUrlRequest {
  const { requestContext, headers = {}, body = '', isBase64Encoded = false } = parseUntrusted(FunctionUrlEventSchema, event);

  // refuse before decoding: base64 is 4/3 of the bytes it carries
  const limit = isBase64Encoded ? Math.ceil(MAX_SLACK_BODY_BYTES / 3) * 4 : MAX_SLACK_BODY_BYTES;
  if (body.length > limit) throw tooLarge();
  let rawBody = body;
  if (isBase64Encoded) {
    if (!BASE64.test(body)) throw new InvalidInputError([{ path: 'body', message: 'isBase64Encoded is true but the body is not base64' }]);
    rawBody = Buffer.from(body, 'base64').toString('utf8');
  }
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_SLACK_BODY_BYTES) throw tooLarge();

  const lowerCased: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lowerCased[name.toLowerCase()] = value;
  return { method: requestContext.http.method.toUpperCase(), headers: lowerCased, rawBody };
}

function tooLarge(): InvalidInputError {
  return new InvalidInputError([{ path: 'body', message: `is larger than ${MAX_SLACK_BODY_BYTES} bytes` }]);
}

// ---- 3. the request ----

/** Where Slack's response_urls live; the service POSTs nowhere else. */
export const DEFAULT_RESPONSE_URL_PREFIXES = ['https://hooks.slack.com/'] as const;

/**
 * Builds the response_url check. A response_url comes from the request, and the service
 * POSTs its reply there: without this check a signed-but-crafted request (or a bug) could
 * make it POST anywhere. A URL passes when it has a prefix's origin (scheme, host, port)
 * and its path starts with the prefix's path; user-info is refused. Prefixes are checked
 * here so a typo fails at cold start: each must be an absolute URL whose path ends in `/`,
 * on https (plain http only for loopback, which tests use).
 */
export function slackResponseUrlAllowed(prefixes: readonly string[]): (url: string) => boolean {
  if (prefixes.length === 0) throw new ConfigurationError('no response_url prefixes: every Slack reply would be refused');
  const allowed = prefixes.map((prefix) => {
    let parsed: URL;
    try {
      parsed = new URL(prefix);
    } catch {
      throw new ConfigurationError(`response_url prefix ${JSON.stringify(prefix)} is not an absolute URL`);
    }
    const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost' || parsed.hostname === '[::1]';
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
      throw new ConfigurationError(`response_url prefix ${prefix} must use https`);
    }
    if (!parsed.pathname.endsWith('/') || parsed.username || parsed.password || parsed.search || parsed.hash) {
      throw new ConfigurationError(`response_url prefix ${prefix} must be scheme://host[:port]/path/ (ending in /)`);
    }
    return { origin: parsed.origin, path: parsed.pathname };
  });
  return function isAllowedResponseUrl(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.username || parsed.password) return false;
    return allowed.some((prefix) => parsed.origin === prefix.origin && parsed.pathname.startsWith(prefix.path));
  };
}

const MAX_ID = 64;
/** Slack team (workspace) id: `T…`, or `E…` for an Enterprise Grid org. */
export const SlackTeamIdSchema = z.string().check(z.maxLength(MAX_ID), z.regex(/^[TE][A-Z0-9]+$/, 'is not a Slack team id'));
/** Slack user id: `U…`, or `W…` for Enterprise Grid users. */
export const SlackUserIdSchema = z.string().check(z.maxLength(MAX_ID), z.regex(/^[UW][A-Z0-9]+$/, 'is not a Slack user id'));
/** Slack conversation id: `C…` channel, `G…` private channel or group DM, `D…` DM. */
export const SlackChannelIdSchema = z.string().check(z.maxLength(MAX_ID), z.regex(/^[CGD][A-Z0-9]+$/, 'is not a Slack channel id'));
const ResponseUrlSchema = z.string().check(z.maxLength(2048), z.regex(/^https?:\/\//, 'is not an http(s) URL'));
const UserNameSchema = z.string().check(z.minLength(1), z.maxLength(256));

/** A slash command's form fields (application/x-www-form-urlencoded), the ones we use. */
export const SlashCommandFormSchema = z.object({
  team_id: SlackTeamIdSchema,
  // set when the app is installed in an Enterprise Grid org
  enterprise_id: z.optional(SlackTeamIdSchema),
  user_id: SlackUserIdSchema,
  user_name: z.optional(UserNameSchema),
  channel_id: SlackChannelIdSchema,
  command: z.string().check(z.regex(/^\/\S{1,31}$/, 'is not a slash command')),
  text: z._default(z.string().check(z.maxLength(4000)), ''),
  response_url: ResponseUrlSchema,
  trigger_id: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});

/** An interactive `block_actions` payload (a button click): the JSON in the form's `payload` field. */
export const BlockActionsPayloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: SlackUserIdSchema, username: z.optional(UserNameSchema), name: z.optional(UserNameSchema), team_id: z.optional(SlackTeamIdSchema) }),
  // null for org-wide (Enterprise Grid) installs, where user.team_id names the workspace
  team: z.optional(z.nullable(z.object({ id: SlackTeamIdSchema }))),
  enterprise: z.optional(z.nullable(z.object({ id: SlackTeamIdSchema }))),
  channel: z.optional(z.object({ id: SlackChannelIdSchema })),
  actions: z
    .array(z.object({ action_id: z.string().check(z.minLength(1), z.maxLength(255)), value: z.string().check(z.maxLength(2000)) }))
    .check(z.minLength(1, 'has no action')),
  response_url: ResponseUrlSchema,
  container: z.optional(z.object({ message_ts: z.optional(z.string().check(z.maxLength(64))) })),
  message: z.optional(z.object({ ts: z.optional(z.string().check(z.maxLength(64))) })),
});

export type SlackRequest =
  | {
      kind: 'command';
      teamId: string;
      enterpriseId?: string;
      userId: string;
      userName?: string;
      channelId: string;
      command: string;
      text: string;
      responseUrl: string;
      triggerId?: string;
    }
  | {
      kind: 'action';
      teamId: string;
      enterpriseId?: string;
      userId: string;
      userName?: string;
      channelId?: string;
      actionId: string;
      value: string;
      responseUrl: string;
      messageTs?: string;
    };

export interface ParseSlackRequestOptions {
  /** see `slackResponseUrlAllowed` */
  isAllowedResponseUrl: (url: string) => boolean;
}

/**
 * Parses a verified Slack request body: a slash command form, or a form whose single
 * `payload` field is a `block_actions` interaction (a button click). Everything else —
 * other interaction types, missing or malformed fields, bad JSON, repeated fields, a
 * response_url outside the allowed prefixes — is an `InvalidInputError` naming the field.
 */
export function parseSlackRequest(rawBody: string, options: ParseSlackRequestOptions): SlackRequest {
  const form = formFields(rawBody);
  if (form.payload !== undefined) return parseInteraction(form.payload, options);
  if (form.command !== undefined) return parseCommand(form, options);
  throw new InvalidInputError([{ path: '', message: 'neither a slash command (command=…) nor an interaction (payload=…)' }]);
}

function parseCommand(form: Record<string, string>, options: ParseSlackRequestOptions): SlackRequest {
  const f = parseUntrusted(SlashCommandFormSchema, form);
  checkResponseUrl(f.response_url, 'response_url', options);
  return {
    kind: 'command',
    teamId: f.team_id,
    ...(f.enterprise_id !== undefined && { enterpriseId: f.enterprise_id }),
    userId: f.user_id,
    ...(f.user_name !== undefined && { userName: f.user_name }),
    channelId: f.channel_id,
    command: f.command,
    text: f.text,
    responseUrl: f.response_url,
    ...(f.trigger_id !== undefined && { triggerId: f.trigger_id }),
  };
}

function parseInteraction(payload: string, options: ParseSlackRequestOptions): SlackRequest {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (error) {
    throw new InvalidInputError([{ path: 'payload', message: 'is not JSON' }], { cause: error });
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type !== 'block_actions') {
    throw new InvalidInputError([{ path: 'payload.type', message: `${typeof type === 'string' ? JSON.stringify(type.slice(0, 64)) : 'a missing type'} is not supported (only block_actions)` }]);
  }
  const p = parseUntrusted(BlockActionsPayloadSchema, json, 'payload');
  const teamId = p.team?.id ?? p.user.team_id;
  if (!teamId) throw new InvalidInputError([{ path: 'payload.team.id', message: 'is missing' }]);
  checkResponseUrl(p.response_url, 'payload.response_url', options);
  const action = p.actions[0]!;
  const userName = p.user.username ?? p.user.name;
  const messageTs = p.container?.message_ts ?? p.message?.ts;
  return {
    kind: 'action',
    teamId,
    ...(p.enterprise?.id !== undefined && { enterpriseId: p.enterprise.id }),
    userId: p.user.id,
    ...(userName !== undefined && { userName }),
    ...(p.channel && { channelId: p.channel.id }),
    actionId: action.action_id,
    value: action.value,
    responseUrl: p.response_url,
    ...(messageTs !== undefined && { messageTs }),
  };
}

function checkResponseUrl(url: string, path: string, options: ParseSlackRequestOptions): void {
  if (!options.isAllowedResponseUrl(url)) {
    // the URL itself is a capability (it can post to the channel): not echoed
    throw new InvalidInputError([{ path, message: 'is not an allowed Slack response URL' }]);
  }
}

/** Form fields; a field given twice is refused rather than resolved one way or the other. */
function formFields(rawBody: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawBody)) {
    if (Object.hasOwn(fields, name)) throw new InvalidInputError([{ path: name.slice(0, 64), message: 'appears more than once' }]);
    fields[name] = value;
  }
  return fields;
}

// ---- 4. who asked ----

/**
 * The principal of a Slack request. Team and user together: user ids are unique per
 * workspace only, and the id is what the approval rule compares (the requester may not
 * approve their own rollout).
 */
export function principalOf(request: SlackRequest): Principal & { via: 'slack' } {
  return {
    id: `slack:${request.teamId}:${request.userId}`,
    display: `<@${request.userId}>`,
    ...(request.channelId !== undefined && { channel: request.channelId }),
    ...(request.enterpriseId !== undefined && { enterprise: request.enterpriseId }),
    via: 'slack',
  };
}

// ---- 5. which workspaces ----

/**
 * Builds the workspace check: a request is taken only from a Slack team (workspace) or
 * Enterprise Grid org on the `slackTeamIds` allow-list. One Slack app can be installed in
 * many workspaces, all signing with the same secret, so the signature alone proves "Slack",
 * not "our Slack". An empty list refuses every request (fail closed: a deployment that
 * never said which workspace is its own answers nobody). The ids are checked at cold start.
 */
export function slackTeamAllowed(teamIds: readonly string[]): (request: Pick<SlackRequest, 'teamId' | 'enterpriseId'>) => boolean {
  for (const id of teamIds) {
    if (!SlackTeamIdSchema.safeParse(id).success) throw new ConfigurationError(`slackTeamIds: ${JSON.stringify(id.slice(0, 64))} is not a Slack team (T…) or Enterprise Grid (E…) id`);
  }
  const allowed = new Set(teamIds);
  return function isAllowedTeam(request) {
    return allowed.has(request.teamId) || (request.enterpriseId !== undefined && allowed.has(request.enterpriseId));
  };
}
