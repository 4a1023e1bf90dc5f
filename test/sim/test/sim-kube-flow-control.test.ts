import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { callKube } from '../../../shared/kube/client.js';
import { coreV1Api, policyV1Api } from '../../../shared/kube/api.js';
import { evictPod } from '../../../shared/kube/drain/evict-pods.js';
import { KubeCalls } from '../../../shared/kube/drain/kube-calls.js';
import { KubeRestClient } from '../../../shared/kube/rest-client.js';
import { startTicker } from '../clock-ticker.js';
import { VirtualClock } from '../clock.js';
import { hasKubectl, kubectl } from '../kubectl.js';
import { startKubeApiServer, type KubeApiServer } from '../kube/api-server.js';
import { createDeployment, createNode, createPdb, startControllers } from '../kube/controllers.js';
import { FLOW_SCHEMA_UID, PRIORITY_LEVEL_UID, type FlowControlOptions } from '../kube/priority-and-fairness.js';
import { KubeStore } from '../kube/store.js';

/**
 * The sandbox's API server under load, as API Priority and Fairness makes kube-apiserver
 * answer: past a flow's (a user's) limit, 429 with Retry-After and the plain-text body of
 * `tooManyRequests` (staging/src/k8s.io/apiserver/pkg/server/filters/priority-and-fairness.go);
 * off unless switched on.
 */
const SERVICE = 'k8s-aws-v1.service-token';
const PERSON = 'k8s-aws-v1.person-token';
const USERS: Record<string, string> = {
  [SERVICE]: 'arn:aws:sts::111122223333:assumed-role/eks-node-lifecycle/drain',
  [PERSON]: 'arn:aws:sts::111122223333:assumed-role/admin/alice',
};
const START = Date.UTC(2026, 10, 21, 9, 0, 0);

const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stops) await stop();
});

/** A node, a web Deployment of 3 under a budget allowing 1 disruption, and an API server on their clock. */
async function sandbox(flowControl?: FlowControlOptions) {
  const clock = new VirtualClock(START);
  const store = new KubeStore(clock);
  createNode(store, { name: 'ip-10-0-1-10.eu-west-1.compute.internal', providerID: 'aws:///eu-west-1a/i-0aaa' });
  createDeployment(store, { namespace: 'shop', name: 'web', replicas: 3, labels: { app: 'web' } });
  createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
  const stopControllers = startControllers(store, clock);
  const server = await startKubeApiServer({ clock, store, clusterName: 'demo', authenticate: (token) => (USERS[token] ? { user: USERS[token]! } : false) });
  if (flowControl) server.flowControl.enable(flowControl);
  stops.push(async () => {
    stopControllers();
    await server.close();
  });
  return { clock, store, server };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(server: KubeApiServer, path: string, token = SERVICE): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, ca: Buffer.from(server.caData, 'base64') }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statuses(server: KubeApiServer, count: number, token = SERVICE): Promise<number[]> {
  const answers: number[] = [];
  for (let i = 0; i < count; i++) answers.push((await get(server, '/api/v1/nodes', token)).status);
  return answers;
}

function productClient(server: KubeApiServer) {
  const client = new KubeRestClient({ endpoint: server.url, caData: server.caData, token: () => SERVICE });
  stops.push(async () => client.close());
  return { core: coreV1Api(client), policy: policyV1Api(client), cluster: 'demo' };
}

