import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GroupSnapshot } from '../../shared/aws/auto-scaling-groups.js';
import { joinExecutionName, type LaunchFacts, planLaunch, planTagging } from '../../shared/ownership/plan-tagging.js';
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

describe('planLaunch', () => {
  const ID = 'i-1234567890abcdef0';
  const instance = (state = 'running', tags: Record<string, string> = {}) => ({ instanceId: ID, state, tags });
  const owned = { decision: 'owned' as const, cluster: 'prod', source: 'auto-scaling-group' as const };
  const group: GroupSnapshot = {
    name: 'workers',
    desired: 1,
    min: 0,
    max: 2,
    suspendedProcesses: [],
    tags: { 'kubernetes.io/cluster/prod': 'owned' },
    propagateAtLaunch: [],
    subnetIds: [],
    instances: [{ instanceId: ID, availabilityZone: 'eu-west-1a', lifecycleState: 'Pending:Wait', healthStatus: 'Healthy' }],
  };
  const action = { autoScalingGroupName: 'workers', lifecycleHookName: 'eks-node-lifecycle-launch', lifecycleActionToken: 'token-1', instanceId: ID };
  const launchHook = { action, openedAt: new Date('2026-11-21T09:00:00Z') };
  const ensure = { action: 'ensure', cluster: 'prod', source: 'auto-scaling-group', group: 'workers', tagging: { instanceTags: { 'kubernetes.io/cluster/prod': 'owned' }, groupTag: { key: 'kubernetes.io/cluster/prod', value: 'owned' } } };

  // [given, facts] → the plan, whole: the tags written, the node-join started
  const table: [string, LaunchFacts, unknown][] = [
    ['a state change other than running: ignored, nothing looked up', { instanceId: ID, state: 'pending', owner: undefined }, { action: 'ignore', reason: 'state pending is not running' }],
    ['an unknown instance on a state change: ignored', { instanceId: ID, state: 'running', owner: undefined }, { action: 'ignore', reason: 'instance not found' }],
    ['an unknown instance on a launch hook: failed for the retry', { instanceId: ID, launchHook, owner: undefined }, { action: 'not-visible-yet' }],
    ['an instance already going', { instanceId: ID, state: 'running', owner: { instance: instance('shutting-down'), group, decision: owned } }, { action: 'ignore', reason: 'instance is shutting-down' }],
    ['an instance of no managed cluster', { instanceId: ID, state: 'running', owner: { instance: instance(), decision: { decision: 'ignore', reason: 'cluster stage is not managed' } } }, { action: 'ignore', reason: 'cluster stage is not managed' }],
    ['a running instance of a self-managed group: its tag and the group\'s', { instanceId: ID, state: 'running', owner: { instance: instance(), group, decision: owned } }, ensure],
    ['the service\'s launch hook: the tags, and node-join named after the action, its deadline a minute before the heartbeat timeout', {
      instanceId: ID, launchHook, owner: { instance: instance(), group, decision: owned }, hook: { ownership: { ours: true }, described: { heartbeatTimeoutSeconds: 600, globalTimeoutSeconds: 60_000, defaultResult: 'ABANDON' } },
    }, { ...ensure, join: { name: joinExecutionName(ID, 'token-1'), input: { cluster: 'prod', instanceId: ID, lifecycleAction: action, deadline: '2026-11-21T09:09:00.000Z' } } }],
    ['another tool\'s launch hook: the tags only, and why the hook is left alone', {
      instanceId: ID, launchHook, owner: { instance: instance(), group, decision: owned }, hook: { ownership: { ours: false, reason: 'not ours' } },
    }, { ...ensure, hookLeftAlone: 'not ours' }],
  ];
  for (const [given, facts, plan] of table) it(given, () => assert.deepEqual(planLaunch(facts), plan));

  it('starts a node-join only for a launch hook the service may answer, and names it after the action (property)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.string({ minLength: 1, maxLength: 40 }), (hooked, ours, token) => {
        const plan = planLaunch({
          instanceId: ID,
          owner: { instance: instance(), group, decision: owned },
          ...(hooked ? { launchHook: { ...launchHook, action: { ...action, lifecycleActionToken: token } }, hook: { ownership: ours ? { ours: true as const } : { ours: false as const, reason: 'x' } } } : { state: 'running' }),
        });
        assert.equal(plan.action, 'ensure');
        if (plan.action !== 'ensure') return;
        assert.equal(plan.join !== undefined, hooked && ours);
        assert.equal(plan.hookLeftAlone !== undefined, hooked && !ours);
        if (plan.join) assert.equal(plan.join.name, joinExecutionName(ID, token));
      }),
    );
  });
});
