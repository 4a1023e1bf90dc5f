import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../clock.js';
import { KubeApiError } from '../kube/errors.js';
import { createNode } from '../kube/nodes.js';
import { KubeStore, type StoreEvent } from '../kube/store.js';
import { createDeployment, createPod } from '../kube/workloads.js';

function world() {
  const clock = new VirtualClock();
  const store = new KubeStore(clock);
  createNode(store, { name: 'node-a', labels: { pool: 'blue' } });
  createNode(store, { name: 'node-b', labels: { pool: 'green' } });
  return { clock, store };
}

function apiError(code: number, reason: string) {
  return (error: unknown) => error instanceof KubeApiError && error.code === code && error.status.reason === reason;
}

describe('KubeStore: objects', () => {
  it('assigns uid, a growing resourceVersion, creationTimestamp from the virtual clock and generation for workloads', () => {
    // Prepare
    const { clock, store } = world();
    const before = Number(store.resourceVersion);

    // Act
    const pod = createPod(store, { namespace: 'default', name: 'solo' });
    const { deployment } = createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });

    // Assess
    assert.match(pod.metadata.uid!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(Number(pod.metadata.resourceVersion) > before);
    assert.equal(pod.metadata.creationTimestamp, clock.iso().replace('.000Z', 'Z'));
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.apiVersion, 'v1');
    assert.equal(deployment.metadata.generation, 1);
    assert.equal(pod.metadata.generation, undefined);
  });

  it('hands out copies: changing a returned object does not change the store', () => {
    const { store } = world();
    const node = store.get('nodes', undefined, 'node-a')!;
    node.spec!.unschedulable = true;
    assert.equal(store.get('nodes', undefined, 'node-a')!.spec?.unschedulable, undefined);
  });

  it('refuses a stale resourceVersion with a 409 Conflict and accepts the current one', () => {
    const { store } = world();
    const stale = store.get('nodes', undefined, 'node-a')!;
    store.patch('nodes', undefined, 'node-a', { metadata: { labels: { touched: 'yes' } } }, 'merge');

    assert.throws(() => store.replace('nodes', { ...stale, spec: { unschedulable: true } }), apiError(409, 'Conflict'));
    const fresh = store.get('nodes', undefined, 'node-a')!;
    const replaced = store.replace('nodes', { ...fresh, spec: { ...fresh.spec, unschedulable: true } });
    assert.equal(replaced.spec?.unschedulable, true);
  });

  it('bumps generation on a spec change only, and not at all on a no-op update', () => {
    const { store } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const rv = store.get('deployments', 'shop', 'web')!.metadata.resourceVersion;

    store.patch('deployments', 'shop', 'web', { metadata: { labels: { tier: 'front' } } }, 'merge');
    assert.equal(store.get('deployments', 'shop', 'web')!.metadata.generation, 1);
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 3 } }, 'merge');
    assert.equal(store.get('deployments', 'shop', 'web')!.metadata.generation, 2);

    const before = store.get('deployments', 'shop', 'web')!;
    const after = store.patch('deployments', 'shop', 'web', { spec: { replicas: 3 } }, 'merge');
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.notEqual(after.metadata.resourceVersion, rv);
  });

  it('answers NotFound for a missing object and AlreadyExists for a duplicate, with the API server wording', () => {
    const { store } = world();
    assert.throws(() => store.delete('pods', 'default', 'ghost'), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.status.message, 'pods "ghost" not found');
      assert.deepEqual(error.status.details, { name: 'ghost', kind: 'pods' });
      return true;
    });
    assert.throws(() => createNode(store, { name: 'node-a' }), apiError(409, 'AlreadyExists'));
    assert.throws(() => store.create('pods', { metadata: { name: 'x', namespace: 'nowhere' }, spec: { containers: [] } }), apiError(404, 'NotFound'));
  });

  it('tells listeners about every change in order, with the previous object for modifications', () => {
    const { store } = world();
    const seen: StoreEvent[] = [];
    store.on((event) => seen.push(event));
    store.patch('nodes', undefined, 'node-a', { spec: { unschedulable: true } }, 'strategic');
    store.delete('nodes', undefined, 'node-a');
    assert.deepEqual(seen.map((e) => `${e.type} ${e.resource}`), ['MODIFIED nodes', 'DELETED nodes']);
    assert.equal(seen[0]!.oldObject?.metadata.name, 'node-a');
    assert.equal((seen[0]!.object as { spec?: { unschedulable?: boolean } }).spec?.unschedulable, true);
  });
});

