import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { V1Node } from '../../shared/kube/api-types.js';
import { type NodeFact, type PodFact, indexNodes, judgeHealth } from '../../shared/rollout/health-gate.js';

/** The health gate a batch must pass before the next one starts, and the node index it reads. */
const A = 'i-0a00000001';
const B = 'i-0a00000002';

function k8sNode(name: string | undefined, providerID: string | undefined, over: { ready?: 'True' | 'False' | 'Unknown' | null; unschedulable?: boolean; taints?: { key: string; effect: string }[] } = {}): V1Node {
  const ready = over.ready === undefined ? 'True' : over.ready;
  return {
    ...(name !== undefined ? { metadata: { name } } : {}),
    spec: { ...(providerID !== undefined ? { providerID } : {}), ...(over.unschedulable !== undefined ? { unschedulable: over.unschedulable } : {}), ...(over.taints ? { taints: over.taints } : {}) },
    status: { conditions: ready === null ? [{ type: 'MemoryPressure', status: 'False' }] : [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] },
  };
}

const facts = (entries: [string, Partial<NodeFact>][]) => new Map(entries.map(([id, f]) => [id, { name: `ip-${id}`, ready: true, unschedulable: false, ...f }]));
const pod = (name: string, node: string, phase = 'Running', ready = true, namespace = 'web'): PodFact => ({ namespace, name, node, phase, ready });