describe('Kube flow control: 429 past a flow’s limit', () => {
  it("answers past the burst with 429, Retry-After and kube-apiserver's plain-text body", async () => {
    // Prepare
    const { server } = await sandbox({ burst: 5, perSecond: 2 });
    // Act
    const served = await statuses(server, 5);
    const refused = await get(server, '/api/v1/nodes');
    // Assess
    assert.deepEqual(served, [200, 200, 200, 200, 200]);
    assert.equal(refused.status, 429);
    assert.equal(refused.body, 'Too many requests, please try again later.\n');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
    assert.equal(refused.headers['x-kubernetes-pf-flowschema-uid'], FLOW_SCHEMA_UID);
    assert.equal(refused.headers['x-kubernetes-pf-prioritylevel-uid'], PRIORITY_LEVEL_UID);
  });

  it("keeps flows apart, refills a flow on the virtual clock, and never throttles health checks", async () => {
    // Prepare
    const { clock, server } = await sandbox({ burst: 3, perSecond: 2 });
    await statuses(server, 3);
    // Act
    const service = await statuses(server, 1);
    const person = await statuses(server, 3, PERSON);
    const health = (await get(server, '/readyz')).status;
    await clock.advance(1_000);
    const serviceLater = await statuses(server, 3);
    // Assess
    assert.deepEqual(service, [429]);
    assert.deepEqual(person, [200, 200, 200], 'another user is another flow');
    assert.equal(health, 200);
    assert.deepEqual(serviceLater, [200, 200, 429], 'two tokens a virtual second');
  });

  it('doubles Retry-After while a priority level keeps dropping 3 × Retry-After requests a second, and lowers it once it stops', async () => {
    // Prepare: one request, then nothing for a long while
    const { clock, server } = await sandbox({ burst: 1, perSecond: 0.0001 });
    await statuses(server, 1);
    const retryAfter = async () => (await get(server, '/api/v1/nodes')).headers['retry-after'];
    // Act
    const first = [await retryAfter(), await retryAfter(), await retryAfter()];
    await clock.advance(1_000);
    const next = await retryAfter();
    await clock.advance(10_000);
    const quiet = await retryAfter();
    // Assess
    assert.deepEqual(first, ['1', '1', '1']);
    assert.equal(next, '2', '3 dropped in the last second');
    assert.equal(quiet, '1', 'fewer than 2 dropped in the last 2 seconds');
  });

  it('counts requests, 429s and the busiest virtual second per flow', async () => {
    // Prepare
    const { clock, server } = await sandbox({ burst: 4, perSecond: 1 });
    // Act
    await statuses(server, 6);
    await statuses(server, 2, PERSON);
    await clock.advance(1_000);
    await statuses(server, 1);
    // Assess
    const tally = server.flowControl.tally();
    assert.equal(tally.requests.get(USERS[SERVICE]!), 7);
    assert.equal(tally.rejected.get(USERS[SERVICE]!), 2);
    assert.equal(tally.rejected.get(USERS[PERSON]!), undefined);
    assert.deepEqual(tally.peakPerSecond.get(USERS[SERVICE]!), { perSecond: 6, at: START });
  });

  it('is off by default', async () => {
    // Prepare
    const { server } = await sandbox();
    // Act
    const answers = await statuses(server, 50);
    // Assess
    assert.ok(answers.every((status) => status === 200));
    assert.equal(server.flowControl.tally().requests.size, 0);
  });
});

describe("Kube flow control: the service's own client", () => {
  it('takes a throttled eviction for throttling, not for a budget refusal, and tells it apart from one', async () => {
    // Prepare: the budget allows one disruption
    const { server, store } = await sandbox({ burst: 2, perSecond: 0.0001 });
    const ports = productClient(server);
    const [first, second] = store.list('pods', { namespace: 'shop' });
    const settings = { maxGracePeriodSeconds: 30 };
    // Act
    const evicted = await evictPod(ports, new KubeCalls('demo'), first as never, settings);
    const budget = await evictPod(ports, new KubeCalls('demo'), second as never, settings);
    const throttled = await evictPod(ports, new KubeCalls('demo'), second as never, settings);
    // Assess
    assert.equal(evicted.outcome, 'evicted');
    assert.deepEqual(budget.outcome === 'refused' && [budget.budget, budget.throttled], ['web', false]);
    assert.deepEqual(throttled.outcome === 'refused' && [throttled.budget, throttled.throttled, throttled.message], [null, true, 'Too many requests, please try again later.']);
  });

  it('turns a 429 of any other request into the retryable KubernetesUnavailableError', async () => {
    // Prepare
    const { server } = await sandbox({ burst: 1, perSecond: 0.0001 });
    const { core } = productClient(server);
    await core.listNode();
    // Act
    const failure = await callKube('demo', 'list nodes', () => core.listNode()).then(
      () => undefined,
      (error: unknown) => error as Error & { retryable?: boolean },
    );
    // Assess
    assert.equal(failure?.name, 'KubernetesUnavailableError');
    assert.equal(failure?.retryable, true);
    assert.match(failure?.message ?? '', /HTTP 429/);
  });
});

describe('Kube flow control: kubectl', { skip: !(await hasKubectl()) && 'kubectl is not installed' }, () => {
  it('is refused with 429 and absorbs it as client-go does: it waits Retry-After and asks again', { timeout: 120_000 }, async () => {
    // Prepare: a flow already out of tokens, one more every 10 virtual seconds; the clock runs 50 times real time
    const { clock, server } = await sandbox({ burst: 1, perSecond: 0.1 });
    await statuses(server, 1);
    const dir = await mkdtemp(join(tmpdir(), 'sim-flow-control-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig, { token: SERVICE });
    const stopTicker = startTicker(clock, { virtualMsPerTick: 1_000, realMsPerTick: 20 });
    // Act
    const run = await kubectl(['get', 'nodes', '-o', 'name'], { kubeconfig, timeoutMs: 90_000 }).finally(async () => {
      await stopTicker();
      await rm(dir, { recursive: true, force: true });
    });
    // Assess
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /node\/ip-10-0-1-10\.eu-west-1\.compute\.internal/);
    assert.ok((server.flowControl.tally().rejected.get(USERS[SERVICE]!) ?? 0) > 0, 'kubectl met at least one 429');
  });
});
