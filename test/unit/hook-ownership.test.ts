import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DOCUMENTED_LAUNCH_HOOK, hookOwnership, ourHooks } from '../../shared/drain/hook-ownership.js';
import { INSTALLED_HOOK } from '../../shared/drain/ensure-terminate-hooks.js';
import { resolveCluster } from '../../shared/ownership/resolve-cluster.js';

const none = { launch: [], terminate: [] };

describe('Lifecycle hooks: only ours', () => {
  it('answers the terminate hook it installs and the launch hook the README documents', () => {
    assert.deepEqual(hookOwnership(INSTALLED_HOOK.name, 'terminate', none), { ours: true });
    assert.deepEqual(hookOwnership(DOCUMENTED_LAUNCH_HOOK, 'launch', none), { ours: true });
  });

  it('leaves another tool\'s hook alone, saying why', () => {
    const decision = hookOwnership('log-shipper-flush', 'terminate', none);
    assert.equal(decision.ours, false);
    assert.match((decision as { reason: string }).reason, /terminate hook log-shipper-flush is not this service's .*left for the tool that owns it/);
    // our launch hook's name on a terminate hook is not ours either: each transition has its own
    assert.equal(hookOwnership(DOCUMENTED_LAUNCH_HOOK, 'terminate', none).ours, false);
  });

  it('answers the hooks a group names as the service\'s', () => {
    const hooks = { launch: ['wait-for-node'], terminate: ['drain'] };
    assert.deepEqual(ourHooks(['drain', 'log-shipper-flush', INSTALLED_HOOK.name], 'terminate', hooks), ['drain', INSTALLED_HOOK.name]);
    assert.equal(hookOwnership('wait-for-node', 'launch', hooks).ours, true);
    assert.equal(hookOwnership('wait-for-node', 'terminate', hooks).ours, false);
  });
});

describe('Karpenter nodes', () => {
  it('are left alone by every flow, with the reason', () => {
    const decision = resolveCluster({ instanceTags: { 'kubernetes.io/cluster/prod': 'owned', 'karpenter.sh/nodepool': 'default' } }, '*');
    assert.deepEqual(decision, { decision: 'ignore', reason: 'managed by Karpenter (karpenter.sh/nodepool=default, no Auto Scaling group): Karpenter drains and replaces its own nodes — use its disruption budgets, or kubectl delete node' });
  });

  it('unless an Auto Scaling group launched them', () => {
    const decision = resolveCluster({ instanceTags: { 'kubernetes.io/cluster/prod': 'owned', 'karpenter.sh/nodepool': 'x', 'aws:autoscaling:groupName': 'g' } }, '*');
    assert.equal(decision.decision, 'owned');
  });
});
