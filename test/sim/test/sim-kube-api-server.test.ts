import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { VirtualClock } from '../clock.js';
import { startKubeApiServer, type KubeApiServer } from '../kube/api-server.js';
import { createDaemonSet, createDeployment, createNode, createPdb, startControllers } from '../kube/controllers.js';
import { readFileSync } from 'node:fs';
import { rulesFromManifest } from '../kube/authorization.js';
import { KubeStore } from '../kube/store.js';
import { PROJECT_ROOT } from '../serverless-config.js';

const SERVICE_RBAC = () => rulesFromManifest(readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/rbac.yaml'), 'utf8'), 'eks-node-lifecycle');

const TOKEN = 'k8s-aws-v1.sandbox-test-token';
const run = promisify(execFile);

const hasKubectl = await run('kubectl', ['version', '--client', '-o', 'json']).then(
  () => true,
  () => false,
);

interface Sandbox {
  clock: VirtualClock;
  store: KubeStore;
  server: KubeApiServer;
  stop: () => Promise<void>;
}

/** Two nodes, a 3-replica Deployment protected by minAvailable 2, a DaemonSet. */
async function startSandbox(): Promise<Sandbox> {
  const clock = new VirtualClock();
  const store = new KubeStore(clock);
  createNode(store, { name: 'ip-10-0-1-10.eu-west-1.compute.internal', providerID: 'aws:///eu-west-1a/i-0aaa', labels: { 'node-role.kubernetes.io/worker': '' } });
  createNode(store, { name: 'ip-10-0-2-20.eu-west-1.compute.internal', providerID: 'aws:///eu-west-1b/i-0bbb' });
  createDeployment(store, { namespace: 'shop', name: 'web', replicas: 3, labels: { app: 'web' } });
  createPdb(store, { namespace: 'shop', name: 'web-pdb', selector: { app: 'web' }, minAvailable: 2 });
  createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
  const stopControllers = startControllers(store, clock);
  const server = await startKubeApiServer({ clock, store, clusterName: 'sandbox', authenticate: (token) => token === TOKEN });
  return {
    clock,
    store,
    server,
    stop: async () => {
      stopControllers();
      await server.close();
    },
  };
}

interface Response {
  status: number;
  body: Record<string, unknown>;
}

function call(
  server: KubeApiServer,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; contentType?: string; accept?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
    const token = options.token === undefined ? TOKEN : options.token;
    if (token !== null) headers['Authorization'] = `Bearer ${token}`;
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload) headers['Content-Type'] = options.contentType ?? 'application/json';
    const req = request(`${server.url}${path}`, { method, headers, ca: Buffer.from(server.caData, 'base64') }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function kubeConfig(server: KubeApiServer, token = TOKEN): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'sandbox', server: server.url, caData: server.caData, skipTLSVerify: false }],
    users: [{ name: 'eks-node-lifecycle', token }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'eks-node-lifecycle' }],
    currentContext: 'sandbox',
  });
  return config;
}

function podsOn(store: KubeStore, node: string) {
  return store.list('pods', { fieldSelector: `spec.nodeName=${node}` });
}

