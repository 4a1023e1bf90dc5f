import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { coreV1Api, policyV1Api } from '../../shared/kube/api.js';
import { cordonNode, EXCLUDE_FROM_LB_LABEL, uncordonNode } from '../../shared/kube/drain/cordon-node.js';
import { drainPass } from '../../shared/kube/drain/drain-pass.js';
import { forcePass } from '../../shared/kube/drain/force-pass.js';
import { countBlockedPasses, nextPassDelaySeconds } from '../../shared/kube/drain/next-wait.js';
import { DEFAULT_DRAIN_SETTINGS, type DrainPorts, type DrainProgress, type DrainSettings } from '../../shared/kube/drain/types.js';
import { KubeRestClient } from '../../shared/kube/rest-client.js';
import { createDaemonSet, createDeployment, createNode, createPdb, createPod, type FaultAction, type FaultRequest, type KubeApiServer, KubeStore, type Pod, type PodDisruptionBudget, startControllers, startKubeApiServer, VirtualClock } from '@eks-node-lifecycle/sandbox';

/**
 * The drain engine against the sandbox's Kubernetes API server, over TLS with a bearer
 * token, through the service's own client (shared/kube/rest-client.ts): the passes a workflow would run, with the virtual
 * clock standing in for its Wait states.
 */

const TOKEN = 'k8s-aws-v1.drain-engine-test';
const NODE = 'ip-10-0-1-10.eu-west-1.compute.internal';
const OTHER_NODES = ['ip-10-0-2-20.eu-west-1.compute.internal', 'ip-10-0-3-30.eu-west-1.compute.internal'];
const TAINT = DEFAULT_DRAIN_SETTINGS.taintKey;

interface World {
  clock: VirtualClock;
  store: KubeStore;
  server: KubeApiServer;
  ports: DrainPorts;
  /** every request the API server routed, in order */
  requests: FaultRequest[];
  /** a fault to inject, decided per request */
  inject: ((request: FaultRequest) => FaultAction | undefined) | undefined;
  stop(): Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** The store is set up first (pods bound where `setup` puts them), then the controllers and the server start. */
async function startWorld(setup: (store: KubeStore) => void): Promise<World> {
  const clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
  const store = new KubeStore(clock);
  setup(store);
  const stopControllers = startControllers(store, clock);
  const server = await startKubeApiServer({ clock, store, clusterName: 'prod', authenticate: (token) => token === TOKEN });
  const client = new KubeRestClient({ endpoint: server.url, caData: server.caData, token: () => TOKEN });
  const created: World = {
    clock,
    store,
    server,
    ports: { core: coreV1Api(client), policy: policyV1Api(client), cluster: 'prod', now: () => clock.date() },
    requests: [],
    inject: undefined,
    async stop() {
      stopControllers();
      client.close();
      await server.close();
    },
  };
  server.faults = {
    before(request) {
      created.requests.push(request);
      return created.inject?.(request);
    },
  };
  await clock.advance(1_000); // the controllers catch up: daemon pods on every node, statuses
  created.requests.length = 0;
  world = created;
  return created;
}

function podsOn(store: KubeStore, node: string): Pod[] {
  return store.list('pods', { fieldSelector: `spec.nodeName=${node}` });
}

const isDaemonPod = (pod: Pod) => pod.metadata.ownerReferences?.some((ref) => ref.kind === 'DaemonSet' && ref.controller) === true;
const isMirrorPod = (pod: Pod) => pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;

/** A static pod's mirror, as the kubelet registers it: annotated, owned by its Node. */
function createMirrorPod(store: KubeStore, node: string, name: string): Pod {
  const owner = store.require('nodes', undefined, node);
  createPod(store, {
    namespace: 'kube-system',
    name,
    nodeName: node,
    labels: { component: name },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: owner.metadata.uid!, controller: true }],
  });
  return store.update('pods', 'kube-system', name, (pod) => {
    pod.metadata.annotations = { 'kubernetes.io/config.mirror': 'a3f1c0de', 'kubernetes.io/config.source': 'file' };
  });
}

/**
 * The PodDisruptionBudget invariant, checked at every change of a budget's status (the
 * store recomputes it synchronously after every change that can move it): once a budget
 * has been met, it never again has fewer healthy pods than it needs.
 */
