import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { VirtualClock } from '../clock.js';
import { allows, forbidden, type PolicyRule, selfSubjectAccessReview } from './authorization.js';
import { apiGroup, coreVersions, groupList, resourceList, versionInfo } from './discovery.js';
import { badRequest, failure, KubeApiError, pathNotFound, unauthorized } from './errors.js';
import { FLOW_SCHEMA_UID, PriorityAndFairness, PRIORITY_LEVEL_UID, TOO_MANY_REQUESTS } from './priority-and-fairness.js';
import { isResourceName, RESOURCES, type ResourceInfo } from './resources.js';
import { handleResource, verbOf, type Reply } from './rest-handlers.js';
import type { KubeStore } from './store.js';
import { serveWatch } from './watch.js';

/**
 * The sandbox's Kubernetes API server: HTTPS on 127.0.0.1 with a test CA, bearer-token
 * authentication, discovery, and the REST paths of core/v1, apps/v1 and policy/v1 for the
 * resources the store holds. The service's client, `@kubernetes/client-node` and `kubectl`
 * use it unchanged.
 *
 * Each request goes through, in order:
 * 1. authentication (401 Unauthorized unless `authenticate` accepts the bearer token);
 * 2. the fault hook, which may delay, reset, hold or answer the request instead, or have
 *    its answer held back (see `FaultAction`; `faults.ts` builds seeded hooks);
 * 3. flow control, when `flowControl` is enabled: API Priority and Fairness per user, a
 *    429 with Retry-After over the limit (priority-and-fairness.ts);
 * 4. authorization, when RBAC is configured (`setAuthorization`, authorization.ts): a request
 *    the rules do not grant is 403 Forbidden; a SelfSubjectAccessReview is answered from them;
 * 5. routing: discovery documents, or a resource request handled against the store;
 * 6. a JSON reply; every failure is a `Status` object as the real server sends (but flow
 *    control's 429, plain text there too).
 * Once a request is answered (or its watch has started, or a fault reset it), `onRequest`
 * sees it, so benchmarks can count what each client asked for.
 */

export interface KubeApiServerOptions {
  clock: VirtualClock;
  store: KubeStore;
  clusterName: string;
  /** Accepts a bearer token (true, or the user it authenticates as: the flow it is throttled in) or refuses it. */
  authenticate: (bearerToken: string) => Authentication | Promise<Authentication>;
  /** "major.minor" the server reports from /version. Default 1.31. */
  kubernetesVersion?: string;
  /** Called once per request after it is answered, for scenario logs. */
  log?: (entry: RequestLogEntry) => void;
  /** Called once per request after it is answered, with who asked and what it was routed to. */
  onRequest?: (request: ObservedRequest) => void;
}

/** true: the token's own digest names its user; false: 401. */
export type Authentication = boolean | { user: string };

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
}

