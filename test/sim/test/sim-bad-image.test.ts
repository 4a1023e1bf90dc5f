import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '../../../shared/kube/api-types.js';
import { KubeRestClient } from '../../../shared/kube/rest-client.js';
import { nodeSignalOf, podSignalOf } from '../../../shared/fleet/kube-signals.js';
import { baselineOf, DEFAULT_HEALTH_CRITERIA, evaluateHealth, type HealthFacts } from '../../../shared/fleet/workload-health.js';
import type { Place } from '../../../shared/aws/places.js';
import { releaseAmi } from '../aws/ami-catalogue.js';
import { createDaemonSet, createDeployment, createPdb } from '../kube/controllers.js';
import { crashLoopBackOffMs } from '../kube/crash-loops.js';
import type { Pod } from '../kube/types.js';
import { hasKubectl, kubectl } from '../kubectl.js';
import { World } from '../world.js';

/**
 * Images bad once their nodes join (`releaseAmi(…, { badFor })`, `world.markImageBad`): pods
 * crash-loop on their nodes with the kubelet's back-off, or the nodes never become Ready. The
 * product's readers (kube-signals.ts, workload-health.ts) are run on what the API server
 * answers, as the rollout's health gate reads it.
 */
const AL2023 = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id';

async function worldWithGroups(options: { members?: { accountId: string }[] } = {}) {
  const world = await World.start({ throttling: {}, ...options });
  await world.addCluster('prod');
  world.account.seedVpc();
  return world;
}

/** Two self-managed groups, `old` on the recommended image and `new` on `newImage`; their nodes carry `group: <name>`. */
async function twoGroups(world: World, newImage: string, place?: Place) {
  const account = place ? world.accountAt(place) : world.account;
  const good = account.ssm.value(AL2023)!;
  account.createSelfManagedGroup({ cluster: 'prod', name: 'old', imageId: good, desired: 2, labels: { group: 'old' } });
  account.createSelfManagedGroup({ cluster: 'prod', name: 'new', imageId: newImage, desired: 2, labels: { group: 'new' } });
  await world.run(3 * 60_000);
  return good;
}

/** A Deployment pinned to one group, with a budget, and agents on every node (one in kube-system). */
function workloads(world: World, place?: Place) {
  const { store } = world.cluster('prod', place);
  for (const group of ['old', 'new']) {
    createDeployment(store, { namespace: 'shop', name: `web-${group}`, replicas: 2, labels: { app: `web-${group}` }, nodeSelector: { group } });
    createPdb(store, { namespace: 'shop', name: `web-${group}`, selector: { app: `web-${group}` }, minAvailable: 1 });
  }
  createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
  createDaemonSet(store, { namespace: 'monitoring', name: 'agent', labels: { app: 'agent' } });
}

function podsOf(world: World, namespace: string, prefix: string, place?: Place): Pod[] {
  return world.cluster('prod', place).store.list('pods').filter((p) => p.metadata.namespace === namespace && p.metadata.name!.startsWith(prefix));
}

function nodeGroupOf(world: World, pod: Pod, place?: Place): string | undefined {
  return world.cluster('prod', place).store.get('nodes', undefined, pod.spec.nodeName!)?.metadata.labels?.['group'];
}

type Status = { ready: boolean; restartCount: number; state: { waiting?: { reason: string; message: string }; running?: unknown }; lastState?: { terminated?: { exitCode: number; reason: string; finishedAt: string } } };
const container = (pod: Pod) => pod.status!.containerStatuses![0] as unknown as Status;
const condition = (pod: Pod, type: string) => pod.status!.conditions!.find((c) => c.type === type);

/** The restarts the kubelet has made `elapsedMs` after a container's first exit: 10 s, 20 s, 40 s … 5 min apart. */
function restartsAfter(elapsedMs: number): number {
  let restarts = 0;
  for (let at = crashLoopBackOffMs(1); at <= elapsedMs; at += crashLoopBackOffMs(restarts + 1)) restarts++;
  return restarts;
}

