import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { planTagging } from '../../shared/ownership/plan-tagging.js';
import { resolveCluster } from '../../shared/ownership/resolve-cluster.js';

describe('resolveCluster', () => {
  const cases: [string, Parameters<typeof resolveCluster>[0], Parameters<typeof resolveCluster>[1], ReturnType<typeof resolveCluster>][] = [
    ['the instance tag wins as the source', { instanceTags: { 'kubernetes.io/cluster/prod': 'owned' }, groupTags: { 'kubernetes.io/cluster/prod': 'owned' } }, '*', { decision: 'owned', cluster: 'prod', source: 'instance' }],
    ['a self-managed group tag', { instanceTags: {}, groupTags: { 'kubernetes.io/cluster/prod': 'owned' } }, '*', { decision: 'owned', cluster: 'prod', source: 'auto-scaling-group' }],
    ['a managed node group (eks:cluster-name)', { instanceTags: {}, groupTags: { 'eks:cluster-name': 'prod', 'eks:nodegroup-name': 'web' } }, '*', { decision: 'owned', cluster: 'prod', source: 'auto-scaling-group', nodegroup: 'web' }],
    ['the launch template', { instanceTags: {}, groupTags: {}, launchTemplateTags: { 'kubernetes.io/cluster/prod': 'shared' } }, '*', { decision: 'owned', cluster: 'prod', source: 'launch-template' }],
    ['no evidence', { instanceTags: { Name: 'x' }, groupTags: {} }, '*', { decision: 'ignore', reason: 'no cluster ownership tag on the instance, its Auto Scaling group or its launch template' }],
    ['a conflict', { instanceTags: { 'kubernetes.io/cluster/a': 'owned' }, groupTags: { 'kubernetes.io/cluster/b': 'owned' } }, '*', { decision: 'ignore', reason: 'conflicting cluster ownership: a, b' }],
    ['an unmanaged cluster', { instanceTags: {}, groupTags: { 'kubernetes.io/cluster/dev': 'owned' } }, ['prod'], { decision: 'ignore', reason: 'cluster dev is not managed by this deployment' }],
    ['a tag value other than owned/shared is no evidence', { instanceTags: { 'kubernetes.io/cluster/prod': 'nope' } }, '*', { decision: 'ignore', reason: 'no cluster ownership tag on the instance, its Auto Scaling group or its launch template' }],
  ];
  for (const [name, evidence, managed, expected] of cases) {
    it(`decides ${name}`, () => assert.deepEqual(resolveCluster(evidence, managed), expected));
  }

  it('never names a cluster that no source named, nor one outside the managed list', () => {
    const tags = fc.dictionary(
      fc.oneof(fc.constantFrom('kubernetes.io/cluster/a', 'kubernetes.io/cluster/b', 'eks:cluster-name', 'Name'), fc.string()),
      fc.oneof(fc.constantFrom('owned', 'shared', 'a', 'b', ' "', 'a/b'), fc.string()),
    );
    fc.assert(
      fc.property(tags, tags, tags, fc.constantFrom<'*' | string[]>('*', ['a'], ['b'], []), (i, g, l, managed) => {
        const d = resolveCluster({ instanceTags: i, groupTags: g, launchTemplateTags: l }, managed);
        if (d.decision === 'owned') {
          const named = [i, g, l].some((tags) => tags[`kubernetes.io/cluster/${d.cluster}`] !== undefined || tags['eks:cluster-name'] === d.cluster);
          assert.ok(named, `${d.cluster} was named by no source`);
          assert.match(d.cluster, /^[0-9A-Za-z][A-Za-z0-9_-]*$/);
          if (managed !== '*') assert.ok(managed.includes(d.cluster));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('planTagging', () => {
  it('tags an untagged instance and makes a self-managed group tag propagate', () => {
    assert.deepEqual(planTagging('prod', {}, { tags: { 'kubernetes.io/cluster/prod': 'owned' }, propagateAtLaunch: [], managedByEks: false }), {
      instanceTags: { 'kubernetes.io/cluster/prod': 'owned' },
      groupTag: { key: 'kubernetes.io/cluster/prod', value: 'owned' },
    });
  });
  it('plans nothing when both are already right (a repeated event writes nothing)', () => {
    assert.deepEqual(planTagging('prod', { 'kubernetes.io/cluster/prod': 'owned' }, { tags: { 'kubernetes.io/cluster/prod': 'owned' }, propagateAtLaunch: ['kubernetes.io/cluster/prod'], managedByEks: false }), { instanceTags: {} });
  });
  it('keeps an operator\'s shared value and leaves EKS-managed groups alone', () => {
    assert.deepEqual(planTagging('prod', { 'kubernetes.io/cluster/prod': 'shared' }, { tags: {}, propagateAtLaunch: [], managedByEks: true }), { instanceTags: {} });
  });
});
