import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { rootCertificates } from 'node:tls';
import { after, afterEach, before, describe, it } from 'node:test';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { build } from 'esbuild';
import { KubernetesAccessDeniedError, KubernetesUnavailableError } from '../../shared/errors.js';
import { coreV1Api, PatchStrategy, policyV1Api, type CoreV1Api } from '../../shared/kube/api.js';
import { callKube, KubeClients, kubeFailure, kubeStatus } from '../../shared/kube/client.js';
import { statusOf } from '../../shared/kube/drain/api-status.js';
import { evictPod } from '../../shared/kube/drain/evict-pods.js';
import { KubeCalls } from '../../shared/kube/drain/kube-calls.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';
import { readNode } from '../../shared/kube/find-node.js';
import { KubeRestClient, KubeStatusError, KubeTransportError, type KubeRestClientOptions } from '../../shared/kube/rest-client.js';
import { createNode, createPdb, createPod, failDnsLookups, type FaultAction, type FaultRequest, type KubeApiServer, KubeStore, type ObservedRequest, putAwsAuth, startControllers, startKubeApiServer, VirtualClock, SANDBOX_TLS_DIR } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';

/**
 * The service's Kubernetes client (shared/kube/rest-client.ts, api.ts): what goes on the
 * wire, checked against a recording HTTPS server, and what it means, checked against the
 * sandbox's API server with its faults; errors as the workflows see them (callKube).
 */

