import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtualClock } from '../clock.js';
import { KubeApiError } from '../kube/errors.js';
import { evictPod } from '../kube/eviction.js';
import { createNode } from '../kube/nodes.js';
import { computePdbStatus, scaledValue } from '../kube/pdb-status.js';
import { KubeStore } from '../kube/store.js';
import type { IntOrPercent, Pod, PodDisruptionBudget } from '../kube/types.js';
import { createDaemonSet, createDeployment, createPdb, createPod } from '../kube/workloads.js';

function world(replicas = 4) {
  const clock = new VirtualClock();
  const store = new KubeStore(clock);
  createNode(store, { name: 'node-a' });
  createNode(store, { name: 'node-b' });
  const { pods } = createDeployment(store, { namespace: 'shop', name: 'web', replicas, labels: { app: 'web' } });
  return { clock, store, pods };
}

function evict(store: KubeStore, name: string, namespace = 'shop') {
  return evictPod(store, namespace, name, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } });
}

describe('PodDisruptionBudget status', () => {
  const table: { budget: { minAvailable?: IntOrPercent; maxUnavailable?: IntOrPercent }; desired: number; allowed: number }[] = [
    { budget: { minAvailable: 2 }, desired: 2, allowed: 2 },
    { budget: { minAvailable: 0 }, desired: 0, allowed: 4 },
    { budget: { minAvailable: 5 }, desired: 5, allowed: 0 },
    { budget: { minAvailable: '50%' }, desired: 2, allowed: 2 },
    { budget: { minAvailable: '30%' }, desired: 2, allowed: 2 }, // 1.2 rounds up
    { budget: { minAvailable: '80%' }, desired: 4, allowed: 0 }, // 3.2 rounds up
    { budget: { maxUnavailable: 1 }, desired: 3, allowed: 1 },
    { budget: { maxUnavailable: 0 }, desired: 4, allowed: 0 },
    { budget: { maxUnavailable: '10%' }, desired: 3, allowed: 1 }, // 0.4 rounds up to 1
    { budget: { maxUnavailable: '30%' }, desired: 2, allowed: 2 }, // 1.2 rounds up to 2
    { budget: { maxUnavailable: '100%' }, desired: 0, allowed: 4 },
  ];
  for (const { budget, desired, allowed } of table) {
    it(`over 4 healthy replicas, ${JSON.stringify(budget)} wants ${desired} healthy and allows ${allowed}`, () => {
      const { store } = world(4);
      const pdb = createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, ...budget });
      assert.equal(pdb.status?.currentHealthy, 4);
      assert.equal(pdb.status?.expectedPods, 4);
      assert.equal(pdb.status?.desiredHealthy, desired);
      assert.equal(pdb.status?.disruptionsAllowed, allowed);
      assert.equal(pdb.status?.observedGeneration, pdb.metadata.generation);
      assert.equal(pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed')?.status, allowed > 0 ? 'True' : 'False');
    });
  }

  it('property: over n healthy replicas, a percentage budget allows what rounding up leaves', () => {
    const replicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true };
    const healthyPod = (i: number): Pod => ({
      metadata: { name: `web-${i}`, namespace: 'shop', labels: { app: 'web' }, ownerReferences: [replicaSet] },
      spec: { containers: [{ name: 'app' }], nodeName: 'node-a' },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 100 }), fc.boolean(), (n, percent, useMax) => {
        const pdb: PodDisruptionBudget = {
          metadata: { name: 'web', namespace: 'shop', generation: 1 },
          spec: { selector: { matchLabels: { app: 'web' } }, ...(useMax ? { maxUnavailable: `${percent}%` } : { minAvailable: `${percent}%` }) },
        };
        const pods = Array.from({ length: n }, (_, i) => healthyPod(i));
        const result = computePdbStatus(pdb, pods, () => ({ uid: 'rs-uid', replicas: n }), 0);
        assert.ok(result.ok);
        const rounded = Math.ceil((percent * n) / 100);
        const expected = n === 0 ? 0 : useMax ? Math.min(n, rounded) : Math.max(0, n - rounded);
        assert.equal(result.status.disruptionsAllowed, expected);
        assert.ok(result.status.currentHealthy - result.status.disruptionsAllowed >= Math.min(result.status.desiredHealthy, n), 'never below the desired count');
      }),
      { numRuns: 2_000 },
    );
  });

  it('rounds percentages up', () => {
    assert.equal(scaledValue('25%', 3), 1);
    assert.equal(scaledValue('34%', 3), 2);
    assert.equal(scaledValue('0%', 3), 0);
    assert.equal(scaledValue(7, 3), 7);
  });

  it('counts neither unready nor terminating pods as healthy, and recomputes on every change', () => {
    const { store, pods } = world(4);
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: 2 });

    store.patch('pods', 'shop', pods[0]!.metadata.name!, { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'strategic');
    store.delete('pods', 'shop', pods[1]!.metadata.name!);

    const status = store.get('poddisruptionbudgets', 'shop', 'web')!.status!;
    assert.equal(status.currentHealthy, 2);
    assert.equal(status.expectedPods, 4);
    assert.equal(status.disruptionsAllowed, 0);
  });

  it('follows the Deployment\'s scale for percentages, not the number of pods', () => {
    const { store } = world(4);
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: '50%' });
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 10 } }, 'merge');
    const status = store.get('poddisruptionbudgets', 'shop', 'web')!.status!;
    assert.equal(status.expectedPods, 10);
    assert.equal(status.desiredHealthy, 5);
    assert.equal(status.disruptionsAllowed, 0);
  });

  it('fails safe (nothing may be disrupted) when a covered pod\'s controller has no scale, as for a DaemonSet', () => {
    const { store } = world(1);
    createDaemonSet(store, { namespace: 'kube-system', name: 'agent', labels: { app: 'agent' } });
    const pdb = createPdb(store, { namespace: 'kube-system', name: 'agent', selector: { app: 'agent' }, maxUnavailable: 1 });
    assert.equal(pdb.status?.disruptionsAllowed, 0);
    const condition = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    assert.equal(condition?.reason, 'SyncFailed');
  });

  it('with an integer minAvailable counts pods without a controller', () => {
    const { store } = world(0);
    createPod(store, { namespace: 'shop', name: 'a', labels: { app: 'solo' }, nodeName: 'node-a' });
    createPod(store, { namespace: 'shop', name: 'b', labels: { app: 'solo' }, nodeName: 'node-b' });
    const pdb = createPdb(store, { namespace: 'shop', name: 'solo', selector: { app: 'solo' }, minAvailable: 1 });
    assert.equal(pdb.status?.expectedPods, 2);
    assert.equal(pdb.status?.disruptionsAllowed, 1);
  });
});