describe('KubeStore: selectors', () => {
  it('filters pods by spec.nodeName and by status.phase with = and !=', () => {
    const { store } = world();
    createPod(store, { namespace: 'default', name: 'on-a', nodeName: 'node-a' });
    createPod(store, { namespace: 'default', name: 'on-b', nodeName: 'node-b' });
    store.create('pods', { metadata: { name: 'done', namespace: 'default' }, spec: { containers: [], nodeName: 'node-a' }, status: { phase: 'Succeeded' } });

    const names = (fieldSelector: string) => store.list('pods', { fieldSelector }).map((p) => p.metadata.name);
    assert.deepEqual(names('spec.nodeName=node-a'), ['done', 'on-a']);
    assert.deepEqual(names('spec.nodeName==node-b'), ['on-b']);
    assert.deepEqual(names('spec.nodeName=node-a,status.phase!=Succeeded'), ['on-a']);
    assert.deepEqual(names('metadata.name=on-b,metadata.namespace=default'), ['on-b']);
    assert.deepEqual(names('spec.nodeName='), []);
  });

  it('rejects a field the resource does not index, as the API server does', () => {
    const { store } = world();
    assert.throws(() => store.list('pods', { fieldSelector: 'spec.priority=1' }), apiError(400, 'BadRequest'));
    assert.throws(() => store.list('nodes', { fieldSelector: 'spec.nodeName=x' }), apiError(400, 'BadRequest'));
  });

  it('filters by label selectors: equality, inequality, in, notin, exists and !key', () => {
    const { store } = world();
    createPod(store, { namespace: 'default', name: 'web', labels: { app: 'web', tier: 'front' } });
    createPod(store, { namespace: 'default', name: 'api', labels: { app: 'api', tier: 'back' } });
    createPod(store, { namespace: 'default', name: 'bare' });

    const names = (labelSelector: string) => store.list('pods', { labelSelector }).map((p) => p.metadata.name);
    assert.deepEqual(names('app=web'), ['web']);
    assert.deepEqual(names('app==api'), ['api']);
    assert.deepEqual(names('app!=web'), ['api', 'bare']); // != also matches a missing key
    assert.deepEqual(names('app in (web, api)'), ['api', 'web']);
    assert.deepEqual(names('app notin (web)'), ['api', 'bare']);
    assert.deepEqual(names('tier'), ['api', 'web']);
    assert.deepEqual(names('!tier'), ['bare']);
    assert.deepEqual(names('app in (web,api),tier=back'), ['api']);
    assert.throws(() => names('app in (web'), apiError(400, 'BadRequest'));
  });

  it('lists nodes by label', () => {
    const { store } = world();
    assert.deepEqual(store.list('nodes', { labelSelector: 'pool=green' }).map((n) => n.metadata.name), ['node-b']);
  });
});

describe('KubeStore: patches', () => {
  it('strategic merge replaces a node\'s taints list and merges its labels', () => {
    const { store } = world();
    store.patch('nodes', undefined, 'node-a', { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] } }, 'strategic');
    const patched = store.patch('nodes', undefined, 'node-a', { metadata: { labels: { extra: '1' } }, spec: { taints: [{ key: 'b', effect: 'NoExecute' }] } }, 'strategic');
    assert.deepEqual(patched.spec?.taints, [{ key: 'b', effect: 'NoExecute' }]);
    assert.equal(patched.metadata.labels?.['pool'], 'blue');
    assert.equal(patched.metadata.labels?.['extra'], '1');
  });

  it('strategic merge merges node conditions by type; merge patch would replace the list', () => {
    const { store } = world();
    const strategic = store.patch('nodes', undefined, 'node-a', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'strategic');
    assert.equal(strategic.status?.conditions?.length, 4);
    assert.equal(strategic.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const merge = store.patch('nodes', undefined, 'node-b', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'merge');
    assert.equal(merge.status?.conditions?.length, 1);
  });

  it('merge patch removes keys set to null', () => {
    const { store } = world();
    store.patch('nodes', undefined, 'node-a', { spec: { unschedulable: true } }, 'merge');
    const patched = store.patch('nodes', undefined, 'node-a', { spec: { unschedulable: null } }, 'merge');
    assert.equal(patched.spec?.unschedulable, undefined);
  });

  it('JSON patch adds, replaces, removes and tests, with ~1 escaping in pointers', () => {
    const { store } = world();
    const patched = store.patch(
      'nodes',
      undefined,
      'node-a',
      [
        { op: 'test', path: '/metadata/labels/pool', value: 'blue' },
        { op: 'add', path: '/metadata/labels/eks-node-lifecycle~1state', value: 'draining' },
        { op: 'replace', path: '/metadata/labels/pool', value: 'red' },
        { op: 'add', path: '/spec/taints', value: [] },
        { op: 'add', path: '/spec/taints/-', value: { key: 'x', effect: 'NoSchedule' } },
        { op: 'remove', path: '/metadata/labels/kubernetes.io~1os' },
      ],
      'json',
    );
    assert.equal(patched.metadata.labels?.['eks-node-lifecycle/state'], 'draining');
    assert.equal(patched.metadata.labels?.['pool'], 'red');
    assert.equal(patched.metadata.labels?.['kubernetes.io/os'], undefined);
    assert.deepEqual(patched.spec?.taints, [{ key: 'x', effect: 'NoSchedule' }]);
    assert.throws(() => store.patch('nodes', undefined, 'node-a', [{ op: 'test', path: '/metadata/labels/pool', value: 'blue' }], 'json'), apiError(422, 'Invalid'));
  });
});