const TOKEN = 'k8s-aws-v1.rest-client-test';
const TLS_DIR = SANDBOX_TLS_DIR;
const CA_DATA = readFileSync(new URL('ca.crt', TLS_DIR)).toString('base64');
const NODE = 'ip-10-0-1-10.eu-west-1.compute.internal';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const clients: KubeRestClient[] = [];
function clientFor(endpoint: string, options: Partial<KubeRestClientOptions> = {}): KubeRestClient {
  const client = new KubeRestClient({ endpoint, caData: CA_DATA, token: () => TOKEN, ...options });
  clients.push(client);
  return client;
}
after(() => {
  for (const client of clients) client.close();
});

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTPS server with the sandbox's certificate that records each request and answers `reply`. */
async function startRecorder(reply: (request: Recorded) => { status: number; body: unknown } = () => ({ status: 200, body: {} })) {
  const recorded: Recorded[] = [];
  let connections = 0;
  const server: Server = createServer({ key: readFileSync(new URL('server.key', TLS_DIR)), cert: readFileSync(new URL('server.crt', TLS_DIR)) }, async (req, res) => {
    const request = { method: req.method!, url: req.url!, headers: req.headers, body: await text(req) };
    recorded.push(request);
    const answer = reply(request);
    res.writeHead(answer.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    recorded,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe('Kube REST client: the wire', () => {
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let core: CoreV1Api;
  before(async () => {
    recorder = await startRecorder();
    const client = clientFor(recorder.url);
    core = coreV1Api(client);
  });
  after(() => recorder.close());

  const calls: { call: string; send: (client: KubeRestClient) => Promise<unknown>; method: string; url: string; contentType?: string; body?: unknown }[] = [
    { call: 'listNode', send: (c) => coreV1Api(c).listNode({ labelSelector: 'eks.amazonaws.com/nodegroup=workers' }), method: 'GET', url: '/api/v1/nodes?labelSelector=eks.amazonaws.com%2Fnodegroup%3Dworkers' },
    { call: 'readNode', send: (c) => coreV1Api(c).readNode({ name: NODE }), method: 'GET', url: `/api/v1/nodes/${NODE}` },
    {
      call: 'patchNode',
      send: (c) => coreV1Api(c).patchNode({ name: NODE, body: { spec: { unschedulable: true } } }, PatchStrategy.MergePatch),
      method: 'PATCH',
      url: `/api/v1/nodes/${NODE}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { unschedulable: true } },
    },
    { call: 'listPodForAllNamespaces', send: (c) => coreV1Api(c).listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${NODE}` }), method: 'GET', url: `/api/v1/pods?fieldSelector=spec.nodeName%3D${NODE}` },
    {
      call: 'createNamespacedPodEviction',
      send: (c) => coreV1Api(c).createNamespacedPodEviction({ name: 'web-1', namespace: 'shop', body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'shop' }, deleteOptions: { gracePeriodSeconds: 30 } } }),
      method: 'POST',
      url: '/api/v1/namespaces/shop/pods/web-1/eviction',
      contentType: 'application/json',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'shop' }, deleteOptions: { gracePeriodSeconds: 30 } },
    },
    {
      call: 'deleteNamespacedPod',
      send: (c) => coreV1Api(c).deleteNamespacedPod({ name: 'web-1', namespace: 'shop', gracePeriodSeconds: 0, body: { preconditions: { uid: 'u-1' } } }),
      method: 'DELETE',
      url: '/api/v1/namespaces/shop/pods/web-1?gracePeriodSeconds=0',
      contentType: 'application/json',
      body: { preconditions: { uid: 'u-1' } },
    },
    { call: 'readNamespacedConfigMap', send: (c) => coreV1Api(c).readNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system' }), method: 'GET', url: '/api/v1/namespaces/kube-system/configmaps/aws-auth' },
    { call: 'listPodDisruptionBudgetForAllNamespaces', send: (c) => policyV1Api(c).listPodDisruptionBudgetForAllNamespaces(), method: 'GET', url: '/apis/policy/v1/poddisruptionbudgets' },
    { call: 'listNamespacedPodDisruptionBudget', send: (c) => policyV1Api(c).listNamespacedPodDisruptionBudget({ namespace: 'shop' }), method: 'GET', url: '/apis/policy/v1/namespaces/shop/poddisruptionbudgets' },
  ];

  for (const expected of calls) {
    it(`${expected.call}: ${expected.method} ${expected.url.split('?')[0]} with the token, JSON both ways`, async () => {
      // Act
      const from = recorder.recorded.length;
      await expected.send(clientFor(recorder.url));
      // Assess
      const [sent] = recorder.recorded.slice(from);
      assert.equal(recorder.recorded.length, from + 1, 'one request');
      assert.equal(sent!.method, expected.method);
      assert.equal(sent!.url, expected.url);
      assert.equal(sent!.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(sent!.headers.accept, 'application/json');
      assert.match(sent!.headers['user-agent'] ?? '', /^eks-node-lifecycle/);
      assert.equal(sent!.headers['content-type'], expected.contentType);
      assert.deepEqual(sent!.body === '' ? undefined : JSON.parse(sent!.body), expected.body);
    });
  }

  it('encodes names in the path', async () => {
    await core.readNamespacedConfigMap({ name: 'a b/c', namespace: 'kube-system' });
    assert.equal(recorder.recorded.at(-1)!.url, '/api/v1/namespaces/kube-system/configmaps/a%20b%2Fc');
  });

  it('sends a page size and continue token as the API server expects them, and hands back metadata.continue', async () => {
    // Prepare: a server with three nodes, two per page
    const names = ['a', 'b', 'c'];
    const pager = await startRecorder((request) => {
      const query = new URL(request.url, 'https://x').searchParams;
      const from = query.get('continue') === null ? 0 : Number(query.get('continue'));
      const limit = Number(query.get('limit'));
      const next = from + limit < names.length ? String(from + limit) : undefined;
      return { status: 200, body: { kind: 'NodeList', metadata: { resourceVersion: '9', ...(next ? { continue: next } : {}) }, items: names.slice(from, from + limit).map((name) => ({ metadata: { name } })) } };
    });
    try {
      const paged = coreV1Api(clientFor(pager.url));
      // Act
      const first = await paged.listNode({ limit: 2 });
      const second = await paged.listNode({ limit: 2, _continue: first.metadata!.continue! });
      // Assess
      assert.deepEqual(pager.recorded.map((r) => r.url), ['/api/v1/nodes?limit=2', '/api/v1/nodes?limit=2&continue=2']);
      assert.deepEqual([...first.items, ...second.items].map((n) => n.metadata?.name), names);
      assert.equal(second.metadata?.continue, undefined);
    } finally {
      await pager.close();
    }
  });

  it('keeps one connection alive for many requests, and asks for the token each time (a renewed token needs no new connection)', async () => {
    // Prepare
    const server = await startRecorder();
    let minted = 0;
    const api = coreV1Api(clientFor(server.url, { token: () => `k8s-aws-v1.token-${++minted}` }));
    try {
      // Act
      for (let i = 0; i < 5; i++) await api.readNode({ name: NODE });
      await Promise.all([api.listNode(), api.listNode()]);
      // Assess
      assert.deepEqual(server.recorded.slice(0, 5).map((r) => r.headers.authorization), [1, 2, 3, 4, 5].map((n) => `Bearer k8s-aws-v1.token-${n}`));
      assert.ok(server.connections() <= 2, `${server.connections()} connections for 7 requests (at most 2 at once)`);
    } finally {
      await server.close();
    }
  });

  it('counts the whole answer against its timeout: a body that stalls midway is a timeout too, and a 200 that is not JSON is no answer', async () => {
    // Prepare: headers and half a list at once, then nothing
    const server = createServer({ key: readFileSync(new URL('server.key', TLS_DIR)), cert: readFileSync(new URL('server.crt', TLS_DIR)) }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (req.url === '/api/v1/nodes/garbled') res.end('<html>login</html>');
      else res.write('{"kind":"NodeList","items":[');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const api = coreV1Api(clientFor(url, { timeoutMs: 300 }));
      // Act
      const started = performance.now();
      const stalled = await api.listNode().catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      const garbled = await api.readNode({ name: 'garbled' }).catch((e: unknown) => e);
      // Assess
      assert.ok(stalled instanceof KubeTransportError, String(stalled));
      assert.equal(stalled.code, 'TIMEOUT');
      assert.ok(elapsed < 2_000, `gave up after ${Math.round(elapsed)} ms`);
      assert.ok(garbled instanceof KubeTransportError, String(garbled));
      assert.equal(garbled.code, 'BAD_RESPONSE');
      assert.ok(kubeFailure('prod', 'get node', garbled) instanceof KubernetesUnavailableError);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses an endpoint that is not https', () => {
    assert.throws(() => new KubeRestClient({ endpoint: 'http://127.0.0.1:6443', caData: CA_DATA, token: () => TOKEN }), TypeError);
  });
});

describe('Kube REST client: against the sandbox API server', () => {
  let clock: VirtualClock;
  let store: KubeStore;
  let server: KubeApiServer;
  let stopControllers: () => void;
  let core: CoreV1Api;
  let observed: ObservedRequest[];
  let inject: ((request: FaultRequest) => FaultAction | undefined) | undefined;

  before(async () => {
    clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
    store = new KubeStore(clock);
    createNode(store, { name: NODE, providerID: 'aws:///eu-west-1a/i-0aaaaaaaaaaaaaaa1' });
    createPod(store, { namespace: 'shop', name: 'web-1', nodeName: NODE, labels: { app: 'web' } });
    createPod(store, { namespace: 'shop', name: 'web-2', nodeName: NODE, labels: { app: 'web' } });
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: 2 });
    putAwsAuth(store, [{ rolearn: 'arn:aws:iam::111122223333:role/workers', username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] }]);
    stopControllers = startControllers(store, clock);
    observed = [];
    server = await startKubeApiServer({ clock, store, clusterName: 'prod', authenticate: (token) => token === TOKEN, onRequest: (r) => observed.push(r) });
    server.faults = { before: (request) => inject?.(request) };
    await clock.advance(1_000);
    core = coreV1Api(clientFor(server.url));
  });
  afterEach(() => {
    inject = undefined;
  });
  after(async () => {
    stopControllers();
    await server.close();
  });

  it('decodes objects as the server sends them: times stay RFC 3339 strings, lists keep their items', async () => {
    const node = await core.readNode({ name: NODE });
    assert.equal(node.metadata?.name, NODE);
    assert.match(node.metadata!.creationTimestamp!, RFC3339);
    assert.match(node.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!, RFC3339);
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${NODE}` });
    assert.deepEqual(pods.items.map((p) => p.metadata?.name).sort(), ['web-1', 'web-2']);
    const budgets = await policyV1Api(clientFor(server.url)).listNamespacedPodDisruptionBudget({ namespace: 'shop' });
    assert.equal(budgets.items[0]!.status?.disruptionsAllowed, 0);
    const awsAuth = await core.readNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system' });
    assert.match(awsAuth.data?.['mapRoles'] ?? '', /role\/workers/);
  });

  it('patches with the Content-Type it is given: a JSON patch, a strategic merge patch (podCIDRs merge as a set) and a merge patch (lists are replaced)', async () => {
    const cidrs = async (body: object, strategy: PatchStrategy) => (await core.patchNode({ name: NODE, body }, strategy)).spec?.podCIDRs;
    assert.deepEqual(await cidrs([{ op: 'add', path: '/spec/podCIDRs', value: ['10.0.1.0/24'] }], PatchStrategy.JsonPatch), ['10.0.1.0/24']);
    assert.deepEqual(await cidrs({ spec: { podCIDRs: ['10.0.2.0/24'] } }, PatchStrategy.StrategicMergePatch), ['10.0.1.0/24', '10.0.2.0/24']);
    assert.deepEqual(await cidrs({ spec: { podCIDRs: ['10.0.3.0/24'] } }, PatchStrategy.MergePatch), ['10.0.3.0/24']);
    assert.equal(observed.filter((r) => r.verb === 'patch').length, 3);
  });

  it('an eviction the budget refuses (429) is the blocked outcome naming the budget, not an error; a missing pod (404) is gone', async () => {
    const calls = new KubeCalls('prod');
    const pod = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${NODE}` })).items.find((p) => p.metadata?.name === 'web-1')!;
    const ports = { core, policy: policyV1Api(clientFor(server.url)), cluster: 'prod' };
    const refused = await evictPod(ports, calls, pod, { maxGracePeriodSeconds: 30 });
    assert.equal(observed.at(-1)!.status, 429);
    assert.ok(refused.outcome === 'refused', refused.outcome);
    assert.equal(refused.budget, 'web');
    assert.equal(refused.throttled, false);
    assert.match(refused.message, /disruption budget web needs 2 healthy pods/);

    const ghost = { ...pod, metadata: { ...pod.metadata, name: 'web-9', uid: 'no-such-uid' } };
    assert.equal((await evictPod(ports, calls, ghost, { maxGracePeriodSeconds: 30 })).outcome, 'gone');
    assert.equal(observed.at(-1)!.status, 404);
    assert.equal(calls.requests, 2);
  });

  it('a missing object is a 404 the caller reads as an answer', async () => {
    const error = await core.readNode({ name: 'no-such-node' }).catch((e: unknown) => e);
    assert.ok(error instanceof KubeStatusError);
    assert.equal(kubeStatus(error), 404);
    assert.equal(statusOf(error)?.reason, 'NotFound');
    assert.equal(await readNode(core, 'prod', 'no-such-node'), undefined);
  });

  it('5xx and the server’s own 429 are KubernetesUnavailableError (retryable), with the Status kept as the cause', async () => {
    for (const status of [500, 503, 429]) {
      inject = (r) => (r.verb === 'list' ? { status } : undefined);
      const error = await callKube('prod', 'list nodes', () => core.listNode()).catch((e: unknown) => e);
      assert.ok(error instanceof KubernetesUnavailableError, `HTTP ${status}`);
      assert.equal(error.retryable, true);
      assert.match(error.message, new RegExp(`list nodes: HTTP ${status}`));
      assert.equal(kubeStatus(error.cause), status);
      assert.match(statusOf(error.cause)?.message ?? '', new RegExp(`injected fault: HTTP ${status}`));
    }
  });

  it('a gateway’s answer that is not JSON still becomes a Status, and unavailable', async () => {
    inject = () => ({ status: 502, body: '<html>bad gateway</html>' });
    const error = await callKube('prod', 'get node', () => core.readNode({ name: NODE })).catch((e: unknown) => e);
    assert.ok(error instanceof KubernetesUnavailableError);
    assert.deepEqual(statusOf(error.cause), { code: 502, message: '<html>bad gateway</html>' });
  });

  it('401 (a token the cluster refuses) and 403 (RBAC) are KubernetesAccessDeniedError (not retryable)', async () => {
    const stranger = coreV1Api(clientFor(server.url, { token: () => 'k8s-aws-v1.someone-else' }));
    const unauthorized = await callKube('prod', 'list nodes', () => stranger.listNode()).catch((e: unknown) => e);
    assert.ok(unauthorized instanceof KubernetesAccessDeniedError);
    assert.match(unauthorized.message, /HTTP 401/);
    inject = (r) => (r.subresource === 'eviction' ? { status: 403 } : undefined);
    const forbidden = await callKube('prod', 'evict', () => core.createNamespacedPodEviction({ name: 'web-1', namespace: 'shop', body: { metadata: { name: 'web-1', namespace: 'shop' } } })).catch((e: unknown) => e);
    assert.ok(forbidden instanceof KubernetesAccessDeniedError);
    assert.equal(forbidden.retryable, false);
  });

  it('gives up after its timeout: KubernetesUnavailableError well before the server would have answered', async () => {
    const impatient = coreV1Api(clientFor(server.url, { timeoutMs: 300 }));
    inject = () => ({ delayMs: 3_000 });
    const started = performance.now();
    const error = await callKube('prod', 'list nodes', () => impatient.listNode()).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    assert.ok(error instanceof KubernetesUnavailableError);
    assert.ok(error.cause instanceof KubeTransportError && error.cause.code === 'TIMEOUT', String(error.cause));
    assert.match(error.message, /no answer within 300 ms/);
    assert.ok(elapsed >= 290 && elapsed < 2_000, `gave up after ${Math.round(elapsed)} ms`);
  });

  it('a reset connection and a refused one are KubernetesUnavailableError', async () => {
    inject = () => ({ reset: true });
    const reset = await callKube('prod', 'list pods', () => core.listPodForAllNamespaces()).catch((e: unknown) => e);
    assert.ok(reset instanceof KubernetesUnavailableError);
    assert.ok(reset.cause instanceof KubeTransportError, String(reset.cause));
    inject = undefined;

    const closed = await startRecorder();
    await closed.close(); // nothing listens on its port now
    const refused = await callKube('prod', 'list pods', () => coreV1Api(clientFor(closed.url)).listPodForAllNamespaces()).catch((e: unknown) => e);
    assert.ok(refused instanceof KubernetesUnavailableError);
    assert.equal((refused.cause as KubeTransportError).code, 'ECONNREFUSED');
  });

  it('sends a read again when its connection was reset or its answer cut off halfway (3 attempts at most): a blip is absorbed, a lasting failure is KubernetesUnavailableError', async () => {
    // Prepare: the first two lists fail, one reset, one cut short
    let failures = 0;
    inject = (r) => (r.verb === 'list' && r.resource === 'nodes' && failures < 2 ? (failures++ === 0 ? { reset: true } : { halfWritten: true }) : undefined);
    const before = observed.length;
    // Act
    const nodes = await callKube('prod', 'list nodes', () => core.listNode());
    // Assess
    assert.deepEqual(nodes.items.map((n) => n.metadata?.name), [NODE]);
    assert.deepEqual(observed.slice(before).map((r) => r.status), [0, 0, 200], 'reset, cut short, answered');

    inject = (r) => (r.verb === 'list' ? { halfWritten: true } : undefined);
    const lasting = await callKube('prod', 'list nodes', () => core.listNode()).catch((e: unknown) => e);
    assert.ok(lasting instanceof KubernetesUnavailableError, String(lasting));
    assert.ok(lasting.cause instanceof KubeTransportError && lasting.cause.code === 'ECONNRESET', String(lasting.cause));
    assert.match(lasting.message, /list nodes: GET \/api\/v1\/nodes: aborted/);
  });

  it('does not send a write again once its connection broke (it may have happened): KubernetesUnavailableError, the write done all the same', async () => {
    inject = (r) => (r.verb === 'patch' ? { halfWritten: true } : undefined);
    const before = observed.length;
    const error = await callKube('prod', 'cordon node', () => core.patchNode({ name: NODE, body: { spec: { unschedulable: true } } }, PatchStrategy.MergePatch)).catch((e: unknown) => e);
    assert.ok(error instanceof KubernetesUnavailableError, String(error));
    assert.equal(observed.slice(before).filter((r) => r.verb === 'patch').length, 1, 'sent once');
    assert.equal(store.get('nodes', undefined, NODE)?.spec?.unschedulable, true, 'the server had cordoned it');
    inject = undefined;
    await core.patchNode({ name: NODE, body: { spec: { unschedulable: null } } }, PatchStrategy.MergePatch);
  });

  it('sends any request again whose endpoint did not resolve (EAI_AGAIN: nothing was sent), then gives up with KubernetesUnavailableError', async (t) => {
    // the endpoint by name (the certificate names localhost), its lookups failing
    const byName = coreV1Api(clientFor(server.url.replace('127.0.0.1', 'localhost')));
    const once = failDnsLookups({ hostnames: ['localhost'], rate: 1, seed: 1, limit: 1 });
    t.after(() => once.restore());
    assert.equal((await byName.readNode({ name: NODE })).metadata?.name, NODE);
    assert.deepEqual([once.failed.length, once.lookups], [1, 2]);
    once.restore();

    const always = failDnsLookups({ hostnames: ['localhost'], rate: 1, seed: 1 });
    t.after(() => always.restore());
    const evictor = coreV1Api(clientFor(server.url.replace('127.0.0.1', 'localhost')));
    const error = await callKube('prod', 'evict', () => evictor.createNamespacedPodEviction({ name: 'web-1', namespace: 'shop', body: { metadata: { name: 'web-1', namespace: 'shop' } } })).catch((e: unknown) => e);
    assert.ok(error instanceof KubernetesUnavailableError, String(error));
    assert.match(error.message, /getaddrinfo EAI_AGAIN localhost/);
    assert.equal(always.lookups, 3, 'three attempts, none sent');
  });

  it('verifies the server against the cluster’s CA only: another CA is refused before anything is sent', async () => {
    const before = observed.length;
    const otherCa = Buffer.from(rootCertificates[0]!).toString('base64');
    const error = await coreV1Api(clientFor(server.url, { caData: otherCa })).listNode().catch((e: unknown) => e);
    assert.ok(error instanceof KubeTransportError, String(error));
    assert.match(error.code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    assert.equal(observed.length, before, 'the server saw no request');
  });
});