/** What a fault hook sees of a request: routed, so it can target "evictions of pod x". */
export interface FaultRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * A fault to inject: wait `delayMs` (real milliseconds: client timeouts are real), then
 * reset the connection (a TCP RST: the client reads ECONNRESET), or answer `status` (with
 * `body`, or a Status object for that code), or, with neither, go on normally. With
 * `halfWritten` the request is handled, but only the answer's headers and the first half of
 * its body are written before the connection is destroyed (a proxy or the server dying
 * mid-answer: the client's body read fails, and a write may have happened unbeknown to it).
 *
 * Two faults are about time, and are bounded so that a client without a timeout cannot hang
 * a test (both in real milliseconds, since that is what a client's timeout counts):
 * - `hangMs`: the request is neither handled nor answered; the connection is dropped when
 *   the client gives up, or after `hangMs` at the latest (a dead load balancer);
 * - `answerAfterMs`: the request is handled at once, but its answer is sent only after
 *   `answerAfterMs`, and not at all if the client has given up by then (etcd was slow: the
 *   write happened, the client never learnt it).
 * `onHeld` then says how the hold ended: did the client give up first, and after how long.
 */
export interface FaultAction {
  delayMs?: number;
  reset?: boolean;
  halfWritten?: boolean;
  status?: number;
  body?: unknown;
  hangMs?: number;
  answerAfterMs?: number;
  onHeld?: (end: HoldEnd) => void;
}

export interface HoldEnd {
  /** the client closed the connection before the server answered or dropped it */
  clientGaveUp: boolean;
  /** real milliseconds the request was held */
  heldMs: number;
}

/**
 * A handled request as `onRequest` sees it: the routed request, the client's User-Agent
 * (`eks-node-lifecycle`, `kubectl/v1.32.4 (linux/amd64) kubernetes/…`, `kubernetes-client-javascript/2.0.1`) and
 * the status it was answered with: 200 for a watch that started, 0 for a connection a fault
 * reset. Discovery and health paths carry no verb or resource.
 */
export interface ObservedRequest extends FaultRequest {
  userAgent: string;
  status: number;
}

export interface FaultHook {
  before(request: FaultRequest): FaultAction | undefined | Promise<FaultAction | undefined>;
}

export interface KubeconfigOptions {
  token: string;
  namespace?: string;
  user?: string;
}

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** Base64 of the CA certificate's PEM, as EKS DescribeCluster returns certificateAuthority.data. */
  readonly caData: string;
  readonly port: number;
  faults: FaultHook | undefined;
  /** API Priority and Fairness; off until `flowControl.enable()` */
  readonly flowControl: PriorityAndFairness;
  /**
   * false: the endpoint stops listening and drops every open connection, so clients get
   * ECONNREFUSED (a cluster endpoint gone private, a security group closed); true: it
   * listens again on the same port.
   */
  setReachable(reachable: boolean): Promise<void>;
  /** RBAC for every user: the rules granted (authorization.ts `rulesFromManifest`), or undefined (the default) for everything */
  setAuthorization(rules: readonly PolicyRule[] | undefined): void;
  close(): Promise<void>;
  writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void>;
}

/** The sandbox's test CA, and the key and certificate the API server serves (fixtures/tls/README.md). */
export const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);

interface Route {
  discovery?: unknown;
  info?: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * /api/v1/[namespaces/{ns}/]{resource}[/{name}[/{subresource}]] and the same under
 * /apis/{group}/{version}; `namespaces/{name}[/status]` is the namespace itself.
 */
function route(path: string, serverAddress: string, version: string): Route | undefined {
  const segments = path.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
  if (segments.length === 1 && segments[0] === 'version') return { discovery: versionInfo(version) };
  let group: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { discovery: coreVersions(serverAddress) };
    if (segments[1] !== 'v1') return undefined;
    group = '';
    rest = segments.slice(2);
    if (rest.length === 0) return { discovery: resourceList('', 'v1') };
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { discovery: groupList() };
    const named = apiGroup(segments[1]!);
    if (!named) return undefined;
    if (segments.length === 2) return { discovery: named };
    const list = resourceList(segments[1]!, segments[2]!);
    if (!list) return undefined;
    if (segments.length === 3) return { discovery: list };
    group = segments[1]!;
    rest = segments.slice(3);
  } else {
    return undefined;
  }

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && isResourceName(rest[2]!) && RESOURCES[rest[2]!].namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource || !isResourceName(resource) || extra.length > 0) return undefined;
  const info = RESOURCES[resource];
  if (info.group !== group) return undefined;
  if (namespace !== undefined && !info.namespaced) return undefined;
  return {
    info,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired',
  429: 'TooManyRequests', 500: 'InternalError', 502: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
  });
  res.end(text);
}

/** The answer's headers, as `send` writes them, and half its body; then the connection dies. */
function sendHalf(res: ServerResponse, reply: Reply): void {
  const text = Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), 'utf8');
  res.writeHead(reply.status, {
    'Content-Type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
    'Content-Length': text.length,
  });
  res.write(text.subarray(0, Math.floor(text.length / 2)));
  // on the next turn, so the half is on the wire before the connection goes
  setImmediate(() => res.destroy());
}

/**
 * A TCP reset, as a crashed peer or a load balancer dropping the connection sends it. A TLS
 * socket cannot send one itself: its TCP socket underneath can (Node keeps it as `_parent`).
 */