function watchBudgets(store: KubeStore): string[] {
  const satisfied = new Set<string>();
  const violations: string[] = [];
  for (const pdb of store.list('poddisruptionbudgets')) {
    if (pdb.status && pdb.status.expectedPods > 0 && pdb.status.currentHealthy >= pdb.status.desiredHealthy) satisfied.add(`${pdb.metadata.namespace}/${pdb.metadata.name}`);
  }
  store.on((event) => {
    if (event.resource !== 'poddisruptionbudgets' || event.type === 'DELETED') return;
    const pdb = event.object as PodDisruptionBudget;
    const status = pdb.status;
    if (!status || status.expectedPods === 0) return;
    const key = `${pdb.metadata.namespace}/${pdb.metadata.name}`;
    if (status.currentHealthy >= status.desiredHealthy) satisfied.add(key);
    else if (satisfied.has(key)) violations.push(`${key} at ${store.clock.iso()}: ${status.currentHealthy} healthy < ${status.desiredHealthy} desired`);
  });
  return violations;
}

interface DrainRun {
  passes: DrainProgress[];
  delays: number[];
  requests: number;
}

/** The workflow's loop: a pass, then its Wait state, until drained. */
async function drainToTheEnd(w: World, node: string, settings: Partial<DrainSettings> = {}, maxPasses = 100): Promise<DrainRun> {
  const run: DrainRun = { passes: [], delays: [], requests: 0 };
  let blockedPasses = 0;
  for (;;) {
    const progress = await drainPass(w.ports, node, settings);
    run.passes.push(progress);
    run.requests += progress.requests;
    if (progress.phase !== 'draining') return run;
    blockedPasses = countBlockedPasses(blockedPasses, progress);
    const delay = nextPassDelaySeconds(progress, blockedPasses);
    assert.ok(delay >= 2, `a pass is never followed by a busy loop (delay ${delay})`);
    run.delays.push(delay);
    await w.clock.advance(delay * 1000);
    assert.ok(run.passes.length < maxPasses, `drained within ${maxPasses} passes`);
  }
}

const evictionsOf = (w: World) => w.requests.filter((r) => r.subresource === 'eviction');

/**
 * A node full of pods: two DaemonSets, a mirror pod, web (20 replicas, maxUnavailable 1),
 * cache (8 replicas, minAvailable 50%), api (a 45 s grace period), worker, jobs, a pod with
 * an emptyDir volume and a bare pod; two more nodes to take the replacements.
 */
function busyNode(size: { api: number; worker: number; jobs: number }) {
  return (store: KubeStore): void => {
    createNode(store, { name: NODE, providerID: 'aws:///eu-west-1a/i-0aaaaaaaaaaaaaaa1' });
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 20, labels: { app: 'web' } });
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
    createDeployment(store, { namespace: 'shop', name: 'cache', replicas: 8, labels: { app: 'cache' } });
    createPdb(store, { namespace: 'shop', name: 'cache', selector: { app: 'cache' }, minAvailable: '50%' });
    createDeployment(store, { namespace: 'shop', name: 'api', replicas: size.api, labels: { app: 'api' }, terminationGracePeriodSeconds: 45 });
    createDeployment(store, { namespace: 'batch', name: 'worker', replicas: size.worker, labels: { app: 'worker' } });
    createDeployment(store, { namespace: 'batch', name: 'jobs', replicas: size.jobs, labels: { app: 'jobs' } });
    createPod(store, { namespace: 'default', name: 'scratch', nodeName: NODE, labels: { app: 'scratch' } });
    store.update('pods', 'default', 'scratch', (pod) => {
      pod.spec['volumes'] = [{ name: 'tmp', emptyDir: {} }];
    });
    createPod(store, { namespace: 'default', name: 'debug-shell', nodeName: NODE });
    createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    createDaemonSet(store, { namespace: 'kube-system', name: 'kube-proxy', labels: { 'k8s-app': 'kube-proxy' } });
    createMirrorPod(store, NODE, `static-web-${NODE}`);
    for (const [i, name] of OTHER_NODES.entries()) createNode(store, { name, providerID: `aws:///eu-west-1b/i-0bbbbbbbbbbbbbbb${i}`, zone: 'eu-west-1b' });
  };
}