describe('Kube REST client: KubeClients', () => {
  it('builds one client per cluster from DescribeCluster and signs its requests with an EKS token', async () => {
    // Prepare
    const clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
    const store = new KubeStore(clock);
    createNode(store, { name: NODE });
    const tokens: string[] = [];
    const server = await startKubeApiServer({ clock, store, clusterName: 'prod', authenticate: (token) => (tokens.push(token), token.startsWith('k8s-aws-v1.')) });
    const eks = mockClient(EKSClient);
    eks.on(DescribeClusterCommand, { name: 'prod' }).resolves({ cluster: { name: 'prod', endpoint: server.url, certificateAuthority: { data: server.caData } } });
    const credentials = { accessKeyId: 'AKIDRESTCLIENTTEST', secretAccessKey: 'rest-client-test' };
    const kube = new KubeClients(awsScope({ region: 'eu-west-1' }), new EksTokenCache({ region: 'eu-west-1', credentials, now: () => clock.date() }));
    try {
      // Act
      const [core, again, policy] = await Promise.all([kube.core('prod'), kube.core('prod'), kube.policy('prod')]);
      const nodes = await core.listNode();
      await policy.listPodDisruptionBudgetForAllNamespaces();
      // Assess
      assert.equal(core, again);
      assert.equal(eks.commandCalls(DescribeClusterCommand).length, 1);
      assert.deepEqual(nodes.items.map((n) => n.metadata?.name), [NODE]);
      assert.equal(tokens.length, 2);
      assert.equal(tokens[0], tokens[1], 'the token is reused until it is due for renewal');
    } finally {
      eks.restore();
      await server.close();
    }
  });
});

