import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { coreV1Api } from '../../../shared/kube/api.js';
import { KubeRestClient } from '../../../shared/kube/rest-client.js';
import { VirtualClock } from '../clock.js';
import { startTicker } from '../clock-ticker.js';
import { hasKubectl, kubectl, kubectlDrain } from '../kubectl.js';
import { startKubeApiServer, type KubeApiServer } from '../kube/api-server.js';
import { watchBudgets } from '../kube/budget-monitor.js';
import { createDeployment, createNode, createPdb, startControllers } from '../kube/controllers.js';
import { KubeApiError } from '../kube/errors.js';
import { evictPod } from '../kube/eviction.js';
import { createRequestCounter, type RequestCounter } from '../kube/request-counter.js';
import { KubeStore } from '../kube/store.js';
import { controllerOf, isNodeReady, isPodReady, type Pod } from '../kube/types.js';
import { populateNodeForDrain } from '../kube/workloads-drain.js';

const TOKEN = 'k8s-aws-v1.sandbox-drain-observability';
const NODE = 'ip-10-0-1-10.eu-west-1.compute.internal';
const kubectlAvailable = await hasKubectl();

const idOf = (pod: Pod): string => `${pod.metadata.namespace}/${pod.metadata.name}`;
const podsOn = (store: KubeStore, node: string): Pod[] => store.list('pods', { fieldSelector: `spec.nodeName=${node}` });
const isMirror = (pod: Pod): boolean => pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;
const isDaemon = (pod: Pod): boolean => controllerOf(pod)?.kind === 'DaemonSet';

/** A drain as our engine would do it: cordon, then evictions only, retrying refusals as virtual time passes. */
async function drainByEvictions(store: KubeStore, clock: VirtualClock, node: string): Promise<void> {
  store.update('nodes', undefined, node, (n) => {
    n.spec = { ...n.spec, unschedulable: true };
  });
  for (let round = 0; round < 60; round++) {
    const remaining = podsOn(store, node).filter((pod) => !isDaemon(pod) && !isMirror(pod));
    if (remaining.length === 0) return;
    for (const pod of remaining.filter((p) => p.metadata.deletionTimestamp === undefined)) {
      try {
        evictPod(store, pod.metadata.namespace!, pod.metadata.name!, { metadata: { name: pod.metadata.name!, namespace: pod.metadata.namespace! } });
      } catch (error) {
        if (!(error instanceof KubeApiError && error.code === 429)) throw error;
      }
    }
    await clock.advance(5_000);
  }
  throw new Error(`drainByEvictions: ${node} still has pods after 60 rounds`);
}

describe('Budget monitor', () => {
  it('records nothing while a budget’s pods start, nor for a drain that only evicts', async () => {
    // Prepare: the budget starts unmet (no node yet, its pods Pending), then its pods start
    const clock = new VirtualClock();
    const store = new KubeStore(clock);
    createDeployment(store, { namespace: 'storefront', name: 'frontend', replicas: 3, labels: { app: 'frontend' } });
    createPdb(store, { namespace: 'storefront', name: 'frontend', selector: { app: 'frontend' }, minAvailable: 2 });
    const monitor = watchBudgets(store);
    const stopControllers = startControllers(store, clock);
    createNode(store, { name: NODE });
    await clock.advance(10_000);
    const workloads = populateNodeForDrain(store, NODE, { pods: 12 });
    createNode(store, { name: 'ip-10-0-3-30.eu-west-1.compute.internal' });
    await clock.advance(10_000);
    assert.equal(store.list('pods', { namespace: 'storefront', labelSelector: 'app=frontend' }).filter(isPodReady).length, 3);

    // Act
    await drainByEvictions(store, clock, NODE);
    await clock.advance(60_000);
    stopControllers();
    monitor.stop();

    // Assess
    assert.deepEqual(podsOn(store, NODE).map(idOf).sort(), [...workloads.daemonSetPods, workloads.mirrorPod].sort());
    assert.deepEqual(monitor.violations, []);
  });

  it('records a violation, with its cause, when pods under a budget are deleted directly', async () => {
    // Prepare
    const clock = new VirtualClock();
    const store = new KubeStore(clock);
    const workloads = populateNodeForDrain(store, NODE, { pods: 12 });
    const stopControllers = startControllers(store, clock);
    await clock.advance(10_000);
    const monitor = watchBudgets(store);

    // Act: what a drain that bypasses the Eviction API does
    const deletedAt = clock.now();
    for (const id of workloads.budgetedPods) {
      const [namespace, name] = id.split('/');
      store.delete('pods', namespace, name!);
    }
    await clock.advance(60_000);
    stopControllers();
    monitor.stop();

    // Assess: 3 replicas, maxUnavailable 1: the second and third deletions each cost a pod it needed
    assert.equal(monitor.violations.length, 2);
    const [first, second] = monitor.violations;
    assert.deepEqual({ ...first, cause: undefined, at: undefined }, { namespace: 'shop', name: 'checkout', currentHealthy: 1, desiredHealthy: 2, cause: undefined, at: undefined, node: NODE, involuntary: false });
    assert.equal(second!.currentHealthy, 0);
    assert.match(first!.cause, /^pod shop\/checkout-\S+ began terminating without an eviction$/);
    assert.equal(first!.at, deletedAt);
  });
});