/** 65 pods */
const BUSY = busyNode({ api: 15, worker: 10, jobs: 7 });
/** 110 pods, as many as an m5.large-class node holds with prefix delegation off */
const FULL = busyNode({ api: 30, worker: 25, jobs: 22 });

describe('Drain engine: a busy node', () => {
  for (const [label, setup] of [['65 pods', BUSY], ['110 pods', FULL]] as const) {
    it(`moves every pod but daemons and mirrors, never below a budget, in ≤ 2.5 requests per evicted pod (${label})`, async (t) => {
      // Prepare
      const w = await startWorld(setup);
      const before = podsOn(w.store, NODE);
      const stays = before.filter((pod) => isDaemonPod(pod) || isMirrorPod(pod));
      const leaves = before.filter((pod) => !stays.includes(pod));
      assert.ok(before.length >= 60, `the node runs ${before.length} pods`);
      assert.equal(stays.length, 3);
      const violations = watchBudgets(w.store);

      // Act
      const run = await drainToTheEnd(w, NODE);

      // Assess
      const last = run.passes.at(-1)!;
      assert.equal(last.phase, 'drained');
      assert.deepEqual(violations, [], 'no budget was ever violated');
      const after = podsOn(w.store, NODE);
      assert.deepEqual(
        after.map((pod) => `${pod.metadata.name}@${pod.metadata.uid}`).sort(),
        stays.map((pod) => `${pod.metadata.name}@${pod.metadata.uid}`).sort(),
        'only the daemon and mirror pods are left, the very same pods',
      );
      assert.ok(after.every((pod) => pod.metadata.deletionTimestamp === undefined));
      const touched = new Set(evictionsOf(w).map((r) => r.name));
      for (const pod of stays) assert.ok(!touched.has(pod.metadata.name), `${pod.metadata.name} was never evicted`);
      assert.deepEqual(new Set(last.skipped.map((s) => s.reason)), new Set(['daemonset', 'mirror']));

      const node = w.store.require('nodes', undefined, NODE);
      assert.equal(node.spec?.unschedulable, true);
      assert.equal(node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL], 'true');
      assert.ok(node.spec?.taints?.some((t) => t.key === TAINT && t.effect === 'NoSchedule'));
      assert.equal(w.requests.filter((r) => r.verb === 'patch').length, 1, 'cordoned once');

      // the replacements run elsewhere; the bare pod and the emptyDir pod are simply gone
      for (const app of ['web', 'cache', 'api', 'worker', 'jobs']) {
        const running = w.store.list('pods', { labelSelector: `app=${app}` }).filter((p) => !p.metadata.deletionTimestamp);
        assert.ok(running.every((p) => p.spec.nodeName !== NODE));
      }
      const evicted = run.passes.flatMap((p) => p.evicted);
      assert.equal(new Set(evicted.map((p) => p.uid)).size, evicted.length, 'no pod evicted twice');
      assert.equal(evicted.length, leaves.length);
      const total = w.requests.length;
      assert.equal(total, run.requests, 'the passes count every request they make');
      const perPod = total / evicted.length;
      t.diagnostic(`busy node: ${before.length} pods, ${evicted.length} evicted in ${run.passes.length} passes over ${run.delays.reduce((a, b) => a + b, 0)} s; ${total} requests = ${perPod.toFixed(2)} per evicted pod`);
      assert.ok(perPod <= 2.5, `${perPod.toFixed(2)} requests per evicted pod`);
    });
  }

  it('asks a budget that allows one disruption about one more pod per pass, not about all of them', async () => {
    const w = await startWorld(BUSY);
    const first = await drainPass(w.ports, NODE);
    const webEvictions = evictionsOf(w).filter((r) => r.name?.startsWith('web-'));
    // one accepted, one refused; the other 18 held back and reported blocked without a request
    assert.equal(webEvictions.length, 2);
    const webBlocked = first.blocked.filter((b) => b.pod.name.startsWith('web-'));
    assert.equal(webBlocked.length, 19);
    assert.ok(webBlocked.every((b) => b.pdb?.name === 'web' && b.pdb.namespace === 'shop' && b.pdb.disruptionsAllowed === 0));
    assert.equal(first.evicted.filter((p) => p.name.startsWith('cache-')).length, 4, 'minAvailable 50% of 8: four go at once');
    assert.equal(w.requests.filter((r) => r.resource === 'poddisruptionbudgets').length, 1, 'one list of budgets, because something was blocked');
    assert.equal(w.requests.filter((r) => r.verb === 'list' && r.resource === 'pods').length, 1, 'one list of pods');
    assert.equal(w.requests.filter((r) => r.verb === 'get').length, 1, 'no per-pod GETs');
  });
});