describe('Kube API server: authentication and errors', () => {
  let sandbox: Sandbox;
  before(async () => (sandbox = await startSandbox()));
  after(() => sandbox.stop());

  it('answers 401 with an Unauthorized Status without a token and with a wrong token', async () => {
    for (const token of [null, 'k8s-aws-v1.wrong']) {
      const { status, body } = await call(sandbox.server, 'GET', '/api/v1/nodes', { token });
      assert.equal(status, 401);
      assert.deepEqual(body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  it('answers 404 NotFound for a missing pod, naming the resource as the API server does', async () => {
    const { status, body } = await call(sandbox.server, 'GET', '/api/v1/namespaces/shop/pods/ghost');
    assert.equal(status, 404);
    assert.equal(body['reason'], 'NotFound');
    assert.equal(body['message'], 'pods "ghost" not found');
    assert.deepEqual(body['details'], { name: 'ghost', kind: 'pods' });
  });

  it('answers 409 Conflict for an update carrying a stale resourceVersion', async () => {
    const name = 'ip-10-0-2-20.eu-west-1.compute.internal';
    const { body: node } = await call(sandbox.server, 'GET', `/api/v1/nodes/${name}`);
    await call(sandbox.server, 'PATCH', `/api/v1/nodes/${name}`, { body: { metadata: { labels: { bump: '1' } } }, contentType: 'application/merge-patch+json' });
    const { status, body } = await call(sandbox.server, 'PUT', `/api/v1/nodes/${name}`, { body: node });
    assert.equal(status, 409);
    assert.equal(body['reason'], 'Conflict');
  });

  it('answers 415 for a patch in a format it does not know', async () => {
    const { status } = await call(sandbox.server, 'PATCH', '/api/v1/nodes/ip-10-0-2-20.eu-west-1.compute.internal', { body: {}, contentType: 'application/apply-patch+yaml' });
    assert.equal(status, 415);
  });

  it('lets a fault hook answer instead of the server, then stands down', async () => {
    sandbox.server.faults = { before: (req) => (req.resource === 'pods' && req.verb === 'list' ? { status: 503 } : undefined) };
    const faulted = await call(sandbox.server, 'GET', '/api/v1/pods');
    const unaffected = await call(sandbox.server, 'GET', '/api/v1/nodes');
    sandbox.server.faults = undefined;
    const healed = await call(sandbox.server, 'GET', '/api/v1/pods');
    assert.equal(faulted.status, 503);
    assert.equal(faulted.body['reason'], 'ServiceUnavailable');
    assert.equal(unaffected.status, 200);
    assert.equal(healed.status, 200);
  });
});

describe('Kube API server: authorization', () => {
  let sandbox: Sandbox;
  before(async () => (sandbox = await startSandbox()));
  after(async () => sandbox.stop());
  const review = (resourceAttributes: Record<string, string>) => call(sandbox.server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } } });

  it('answers a SelfSubjectAccessReview with 201: allowed for everything while no RBAC is configured', async () => {
    const answer = await review({ verb: 'delete', resource: 'nodes' });
    assert.equal(answer.status, 201);
    assert.equal(answer.body['kind'], 'SelfSubjectAccessReview');
    assert.equal((answer.body['status'] as { allowed: boolean }).allowed, true);
  });

  it('with RBAC configured (rbac.yaml), answers from the rules it enforces: granted is allowed, the rest denied and refused 403', async () => {
    sandbox.server.setAuthorization(SERVICE_RBAC());
    try {
      const allowed = async (attributes: Record<string, string>) => ((await review(attributes)).body['status'] as { allowed: boolean }).allowed;
      assert.equal(await allowed({ verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'shop' }), true);
      assert.equal(await allowed({ verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'aws-node' }), true);
      assert.equal(await allowed({ verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'kube-proxy' }), false, 'resourceNames hold');
      assert.equal(await allowed({ verb: 'delete', resource: 'nodes' }), false);
      assert.equal((await call(sandbox.server, 'GET', '/api/v1/pods')).status, 200, 'a granted request goes through');
      const refused = await call(sandbox.server, 'GET', '/apis/apps/v1/deployments');
      assert.equal(refused.status, 403);
      assert.equal(refused.body['reason'], 'Forbidden');
      assert.match(String(refused.body['message']), /^deployments\.apps is forbidden: User "token:[0-9a-f]+" cannot list resource "deployments" in API group "apps" at the cluster scope$/);
    } finally {
      sandbox.server.setAuthorization(undefined);
    }
  });

  it('refuses a review naming neither resource nor non-resource attributes, as the API server validates it', async () => {
    const answer = await call(sandbox.server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} } });
    assert.equal(answer.status, 422);
  });
});

