/**
 * The Slack Web API, as far as chat-ops writes to Slack: post a message (optionally in a
 * thread), update it (a rollout's progress), and answer through a command's response_url.
 *
 * Thin on purpose: what to say is decided elsewhere (the reply renderers); this adapter only
 * turns Slack's ways of failing into `SlackApiError` with an honest `retryable`:
 * - HTTP 200 with `{ ok: false, error }` — Slack's usual refusal; retryable only for the
 *   codes Slack documents as transient (`ratelimited`, `internal_error`, …);
 * - HTTP 429 (with `Retry-After`), 5xx, a network error or a timeout — retryable;
 * - any other HTTP status — not retryable.
 * The bot token is sent only to the Web API (never to a response_url) and never appears in
 * an error or a log line.
 */
import * as z from 'zod/mini';
import { SlackApiError } from '../errors.js';
import type { SlackMessage } from './types.js';

export interface SlackApi {
  /** chat.postMessage; answers the channel id and the message's ts (to thread under or update it) */
  postMessage(channel: string, message: SlackMessage, options?: { threadTs?: string }): Promise<{ channel: string; ts: string }>;
  /** chat.update of a message the bot posted */
  updateMessage(channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** POST to a slash command's or a button's response_url (ephemeral unless told otherwise) */
  respond(responseUrl: string, message: SlackMessage, options?: { ephemeral?: boolean; replaceOriginal?: boolean }): Promise<void>;
}

export interface SlackApiOptions {
  /** the bot token (`xoxb-…`), read when needed so a rotated token is picked up (see cachedSecret) */
  token: () => Promise<string>;
  /** default `https://slack.com/api/` */
  baseUrl?: string;
  /** the same check parseSlackRequest applies (slackResponseUrlAllowed) */
  isAllowedResponseUrl: (url: string) => boolean;
  fetch?: typeof fetch;
  /** per request; default 10 s */
  timeoutMs?: number;
}

export const DEFAULT_SLACK_API_BASE_URL = 'https://slack.com/api/';

/** Slack error codes that mean "try again later" rather than "this will never work". */
const RETRYABLE_SLACK_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

const PostMessageResponseSchema = z.object({ ok: z.literal(true), channel: z.string().check(z.minLength(1)), ts: z.string().check(z.minLength(1)) });
const SlackResponseSchema = z.object({ ok: z.boolean(), error: z.optional(z.string()) });

/**
 * Builds the Slack adapter. Create it once per cold start; it holds no connection, only the
 * options.
 */
export function slackApi(options: SlackApiOptions): SlackApi {
  const doFetch = options.fetch ?? fetch;
  const baseUrl = (options.baseUrl ?? DEFAULT_SLACK_API_BASE_URL).replace(/\/?$/, '/');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function send(operation: string, url: string, headers: Record<string, string>, body: unknown): Promise<Response> {
    try {
      return await doFetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError';
      throw slackError(operation, timedOut ? 'request_timeout' : 'network_error', true, timedOut ? `no answer within ${timeoutMs} ms` : (error as Error)?.message, error);
    }
  }

  /** A Web API method: Bearer token, JSON in, `{ ok, … }` out. */
  async function callMethod(method: string, body: Record<string, unknown>): Promise<unknown> {
    const token = await options.token();
    const response = await send(method, new URL(method, baseUrl).href, { Authorization: `Bearer ${token}` }, body);
    throwOnHttpError(method, response);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw slackError(method, 'invalid_response', false, 'the answer is not JSON');
    }
    const answer = SlackResponseSchema.safeParse(json);
    if (!answer.success) throw slackError(method, 'invalid_response', false, 'the answer has no ok field');
    if (!answer.data.ok) {
      const code = errorCode(answer.data.error);
      throw slackError(method, code, RETRYABLE_SLACK_ERRORS.has(code));
    }
    return json;
  }

  return {
    async postMessage(channel, message, postOptions = {}) {
      const out = await callMethod('chat.postMessage', {
        channel,
        text: message.text,
        blocks: message.blocks,
        ...(postOptions.threadTs !== undefined && { thread_ts: postOptions.threadTs }),
      });
      const posted = PostMessageResponseSchema.safeParse(out);
      if (!posted.success) throw slackError('chat.postMessage', 'invalid_response', false, 'the answer has no channel or ts');
      return { channel: posted.data.channel, ts: posted.data.ts };
    },

    async updateMessage(channel, ts, message) {
      await callMethod('chat.update', { channel, ts, text: message.text, blocks: message.blocks });
    },

    async respond(responseUrl, message, respondOptions = {}) {
      const operation = 'response_url';
      // the URL is a capability (anyone holding it can post for 30 minutes): never echoed
      if (!options.isAllowedResponseUrl(responseUrl)) throw slackError(operation, 'response_url_not_allowed', false);
      const response = await send(operation, responseUrl, {}, {
        text: message.text,
        blocks: message.blocks,
        response_type: (respondOptions.ephemeral ?? true) ? 'ephemeral' : 'in_channel',
        replace_original: respondOptions.replaceOriginal ?? false,
      });
      if (response.status === 429 || response.status >= 500) throwOnHttpError(operation, response);
      // success is plain `ok`; a refusal is plain text (`expired_url`, `used_url`, …, with a
      // 4xx) or `{ ok: false, error }`
      const text = (await response.text()).trim();
      const refusal = jsonRefusal(text);
      if (response.ok && refusal === undefined) return;
      let code = refusal ?? errorCode(text);
      if (code === 'unknown_error' && !response.ok) code = `http_${response.status}`;
      throw slackError(operation, code, RETRYABLE_SLACK_ERRORS.has(code));
    },
  };
}

/** 429 and 5xx are Slack's "later"; other non-2xx statuses will not change on a retry. */
function throwOnHttpError(operation: string, response: Response): void {
  if (response.ok) return;
  response.body?.cancel().catch(() => undefined); // the body is not read: free the connection
  if (response.status === 429) {
    const header = response.headers.get('retry-after');
    const seconds = header !== null && /^\d{1,6}$/.test(header.trim()) ? Number(header) : undefined;
    throw slackError(operation, 'ratelimited', true, seconds !== undefined ? `Retry-After ${seconds} s` : 'no Retry-After');
  }
  throw slackError(operation, `http_${response.status}`, response.status >= 500);
}

/** The error code of a `{ ok: false, error }` answer; undefined for anything else. */
function jsonRefusal(text: string): string | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const answer = SlackResponseSchema.safeParse(JSON.parse(text));
    return answer.success && !answer.data.ok ? errorCode(answer.data.error) : undefined;
  } catch {
    return undefined;
  }
}

/** Slack's error codes are short snake_case words; anything else is not worth repeating. */
function errorCode(value: string | undefined): string {
  return value && /^[a-z0-9_.-]{1,100}$/.test(value) ? value : 'unknown_error';
}

function slackError(operation: string, code: string, retryable: boolean, detail?: string, cause?: unknown): SlackApiError {
  const error = new SlackApiError(operation, code, retryable, cause === undefined ? undefined : { cause });
  // slackError stays the bare code for callers to match; the detail goes in the message only
  if (detail) error.message += ` (${detail})`;
  return error;
}
