import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '../../shared/kube/api-types.js';
import { clusterFacts, type ListedNode, MAX_SAMPLED_PODS, nextSamples, type RestartSample, sampleOf, windowStart } from '../../shared/fleet/cluster-facts.js';
import { judgeRecall, type RecallFacts } from '../../shared/fleet/recall.js';
import type { Release } from '../../shared/fleet/release.js';
import { DEFAULT_HEALTH_CRITERIA, evaluateHealth } from '../../shared/fleet/workload-health.js';

/** One cluster's facts for a release, from nodes and pods as the API lists them; and recalls. */
const NOW = new Date('2026-12-07T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const WINDOW = DEFAULT_HEALTH_CRITERIA.restarts.windowSeconds;

function node(name: string, instanceId: string, ready = true): ListedNode {
  const kube: V1Node = {
    metadata: { name, creationTimestamp: ago(7200) },
    spec: { providerID: `aws:///eu-west-1a/${instanceId}` },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ago(3600), reason: ready ? 'KubeletReady' : 'KubeletNotReady' }] },
  };
  return { node: kube, instanceId };
}

function pod(name: string, nodeName: string, over: { restarts?: number; crashLooping?: boolean; phase?: string; startedAgo?: number; uid?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: 'shop', uid: over.uid ?? `uid-${name}`, creationTimestamp: ago(over.startedAgo ?? 7200), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: name.replace(/-[^-]+$/, ''), uid: 'rs', controller: true }] },
    spec: { nodeName, containers: [{ name: 'app' }] },
    status: {
      phase: over.phase ?? 'Running',
      startTime: ago(over.startedAgo ?? 7200),
      containerStatuses: [
        {
          name: 'app',
          image: 'app:1',
          imageID: '',
          ready: !over.crashLooping,
          restartCount: over.restarts ?? 0,
          state: over.crashLooping ? { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' } } : { running: { startedAt: ago(3600) } },
        },
      ],
    },
  } as V1Pod;
}

const NODES = [node('old-1', 'i-old1'), node('old-2', 'i-old2'), node('new-1', 'i-new1'), node('new-2', 'i-new2')];
const RELEASE = [
  { instanceId: 'i-new1', launchTime: ago(7200), clusters: ['prod'] },
  { instanceId: 'i-new2', launchTime: ago(7200), clusters: ['prod'] },
];

function facts(pods: V1Pod[], over: Partial<Parameters<typeof clusterFacts>[0]> = {}) {
  return clusterFacts({ cluster: 'prod', nodes: NODES, pods, releaseInstances: RELEASE, samples: [], criteria: DEFAULT_HEALTH_CRITERIA, now: NOW, ...over });
}