describe('Drain engine: budgets', () => {
  function guardedPod(store: KubeStore, terminationGracePeriodSeconds = 30): void {
    createNode(store, { name: NODE });
    createDeployment(store, { namespace: 'payments', name: 'ledger', replicas: 1, labels: { app: 'ledger' }, terminationGracePeriodSeconds });
    createPdb(store, { namespace: 'payments', name: 'ledger', selector: { app: 'ledger' }, minAvailable: 1 });
    for (const name of OTHER_NODES) createNode(store, { name });
  }

  it('reports a pod whose budget never allows a disruption as blocked, and backs off 5, 10, 20, 40, 60, 60 s', async () => {
    const w = await startWorld((store) => guardedPod(store));
    const violations = watchBudgets(w.store);
    const delays: number[] = [];
    let blockedPasses = 0;
    for (let pass = 0; pass < 6; pass++) {
      const progress = await drainPass(w.ports, NODE);
      assert.equal(progress.phase, 'draining');
      assert.equal(progress.evicted.length, 0);
      assert.equal(progress.blocked.length, 1);
      const [blocker] = progress.blocked;
      assert.match(blocker!.pod.name, /^ledger-/);
      assert.deepEqual(blocker!.pdb, { namespace: 'payments', name: 'ledger', disruptionsAllowed: 0 });
      assert.match(blocker!.message, /disruption budget ledger .*needs 1 healthy pods and has 1 currently/);
      assert.deepEqual(progress.remaining.map((p) => p.name), [blocker!.pod.name]);
      blockedPasses = countBlockedPasses(blockedPasses, progress);
      delays.push(nextPassDelaySeconds(progress, blockedPasses));
      await w.clock.advance(delays.at(-1)! * 1000);
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 60, 60]);
    assert.deepEqual(violations, []);
    // first: GET node, PATCH, list pods, one eviction refused, one list of budgets;
    // then, finding the node cordoned and the pod still there: GET node, list pods, list
    // budgets, and no eviction the budget would refuse
    assert.equal(w.requests.length, 5 + 5 * 3);
    assert.equal(evictionsOf(w).length, 1);
  });

  it('reports a pod under two budgets as blocked with the API server’s reason', async () => {
    const w = await startWorld((store) => {
      createNode(store, { name: NODE });
      createDeployment(store, { namespace: 'shop', name: 'web', replicas: 3, labels: { app: 'web' } });
      createPdb(store, { namespace: 'shop', name: 'web-a', selector: { app: 'web' }, maxUnavailable: 1 });
      createPdb(store, { namespace: 'shop', name: 'web-b', selector: { app: 'web' }, maxUnavailable: 1 });
      for (const name of OTHER_NODES) createNode(store, { name });
    });
    const progress = await drainPass(w.ports, NODE);
    assert.equal(progress.blocked.length, 3);
    assert.ok(progress.blocked.every((b) => b.pdb === null && /more than one PodDisruptionBudget/.test(b.message)));
    assert.equal(evictionsOf(w).length, 1, 'the first refusal speaks for its siblings');
  });

  it('forcePass deletes a blocked pod with the capped grace period: gone after 120 virtual seconds, not before', async () => {
    const w = await startWorld((store) => guardedPod(store, 3600));
    const violations = watchBudgets(w.store);
    const settings = { maxGracePeriodSeconds: 120 };
    const blocked = await drainPass(w.ports, NODE, settings);
    assert.equal(blocked.blocked.length, 1);
    const pod = blocked.blocked[0]!.pod;
    assert.deepEqual(violations, []);

    const forced = await forcePass(w.ports, NODE, settings);
    assert.deepEqual(forced.evicted, [pod]);
    assert.equal(violations.length, 1, 'forcing goes through the budget, and the invariant check sees it');
    assert.deepEqual(forced.blocked, []);
    const deletion = w.requests.find((r) => r.verb === 'delete' && r.resource === 'pods');
    assert.equal(deletion?.query.get('gracePeriodSeconds'), '120');
    assert.equal(forced.nextTerminationAt, new Date(w.clock.now() + 120_000).toISOString());

    await w.clock.advance(119_000);
    assert.ok(w.store.get('pods', pod.namespace, pod.name)?.metadata.deletionTimestamp, 'still terminating at 119 s');
    await w.clock.advance(1_000);
    assert.equal(w.store.get('pods', pod.namespace, pod.name), undefined, 'gone at 120 s');
    assert.equal((await forcePass(w.ports, NODE, settings)).phase, 'drained');
  });

  it('forcePass shortens a terminating pod’s grace period to the cap, once', async () => {
    const w = await startWorld((store) => guardedPod(store, 3600));
    const ledger = podsOn(w.store, NODE)[0]!;
    w.store.delete('pods', ledger.metadata.namespace, ledger.metadata.name!, { gracePeriodSeconds: 3600 });
    const first = await forcePass(w.ports, NODE, { maxGracePeriodSeconds: 60 });
    assert.deepEqual(first.evicted.map((p) => p.name), [ledger.metadata.name]);
    assert.deepEqual(first.terminating.map((p) => p.name), [ledger.metadata.name]);
    const second = await forcePass(w.ports, NODE, { maxGracePeriodSeconds: 60 });
    assert.deepEqual(second.evicted, [], 'already within the cap: not deleted again');
    assert.equal(w.requests.filter((r) => r.verb === 'delete').length, 1);
    assert.equal(nextPassDelaySeconds(second, 0), 60);
    await w.clock.advance(60_000);
    assert.equal((await forcePass(w.ports, NODE, { maxGracePeriodSeconds: 60 })).phase, 'drained');
  });
});