/** A client as the product's (its REST client), reading the API's JSON. */
async function apiOf(world: World, place?: Place) {
  const cluster = world.cluster('prod', place);
  const token = JSON.parse(readFileSync(await world.writeKubeconfig('prod', place), 'utf8')).users[0].user.token as string;
  const client = new KubeRestClient({ endpoint: cluster.endpoint, caData: cluster.caData, token: () => token });
  return {
    nodes: async () => (await client.send<{ items: V1Node[] }>({ method: 'GET', path: '/api/v1/nodes' })).items,
    pods: async () => (await client.send<{ items: V1Pod[] }>({ method: 'GET', path: '/api/v1/pods' })).items,
  };
}

/** The health gate's judgement of the nodes labelled `group` (the pods on the others as baseline), from the API's JSON. */
async function judge(world: World, group: string, place?: Place) {
  const api = await apiOf(world, place);
  const now = world.clock.date();
  const nodes = (await api.nodes()).filter((n) => n.metadata?.labels?.['group'] === group);
  const names = new Set(nodes.map((n) => n.metadata!.name!));
  const pods = (await api.pods()).filter((p) => p.status?.phase === 'Running');
  const facts: HealthFacts = {
    nodes: nodes.map(nodeSignalOf),
    joinFailures: [],
    pods: pods.filter((p) => names.has(p.spec!.nodeName!)).map((p) => podSignalOf(p, now)),
    baseline: baselineOf(pods.filter((p) => !names.has(p.spec!.nodeName!)).map((p) => podSignalOf(p, now))),
    pending: [],
    evictionFailures: [],
    alarms: [],
  };
  return evaluateHealth(facts, DEFAULT_HEALTH_CRITERIA, now);
}