describe('Kube API server: resources', () => {
  let sandbox: Sandbox;
  before(async () => (sandbox = await startSandbox()));
  after(() => sandbox.stop());

  it('lists pods across namespaces filtered by spec.nodeName and by label, as typed lists', async () => {
    const node = 'ip-10-0-1-10.eu-west-1.compute.internal';
    const { status, body } = await call(sandbox.server, 'GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}&limit=500`);
    assert.equal(status, 200);
    assert.equal(body['kind'], 'PodList');
    assert.equal(body['apiVersion'], 'v1');
    assert.equal((body['metadata'] as { resourceVersion: string }).resourceVersion, sandbox.store.resourceVersion);
    const items = body['items'] as { kind: string; spec: { nodeName: string } }[];
    assert.equal(items.length, podsOn(sandbox.store, node).length);
    assert.ok(items.length > 0 && items.every((p) => p.kind === 'Pod' && p.spec.nodeName === node));

    const byLabel = await call(sandbox.server, 'GET', `/api/v1/namespaces/shop/pods?labelSelector=${encodeURIComponent('app in (web)')}`);
    assert.equal((byLabel.body['items'] as unknown[]).length, 3);
    const none = await call(sandbox.server, 'GET', `/api/v1/namespaces/kube-system/pods?labelSelector=app%3Dweb`);
    assert.equal((none.body['items'] as unknown[]).length, 0);
  });

  it('serves PodDisruptionBudgets under policy/v1 in all namespaces and per namespace', async () => {
    const all = await call(sandbox.server, 'GET', '/apis/policy/v1/poddisruptionbudgets');
    const one = await call(sandbox.server, 'GET', '/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web-pdb');
    assert.equal(all.body['kind'], 'PodDisruptionBudgetList');
    assert.equal(one.body['kind'], 'PodDisruptionBudget');
    assert.deepEqual((one.body['status'] as { disruptionsAllowed: number }).disruptionsAllowed, 1);
  });

  it('answers an eviction with 201, then 429 TooManyRequests naming the budget', async () => {
    const [first, second] = sandbox.store.list('pods', { namespace: 'shop' }).map((p) => p.metadata.name!);
    const evict = (name: string) =>
      call(sandbox.server, 'POST', `/api/v1/namespaces/shop/pods/${name}/eviction`, {
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'shop' } },
      });

    const ok = await evict(first!);
    const refused = await evict(second!);

    assert.equal(ok.status, 201);
    assert.equal(ok.body['status'], 'Success');
    assert.equal(refused.status, 429);
    assert.equal(refused.body['kind'], 'Status');
    assert.equal(refused.body['reason'], 'TooManyRequests');
    const causes = (refused.body['details'] as { causes: { reason: string; message: string }[] }).causes;
    assert.equal(causes[0]?.reason, 'DisruptionBudget');
    assert.match(causes[0]?.message ?? '', /web-pdb/);
  });

  it('gives kubectl a Table when it asks for one', async () => {
    const { body } = await call(sandbox.server, 'GET', '/api/v1/nodes', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    assert.equal(body['kind'], 'Table');
    assert.equal(body['apiVersion'], 'meta.k8s.io/v1');
    const columns = (body['columnDefinitions'] as { name: string; priority: number }[]).filter((c) => c.priority === 0).map((c) => c.name);
    assert.deepEqual(columns, ['Name', 'Status', 'Roles', 'Age', 'Version']);
    const rows = body['rows'] as { cells: string[] }[];
    assert.deepEqual(rows[0]?.cells.slice(0, 3), ['ip-10-0-1-10.eu-west-1.compute.internal', 'Ready', 'worker']);
  });

  it('serves discovery with the pods/eviction subresource in policy/v1', async () => {
    const { body } = await call(sandbox.server, 'GET', '/api/v1');
    const eviction = (body['resources'] as { name: string; group?: string; version?: string; kind: string }[]).find((r) => r.name === 'pods/eviction');
    assert.deepEqual(eviction && { group: eviction.group, version: eviction.version, kind: eviction.kind }, { group: 'policy', version: 'v1', kind: 'Eviction' });
  });
});

describe('Kube API server: @kubernetes/client-node over TLS with the CA', () => {
  let sandbox: Sandbox;
  before(async () => (sandbox = await startSandbox()));
  after(() => sandbox.stop());

  it('lists pods by node, patches a node with a merge patch and evicts until the budget refuses', async () => {
    // Prepare
    const core = kubeConfig(sandbox.server).makeApiClient(CoreV1Api);
    const node = 'ip-10-0-1-10.eu-west-1.compute.internal';

    // Act
    const list = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
    const patched = await core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const web = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items.map((p) => p.metadata!.name!);
    await core.createNamespacedPodEviction({ name: web[0]!, namespace: 'shop', body: { metadata: { name: web[0]!, namespace: 'shop' } } });
    const refusal = await core.createNamespacedPodEviction({ name: web[1]!, namespace: 'shop', body: { metadata: { name: web[1]!, namespace: 'shop' } } }).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    assert.deepEqual(list.items.map((p) => p.metadata?.name).sort(), podsOn(sandbox.store, node).map((p) => p.metadata.name).sort());
    assert.equal(patched.spec?.unschedulable, true);
    assert.equal(sandbox.store.get('nodes', undefined, node)!.spec?.unschedulable, true);
    assert.ok(sandbox.store.get('pods', 'shop', web[0]!)!.metadata.deletionTimestamp);
    assert.ok(refusal instanceof ApiException);
    assert.equal(refusal.code, 429);
  });

  it('is refused with 401 when its token is wrong', async () => {
    const core = kubeConfig(sandbox.server, 'k8s-aws-v1.expired').makeApiClient(CoreV1Api);
    const error = await core.listNode().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApiException);
    assert.equal(error.code, 401);
  });

  it('watches pods: a deletion streams as MODIFIED (terminating) then DELETED', async () => {
    const config = kubeConfig(sandbox.server);
    const name = sandbox.store.list('pods', { namespace: 'kube-system' })[0]!.metadata.name!;
    const seen: string[] = [];
    let deleted!: () => void;
    const gone = new Promise<void>((resolve) => (deleted = resolve));
    const watching = await new Watch(config).watch(
      '/api/v1/namespaces/kube-system/pods',
      { resourceVersion: sandbox.store.resourceVersion },
      (type: string, object: { metadata: { name: string } }) => {
        if (object.metadata.name !== name) return;
        seen.push(type);
        if (type === 'DELETED') deleted();
      },
      () => undefined,
    );

    sandbox.store.delete('pods', 'kube-system', name);
    await sandbox.clock.advance(30_000);
    await gone;
    watching.abort();

    assert.deepEqual(seen.slice(0, 1), ['MODIFIED']);
    assert.equal(seen.at(-1), 'DELETED');
  });
});