describe('Drain engine: safe to repeat', () => {
  function smallNode(store: KubeStore): void {
    createNode(store, { name: NODE });
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 6, labels: { app: 'web' } });
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 2 });
    createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    for (const name of OTHER_NODES) createNode(store, { name });
  }

  it('a second pass at the same instant does not evict a terminating pod again', async () => {
    const w = await startWorld(smallNode);
    const first = await drainPass(w.ports, NODE);
    assert.equal(first.evicted.length, 2);
    const second = await drainPass(w.ports, NODE);
    assert.deepEqual(second.evicted, []);
    assert.deepEqual(second.terminating.map((p) => p.uid).sort(), first.evicted.map((p) => p.uid).sort());
    const asked = evictionsOf(w).map((r) => r.name);
    for (const pod of first.evicted) assert.equal(asked.filter((name) => name === pod.name).length, 1, `${pod.name} evicted once`);
    assert.equal(w.requests.filter((r) => r.verb === 'patch').length, 1, 'the cordoned node is not patched again');
  });

  it('a drain that crashed midway picks up where it was', async () => {
    const w = await startWorld(smallNode);
    // the first Lambda dies after two evictions (the API server then resets the connection)
    let evictions = 0;
    w.inject = (r) => (r.subresource === 'eviction' && ++evictions > 2 ? { reset: true } : undefined);
    await assert.rejects(drainPass(w.ports, NODE), { name: 'KubernetesUnavailableError' });
    w.inject = undefined;
    const run = await drainToTheEnd(w, NODE);
    assert.equal(run.passes.at(-1)!.phase, 'drained');
    assert.deepEqual(podsOn(w.store, NODE).map((p) => p.metadata.labels?.['k8s-app']), ['aws-node']);
  });

  it('never evicts a pod that replaced the listed one under the same name, and confirms the end with a fresh list', async () => {
    const w = await startWorld((store) => {
      createNode(store, { name: NODE });
      createPod(store, { namespace: 'db', name: 'postgres-0', nodeName: NODE, labels: { app: 'postgres' } });
      for (const name of OTHER_NODES) createNode(store, { name });
    });
    const listed = w.store.require('pods', 'db', 'postgres-0');
    // between our list and our eviction, the pod is replaced by one of the same name elsewhere
    w.inject = (r) => {
      if (r.subresource !== 'eviction') return undefined;
      w.store.delete('pods', 'db', 'postgres-0', { gracePeriodSeconds: 0 });
      createPod(w.store, { namespace: 'db', name: 'postgres-0', nodeName: OTHER_NODES[0], labels: { app: 'postgres' } });
      w.inject = undefined;
      return undefined;
    };
    const progress = await drainPass(w.ports, NODE);
    assert.deepEqual(progress.evicted, []);
    assert.deepEqual(progress.remaining, []);
    assert.equal(progress.phase, 'draining', 'not drained on the strength of a 409: the next list decides');
    const replacement = w.store.require('pods', 'db', 'postgres-0');
    assert.notEqual(replacement.metadata.uid, listed.metadata.uid);
    assert.equal(replacement.metadata.deletionTimestamp, undefined, 'the new pod was not evicted');
    assert.equal(nextPassDelaySeconds(progress, 0), 2);
    assert.equal((await drainPass(w.ports, NODE)).phase, 'drained');
  });

  it('cordonNode twice: the second changes nothing and sends no PATCH', async () => {
    const w = await startWorld(smallNode);
    assert.deepEqual(await cordonNode(w.ports, NODE, {}), { changed: true, found: true });
    assert.deepEqual(await cordonNode(w.ports, NODE, {}), { changed: false, found: true });
    assert.deepEqual(w.requests.map((r) => r.verb), ['get', 'patch', 'get']);
  });

  it('cordonNode reads again and retries when someone else wrote the node in between (409)', async () => {
    const w = await startWorld(smallNode);
    let patches = 0;
    w.inject = (r) => {
      if (r.verb !== 'patch' || ++patches > 1) return undefined;
      // another writer labels the node between our GET and our PATCH
      w.store.update('nodes', undefined, NODE, (node) => {
        node.metadata.labels = { ...node.metadata.labels, team: 'payments' };
      });
      return undefined;
    };
    assert.deepEqual(await cordonNode(w.ports, NODE, {}), { changed: true, found: true });
    assert.deepEqual(w.requests.map((r) => r.verb), ['get', 'patch', 'get', 'patch']);
    const node = w.store.require('nodes', undefined, NODE);
    assert.equal(node.metadata.labels?.['team'], 'payments', 'the other write survives');
    assert.equal(node.spec?.unschedulable, true);
  });

  it('uncordonNode takes back exactly what cordonNode added', async () => {
    const w = await startWorld((store) => {
      // someone else excluded the node from load balancers and tainted it before we came
      createNode(store, { name: NODE, labels: { [EXCLUDE_FROM_LB_LABEL]: 'maintenance' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    });
    await cordonNode(w.ports, NODE, {});
    let node = w.store.require('nodes', undefined, NODE);
    assert.equal(node.spec?.unschedulable, true);
    assert.deepEqual(node.spec?.taints?.map((t) => t.key).filter((k) => k !== 'node.kubernetes.io/unschedulable'), ['dedicated', TAINT]);

    assert.deepEqual(await uncordonNode(w.ports, NODE, {}), { changed: true, found: true });
    await w.clock.advance(1_000);
    node = w.store.require('nodes', undefined, NODE);
    assert.equal(node.spec?.unschedulable, undefined);
    assert.equal(node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL], 'maintenance', 'a label we did not set stays');
    assert.deepEqual(node.spec?.taints, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    assert.equal(node.metadata.annotations?.[TAINT], undefined);
    assert.deepEqual(await uncordonNode(w.ports, NODE, {}), { changed: false, found: true });
  });

  it('uncordonNode leaves a cordon someone else had set', async () => {
    const w = await startWorld((store) => createNode(store, { name: NODE, unschedulable: true }));
    await cordonNode(w.ports, NODE, {});
    await uncordonNode(w.ports, NODE, {});
    const node = w.store.require('nodes', undefined, NODE);
    assert.equal(node.spec?.unschedulable, true);
    assert.equal(node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL], undefined);
    assert.ok(!node.spec?.taints?.some((t) => t.key === TAINT));
  });
});