describe('Request counter', () => {
  let clock: VirtualClock;
  let store: KubeStore;
  let server: KubeApiServer;
  let counter: RequestCounter;
  let stopControllers: () => void;
  let dir: string;

  before(async () => {
    clock = new VirtualClock();
    store = new KubeStore(clock);
    populateNodeForDrain(store, NODE, { pods: 12 });
    stopControllers = startControllers(store, clock);
    counter = createRequestCounter();
    server = await startKubeApiServer({ clock, store, clusterName: 'sandbox', authenticate: (token) => token === TOKEN, onRequest: counter.observe });
    dir = await mkdtemp(join(tmpdir(), 'sim-drain-observability-'));
  });
  after(async () => {
    stopControllers();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts the service’s requests by verb, resource and subresource', async () => {
    // Prepare
    counter.reset();
    const client = new KubeRestClient({ endpoint: server.url, caData: server.caData, token: () => TOKEN });
    const core = coreV1Api(client);

    // Act
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${NODE}` });
    const web = pods.items.find((p) => p.metadata?.labels?.['app'] === 'web')!;
    await core.createNamespacedPodEviction({ name: web.metadata!.name!, namespace: 'shop', body: { metadata: { name: web.metadata!.name!, namespace: 'shop' } } });
    await core.readNode({ name: 'no-such-node' }).catch(() => undefined);
    client.close();

    // Assess
    const counts = counter.snapshot();
    assert.deepEqual(counts.byClient, { kubectl: 0, 'eks-node-lifecycle': 3, 'client-node': 0, other: 0 });
    assert.equal(counter.count({ client: 'eks-node-lifecycle', request: 'list pods' }), 1);
    assert.equal(counter.count({ client: 'eks-node-lifecycle', request: 'create pods/eviction' }), 1);
    assert.deepEqual(counts.rows.find((r) => r.request === 'get nodes'), { client: 'eks-node-lifecycle', request: 'get nodes', count: 1, failed: 1 });
  });

  it('tells client-node’s requests (an operator’s script) from the service’s', async () => {
    // Prepare
    counter.reset();
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'sandbox', server: server.url, caData: server.caData, skipTLSVerify: false }],
      users: [{ name: 'operator', token: TOKEN }],
      contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'operator' }],
      currentContext: 'sandbox',
    });

    // Act
    await config.makeApiClient(CoreV1Api).listNode();

    // Assess
    assert.deepEqual(counter.snapshot().byClient, { kubectl: 0, 'eks-node-lifecycle': 0, 'client-node': 1, other: 0 });
  });

  it('counts kubectl’s requests apart, discovery included, and forgets everything on reset', { skip: !kubectlAvailable && 'kubectl is not installed' }, async () => {
    // Prepare
    counter.reset();
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig, { token: TOKEN });

    // Act
    const run = await kubectl(['get', 'nodes'], { kubeconfig, timeoutMs: 60_000 });
    const counts = counter.snapshot();
    counter.reset();

    // Assess
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(counts.byClient['eks-node-lifecycle'], 0);
    assert.equal(counts.byClient.kubectl, counts.total);
    assert.equal(counter.count({ client: 'kubectl', request: 'list nodes' }), 0, 'reset forgot it');
    assert.equal(counts.rows.find((r) => r.request === 'list nodes')?.count, 1);
    assert.ok(counts.rows.some((r) => r.request === 'GET /api'), 'discovery is counted by path');
    assert.equal(counter.snapshot().total, 0);
  });
});

describe('populateNodeForDrain', () => {
  it('puts 110 Ready pods of every kind kubectl drain distinguishes on the node, with spare nodes for replacements', async () => {
    // Prepare
    const clock = new VirtualClock();
    const store = new KubeStore(clock);

    // Act
    const workloads = populateNodeForDrain(store, NODE, { pods: 110 });
    const stopControllers = startControllers(store, clock);
    await clock.advance(30_000); // the controllers accept the node as it is
    stopControllers();

    // Assess
    const pods = podsOn(store, NODE);
    assert.equal(pods.length, 110);
    assert.deepEqual(pods.map(idOf).sort(), [...workloads.pods].sort());
    assert.ok(pods.every((pod) => isPodReady(pod) && pod.status?.phase === 'Running'));
    const byId = new Map(pods.map((pod) => [idOf(pod), pod]));
    assert.deepEqual(workloads.daemonSetPods.map((id) => byId.get(id)?.metadata.labels?.['k8s-app']).sort(), ['aws-node', 'kube-proxy']);
    assert.ok(workloads.daemonSetPods.every((id) => isDaemon(byId.get(id)!)));
    const mirror = byId.get(workloads.mirrorPod)!;
    assert.ok(isMirror(mirror));
    assert.equal(controllerOf(mirror)?.kind, 'Node');
    assert.equal(byId.get(workloads.barePod)!.metadata.ownerReferences, undefined);
    assert.ok(workloads.emptyDirPods.length > 0);
    assert.ok(workloads.emptyDirPods.every((id) => (byId.get(id)!.spec['volumes'] as { emptyDir?: object }[]).some((v) => v.emptyDir)));
    const pdb = store.get('poddisruptionbudgets', 'shop', 'checkout')!;
    assert.deepEqual(workloads.pdbs, ['shop/checkout']);
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.equal(pdb.status?.disruptionsAllowed, 1);
    assert.equal(pdb.status?.currentHealthy, workloads.budgetedPods.length);
    assert.equal(workloads.evictable.length, 110 - 3);
    assert.ok(workloads.spareNodes.length >= 1);
    for (const name of workloads.spareNodes) {
      const spare = store.get('nodes', undefined, name)!;
      assert.ok(isNodeReady(spare) && !spare.spec?.unschedulable);
    }
  });
});

describe('kubectl drain against the sandbox', { skip: !kubectlAvailable && 'kubectl is not installed' }, () => {
  it('drains a 60-pod node: only DaemonSet and mirror pods stay, and no budget is broken', { timeout: 180_000 }, async (t) => {
    // Prepare
    const clock = new VirtualClock();
    const store = new KubeStore(clock);
    const workloads = populateNodeForDrain(store, NODE, { pods: 60 });
    const stopControllers = startControllers(store, clock);
    await clock.advance(10_000);
    const counter = createRequestCounter();
    // 1.32, so that a dispatching /usr/bin/kubectl runs its kubectl 1.32
    const server = await startKubeApiServer({ clock, store, clusterName: 'sandbox', kubernetesVersion: '1.32', authenticate: (token) => token === TOKEN, onRequest: counter.observe });
    const dir = await mkdtemp(join(tmpdir(), 'sim-kubectl-drain-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig, { token: TOKEN });
    const monitor = watchBudgets(store);
    const stopTicker = startTicker(clock);

    try {
      // Act
      const run = await kubectlDrain({ kubeconfig, node: NODE, timeoutMs: 150_000 });
      await stopTicker();

      // Assess
      const counts = counter.snapshot();
      const evictions = counter.count({ client: 'kubectl', request: 'create pods/eviction' });
      t.diagnostic(`kubectl drain of ${workloads.evictable.length} pods: exit ${run.exitCode} in ${run.wallMs} ms real; ${counts.byClient.kubectl} requests (${evictions} evictions), ${(counts.byClient.kubectl / workloads.evictable.length).toFixed(2)} per evicted pod`);
      t.diagnostic(counts.rows.map((r) => `${r.count} × ${r.request}${r.failed ? ` (${r.failed} failed)` : ''}`).join('; '));
      assert.equal(run.timedOut, false, 'kubectl drain timed out');
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, /drained/);
      assert.deepEqual(podsOn(store, NODE).map(idOf).sort(), [...workloads.daemonSetPods, workloads.mirrorPod].sort());
      assert.equal(store.get('nodes', undefined, NODE)!.spec?.unschedulable, true);
      assert.deepEqual(monitor.violations, []);
      assert.equal(counts.byClient['eks-node-lifecycle'], 0);
      assert.ok(evictions >= workloads.evictable.length, 'kubectl evicts every pod it removes');
    } finally {
      await stopTicker();
      monitor.stop();
      stopControllers();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
