import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../clock.js';
import { createDaemonSet, createDeployment, createNode, createPdb, setNodeReady, startControllers } from '../kube/controllers.js';
import { evictPod } from '../kube/eviction.js';
import { KubeStore } from '../kube/store.js';
import { isPodActive, isPodReady, type Pod } from '../kube/types.js';

function world() {
  const clock = new VirtualClock();
  const store = new KubeStore(clock);
  createNode(store, { name: 'node-a' });
  createNode(store, { name: 'node-b' });
  const stop = startControllers(store, clock);
  return { clock, store, stop };
}

function webPods(store: KubeStore): Pod[] {
  return store.list('pods', { namespace: 'shop', labelSelector: 'app=web' });
}

function cordon(store: KubeStore, node: string): void {
  store.patch('nodes', undefined, node, { spec: { unschedulable: true } }, 'strategic');
}

describe('Controllers: ReplicaSet', () => {
  it('replaces an evicted pod on a schedulable node, Running and Ready after the startup delay, never on the cordoned one', async () => {
    // Prepare
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 4, labels: { app: 'web' } });
    createPdb(store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
    cordon(store, 'node-a');
    const before = new Set(webPods(store).map((p) => p.metadata.name));
    const evicted = webPods(store).find((p) => p.spec.nodeName === 'node-a')!;

    // Act
    evictPod(store, 'shop', evicted.metadata.name!, {});
    await clock.advance(0);

    // Assess: a replacement exists at once, bound to node-b, not yet ready
    const replacement = webPods(store).find((p) => !before.has(p.metadata.name));
    assert.ok(replacement, 'a replacement pod was created');
    assert.equal(replacement.spec.nodeName, 'node-b');
    assert.equal(replacement.status?.phase, 'Pending');
    assert.deepEqual(replacement.metadata.ownerReferences, evicted.metadata.ownerReferences);
    assert.equal(replacement.metadata.labels?.['app'], 'web');

    await clock.advance(5_000);
    const started = store.get('pods', 'shop', replacement.metadata.name!)!;
    assert.equal(started.status?.phase, 'Running');
    assert.ok(isPodReady(started));
    assert.equal(store.get('poddisruptionbudgets', 'shop', 'web')!.status!.disruptionsAllowed, 1, 'the budget recovers');

    await clock.settle();
    const after = webPods(store);
    assert.equal(after.length, 4);
    assert.equal(store.get('pods', 'shop', evicted.metadata.name!), undefined, 'the evicted pod is gone after its grace period');
    assert.ok(after.filter((p) => !before.has(p.metadata.name)).every((p) => p.spec.nodeName === 'node-b'));
    stop();
  });

  it('keeps a replacement Pending while every node is cordoned and schedules it once one is uncordoned', async () => {
    const { clock, store, stop } = world();
    const { pods } = createDeployment(store, { namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    cordon(store, 'node-a');
    cordon(store, 'node-b');

    store.delete('pods', 'shop', pods[0]!.metadata.name!);
    await clock.advance(10_000);
    const pending = webPods(store).find(isPodActive)!;
    assert.equal(pending.spec.nodeName, undefined);
    assert.equal(pending.status?.phase, 'Pending');
    const scheduled = pending.status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.equal(scheduled?.reason, 'Unschedulable');
    assert.match(scheduled?.message ?? '', /0\/2 nodes are available: 2 node\(s\) were unschedulable/);

    store.patch('nodes', undefined, 'node-b', { spec: { unschedulable: null } }, 'merge');
    await clock.advance(5_000);
    const running = store.get('pods', 'shop', pending.metadata.name!)!;
    assert.equal(running.spec.nodeName, 'node-b');
    assert.equal(running.status?.phase, 'Running');
    stop();
  });

  it('does not schedule on a NotReady node nor on one with an untolerated NoSchedule taint', async () => {
    const { clock, store, stop } = world();
    createNode(store, { name: 'node-c', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    setNodeReady(store, 'node-a', false);
    const { pods } = createDeployment(store, { namespace: 'shop', name: 'web', replicas: 3, labels: { app: 'web' } });
    assert.ok(pods.every((p) => p.spec.nodeName === 'node-b'));

    store.delete('pods', 'shop', pods[0]!.metadata.name!, { gracePeriodSeconds: 0 });
    await clock.settle();
    assert.ok(webPods(store).every((p) => p.spec.nodeName === 'node-b'));
    stop();
  });

  it('follows a Deployment scaled up or down', async () => {
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    store.patch('deployments', 'shop', 'web', { spec: { replicas: 5 } }, 'merge');
    await clock.settle();
    assert.equal(webPods(store).filter(isPodReady).length, 5);
    assert.equal(store.get('deployments', 'shop', 'web')!.status?.readyReplicas, 5);

    store.patch('deployments', 'shop', 'web', { spec: { replicas: 1 } }, 'merge');
    await clock.settle();
    assert.equal(webPods(store).length, 1);
    stop();
  });
});

describe('Controllers: nodes', () => {
  it('when a Node is deleted, removes its pods at once and reschedules them elsewhere', async () => {
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 4, labels: { app: 'web' } });
    assert.equal(webPods(store).filter((p) => p.spec.nodeName === 'node-a').length, 2);

    store.delete('nodes', undefined, 'node-a');
    await clock.advance(0);
    assert.equal(webPods(store).filter((p) => p.spec.nodeName === 'node-a').length, 0);
    await clock.advance(5_000);
    const pods = webPods(store);
    assert.equal(pods.length, 4);
    assert.ok(pods.every((p) => p.spec.nodeName === 'node-b' && isPodReady(p)));
    stop();
  });

  it('taints a cordoned node node.kubernetes.io/unschedulable:NoSchedule and removes the taint on uncordon', async () => {
    const { clock, store, stop } = world();
    cordon(store, 'node-a');
    await clock.advance(0);
    assert.deepEqual(store.get('nodes', undefined, 'node-a')!.spec?.taints, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
    store.patch('nodes', undefined, 'node-a', { spec: { unschedulable: false } }, 'strategic');
    await clock.advance(0);
    assert.equal(store.get('nodes', undefined, 'node-a')!.spec?.taints, undefined);
    stop();
  });

  it('marks pods of a NotReady node unready, and evicts them once their 300 s not-ready toleration runs out', async () => {
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    const onA = webPods(store).find((p) => p.spec.nodeName === 'node-a')!;

    setNodeReady(store, 'node-a', false);
    await clock.advance(0);
    assert.equal(isPodReady(store.get('pods', 'shop', onA.metadata.name!)!), false);
    await clock.advance(299_000);
    assert.equal(store.get('pods', 'shop', onA.metadata.name!)!.metadata.deletionTimestamp, undefined);
    await clock.advance(1_000);
    assert.ok(store.get('pods', 'shop', onA.metadata.name!)!.metadata.deletionTimestamp);
    stop();
  });
});

describe('Controllers: DaemonSet', () => {
  it('runs one pod per Ready node, including cordoned nodes, and adds one when a node joins', async () => {
    const { clock, store, stop } = world();
    cordon(store, 'node-b');
    const { pods } = createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['node-a', 'node-b']);
    assert.equal(pods[0]!.metadata.ownerReferences?.[0]?.kind, 'DaemonSet');

    createNode(store, { name: 'node-c' });
    createNode(store, { name: 'node-d', ready: false });
    await clock.settle();
    const daemons = store.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=aws-node' });
    assert.deepEqual(daemons.map((p) => p.spec.nodeName).sort(), ['node-a', 'node-b', 'node-c']);
    assert.ok(daemons.every(isPodReady));
    const status = store.get('daemonsets', 'kube-system', 'aws-node')!.status!;
    assert.equal(status.numberReady, 3);

    setNodeReady(store, 'node-d', true);
    await clock.settle();
    assert.equal(store.list('pods', { namespace: 'kube-system', fieldSelector: 'spec.nodeName=node-d' }).length, 1);
    stop();
  });
});

describe('Controllers: garbage collection', () => {
  it('deletes the ReplicaSet and pods of a deleted Deployment', async () => {
    const { clock, store, stop } = world();
    createDeployment(store, { namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    store.delete('deployments', 'shop', 'web');
    await clock.settle();
    assert.deepEqual(store.list('replicasets', { namespace: 'shop' }), []);
    assert.deepEqual(webPods(store), []);
    stop();
  });
});