describe('Rollout: health gate', () => {
  describe('indexNodes', () => {
    const table: [string, V1Node[], [string, NodeFact][]][] = [
      ['indexes a Ready node by the instance in its providerID', [k8sNode('ip-10-0-1-5', `aws:///eu-west-1a/${A}`)], [[A, { name: 'ip-10-0-1-5', ready: true, unschedulable: false, ourCordon: false }]]],
      ['records a cordoned node', [k8sNode('n1', `aws:///eu-west-1b/${B}`, { unschedulable: true })], [[B, { name: 'n1', ready: true, unschedulable: true, ourCordon: false }]]],
      ['Ready False is not ready', [k8sNode('n1', `aws:///eu-west-1a/${A}`, { ready: 'False' })], [[A, { name: 'n1', ready: false, unschedulable: false, ourCordon: false }]]],
      ['Ready Unknown (the kubelet stopped reporting) is not ready', [k8sNode('n1', `aws:///eu-west-1a/${A}`, { ready: 'Unknown' })], [[A, { name: 'n1', ready: false, unschedulable: false, ourCordon: false }]]],
      ['no Ready condition yet is not ready', [k8sNode('n1', `aws:///eu-west-1a/${A}`, { ready: null })], [[A, { name: 'n1', ready: false, unschedulable: false, ourCordon: false }]]],
      ['unschedulable false is schedulable', [k8sNode('n1', `aws:///eu-west-1a/${A}`, { unschedulable: false })], [[A, { name: 'n1', ready: true, unschedulable: false, ourCordon: false }]]],
      ['skips a node without providerID', [k8sNode('n1', undefined)], []],
      ['skips a node that is not an EC2 instance', [k8sNode('n1', 'kind://docker/kind/kind-worker'), k8sNode('n2', 'aws:///eu-west-1a/fargate-ip-10-0-1-5')], []],
      ['skips a node without a name', [k8sNode(undefined, `aws:///eu-west-1a/${A}`)], []],
      ['skips a providerID with something after the instance', [k8sNode('n1', `aws:///eu-west-1a/${A}/extra`)], []],
      ['indexes several nodes', [k8sNode('n1', `aws:///eu-west-1a/${A}`), k8sNode('n2', `aws:///eu-west-1b/${B}`, { ready: 'False' })], [[A, { name: 'n1', ready: true, unschedulable: false, ourCordon: false }], [B, { name: 'n2', ready: false, unschedulable: false, ourCordon: false }]]],
      ['the later of two nodes for one instance wins (a re-registered node)', [k8sNode('old-name', `aws:///eu-west-1a/${A}`, { ready: 'False' }), k8sNode('new-name', `aws:///eu-west-1a/${A}`)], [[A, { name: 'new-name', ready: true, unschedulable: false, ourCordon: false }]]],
      ['no nodes, empty index', [], []],
      [
        'tells our cordon (our NoSchedule taint) from anyone else\'s',
        [
          k8sNode('n1', `aws:///eu-west-1a/${A}`, { unschedulable: true, taints: [{ key: 'eks-node-lifecycle/draining', effect: 'NoSchedule' }] }),
          k8sNode('n2', `aws:///eu-west-1b/${B}`, { unschedulable: true, taints: [{ key: 'team/maintenance', effect: 'NoSchedule' }, { key: 'eks-node-lifecycle/draining', effect: 'NoExecute' }] }),
        ],
        [
          [A, { name: 'n1', ready: true, unschedulable: true, ourCordon: true }],
          [B, { name: 'n2', ready: true, unschedulable: true, ourCordon: false }],
        ],
      ],
    ];
    for (const [name, nodes, want] of table) {
      it(name, () => assert.deepEqual([...indexNodes(nodes)], want));
    }

    it('never throws on arbitrary node objects and only indexes i-… ids (property)', () => {
      fc.assert(
        fc.property(fc.array(fc.record({ metadata: fc.option(fc.record({ name: fc.option(fc.string(), { nil: undefined }) }), { nil: undefined }), spec: fc.option(fc.record({ providerID: fc.option(fc.oneof(fc.string(), fc.stringMatching(/^aws:\/\/\/[a-z0-9-]+\/i-[0-9a-f]{8,17}$/)), { nil: undefined }), unschedulable: fc.option(fc.boolean(), { nil: undefined }) }), { nil: undefined }) }), { maxLength: 10 }), (nodes) => {
          for (const [id, fact] of indexNodes(nodes as V1Node[])) {
            assert.match(id, /^i-[0-9a-f]+$/);
            assert.equal(typeof fact.name, 'string');
          }
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('judgeHealth', () => {
    const nodes = facts([[A, {}], [B, {}]]);

    const table: [string, string[], Map<string, NodeFact>, PodFact[], ReturnType<typeof judgeHealth>][] = [
      ['every node Ready and every pod Running and Ready: healthy', [A, B], nodes, [pod('a', `ip-${A}`), pod('b', `ip-${B}`)], { verdict: 'healthy', nodes: 2, pods: 2 }],
      ['new nodes with no pods yet: healthy', [A], nodes, [], { verdict: 'healthy', nodes: 1, pods: 0 }],
      ['finished Job pods are fine and not counted', [A], nodes, [pod('job-1', `ip-${A}`, 'Succeeded', false), pod('a', `ip-${A}`)], { verdict: 'healthy', nodes: 1, pods: 1 }],
      ['pods on other nodes do not matter', [A], nodes, [pod('a', `ip-${A}`), pod('broken', 'ip-elsewhere', 'Pending', false), pod('b', `ip-${B}`, 'Running', false)], { verdict: 'healthy', nodes: 1, pods: 1 }],
      ['an instance without a node: pending, naming it', [A, B], facts([[A, {}]]), [], { verdict: 'pending', reason: `no Ready node yet for ${B}` }],
      ['a node not Ready: pending', [A, B], facts([[A, {}], [B, { ready: false }]]), [], { verdict: 'pending', reason: `no Ready node yet for ${B}` }],
      ['a cordoned but Ready node is fine', [A], facts([[A, { unschedulable: true }]]), [], { verdict: 'healthy', nodes: 1, pods: 0 }],
      ['a Pending pod: pending, naming it and its phase', [A], nodes, [pod('a', `ip-${A}`), pod('b', `ip-${A}`, 'Pending', false)], { verdict: 'pending', reason: 'pods not Running/Ready on the new nodes: web/b (Pending)' }],
      ['a Running pod that is not Ready: pending', [A], nodes, [pod('b', `ip-${A}`, 'Running', false, 'api')], { verdict: 'pending', reason: 'pods not Running/Ready on the new nodes: api/b (Running)' }],
      ['a Failed pod (a finished Job pod) does not hold the gate', [A], nodes, [pod('c', `ip-${A}`, 'Failed', false)], { verdict: 'healthy', nodes: 1, pods: 0 }],
      ['a pod of Unknown phase: pending', [A], nodes, [pod('d', `ip-${A}`, 'Unknown', false)], { verdict: 'pending', reason: 'pods not Running/Ready on the new nodes: web/d (Unknown)' }],
      ['nodes are judged before pods', [A, B], facts([[A, {}]]), [pod('b', `ip-${A}`, 'Pending', false)], { verdict: 'pending', reason: `no Ready node yet for ${B}` }],
      ['no instances at all: vacuously healthy', [], nodes, [pod('a', `ip-${A}`, 'Pending', false)], { verdict: 'healthy', nodes: 0, pods: 0 }],
    ];
    for (const [name, ids, facts_, pods, want] of table) {
      it(name, () => assert.deepEqual(judgeHealth(ids, facts_, pods), want));
    }

    it('names five pods at most, then says how many more', () => {
      const pods = Array.from({ length: 8 }, (_, k) => pod(`p${k}`, `ip-${A}`, 'Pending', false));
      assert.deepEqual(judgeHealth([A], nodes, pods), { verdict: 'pending', reason: 'pods not Running/Ready on the new nodes: web/p0 (Pending), web/p1 (Pending), web/p2 (Pending), web/p3 (Pending), web/p4 (Pending) and 3 more' });
    });

    it('names five instances at most, then says how many more', () => {
      const ids = Array.from({ length: 7 }, (_, k) => `i-0b0000000${k}`);
      const verdict = judgeHealth(ids, new Map(), []);
      assert.equal(verdict.verdict, 'pending');
      assert.match((verdict as { reason: string }).reason, /i-0b00000004 and 2 more$/);
    });

    it('healthy exactly when every node is Ready and every unfinished pod on them is Running and Ready (property)', () => {
      const ids = [A, B];
      fc.assert(
        fc.property(
          fc.tuple(fc.boolean(), fc.boolean()),
          fc.array(fc.record({ node: fc.constantFrom(`ip-${A}`, `ip-${B}`, 'ip-other'), phase: fc.constantFrom('Running', 'Pending', 'Succeeded', 'Failed', 'Unknown'), ready: fc.boolean() }), { maxLength: 8 }),
          ([readyA, readyB], raw) => {
            const pods = raw.map((p, k) => pod(`p${k}`, p.node, p.phase, p.ready));
            const verdict = judgeHealth(ids, facts([[A, { ready: readyA }], [B, { ready: readyB }]]), pods);
            const mine = pods.filter((p) => p.node !== 'ip-other' && p.phase !== 'Succeeded' && p.phase !== 'Failed');
            const expectHealthy = readyA && readyB && mine.every((p) => p.phase === 'Running' && p.ready);
            assert.equal(verdict.verdict, expectHealthy ? 'healthy' : 'pending');
            if (verdict.verdict === 'healthy') assert.deepEqual(verdict, { verdict: 'healthy', nodes: 2, pods: mine.length });
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});