describe('Sandbox: an image bad for workloads', () => {
  it('crash-loops the pods on its nodes only, restarting them with the kubelet back-off on the virtual clock', async (t) => {
    // Prepare
    const world = await worldWithGroups();
    t.after(() => world.stop());
    const bad = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false, badFor: 'workloads' }).image.ImageId!;
    await twoGroups(world, bad);
    // Act
    workloads(world);
    await world.settle();
    const [first] = podsOf(world, 'shop', 'web-new');
    const firstExit = Date.parse(container(first!).lastState!.terminated!.finishedAt);
    const counts: [number, number][] = [];
    for (const elapsed of [9_000, 10_000, 29_000, 30_000, 70_000, 150_000, 310_000, 610_000, 910_000]) {
      await world.settle(firstExit + elapsed);
      counts.push([elapsed, container(podsOf(world, 'shop', 'web-new').find((p) => p.metadata.uid === first!.metadata.uid)!).restartCount]);
    }
    // Assess
    assert.deepEqual(counts.map(([, n]) => n), [0, 1, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(counts.map(([elapsed]) => restartsAfter(elapsed)), [0, 1, 1, 2, 3, 4, 5, 6, 7]);
    for (const pod of podsOf(world, 'shop', 'web-new')) {
      const status = container(pod);
      assert.equal(pod.status!.phase, 'Running', 'restartPolicy Always: the pod stays Running');
      assert.equal(status.state.waiting?.reason, 'CrashLoopBackOff');
      assert.match(status.state.waiting!.message, /^back-off 5m0s restarting failed container=app pod=web-new-\S+_shop\(.+\)$/);
      assert.equal(status.lastState!.terminated!.exitCode, 1);
      assert.equal(status.lastState!.terminated!.reason, 'Error');
      assert.equal(status.ready, false);
      assert.equal(condition(pod, 'Ready')!.status, 'False');
      assert.equal(condition(pod, 'Ready')!.reason, 'ContainersNotReady');
      assert.equal(condition(pod, 'ContainersReady')!.status, 'False');
      assert.equal(nodeGroupOf(world, pod), 'new');
    }
    for (const pod of [...podsOf(world, 'shop', 'web-old'), ...podsOf(world, 'kube-system', 'aws-node')]) {
      assert.equal(container(pod).state.running !== undefined && container(pod).ready && container(pod).restartCount === 0, true, `${pod.metadata.name} runs`);
      assert.equal(condition(pod, 'Ready')!.status, 'True');
    }
    const agents = podsOf(world, 'monitoring', 'agent');
    assert.deepEqual(agents.map((p) => [nodeGroupOf(world, p), container(p).state.waiting?.reason ?? 'Running']).sort(), [['new', 'CrashLoopBackOff'], ['new', 'CrashLoopBackOff'], ['old', 'Running'], ['old', 'Running']]);
    // the controllers count them as the real ones do
    const { store } = world.cluster('prod');
    assert.equal(store.get('deployments', 'shop', 'web-new')!.status?.readyReplicas, 0);
    assert.equal(store.get('deployments', 'shop', 'web-old')!.status?.readyReplicas, 2);
    assert.deepEqual([store.get('poddisruptionbudgets', 'shop', 'web-new')!.status?.currentHealthy, store.get('poddisruptionbudgets', 'shop', 'web-new')!.status?.disruptionsAllowed], [0, 0]);
    assert.deepEqual([store.get('poddisruptionbudgets', 'shop', 'web-old')!.status?.currentHealthy, store.get('poddisruptionbudgets', 'shop', 'web-old')!.status?.disruptionsAllowed], [2, 1]);
  });

  it('is a regression to the product\'s health readers, and its previous image is healthy', async (t) => {
    // Prepare
    const world = await worldWithGroups();
    t.after(() => world.stop());
    const bad = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false, badFor: 'workloads' }).image.ImageId!;
    await twoGroups(world, bad);
    workloads(world);
    // Act: a soak of 40 minutes
    await world.run(40 * 60_000);
    const onBad = await judge(world, 'new');
    const onGood = await judge(world, 'old');
    // Assess
    const status = (report: typeof onBad) => Object.fromEntries(report.signals.map((s) => [s.signal, s.status]));
    assert.equal(onBad.verdict, 'regressed');
    assert.equal(status(onBad)['crash-loops'], 'regressed');
    assert.equal(status(onBad)['restart-rate'], 'regressed');
    assert.equal(onBad.signals.find((s) => s.signal === 'crash-loops')!.seen, 4, 'two web-new pods and two agents; aws-node (kube-system) is spared');
    assert.equal(status(onBad)['nodes-not-ready'], 'ok');
    assert.equal(onGood.verdict, 'healthy', JSON.stringify(onGood.signals));
  });

  it('marked bad later, crashes the pods already running on its nodes (those it selects), in a member account too', async (t) => {
    // Prepare
    const member: Place = { accountId: '444455556666', region: 'eu-west-1' };
    const world = await World.start({ throttling: {}, members: [{ accountId: member.accountId }] });
    t.after(() => world.stop());
    await world.addCluster('prod', { place: member });
    world.accountAt(member).seedVpc();
    const image = releaseAmi(world.accountAt(member), { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false }).image.ImageId!;
    await twoGroups(world, image, member);
    workloads(world, member);
    await world.settle();
    const before = podsOf(world, 'shop', 'web-new', member).map((p) => container(p).state.running !== undefined);
    // Act
    world.markImageBad(image, { for: 'workloads', podSelector: { matchLabels: { app: 'web-new' } }, exitCode: 137 }, member);
    await world.run(60_000);
    // Assess
    assert.deepEqual(before, [true, true], 'healthy until marked');
    assert.throws(() => world.markImageBad('ami-0123456789abcdef0', 'workloads', member), /no such image/);
    for (const pod of podsOf(world, 'shop', 'web-new', member)) {
      assert.equal(container(pod).state.waiting?.reason, 'CrashLoopBackOff');
      assert.equal(container(pod).lastState!.terminated!.exitCode, 137);
      assert.equal(container(pod).restartCount, restartsAfter(60_000));
    }
    for (const pod of [...podsOf(world, 'shop', 'web-old', member), ...podsOf(world, 'monitoring', 'agent', member)]) {
      assert.ok(container(pod).ready && container(pod).restartCount === 0, `${pod.metadata.name} on ${nodeGroupOf(world, pod, member)} is not selected or not on the image`);
    }
    assert.equal((await judge(world, 'new', member)).signals.find((s) => s.signal === 'crash-loops')!.status, 'regressed');
  });

  it('shows CrashLoopBackOff and the restarts in kubectl get pods', async (t) => {
    if (!(await hasKubectl())) return t.skip('kubectl is not installed');
    // Prepare
    const world = await worldWithGroups();
    t.after(() => world.stop());
    const bad = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false, badFor: { for: 'workloads', namespaces: ['shop'] } }).image.ImageId!;
    await twoGroups(world, bad);
    workloads(world);
    await world.run(75_000);
    // Act
    const out = await kubectl(['get', 'pods', '-n', 'shop', '--no-headers'], { kubeconfig: await world.writeKubeconfig('prod'), timeoutMs: 60_000 });
    // Assess
    assert.equal(out.exitCode, 0, out.stderr);
    const rows = out.stdout.trim().split('\n').map((line) => line.split(/\s{2,}/));
    const newPods = rows.filter(([name]) => name!.startsWith('web-new-'));
    assert.equal(newPods.length, 2);
    for (const [, ready, status, restarts] of newPods) {
      assert.equal(ready, '0/1');
      assert.equal(status, 'CrashLoopBackOff');
      assert.match(restarts!, /^3 \(\d+s ago\)$/);
    }
    assert.ok(rows.filter(([name]) => name!.startsWith('web-old-')).every(([, ready, status, restarts]) => ready === '1/1' && status === 'Running' && restarts === '0'));
  });
});