describe('Eviction', () => {
  it('evicts while the budget allows it, then refuses with 429 naming the budget', () => {
    // Prepare: 3 replicas, at least 2 must stay
    const { store, pods } = world(3);
    createPdb(store, { namespace: 'shop', name: 'web-pdb', selector: { app: 'web' }, minAvailable: 2 });
    const [first, second] = pods.map((p) => p.metadata.name!);

    // Act
    const ok = evict(store, first!);
    let refusal: unknown;
    try {
      evict(store, second!);
    } catch (error) {
      refusal = error;
    }

    // Assess
    assert.deepEqual(ok, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    assert.ok(store.get('pods', 'shop', first!)?.metadata.deletionTimestamp, 'the evicted pod is terminating');
    assert.ok(refusal instanceof KubeApiError);
    assert.equal(refusal.code, 429);
    assert.equal(refusal.status.reason, 'TooManyRequests');
    assert.equal(refusal.status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(refusal.status.details?.causes?.[0]?.reason, 'DisruptionBudget');
    assert.match(refusal.status.details?.causes?.[0]?.message ?? '', /web-pdb needs 2 healthy pods and has 2 currently/);
    assert.equal(store.get('pods', 'shop', second!)?.metadata.deletionTimestamp, undefined);
  });

  it('answers 404 for a pod that does not exist', () => {
    const { store } = world(1);
    assert.throws(() => evict(store, 'ghost'), (error: unknown) => error instanceof KubeApiError && error.code === 404 && error.status.message === 'pods "ghost" not found');
  });

  it('refuses with a 500 when two budgets cover the pod, as the API server does', () => {
    const { store, pods } = world(3);
    createPdb(store, { namespace: 'shop', name: 'one', selector: { app: 'web' }, maxUnavailable: 1 });
    createPdb(store, { namespace: 'shop', name: 'two', selector: { app: 'web' }, maxUnavailable: 1 });
    assert.throws(() => evict(store, pods[0]!.metadata.name!), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.code, 500);
      assert.match(error.message, /more than one PodDisruptionBudget/);
      return true;
    });
  });

  it('spends the budget at once, so a second eviction in the same instant is refused', () => {
    const { store, pods } = world(3);
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
    evict(store, pods[0]!.metadata.name!);
    assert.equal(store.get('poddisruptionbudgets', 'shop', 'web')!.status!.disruptionsAllowed, 0);
    assert.throws(() => evict(store, pods[1]!.metadata.name!), (error: unknown) => error instanceof KubeApiError && error.code === 429);
  });

  it('lets an unready pod go without spending a budget that is met', () => {
    const { store, pods } = world(3);
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: 2 });
    const sick = pods[0]!.metadata.name!;
    store.patch('pods', 'shop', sick, { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'strategic');
    assert.equal(store.get('poddisruptionbudgets', 'shop', 'web')!.status!.disruptionsAllowed, 0);

    assert.equal(evict(store, sick).code, 201);
  });

  it('deletes with the pod\'s grace period, or the eviction\'s delete options', () => {
    const { clock, store, pods } = world(3);
    const [a, b] = pods.map((p) => p.metadata.name!);
    evict(store, a!);
    evictPod(store, 'shop', b!, { deleteOptions: { gracePeriodSeconds: 0 } });
    const terminating = store.get('pods', 'shop', a!)!;
    assert.equal(Date.parse(terminating.metadata.deletionTimestamp!), clock.now() + 30_000);
    assert.equal(store.get('pods', 'shop', b!), undefined);
  });

  it('property: whatever order pods are evicted in, no more go than the budget allowed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (replicas, minAvailable, picks) => {
        const { store, pods } = world(replicas);
        const allowed = createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable }).status!.disruptionsAllowed;
        let evicted = 0;
        for (const pick of picks) {
          try {
            evict(store, pods[pick % pods.length]!.metadata.name!);
            evicted++;
          } catch (error) {
            assert.ok(error instanceof KubeApiError && error.code === 429);
          }
        }
        const terminating = store.list('pods', { namespace: 'shop' }).filter((p) => p.metadata.deletionTimestamp).length;
        assert.ok(terminating <= allowed, `${terminating} pods went, the budget allowed ${allowed}`);
        assert.equal(allowed, Math.max(0, replicas - minAvailable));
        assert.ok(evicted >= terminating);
      }),
      { numRuns: 100 },
    );
  });

  it('with dryRun checks the budget but changes nothing', () => {
    const { store, pods } = world(2);
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: 1 });
    const name = pods[0]!.metadata.name!;
    assert.equal(evictPod(store, 'shop', name, { deleteOptions: { dryRun: ['All'] } }).code, 201);
    assert.equal(store.get('pods', 'shop', name)?.metadata.deletionTimestamp, undefined);
    assert.equal(store.get('poddisruptionbudgets', 'shop', 'web')!.status!.disruptionsAllowed, 1);
  });
});
