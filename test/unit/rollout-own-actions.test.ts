import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupSnapshot } from '../../shared/aws/auto-scaling-groups.js';
import { afterOwnActions } from '../../shared/rollout/self-managed/decide-self-managed.js';

/** The group a step works on after its own calls: what each call's answer says, nothing more. */
const GROUP: GroupSnapshot = {
  name: 'workers',
  desired: 4,
  min: 4,
  max: 6,
  launchTemplate: { id: 'lt-1', version: '3' },
  suspendedProcesses: ['Launch'],
  tags: {},
  propagateAtLaunch: [],
  subnetIds: [],
  instances: ['a', 'b', 'c', 'd'].map((n) => ({ instanceId: `i-0${n}`, availabilityZone: 'eu-west-1a', lifecycleState: 'InService', healthStatus: 'Healthy', launchTemplateVersion: '3' })),
};

describe('Rollout: the group after the step\'s own calls', () => {
  it('sizes and template as set; AZRebalance as suspended, then resumed, other processes kept', () => {
    const g = afterOwnActions(GROUP, [{ kind: 'update-group', desired: 6, max: 8, launchTemplate: { id: 'lt-1', version: '4' } }, { kind: 'az-rebalance', suspended: true }]);
    assert.deepEqual([g.desired, g.min, g.max, g.launchTemplate?.version], [6, 4, 8, '4']);
    assert.deepEqual(g.suspendedProcesses, ['Launch', 'AZRebalance']);
    assert.deepEqual(afterOwnActions(g, [{ kind: 'az-rebalance', suspended: false }]).suspendedProcesses, ['Launch']);
    assert.equal(g.instances.length, 4, 'instances the group will launch are not invented');
  });

  it('terminated instances are leaving; desired drops once per instance only when decrementing', () => {
    const g = afterOwnActions(GROUP, [{ kind: 'terminate', instanceIds: ['i-0a', 'i-0b'], decrement: true }]);
    assert.deepEqual(g.instances.map((i) => i.lifecycleState), ['Terminating', 'Terminating', 'InService', 'InService']);
    assert.equal(g.desired, 2);
    assert.equal(afterOwnActions(g, [{ kind: 'terminate', instanceIds: ['i-0a'], decrement: true }]).desired, 2, 'an instance already leaving is not counted twice');
    assert.equal(afterOwnActions(GROUP, [{ kind: 'terminate', instanceIds: ['i-0a'], decrement: false }]).desired, 4);
  });

  it('cordons, drains and notifications leave the group as it was', () => {
    const g = afterOwnActions(GROUP, [{ kind: 'cordon', nodes: ['n'] }, { kind: 'drain', instanceIds: ['i-0a'] }, { kind: 'notify', event: 'planned', detail: {} }]);
    assert.equal(g, GROUP);
  });
});
