import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { V1OwnerReference, V1Pod } from '../../shared/kube/api-types.js';
import { filterPod, selectPodsToDrain } from '../../shared/kube/drain/pod-filters.js';

const owner = (kind: string, controller = true): V1OwnerReference => ({ apiVersion: kind === 'Node' ? 'v1' : 'apps/v1', kind, name: `${kind.toLowerCase()}-1`, uid: `uid-${kind}`, controller });

function pod(name: string, options: { owners?: V1OwnerReference[]; annotations?: Record<string, string>; phase?: string; deleting?: boolean; emptyDir?: boolean } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      ...(options.owners ? { ownerReferences: options.owners } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
      ...(options.deleting ? { deletionTimestamp: '2026-11-21T09:00:30Z', deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: { containers: [{ name: 'app' }], nodeName: 'node-a', ...(options.emptyDir ? { volumes: [{ name: 'tmp', emptyDir: {} }] } : {}) },
    status: { phase: options.phase ?? 'Running' },
  };
}

const MIRROR = { 'kubernetes.io/config.mirror': 'abc123' };

describe('Drain: pod filters', () => {
  const table: { case: string; pod: V1Pod; expected: ReturnType<typeof filterPod> }[] = [
    { case: 'a DaemonSet pod is skipped', pod: pod('aws-node-x', { owners: [owner('DaemonSet')] }), expected: { action: 'skip', reason: 'daemonset' } },
    { case: 'a mirror pod is skipped', pod: pod('etcd-node-a', { owners: [owner('Node')], annotations: MIRROR }), expected: { action: 'skip', reason: 'mirror' } },
    { case: 'a Succeeded pod is skipped', pod: pod('job-1', { owners: [owner('Job')], phase: 'Succeeded' }), expected: { action: 'skip', reason: 'finished' } },
    { case: 'a Failed pod is skipped', pod: pod('job-2', { owners: [owner('Job')], phase: 'Failed' }), expected: { action: 'skip', reason: 'finished' } },
    { case: 'a finished DaemonSet pod is a DaemonSet pod first, as in kubectl', pod: pod('ds-done', { owners: [owner('DaemonSet')], phase: 'Failed' }), expected: { action: 'skip', reason: 'daemonset' } },
    { case: 'a ReplicaSet pod is evicted', pod: pod('web-1', { owners: [owner('ReplicaSet')] }), expected: { action: 'evict' } },
    { case: 'a bare pod is evicted (no controller: unlike kubectl without --force)', pod: pod('debug'), expected: { action: 'evict' } },
    { case: 'an emptyDir pod is evicted (unlike kubectl without --delete-emptydir-data)', pod: pod('scratch', { owners: [owner('ReplicaSet')], emptyDir: true }), expected: { action: 'evict' } },
    { case: 'a pod a DaemonSet owns without controlling it is evicted', pod: pod('adopted', { owners: [owner('DaemonSet', false)] }), expected: { action: 'evict' } },
    { case: 'a Pending pod is evicted', pod: pod('new', { owners: [owner('ReplicaSet')], phase: 'Pending' }), expected: { action: 'evict' } },
  ];
  for (const row of table) {
    it(row.case, () => assert.deepEqual(filterPod(row.pod), row.expected));
  }

  it('sorts a node’s pods into evict, skipped and terminating', () => {
    const terminating = pod('web-old', { owners: [owner('ReplicaSet')], deleting: true });
    const selection = selectPodsToDrain([
      pod('web-1', { owners: [owner('ReplicaSet')] }),
      pod('aws-node-x', { owners: [owner('DaemonSet')] }),
      terminating,
      pod('etcd', { annotations: MIRROR }),
      pod('debug'),
    ]);
    assert.deepEqual(selection.evict.map((p) => p.metadata?.name), ['web-1', 'debug']);
    assert.deepEqual(selection.terminating, [terminating]);
    assert.deepEqual(selection.skipped, [
      { pod: { namespace: 'shop', name: 'aws-node-x', uid: 'uid-aws-node-x' }, reason: 'daemonset' },
      { pod: { namespace: 'shop', name: 'etcd', uid: 'uid-etcd' }, reason: 'mirror' },
    ]);
  });

  it('never selects a DaemonSet, mirror or finished pod, and selects every other pod not already terminating', () => {
    const arbitraryPod = fc.record({
      // Kubernetes allows at most one controller among a pod's owners
      owners: fc
        .array(fc.record({ kind: fc.constantFrom('DaemonSet', 'ReplicaSet', 'StatefulSet', 'Job', 'Node', 'Rollout'), controller: fc.boolean() }), { maxLength: 3 })
        .map((owners) => owners.map((o, i) => ({ ...o, controller: o.controller && owners.findIndex((x) => x.controller) === i }))),
      mirror: fc.boolean(),
      otherAnnotation: fc.boolean(),
      phase: fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', undefined),
      deleting: fc.boolean(),
      emptyDir: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(arbitraryPod, { maxLength: 30 }), (specs) => {
        const pods = specs.map((spec, i) => {
          const p = pod(`p-${i}`, {
            owners: spec.owners.map((o) => owner(o.kind, o.controller)),
            annotations: { ...(spec.mirror ? MIRROR : {}), ...(spec.otherAnnotation ? { 'prometheus.io/scrape': 'true' } : {}) },
            deleting: spec.deleting,
            emptyDir: spec.emptyDir,
          });
          p.status = spec.phase === undefined ? {} : { phase: spec.phase };
          return p;
        });
        const selection = selectPodsToDrain(pods);
        const kept = (spec: (typeof specs)[number]) =>
          spec.owners.some((o) => o.kind === 'DaemonSet' && o.controller) || spec.mirror || spec.phase === 'Succeeded' || spec.phase === 'Failed';
        const expectedEvict = pods.filter((_, i) => !kept(specs[i]!) && !specs[i]!.deleting);
        const expectedTerminating = pods.filter((_, i) => !kept(specs[i]!) && specs[i]!.deleting);
        assert.deepEqual(selection.evict, expectedEvict);
        assert.deepEqual(selection.terminating, expectedTerminating);
        assert.equal(selection.skipped.length, specs.filter(kept).length);
        // every pod lands in exactly one place
        assert.equal(selection.evict.length + selection.terminating.length + selection.skipped.length, pods.length);
      }),
      { numRuns: 5_000 },
    );
  });
});
