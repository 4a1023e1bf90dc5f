import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DrainRecord } from '../../shared/aws/drain-records.js';
import { decideUncordon } from '../../shared/drain/uncordon-node.js';
import type { V1Node } from '../../shared/kube/api-types.js';
import { EXCLUDE_FROM_LB_LABEL, planCordon } from '../../shared/kube/drain/cordon-node.js';

const TAINT = 'eks-node-lifecycle/draining';

function node(overrides: { unschedulable?: boolean; labels?: Record<string, string>; taints?: { key: string; effect: string; value?: string }[] } = {}): V1Node {
  return {
    metadata: { name: 'node-a', resourceVersion: '1', labels: { 'kubernetes.io/hostname': 'node-a', ...overrides.labels } },
    spec: { ...(overrides.unschedulable ? { unschedulable: true } : {}), ...(overrides.taints ? { taints: overrides.taints } : {}) },
  };
}

/** The node as a drain leaves it: cordonNode's patch applied (enough of a merge patch for it). */
function drained(before: V1Node): V1Node {
  const patch = planCordon(before, TAINT) as { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { unschedulable?: boolean; taints?: V1Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never } };
  return {
    metadata: { ...before.metadata, labels: { ...before.metadata?.labels, ...patch.metadata.labels }, annotations: { ...before.metadata?.annotations, ...patch.metadata.annotations } },
    spec: { ...before.spec, ...patch.spec },
  };
}

function record(status: DrainRecord['status']): DrainRecord {
  return { instanceId: 'i-0123456789abcdef0', cluster: 'prod', status, generation: 1, triggers: ['manual'], lifecycleActions: [], executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:node-drain:drain-i-0123456789abcdef0-1', revision: 3, updatedAt: '2026-12-07T08:00:00Z', expiresAt: 0 };
}

describe('Uncordon: the decision', () => {
  it('takes back the cordon, the label and the taint a drain added to a fresh node', () => {
    const decision = decideUncordon({ record: record('drained'), node: drained(node()), taintKey: TAINT });
    assert.equal(decision.decision, 'uncordon');
    assert.deepEqual(decision.decision === 'uncordon' && decision.takeBack, [`the taint ${TAINT}:NoSchedule`, 'the cordon (spec.unschedulable)', `the label ${EXCLUDE_FROM_LB_LABEL}`]);
    assert.deepEqual(decision.decision === 'uncordon' && decision.kept, []);
  });

  it('keeps a cordon and a label that were there before the drain', () => {
    const decision = decideUncordon({ record: record('drained'), node: drained(node({ unschedulable: true, labels: { [EXCLUDE_FROM_LB_LABEL]: 'maintenance' } })), taintKey: TAINT });
    assert.equal(decision.decision, 'uncordon');
    if (decision.decision !== 'uncordon') return;
    assert.deepEqual(decision.takeBack, [`the taint ${TAINT}:NoSchedule`]);
    assert.deepEqual(decision.kept, ['the cordon (spec.unschedulable): it was there before the drain', `the label ${EXCLUDE_FROM_LB_LABEL}: it was there before the drain`]);
  });

  it('refuses while a drain of the node is running, and when its owner cannot be said to have stopped', () => {
    for (const ownerRunning of [true, undefined]) {
      const decision = decideUncordon({ record: record('running'), ...(ownerRunning === undefined ? {} : { ownerRunning }), node: drained(node()), taintKey: TAINT });
      assert.equal(decision.decision, 'refuse');
      assert.match(decision.decision === 'refuse' ? decision.reason : '', /a drain of i-0123456789abcdef0 is running \(execution drain-i-0123456789abcdef0-1\)/);
    }
  });

  it('uncordons a node whose drain record says running but whose owner has stopped (a dead drain leaves the node cordoned)', () => {
    assert.equal(decideUncordon({ record: record('running'), ownerRunning: false, node: drained(node()), taintKey: TAINT }).decision, 'uncordon');
  });

  it('has nothing to do on a node no drain touched, whoever else cordoned it', () => {
    const decision = decideUncordon({ record: undefined, node: node({ unschedulable: true, taints: [{ key: 'dedicated', effect: 'NoSchedule' }] }), taintKey: TAINT });
    assert.deepEqual(decision, { decision: 'nothing-to-do', reason: 'nothing a drain added is on the node', kept: ['the cordon (spec.unschedulable): it was there before the drain'] });
  });

  it('has nothing to do when the node is gone', () => {
    assert.equal(decideUncordon({ record: record('drained'), node: undefined, taintKey: TAINT }).decision, 'nothing-to-do');
  });

  it('never takes back what was there before the drain (property)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (unschedulable, labelled, tainted) => {
        const before = node({ unschedulable, ...(labelled ? { labels: { [EXCLUDE_FROM_LB_LABEL]: 'x' } } : {}), ...(tainted ? { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] } : {}) });
        const decision = decideUncordon({ record: record('drained'), node: drained(before), taintKey: TAINT });
        assert.equal(decision.decision, 'uncordon');
        if (decision.decision !== 'uncordon') return;
        assert.equal(decision.takeBack.some((w) => w.startsWith('the cordon')), !unschedulable);
        assert.equal(decision.takeBack.some((w) => w.startsWith('the label')), !labelled);
        assert.ok(!decision.takeBack.some((w) => w.includes('dedicated')));
      }),
    );
  });
});
