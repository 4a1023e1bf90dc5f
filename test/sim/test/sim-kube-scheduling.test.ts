import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placePod } from '../kube/scheduling.js';
import type { KubeNode, Pod } from '../kube/types.js';

/** The sandbox scheduler's predicates a lost label or taint shows through: nodeSelector, NoSchedule/NoExecute taints. */
const node = (name: string, labels: Record<string, string>, taints: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[] = []): KubeNode =>
  ({
    metadata: { name, labels },
    spec: { providerID: `aws:///eu-west-1a/i-${name}`, ...(taints.length ? { taints } : {}) },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  }) as unknown as KubeNode;
const pod = (spec: Partial<Pod['spec']>): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], ...spec } }) as unknown as Pod;

describe('sandbox scheduler: nodeSelector and taints', () => {
  const gpu = node('gpu', { team: 'a', workload: 'gpu' }, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
  const plain = node('plain', { team: 'a' });
  const toleration = { key: 'dedicated', operator: 'Equal' as const, value: 'gpu', effect: 'NoSchedule' as const };

  it('places a pod only on a node whose labels satisfy its nodeSelector and whose taints it tolerates', () => {
    assert.deepEqual(placePod(pod({ nodeSelector: { workload: 'gpu' }, tolerations: [toleration] }), [plain, gpu], []), { placed: true, node: 'gpu' });
  });

  it('keeps a pod Pending when the label it selects is gone, saying why', () => {
    const placement = placePod(pod({ nodeSelector: { workload: 'gpu' }, tolerations: [toleration] }), [plain, node('gpu2', { team: 'a' })], []);
    assert.deepEqual(placement, { placed: false, message: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector." });
  });

  it('keeps pods without the toleration off a tainted node; PreferNoSchedule does not forbid', () => {
    assert.deepEqual(placePod(pod({}), [gpu], []), { placed: false, message: '0/1 nodes are available: 1 node(s) had untolerated taint(s).' });
    assert.deepEqual(placePod(pod({}), [node('soft', {}, [{ key: 'x', effect: 'PreferNoSchedule' }])], []), { placed: true, node: 'soft' });
    assert.deepEqual(placePod(pod({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), [gpu], []), { placed: true, node: 'gpu' });
    assert.deepEqual(placePod(pod({ tolerations: [{ ...toleration, value: 'cpu' }] }), [gpu], []).placed, false);
  });
});