describe('Drain engine: failures', () => {
  it('reports a node that does not exist as gone, without listing pods', async () => {
    const w = await startWorld((store) => createNode(store, { name: NODE }));
    const progress = await drainPass(w.ports, 'ip-10-9-9-9.eu-west-1.compute.internal');
    assert.equal(progress.phase, 'node-gone');
    assert.equal(progress.requests, 1);
    assert.deepEqual(w.requests.map((r) => `${r.verb} ${r.resource}`), ['get nodes']);
    assert.equal(nextPassDelaySeconds(progress, 3), 0);
    assert.deepEqual(await cordonNode(w.ports, 'ip-10-9-9-9.eu-west-1.compute.internal', {}), { changed: false, found: false });
    assert.equal((await forcePass(w.ports, 'ip-10-9-9-9.eu-west-1.compute.internal')).phase, 'node-gone');
  });

  it('throws KubernetesUnavailableError when the API answers 5xx', async () => {
    const w = await startWorld((store) => {
      createNode(store, { name: NODE });
      createDeployment(store, { namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    });
    const unavailable = { status: 503, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'etcd is down' } };
    for (const target of [(r: FaultRequest) => r.verb === 'list', (r: FaultRequest) => r.subresource === 'eviction', () => true]) {
      w.inject = (r) => (target(r) ? unavailable : undefined);
      await assert.rejects(drainPass(w.ports, NODE), { name: 'KubernetesUnavailableError' });
    }
    w.inject = (r) => (r.verb === 'delete' ? unavailable : undefined);
    await assert.rejects(forcePass(w.ports, NODE), { name: 'KubernetesUnavailableError' });
  });

  it('throws KubernetesAccessDeniedError when RBAC forbids evictions', async () => {
    const w = await startWorld((store) => {
      createNode(store, { name: NODE });
      createDeployment(store, { namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    });
    w.inject = (r) => (r.subresource === 'eviction' ? { status: 403 } : undefined);
    await assert.rejects(drainPass(w.ports, NODE), { name: 'KubernetesAccessDeniedError' });
  });

  it('reports an eviction the API server could not settle with its budget (409) as blocked for this pass', async () => {
    const w = await startWorld((store) => {
      createNode(store, { name: NODE });
      createDeployment(store, { namespace: 'shop', name: 'web', replicas: 3, labels: { app: 'web' } });
      for (const name of OTHER_NODES) createNode(store, { name });
    });
    const conflict = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on poddisruptionbudgets.policy "web": the object has been modified; please apply your changes to the latest version and try again' };
    let first = true;
    w.inject = (r) => (r.subresource === 'eviction' && first ? ((first = false), { status: 409, body: conflict }) : undefined);
    const progress = await drainPass(w.ports, NODE);
    assert.equal(progress.blocked.length, 1);
    assert.equal(progress.blocked[0]!.pdb, null);
    assert.match(progress.blocked[0]!.message, /the object has been modified/);
    // no budget covers its siblings, held back by the refusal: they are asked in the same pass
    assert.equal(progress.evicted.length, 2);
    assert.equal(w.requests.filter((r) => r.resource === 'poddisruptionbudgets').length, 1);
    await w.clock.advance(nextPassDelaySeconds(progress, countBlockedPasses(0, progress)) * 1000);
    assert.deepEqual((await drainPass(w.ports, NODE)).evicted, [progress.blocked[0]!.pod]);
  });

  it('treats the API server’s own throttling of evictions as a reason to back off, not as a budget', async () => {
    const w = await startWorld((store) => {
      createNode(store, { name: NODE });
      createDeployment(store, { namespace: 'shop', name: 'web', replicas: 5, labels: { app: 'web' } });
      for (const name of OTHER_NODES) createNode(store, { name });
    });
    w.inject = (r) => (r.subresource === 'eviction' ? { status: 429, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' } } : undefined);
    const progress = await drainPass(w.ports, NODE);
    assert.equal(evictionsOf(w).length, 1, 'the first 429 stops the pass');
    assert.equal(progress.blocked.length, 5);
    assert.ok(progress.blocked.every((b) => b.pdb === null));
    assert.equal(w.requests.filter((r) => r.resource === 'poddisruptionbudgets').length, 0);
    assert.equal(nextPassDelaySeconds(progress, countBlockedPasses(0, progress)), 5);
  });
});
