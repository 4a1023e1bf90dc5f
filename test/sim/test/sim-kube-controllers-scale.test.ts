import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../clock.js';
import { createDaemonSet, createDeployment, createNode, startControllers } from '../kube/controllers.js';
import { alreadyExists } from '../kube/errors.js';
import { RESOURCES } from '../kube/resources.js';
import { KubeStore } from '../kube/store.js';
import { isPodActive, type Pod } from '../kube/types.js';

/**
 * The sandbox's controllers at scale: pods are created with `generateName`, as the real
 * ReplicaSet and DaemonSet controllers create them, so the API server picks a free name; and
 * no refused create ever stops a controller — it is tried again on a later sync.
 */
function world(nodes = 2) {
  const clock = new VirtualClock();
  const store = new KubeStore(clock);
  for (let i = 0; i < nodes; i++) createNode(store, { name: `node-${i}`, providerID: `aws:///eu-west-1a/i-${i}` });
  const stop = startControllers(store, clock);
  return { clock, store, stop };
}

function activePods(store: KubeStore, namespace: string): Pod[] {
  return store.list('pods', { namespace }).filter(isPodActive);
}

describe('Controllers at scale: pod names', () => {
  it('draws another suffix when the one generated is taken, so a Deployment scaled past the clash gets every replica', async () => {
    // Prepare: a name generator that repeats itself three times
    const { clock, store, stop } = world();
    const drawn = store.randomSuffix.bind(store);
    let repeats = 3;
    store.randomSuffix = () => (repeats > 0 && repeats-- ? 'bbbbb' : drawn());
    const { replicaSet } = createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const rs = replicaSet.metadata.name!;
    // Act
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 5 } }, 'merge');
    await clock.settle();
    // Assess
    const pods = activePods(store, 'shop');
    assert.equal(pods.length, 5);
    assert.equal(new Set(pods.map((p) => p.metadata.name)).size, 5);
    assert.ok(pods.some((p) => p.metadata.name === `${rs}-bbbbb`), 'the first pod took the repeated suffix');
    assert.equal(repeats, 0, 'the clashing suffix was drawn again, and refused, twice');
    for (const pod of pods) {
      assert.equal(pod.metadata.generateName, `${rs}-`);
      assert.match(pod.metadata.name!, new RegExp(`^${rs}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    }
    stop();
  });

  it('creates 3,000 replicas of a Deployment, every one with a name of its own, Running on the nodes', { timeout: 180_000 }, async () => {
    // Prepare
    const { clock, store, stop } = world(20);
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    await clock.settle();
    // Act
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 3_000 } }, 'merge');
    await clock.settle();
    // Assess
    const pods = activePods(store, 'shop');
    assert.equal(pods.length, 3_000);
    assert.equal(new Set(pods.map((p) => p.metadata.name)).size, 3_000);
    assert.ok(pods.every((p) => p.status?.phase === 'Running' && p.spec.nodeName), 'every pod bound and started');
    assert.equal(store.get('deployments', 'shop', 'web')!.status?.readyReplicas, 3_000);
    stop();
  });
});

/**
 * Makes the store refuse pod creates as the API would (409): the next `count`, or every one
 * until the virtual time `until`. Returns how many of the `count` are left.
 */
function refusePodCreates(store: KubeStore, { count = Number.POSITIVE_INFINITY, until = Number.POSITIVE_INFINITY }: { count?: number; until?: number }): () => number {
  const create = store.create.bind(store);
  let left = count;
  store.create = ((resource, input) => {
    if (resource === 'pods' && left > 0 && store.clock.now() < until) {
      left--;
      throw alreadyExists(RESOURCES.pods, String(input.metadata.generateName));
    }
    return create(resource, input);
  }) as typeof store.create;
  return () => left;
}

describe('Controllers at scale: a refused create', () => {
  it('never stops the controllers: the other workloads are reconciled in the same sync, the refused pods on the next', async () => {
    // Prepare
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    createDeployment(store, { namespace: 'shop', name: 'api', replicas: 1, labels: { app: 'api' } });
    createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    await clock.settle();
    const refusalsLeft = refusePodCreates(store, { count: 2 });
    // Act: four pods to create — web +1, api +2, a daemon pod for a new node
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 2 } }, 'merge');
    store.patch('deployments', 'shop', 'api', { spec: { replicas: 3 } }, 'merge');
    createNode(store, { name: 'node-new', providerID: 'aws:///eu-west-1b/i-new' });
    await clock.settle();
    // Assess
    assert.equal(refusalsLeft(), 0, 'both refusals were met');
    assert.equal(activePods(store, 'shop').length, 5, 'web 2 and api 3');
    assert.equal(activePods(store, 'kube-system').length, 3, 'one daemon pod per node');
    stop();
  });

  it('tries a refused create again a virtual second later when nothing else changes', async () => {
    // Prepare: every pod create refused for the next virtual second
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    await clock.settle();
    refusePodCreates(store, { until: clock.now() + 1_000 });
    // Act
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 2 } }, 'merge');
    await clock.settle();
    const refused = activePods(store, 'shop').length;
    await clock.advance(1_000);
    // Assess
    assert.equal(refused, 1, 'settle() returned with the retry still to come: a refusal that lasts must not keep the world running');
    assert.equal(activePods(store, 'shop').length, 2);
    stop();
  });
});
