import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { text } from 'node:stream/consumers';
import { startTimer } from '../clock.js';
import type { V1Status } from './api-types.js';

/**
 * HTTPS to one cluster's Kubernetes API: JSON in and out, a bearer token, the server
 * verified against the cluster's CA (never skipped), one keep-alive agent so that a pass's
 * requests share connections, and a deadline on every request. It answers with the parsed
 * body or throws one of the two errors below; what a status means (404 gone, 429 throttled,
 * 5xx unavailable…) is for the caller, see `callKube`.
 *
 * A network failure is tried again at once, up to 3 attempts in all (as the AWS SDK's
 * standard mode, and client-go for a reset read), when trying again cannot do anything twice:
 * a connection that never opened (refused, unresolved) for any request, and a read whose
 * connection broke (reset, an answer cut off). A write whose connection broke may have
 * happened, and a request past its deadline has had its time: those are the caller's.
 */

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 3;
/** before the second attempt; the third waits twice as long */
const RETRY_DELAY_MS = 100;
/** the request never reached the server: safe to send again whatever it is */
const NEVER_SENT = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
/** the connection broke under a request that may have been sent: safe to send again if it only reads */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'BAD_RESPONSE']);
/** idle connections are closed before the API server's load balancer drops them unannounced */
const IDLE_SOCKET_MS = 30_000;
const USER_AGENT = 'eks-node-lifecycle';

export interface KubeRestClientOptions {
  /** `https://…`, the cluster's endpoint from DescribeCluster */
  endpoint: string;
  /** base64 of the CA's PEM, as DescribeCluster returns `certificateAuthority.data` */
  caData: string;
  /** the bearer token, asked for each request: EKS tokens are renewed, connections stay */
  token: () => string | Promise<string>;
  /** from sending the request to the last byte of the answer; default 10 s */
  timeoutMs?: number;
}

export type QueryValue = string | number | boolean | undefined;

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** `/api/v1/nodes/…`, segments already encoded */
  path: string;
  query?: Record<string, QueryValue>;
  /** sent as JSON */
  body?: unknown;
  /** of the body: `application/json` unless a patch names its kind */
  contentType?: string;
}

/** The API server answered with an error status; `status` is its Status object. */
export class KubeStatusError extends Error {
  override readonly name = 'KubeStatusError';
  constructor(
    readonly statusCode: number,
    readonly status: V1Status,
    /** `GET /api/v1/nodes/x`, for messages */
    readonly request: string,
  ) {
    super(`${request}: HTTP ${statusCode}${status.message ? ` ${status.message}` : ''}`);
  }
}

/**
 * No answer: the connection failed (refused, reset, DNS, TLS), the deadline passed, or what
 * came back was not JSON. `code` is the socket's (`ECONNRESET`, `EAI_AGAIN`…) or ours (`TIMEOUT`, `BAD_RESPONSE`).
 */
export class KubeTransportError extends Error {
  override readonly name = 'KubeTransportError';
  constructor(
    readonly request: string,
    readonly code: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${request}: ${detail}`, options);
  }
}

export class KubeRestClient {
  private readonly endpoint: URL;
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: KubeRestClientOptions) {
    this.endpoint = new URL(options.endpoint);
    if (this.endpoint.protocol !== 'https:') throw new TypeError(`the Kubernetes endpoint must be https, not ${options.endpoint}`);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // the agent's TLS options apply to every connection it opens: verified against this CA only
    this.agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ca: Buffer.from(options.caData, 'base64').toString('utf8') });
  }

  async send<T>(request: KubeRequest): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce<T>(request);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !worthRetrying(request, error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
    }
  }

  private async sendOnce<T>(request: KubeRequest): Promise<T> {
    const url = new URL(this.endpoint);
    url.pathname = `${this.endpoint.pathname.replace(/\/$/, '')}${request.path}`;
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const what = `${request.method} ${url.pathname}`;
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
    const headers: Record<string, string | number> = {
      Authorization: `Bearer ${await this.options.token()}`,
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      ...(payload ? { 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': payload.length } : {}),
    };

    const req = httpsRequest(url, { method: request.method, agent: this.agent, headers });
    let timedOut = false;
    const cancelDeadline = startTimer(this.timeoutMs, () => {
      timedOut = true;
      req.destroy(new Error('deadline'));
    });
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        req.on('error', reject);
        req.end(payload);
      });
      return decode<T>(res.statusCode ?? 0, await text(res), what);
    } catch (error) {
      if (error instanceof KubeStatusError || error instanceof KubeTransportError) throw error;
      if (timedOut) throw new KubeTransportError(what, 'TIMEOUT', `no answer within ${this.timeoutMs} ms`, { cause: error });
      const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
      throw new KubeTransportError(what, code, (error as Error).message, { cause: error });
    } finally {
      cancelDeadline();
    }
  }

  /** Closes the idle connections (tests; a Lambda just freezes). */
  close(): void {
    this.agent.destroy();
  }
}

function worthRetrying(request: KubeRequest, error: unknown): boolean {
  if (!(error instanceof KubeTransportError)) return false;
  return NEVER_SENT.has(error.code) || (request.method === 'GET' && BROKEN.has(error.code));
}

function decode<T>(statusCode: number, body: string, what: string): T {
  let parsed: unknown;
  try {
    parsed = body.length > 0 ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
    if (statusCode >= 200 && statusCode < 300) throw new KubeTransportError(what, 'BAD_RESPONSE', `HTTP ${statusCode} with a body that is not JSON`);
  }
  if (statusCode >= 200 && statusCode < 300) return parsed as T;
  // a proxy or load balancer in front of the API server may answer with text or nothing
  const status: V1Status =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as V1Status) : { code: statusCode, ...(body.trim() ? { message: body.trim().slice(0, 500) } : {}) };
  throw new KubeStatusError(statusCode, status, what);
}