function resetConnection(req: IncomingMessage): void {
  const tcp = (req.socket as { _parent?: Socket | null })._parent;
  if (tcp && typeof tcp.resetAndDestroy === 'function') tcp.resetAndDestroy();
  else req.socket.destroy();
}

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const { store, authenticate } = options;
  // ages in tables and every timestamp come from the store's clock: they must be one clock
  if (options.clock !== store.clock) throw new Error('startKubeApiServer: the server must run on the clock of its store');
  const version = options.kubernetesVersion ?? '1.31';
  const ca = readFileSync(new URL('ca.crt', TLS_DIR));
  const openWatches = new Set<() => void>();
  let address = '127.0.0.1:0';
  let faults: FaultHook | undefined;
  // requests held by a fault, ended early when the server closes
  const holds = new Set<() => void>();
  const flowControl = new PriorityAndFairness(options.clock);
  let rbac: readonly PolicyRule[] | undefined;

  /**
   * Holds a request for up to `ms` real milliseconds; resolves true as soon as the client
   * closes the connection, false when the time is up (or the server closes).
   */
  function hold(res: ServerResponse, ms: number, onHeld: ((end: HoldEnd) => void) | undefined): Promise<boolean> {
    const started = Date.now();
    return new Promise<boolean>((resolve) => {
      const end = (clientGaveUp: boolean) => {
        clearTimeout(timer);
        res.off('close', onClose);
        holds.delete(release);
        onHeld?.({ clientGaveUp, heldMs: Date.now() - started });
        resolve(clientGaveUp);
      };
      const onClose = () => end(true);
      const release = () => end(false);
      const timer = setTimeout(release, ms);
      res.once('close', onClose);
      holds.add(release);
    });
  }

  const server = createServer({ key: readFileSync(new URL('server.key', TLS_DIR)), cert: readFileSync(new URL('server.crt', TLS_DIR)) }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // a bug in the simulator: answer as the API server does for a panic
      const status = error instanceof KubeApiError ? error.status : failure(500, 'InternalError', `Internal error occurred: ${String(error)}`).status;
      if (!res.headersSent) send(res, { status: status.code, body: status });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    // routed once authenticated; until then, only what any request has
    let described: FaultRequest = { method, path: url.pathname, query: url.searchParams };
    const observe = (status: number): void => options.onRequest?.({ ...described, userAgent: req.headers['user-agent'] ?? '', status });
    let lateAnswer: Pick<FaultAction, 'answerAfterMs' | 'onHeld'> | undefined;
    let halfWritten = false;
    const reply = (r: Reply): void => {
      if (lateAnswer?.answerAfterMs) {
        const { answerAfterMs, onHeld } = lateAnswer;
        lateAnswer = undefined;
        void hold(res, answerAfterMs, onHeld).then((clientGaveUp) => (clientGaveUp || res.destroyed ? observe(0) : reply(r)));
        return;
      }
      if (halfWritten) {
        sendHalf(res, r);
        observe(0);
        return;
      }
      send(res, r);
      options.log?.({ method, path: url.pathname + url.search, status: r.status });
      observe(r.status);
    };
    const replyError = (error: unknown): void => {
      if (!(error instanceof KubeApiError)) throw error;
      reply({ status: error.code, body: error.status });
    };

    // 1. authentication
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const authenticated = token ? await Promise.resolve(authenticate(token)).catch(() => false) : false;
    if (!authenticated || !token) {
      req.resume();
      return replyError(unauthorized());
    }
    const user = authenticated === true ? `token:${createHash('sha256').update(token).digest('hex').slice(0, 12)}` : authenticated.user;

    // 2. faults
    const target = route(url.pathname, address, version);
    described = {
      ...described,
      ...(target?.info ? { verb: verbOf(method, target.name, url.searchParams), resource: target.info.name } : {}),
      ...(target?.namespace !== undefined ? { namespace: target.namespace } : {}),
      ...(target?.name !== undefined ? { name: target.name } : {}),
      ...(target?.subresource !== undefined ? { subresource: target.subresource } : {}),
    };
    if (faults) {
      const fault = await faults.before(described);
      if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault?.hangMs !== undefined) {
        req.resume();
        await hold(res, fault.hangMs, fault.onHeld);
        req.socket.destroy();
        observe(0);
        return;
      }
      if (fault?.answerAfterMs) lateAnswer = fault;
      halfWritten = fault?.halfWritten === true;
      if (fault?.reset) {
        resetConnection(req);
        observe(0);
        return;
      }
      if (fault?.status !== undefined) {
        req.resume();
        const body = fault.body ?? failure(fault.status, REASONS[fault.status] ?? 'Unknown', `injected fault: HTTP ${fault.status}`).status;
        return reply({ status: fault.status, body });
      }
    }

    // 3. flow control (health checks are the exempt `probes` FlowSchema's)
    const probe = ['/healthz', '/livez', '/readyz'].includes(url.pathname);
    if (flowControl.enabled && !probe) {
      const decision = flowControl.admit(user);
      res.setHeader('X-Kubernetes-PF-FlowSchema-UID', FLOW_SCHEMA_UID);
      res.setHeader('X-Kubernetes-PF-PriorityLevel-UID', PRIORITY_LEVEL_UID);
      if (!decision.admitted) {
        req.resume();
        res.setHeader('Retry-After', String(decision.retryAfterSeconds));
        res.setHeader('X-Content-Type-Options', 'nosniff');
        return reply({ status: 429, body: `${TOO_MANY_REQUESTS}\n` });
      }
    }

    // 4. authorization
    if (url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const text = await readBody(req);
      if (method !== 'POST') return replyError(failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      try {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw badRequest('the body of the request could not be decoded as JSON');
        }
        return reply(selfSubjectAccessReview(body, rbac));
      } catch (error) {
        return replyError(error);
      }
    }
    if (rbac && target?.info) {
      const attributes = {
        verb: verbOf(method, target.name, url.searchParams) ?? method.toLowerCase(),
        group: target.info.group,
        resource: target.info.name,
        ...(target.subresource !== undefined ? { subresource: target.subresource } : {}),
        ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
        ...(target.name !== undefined ? { name: target.name } : {}),
      };
      if (!allows(rbac, attributes)) {
        req.resume();
        return replyError(forbidden(user, attributes));
      }
    }

    // 5. routing
    if (probe) return reply({ status: 200, body: 'ok' });
    if (!target) {
      req.resume();
      return replyError(pathNotFound());
    }
    if (target.discovery !== undefined) {
      req.resume();
      return reply({ status: 200, body: target.discovery });
    }
    const info = target.info!;
    const accept = req.headers.accept ?? '';
    const table = /as=Table/.test(accept) && method === 'GET';
    const text = await readBody(req);
    try {
      let body: unknown;
      if (text.trim().length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          throw badRequest(`the body of the request could not be decoded as JSON`);
        }
      }
      if (verbOf(method, target.name, url.searchParams) === 'watch' && !target.subresource) {
        serveWatch(store, info, { ...(target.namespace !== undefined ? { namespace: target.namespace } : {}), query: url.searchParams, table }, req, res, openWatches);
        options.log?.({ method, path: url.pathname + url.search, status: 200 });
        observe(200);
        return;
      }
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      reply(
        handleResource(store, {
          method,
          info,
          ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
          ...(target.name !== undefined ? { name: target.name } : {}),
          ...(target.subresource !== undefined ? { subresource: target.subresource } : {}),
          query: url.searchParams,
          body,
          contentType,
          table,
        }),
      );
    } catch (error) {
      replyError(error);
    }
  }

  // every TCP connection from its first byte: closeAllConnections knows only those that became
  // HTTP connections, so one a client left mid-handshake would hold close() open forever
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  // Node closes an idle keep-alive connection after 5 s, the very pause of kubectl drain's
  // eviction retry: a POST sent as the server hangs up fails with "connection reset by
  // peer", and Go does not retry a POST. Outlast Go's 90 s idle timeout, as a real API server does.
  server.keepAliveTimeout = 120_000;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () => {
    for (const release of [...holds]) release();
    for (const close of [...openWatches]) close();
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    });
  };
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `https://127.0.0.1:${port}`;
  const caData = ca.toString('base64');

  const api: KubeApiServer = {
    url,
    caData,
    port,
    get faults() {
      return faults;
    },
    set faults(hook) {
      faults = hook;
    },
    flowControl,
    async setReachable(reachable) {
      if (reachable === server.listening) return;
      if (reachable) await listen(port);
      else await stopListening();
    },
    setAuthorization(rules) {
      rbac = rules;
    },
    close() {
      return stopListening();
    },
    async writeKubeconfig(path, { token, namespace, user = 'sandbox' }) {
      const cluster = options.clusterName;
      // JSON is YAML: kubectl reads it as a kubeconfig
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: cluster, cluster: { server: url, 'certificate-authority-data': caData } }],
        users: [{ name: user, user: { token } }],
        contexts: [{ name: cluster, context: { cluster, user, ...(namespace ? { namespace } : {}) } }],
        'current-context': cluster,
        preferences: {},
      };
      await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    },
  };
  return api;
}