describe('Fleet: a cluster\'s facts for a release', () => {
  it('splits nodes by the image their instance runs: new-image pods judged, old-image pods the baseline', () => {
    const { facts: f } = facts([pod('web-a', 'new-1', { restarts: 9, crashLooping: true }), pod('web-b', 'new-2'), pod('web-c', 'old-1', { restarts: 1 }), pod('web-d', 'old-2')]);
    assert.deepEqual(f.nodes.map((n) => n.name), ['new-1', 'new-2']);
    assert.deepEqual(f.pods.map((p) => [p.name, p.restarts, p.crashLooping]), [['web-a', 9, true], ['web-b', 0, false]]);
    assert.equal(f.baseline?.source, 'old-image-nodes');
    assert.deepEqual([f.baseline?.pods, f.baseline?.restarts], [2, 1]);
    const report = evaluateHealth({ ...f, alarms: [] }, DEFAULT_HEALTH_CRITERIA, NOW);
    assert.equal(report.verdict, 'regressed');
    assert.deepEqual(report.signals.find((s) => s.signal === 'crash-loops')?.evidence, ['shop/web-a on new-1']);
  });

  it('a release instance of the cluster with no Node after the grace is a join failure; a young one, another cluster\'s, or one with a Node is not', () => {
    const { facts: f } = facts([], {
      releaseInstances: [
        ...RELEASE,
        { instanceId: 'i-lost', launchTime: ago(DEFAULT_HEALTH_CRITERIA.notReadyGraceSeconds + 60), clusters: ['prod'] },
        { instanceId: 'i-young', launchTime: ago(60), clusters: ['prod'] },
        { instanceId: 'i-other', launchTime: ago(7200), clusters: ['staging'] },
      ],
    });
    assert.deepEqual(f.joinFailures.map((j) => j.instanceId), ['i-lost']);
    assert.match(f.joinFailures[0]!.reason, /no Node 11 min after launch/);
  });

  it('pods bound to a new node and not started are Pending facts; those on old nodes are not', () => {
    const { facts: f } = facts([pod('web-p', 'new-1', { phase: 'Pending', startedAgo: 900 }), pod('web-q', 'old-1', { phase: 'Pending' })]);
    assert.deepEqual(f.pending.map((p) => [p.name, p.node]), [['web-p', 'new-1']]);
    assert.deepEqual(f.pods, []);
  });

  it('counts restarts from a sample at least a window old, over each pod\'s life without one', () => {
    const pods = [pod('web-a', 'new-1', { restarts: 10 }), pod('web-b', 'new-2', { restarts: 4, startedAgo: 600 })];
    const young: RestartSample = { at: ago(WINDOW / 2), restarts: { 'uid-web-a': 9 } };
    const old: RestartSample = { at: ago(WINDOW + 60), restarts: { 'uid-web-a': 8 } };
    // no sample a window old: whole lives
    assert.deepEqual(facts(pods, { samples: [young] }).facts.pods.map((p) => [p.restarts, p.observedSeconds]), [[10, 7200], [4, 600]]);
    // from the old sample: web-a's 2 since then over the time since; web-b, absent and younger, all of its own
    const windowed = facts(pods, { samples: [old, young] });
    assert.deepEqual(windowed.facts.pods.map((p) => [p.restarts, p.observedSeconds]), [[2, WINDOW + 60], [4, 600]]);
    assert.match(windowed.restartWindow, /since .* \(a sample\)/);
  });

  it('keeps a sample every half window, dropping those older than the window\'s start; writes nothing in between', () => {
    const s = (secondsAgo: number): RestartSample => ({ at: ago(secondsAgo), restarts: {} });
    const current = s(0);
    assert.deepEqual(nextSamples([], current, WINDOW, NOW), [current]);
    assert.equal(nextSamples([s(60)], current, WINDOW, NOW), undefined);
    assert.deepEqual(nextSamples([s(WINDOW * 1.5), s(WINDOW)], current, WINDOW, NOW)?.map((x) => x.at), [ago(WINDOW), ago(0)]);
    assert.deepEqual(nextSamples([s(WINDOW * 1.2), s(WINDOW * 0.6)], current, WINDOW, NOW)?.map((x) => x.at), [ago(WINDOW * 1.2), ago(WINDOW * 0.6), ago(0)]);
    assert.equal(windowStart([s(WINDOW * 1.2), s(WINDOW * 0.6)], WINDOW, NOW)?.at, ago(WINDOW * 1.2));
    assert.equal(windowStart([s(WINDOW * 0.6)], WINDOW, NOW), undefined);
  });

  it('a sample keeps only restarted pods, by uid, and none when too many restarted to fit an item', () => {
    assert.deepEqual(sampleOf([pod('a', 'n', { restarts: 2 }), pod('b', 'n')], NOW)?.restarts, { 'uid-a': 2 });
    const many = Array.from({ length: MAX_SAMPLED_PODS + 1 }, (_, i) => pod(`p-${i}`, 'n', { restarts: 1 }));
    assert.equal(sampleOf(many, NOW), undefined);
  });
});

describe('Fleet: a release taken back', () => {
  const release: Release = { source: 'eks-optimized', identity: { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }, release: '1.31.3-20261201' };
  const parameter = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version';
  const image = { imageId: 'ami-1', found: true, deprecationTime: '2028-12-01T04:00:00.000Z' };
  const at = (recommended: string, place?: RecallFacts['place']): RecallFacts => ({ ...(place ? { place } : {}), parameter, recommended, images: [image] });

  it('recalled when the recommendation names an older release in every place asked', () => {
    const recall = judgeRecall(release, [at('1.31.3-20261115')], NOW);
    assert.equal(recall?.kind, 'recalled');
    assert.match(recall!.detail, /names 1\.31\.3-20261115 again \(the hub\), older than 1\.31\.3-20261201/);
    assert.equal(judgeRecall(release, [at('1.31.3-20261201')], NOW), undefined);
    assert.equal(judgeRecall(release, [at('1.31.3-20261215')], NOW), undefined, 'a newer recommendation supersedes, it does not recall');
    // a region AWS has not reached yet is not a recall
    assert.equal(judgeRecall(release, [at('1.31.3-20261201'), at('1.31.3-20261115', { accountId: '111122223333', region: 'eu-west-1' })], NOW), undefined);
  });

  it('deprecated when an image is past its DeprecationTime or gone; custom releases too', () => {
    const custom: Release = { source: 'custom', release: '1.4.2' };
    assert.equal(judgeRecall(custom, [{ images: [image] }], NOW), undefined);
    assert.deepEqual(judgeRecall(custom, [{ images: [{ ...image, deprecationTime: ago(60) }] }], NOW), { kind: 'deprecated', detail: `ami-1 (the hub) is deprecated since ${ago(60)}` });
    assert.equal(judgeRecall(release, [{ parameter, recommended: release.release, images: [{ imageId: 'ami-1', found: false }] }], NOW)?.kind, 'deprecated');
  });
});