describe('Kube REST client: in the Lambda bundles', () => {
  it('the functions that talk to Kubernetes bundle none of @kubernetes/client-node (types only) nor its HTTP stack', async () => {
    const functions = ['drain-step', 'request-drain', 'check-node-ready', 'roll-step', 'rollout-preflight', 'prepare-launch-template'];
    const result = await build({
      entryPoints: functions.map((name) => `functions/${name}.ts`),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['@aws-sdk/*', '@smithy/*'],
      write: false,
      metafile: true,
      outdir: 'out',
      logLevel: 'silent',
    });
    const bundled = Object.keys(result.metafile.inputs).filter((path) => /node_modules\/(@kubernetes|undici|ws|isomorphic-ws|openid-client)\//.test(path));
    assert.deepEqual(bundled, []);
    // js-yaml is the client's YAML too, but the service reads aws-auth with it (shared/yaml/read-js-yaml.ts): only there
    const jsYaml = Object.entries(result.metafile.inputs).filter(([, input]) => input.imports.some((i) => /node_modules\/js-yaml\//.test(i.path))).map(([path]) => path);
    assert.deepEqual(jsYaml, ['shared/yaml/read-js-yaml.ts']);
    assert.ok(Object.keys(result.metafile.inputs).some((path) => path.endsWith('shared/kube/rest-client.ts')), 'the service’s own client is what they bundle');
  });
});