describe('Sandbox: an image bad for nodes', () => {
  it('registers nodes that never become Ready (unlike a broken bootstrap), leaving their pods Pending and unschedulable', async (t) => {
    // Prepare
    const world = await worldWithGroups();
    t.after(() => world.stop());
    const bad = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false, badFor: 'nodes' }).image.ImageId!;
    await twoGroups(world, bad);
    const { store } = world.cluster('prod');
    createDeployment(store, { namespace: 'shop', name: 'web-new', replicas: 1, labels: { app: 'web-new' }, nodeSelector: { group: 'new' } });
    // Act
    await world.run(20 * 60_000);
    const report = await judge(world, 'new');
    // Assess
    const nodes = store.list('nodes').filter((n) => n.metadata.labels?.['group'] === 'new');
    assert.equal(nodes.length, 2, 'the kubelets registered');
    for (const node of nodes) {
      const ready = node.status!.conditions!.find((c) => c.type === 'Ready')!;
      assert.deepEqual([ready.status, ready.reason], ['False', 'KubeletNotReady']);
      assert.match(ready.message!, /cni plugin not initialized/);
      assert.equal(ready.lastTransitionTime, node.metadata.creationTimestamp, 'never Ready since it registered');
    }
    assert.ok(world.account.kubeletNotes.filter((n) => n.joined).length >= 4);
    const [pending] = podsOf(world, 'shop', 'web-new');
    assert.equal(pending!.status!.phase, 'Pending');
    assert.deepEqual([condition(pending!, 'PodScheduled')!.status, condition(pending!, 'PodScheduled')!.reason], ['False', 'Unschedulable']);
    assert.equal(report.verdict, 'regressed');
    assert.equal(report.signals.find((s) => s.signal === 'nodes-not-ready')!.seen, 2);
  });

  it('marked bad later, turns its Ready nodes NotReady with the message given', async (t) => {
    // Prepare
    const world = await worldWithGroups();
    t.after(() => world.stop());
    const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false }).image.ImageId!;
    await twoGroups(world, image);
    const { store } = world.cluster('prod');
    const readiness = (group: string) => store.list('nodes').filter((n) => n.metadata.labels?.['group'] === group).map((n) => n.status!.conditions!.find((c) => c.type === 'Ready')!);
    const before = readiness('new').map((c) => c.status);
    // Act
    world.markImageBad(image, { for: 'nodes', message: 'PLEG is not healthy: pleg was last seen active 3m0s ago; threshold is 3m0s' });
    await world.run(60_000);
    // Assess
    assert.deepEqual(before, ['True', 'True']);
    assert.deepEqual(readiness('new').map((c) => [c.status, c.reason, c.message]), [
      ['False', 'KubeletNotReady', 'PLEG is not healthy: pleg was last seen active 3m0s ago; threshold is 3m0s'],
      ['False', 'KubeletNotReady', 'PLEG is not healthy: pleg was last seen active 3m0s ago; threshold is 3m0s'],
    ]);
    assert.deepEqual(readiness('old').map((c) => c.status), ['True', 'True']);
  });
});