describe('KubeStore: graceful pod deletion', () => {
  it('keeps a deleted pod with a deletionTimestamp until its grace period has passed on the virtual clock', async () => {
    // Prepare
    const { clock, store } = world();
    createPod(store, { namespace: 'default', name: 'slow', nodeName: 'node-a', terminationGracePeriodSeconds: 30 });
    const start = clock.now();

    // Act
    const deleted = store.delete('pods', 'default', 'slow');

    // Assess
    assert.equal(deleted.metadata.deletionGracePeriodSeconds, 30);
    assert.equal(Date.parse(deleted.metadata.deletionTimestamp!), start + 30_000);
    await clock.advance(29_000);
    assert.ok(store.get('pods', 'default', 'slow'), 'still terminating before the grace period ends');
    await clock.advance(1_000);
    assert.equal(store.get('pods', 'default', 'slow'), undefined);
  });

  it('a pod with a finalizer stays Terminating past its grace period, and goes when the last finalizer is removed', async () => {
    // Prepare
    const { clock, store } = world();
    createPod(store, { namespace: 'default', name: 'held', nodeName: 'node-a', terminationGracePeriodSeconds: 30 });
    store.update('pods', 'default', 'held', (pod) => {
      pod.metadata.finalizers = ['example.com/backup', 'example.com/audit'];
    });
    // Act
    store.delete('pods', 'default', 'held');
    await clock.advance(86_400_000);
    // Assess
    const stuck = store.get('pods', 'default', 'held');
    assert.ok(stuck, 'a day later, still there');
    assert.equal(stuck.metadata.deletionGracePeriodSeconds, 0, 'its containers stopped');
    store.update('pods', 'default', 'held', (pod) => {
      pod.metadata.finalizers = ['example.com/audit'];
    });
    assert.ok(store.get('pods', 'default', 'held'), 'one finalizer still holds it');
    store.update('pods', 'default', 'held', (pod) => {
      pod.metadata.finalizers = [];
    });
    assert.equal(store.get('pods', 'default', 'held'), undefined);
  });

  it('uses 30 s when the pod does not say, and the delete option when given', async () => {
    const { clock, store } = world();
    store.create('pods', { metadata: { name: 'plain', namespace: 'default' }, spec: { containers: [{ name: 'c' }], nodeName: 'node-a' }, status: { phase: 'Running' } });
    createPod(store, { namespace: 'default', name: 'custom', nodeName: 'node-a', terminationGracePeriodSeconds: 600 });

    assert.equal(store.delete('pods', 'default', 'plain').metadata.deletionGracePeriodSeconds, 30);
    assert.equal(store.delete('pods', 'default', 'custom', { gracePeriodSeconds: 5 }).metadata.deletionGracePeriodSeconds, 5);
    await clock.advance(5_000);
    assert.equal(store.get('pods', 'default', 'custom'), undefined);
    assert.ok(store.get('pods', 'default', 'plain'));
  });

  it('does not restart a terminating pod\'s grace period, but lets a shorter one cut it', async () => {
    const { clock, store } = world();
    createPod(store, { namespace: 'default', name: 'p', nodeName: 'node-a', terminationGracePeriodSeconds: 60 });
    const first = store.delete('pods', 'default', 'p');
    await clock.advance(10_000);

    const again = store.delete('pods', 'default', 'p', { gracePeriodSeconds: 120 });
    assert.equal(again.metadata.deletionTimestamp, first.metadata.deletionTimestamp);

    const shorter = store.delete('pods', 'default', 'p', { gracePeriodSeconds: 20 });
    assert.equal(shorter.metadata.deletionGracePeriodSeconds, 20);
    await clock.advance(10_000); // 20 s after the first delete
    assert.equal(store.get('pods', 'default', 'p'), undefined);
  });

  it('removes at once with grace 0, an unscheduled pod, and a finished pod', () => {
    const { store } = world();
    createPod(store, { namespace: 'default', name: 'forced', nodeName: 'node-a' });
    store.create('pods', { metadata: { name: 'unscheduled', namespace: 'default' }, spec: { containers: [{ name: 'c' }] } });
    store.create('pods', { metadata: { name: 'finished', namespace: 'default' }, spec: { containers: [{ name: 'c' }], nodeName: 'node-a' }, status: { phase: 'Succeeded' } });

    store.delete('pods', 'default', 'forced', { gracePeriodSeconds: 0 });
    store.delete('pods', 'default', 'unscheduled');
    store.delete('pods', 'default', 'finished');

    assert.deepEqual(store.list('pods', { namespace: 'default' }), []);
  });

  it('refuses a delete whose uid precondition does not match', () => {
    const { store } = world();
    createPod(store, { namespace: 'default', name: 'p', nodeName: 'node-a' });
    assert.throws(() => store.delete('pods', 'default', 'p', { preconditions: { uid: 'someone-else' } }), apiError(409, 'Conflict'));
  });
});