describe('Kube API server: real kubectl', { skip: !hasKubectl && 'kubectl is not on PATH' }, () => {
  let sandbox: Sandbox;
  let dir: string;
  let kubeconfig: string;
  // its own discovery cache, so runs leave nothing in ~/.kube
  const kubectlArgs = (args: string[]) => ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args];
  const kubectl = async (...args: string[]) => (await run('kubectl', kubectlArgs(args), { timeout: 60_000 })).stdout;

  before(async () => {
    sandbox = await startSandbox();
    dir = await mkdtemp(join(tmpdir(), 'sim-kube-'));
    kubeconfig = join(dir, 'kubeconfig');
    await sandbox.server.writeKubeconfig(kubeconfig, { token: TOKEN });
  });
  after(async () => {
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('kubectl get nodes prints both nodes Ready with their roles and kubelet version', async () => {
    const out = await kubectl('get', 'nodes');
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    assert.match(lines[1]!, /^ip-10-0-1-10\.eu-west-1\.compute\.internal\s+Ready\s+worker\s+0s\s+v1\.31/);
    assert.match(lines[2]!, /^ip-10-0-2-20\.eu-west-1\.compute\.internal\s+Ready\s+<none>/);
  });

  it('kubectl get pods -A shows every pod with its namespace', async () => {
    const out = await kubectl('get', 'pods', '-A');
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.equal(lines.length - 1, sandbox.store.list('pods').length);
    assert.ok(lines.slice(1).some((l) => /^shop\s+web-\S+\s+1\/1\s+Running\s+0\s+/.test(l)));
    assert.ok(lines.slice(1).some((l) => /^kube-system\s+aws-node-\S+\s+1\/1\s+Running/.test(l)));
  });

  it('kubectl cordon sets spec.unschedulable in the store and get nodes shows SchedulingDisabled', async () => {
    const node = 'ip-10-0-2-20.eu-west-1.compute.internal';
    assert.match(await kubectl('cordon', node), /cordoned/);
    assert.equal(sandbox.store.get('nodes', undefined, node)!.spec?.unschedulable, true);
    assert.match(await kubectl('get', 'node', node), /Ready,SchedulingDisabled/);
    await kubectl('uncordon', node);
    assert.equal(sandbox.store.get('nodes', undefined, node)!.spec?.unschedulable, undefined);
  });

  it('kubectl auth can-i asks the server (SelfSubjectAccessReview) and gets the answer its RBAC enforces', async () => {
    assert.equal((await kubectl('auth', 'can-i', 'delete', 'nodes')).trim(), 'yes', 'no RBAC configured: everything');
    sandbox.server.setAuthorization(SERVICE_RBAC());
    try {
      assert.equal((await kubectl('auth', 'can-i', 'create', 'pods', '--subresource=eviction', '-n', 'shop')).trim(), 'yes');
      const no = await run('kubectl', kubectlArgs(['auth', 'can-i', 'delete', 'nodes']), { timeout: 60_000 }).catch((error: { stdout: string; code: number }) => error);
      assert.deepEqual([no.stdout.trim(), (no as { code?: number }).code], ['no', 1]);
      const refused = await run('kubectl', kubectlArgs(['get', 'deployments', '-A']), { timeout: 60_000 }).catch((error: { stderr: string }) => error);
      assert.match(refused.stderr, /Error from server \(Forbidden\): deployments\.apps is forbidden: User "token:[0-9a-f]+" cannot list resource "deployments" in API group "apps" at the cluster scope/);
    } finally {
      sandbox.server.setAuthorization(undefined);
    }
  });

  it('kubectl drain --dry-run=server finds the pods to evict and skips the DaemonSet pod', async () => {
    const node = 'ip-10-0-1-10.eu-west-1.compute.internal';
    const { stdout, stderr } = await run('kubectl', kubectlArgs(['drain', node, '--ignore-daemonsets', '--dry-run=server']), { timeout: 60_000 });
    const expected = podsOn(sandbox.store, node).filter((p) => p.metadata.namespace === 'shop');
    for (const pod of expected) assert.match(stdout, new RegExp(`evicting pod shop/${pod.metadata.name} \\(server dry run\\)`));
    assert.match(stderr, /ignoring DaemonSet-managed Pods: kube-system\/aws-node-/);
    assert.ok(podsOn(sandbox.store, node).every((p) => p.metadata.deletionTimestamp === undefined), 'a dry run evicts nothing');
  });
});
