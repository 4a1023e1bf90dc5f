/**
 * One command sent to the service's chatApi function URL, and its answer printed: what the
 * CLI does against AWS (scripts/cli.ts) and against the sandbox (scripts/cli-sandbox.ts) alike.
 */
import { randomUUID } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { CliAnswer } from '../shared/chatops/cli-front.js';
import { DATA_API_VERSION } from '../shared/chatops/reply-data.js';
import { plainWords, toTerminal } from '../shared/chatops/render-terminal.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export type OutputFormat = 'text' | 'wide' | 'json';

/** What a signed request needs: where, as whom, when (the sandbox signs at its virtual time). */
export interface SignedRequestOptions {
  url: string;
  region: string;
  credentials: AwsCredentialIdentity;
  signingDate?: Date;
  /** `fetch`, or the sandbox's function URL endpoint */
  send?: (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{ status: number; text(): Promise<string> }>;
}

/** What the service answered, as the CLI needs it; `reply` and the rest are absent from an older service or a refused request. */
export type CommandAnswer = { ok: boolean; text: string; status: number } & Partial<Omit<CliAnswer, 'ok' | 'text'>>;

/**
 * Sends one command to the chatApi function URL, signed with SigV4 for the `lambda` service
 * (Lambda developer guide, "Invoking Lambda function URLs": an AWS_IAM URL takes only
 * SigV4-signed requests). The body carries a fresh request id, covered by the signature, so
 * the service runs a captured request at most once. Returns the service's answer: its text,
 * the reply to render, and with `output: 'json'` the answer's data.
 */
export async function sendCommand(text: string, options: SignedRequestOptions & { output?: 'text' | 'json' }): Promise<CommandAnswer> {
  const url = new URL(options.url);
  const body = JSON.stringify({ command: text, requestId: randomUUID(), ...(options.output === 'json' ? { output: 'json' } : {}) });
  const signer = new SignatureV4({ credentials: options.credentials, region: options.region, service: 'lambda', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const send = options.send ?? ((u, init) => fetch(u, init));
  const response = await send(url.toString(), { method: 'POST', headers: signed.headers as Record<string, string>, body });
  const raw = await response.text();
  let answer: Partial<CliAnswer> & { error?: string; Message?: string } = {};
  try {
    answer = JSON.parse(raw);
  } catch {
    // not JSON: shown as it came
  }
  if (response.status !== 200) return { text: `refused by the service (HTTP ${response.status}): ${answer.error ?? answer.Message ?? raw.slice(0, 300)}`, ok: false, status: response.status };
  const { ok, text: answered, error: _error, Message: _message, ...rest } = answer;
  return { ...rest, text: answered ?? raw, ok: ok === true, status: response.status };
}

/**
 * The exit code of an answer: 0 when done, 1 when refused or failed — or when the answer found
 * something blocking (`doctor`'s problems: the service sends `ok: false` for it) — and 3 when
 * the service says it could not reach what the command needed (a cluster's API).
 */
export function exitCodeOf(answer: { ok: boolean; unreachable?: boolean }): number {
  if (answer.unreachable) return EXIT.unreachable;
  return answer.ok ? EXIT.ok : EXIT.failed;
}

/** How an answer is printed: its data as JSON (`-o json`), or its reply for a terminal, with what the text cuts (`-o wide`) or not. */
export function renderAnswer(answer: CommandAnswer, output: OutputFormat): string {
  const now = answer.now ? new Date(answer.now) : new Date();
  if (output === 'json') {
    const document = answer.data ?? { apiVersion: DATA_API_VERSION, kind: 'Result', ok: answer.ok, title: plainWords(answer.reply?.title ?? answer.text.split('\n')[0] ?? ''), text: answer.reply ? toTerminal(answer.reply, { now }) : answer.text };
    return JSON.stringify(document, null, 2);
  }
  return answer.reply ? toTerminal(answer.reply, { now, wide: output === 'wide' }) : answer.text;
}
