import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DrainRecord } from '../../shared/aws/drain-records.js';
import { parseDurationSeconds } from '../../shared/config/duration.js';
import { DEFAULT_POLICY, readNodeGroupPolicy } from '../../shared/config/node-group-policy.js';
import { decidePass, heartbeatEverySeconds } from '../../shared/drain/decide-pass.js';
import { decideDrainRequest, drainDeadline } from '../../shared/drain/decide-request.js';
import { planTerminateHooks } from '../../shared/drain/ensure-terminate-hooks.js';

const record = (status: DrainRecord['status'], generation = 0): DrainRecord => ({
  instanceId: 'i-0123456789abcdef0',
  cluster: 'prod',
  status,
  generation,
  triggers: [],
  updatedAt: '2026-11-21T09:00:00Z',
  expiresAt: 0,
});

describe('decideDrainRequest', () => {
  it('starts the first drain of an instance at generation 0', () => {
    assert.deepEqual(decideDrainRequest({ record: undefined, trigger: 'terminate-hook', bringsLifecycleAction: true, onRebalance: 'drain' }), { action: 'start', generation: 0 });
  });
  it('joins a running drain (a repeated event, or a hook after a spot warning)', () => {
    assert.equal(decideDrainRequest({ record: record('running'), trigger: 'terminate-hook', bringsLifecycleAction: true, onRebalance: 'drain' }).action, 'join');
  });
  it('completes a late hook at once when the node is already drained, and ignores other late triggers', () => {
    for (const status of ['drained', 'forced', 'node-gone'] as const) {
      assert.equal(decideDrainRequest({ record: record(status), trigger: 'terminate-hook', bringsLifecycleAction: true, onRebalance: 'drain' }).action, 'complete-now');
      assert.equal(decideDrainRequest({ record: record(status), trigger: 'spot-interruption', bringsLifecycleAction: false, onRebalance: 'drain' }).action, 'ignore');
    }
  });
  it('tries again after a failed drain, under a new execution name', () => {
    assert.deepEqual(decideDrainRequest({ record: record('failed', 2), trigger: 'terminate-hook', bringsLifecycleAction: true, onRebalance: 'drain' }), { action: 'start', generation: 3 });
  });
  it('ignores rebalance recommendations when the policy says so', () => {
    assert.equal(decideDrainRequest({ record: undefined, trigger: 'rebalance', bringsLifecycleAction: false, onRebalance: 'ignore' }).action, 'ignore');
  });
});

describe('drainDeadline', () => {
  const now = new Date('2026-11-21T09:00:30Z');
  it('is the drain timeout from now', () => {
    assert.equal(drainDeadline({ trigger: 'terminate-hook', now, drainTimeoutSeconds: 900 }).toISOString(), '2026-11-21T09:15:30.000Z');
  });
  it('is within the two-minute spot notice, counted from the warning', () => {
    assert.equal(drainDeadline({ trigger: 'spot-interruption', now, eventTime: new Date('2026-11-21T09:00:00Z'), drainTimeoutSeconds: 900 }).toISOString(), '2026-11-21T09:01:45.000Z');
  });
});

describe('decidePass', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const deadline = new Date('2026-11-21T11:00:00Z');
  it('waits what the engine asks when no hook needs keeping alive', () => {
    assert.deepEqual(decidePass({ phase: 'draining', engineDelaySeconds: 40, now, deadline }), { deadlinePassed: false, heartbeatDue: false, waitSeconds: 40 });
  });
  it('never waits past the next heartbeat or the deadline', () => {
    const d = decidePass({ phase: 'draining', engineDelaySeconds: 60, now, deadline, heartbeat: { everySeconds: 150, lastAt: new Date('2026-11-21T09:58:00Z') } });
    assert.deepEqual(d, { deadlinePassed: false, heartbeatDue: false, waitSeconds: 30 });
    assert.equal(decidePass({ phase: 'draining', engineDelaySeconds: 60, now, deadline: new Date('2026-11-21T10:00:20Z') }).waitSeconds, 20);
  });
  it('says when a heartbeat is due and when the deadline has passed', () => {
    assert.equal(decidePass({ phase: 'draining', engineDelaySeconds: 5, now, deadline, heartbeat: { everySeconds: 150, lastAt: new Date('2026-11-21T09:57:30Z') } }).heartbeatDue, true);
    assert.equal(decidePass({ phase: 'draining', engineDelaySeconds: 5, now: deadline, deadline }).deadlinePassed, true);
    assert.equal(decidePass({ phase: 'drained', engineDelaySeconds: 0, now: deadline, deadline }).deadlinePassed, false);
  });
  it('keeps every wait shorter than the hook heartbeat timeout (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: 7200 }), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 7200 }), (timeout, engine, sinceLast) => {
        const every = heartbeatEverySeconds(timeout);
        const lastAt = new Date(now.getTime() - Math.min(sinceLast, every) * 1000);
        const d = decidePass({ phase: 'draining', engineDelaySeconds: engine, now, deadline: new Date(now.getTime() + 86_400_000), heartbeat: { everySeconds: every, lastAt } });
        const nextHeartbeatIn = d.heartbeatDue ? d.waitSeconds : every - Math.min(sinceLast, every);
        assert.ok(d.waitSeconds >= 1);
        assert.ok(Math.min(sinceLast, every) + d.waitSeconds <= timeout || d.heartbeatDue, `wait ${d.waitSeconds} s with ${nextHeartbeatIn} s to the next heartbeat`);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('readNodeGroupPolicy', () => {
  it('defaults like EKS managed node groups: 15 minutes, then fail', () => {
    assert.deepEqual(readNodeGroupPolicy({}), { policy: DEFAULT_POLICY, problems: [] });
  });
  it('reads the tags', () => {
    const { policy, problems } = readNodeGroupPolicy({
      'eks-node-lifecycle/drain-timeout': '3h',
      'eks-node-lifecycle/on-drain-timeout': 'force',
      'eks-node-lifecycle/max-grace-period': '2m',
      'eks-node-lifecycle/rebalance': 'ignore',
      'eks-node-lifecycle/drain': 'on',
      'eks-node-lifecycle/rollout': 'approve',
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(policy, { drain: { drainTimeoutSeconds: 10_800, onDrainTimeout: 'force', maxGracePeriodSeconds: 120 }, installTerminateHook: true, onRebalance: 'ignore', rollout: 'approve' });
  });
  it('keeps the default and reports a malformed value instead of failing the drain', () => {
    const { policy, problems } = readNodeGroupPolicy({ 'eks-node-lifecycle/drain-timeout': 'soon', 'eks-node-lifecycle/on-drain-timeout': 'panic' });
    assert.equal(policy.drain.drainTimeoutSeconds, 900);
    assert.equal(policy.drain.onDrainTimeout, 'fail');
    assert.equal(problems.length, 2);
  });
  it('parses durations', () => {
    assert.equal(parseDurationSeconds('1h30m'), 5400);
    assert.equal(parseDurationSeconds('90s'), 90);
    assert.equal(parseDurationSeconds('7d'), 604_800);
    assert.equal(parseDurationSeconds('15'), undefined);
    assert.equal(parseDurationSeconds('m15'), undefined);
  });
});

describe('planTerminateHooks', () => {
  const owned = { 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain': 'on' };
  it('installs the hook only on opted-in self-managed groups of managed clusters that have none', () => {
    const plan = planTerminateHooks(
      [
        { name: 'a', tags: owned, hasTerminateHook: false },
        { name: 'b', tags: owned, hasTerminateHook: true },
        { name: 'c', tags: { ...owned, 'eks:nodegroup-name': 'web' }, hasTerminateHook: false },
        { name: 'd', tags: { 'kubernetes.io/cluster/dev': 'owned', 'eks-node-lifecycle/drain': 'on' }, hasTerminateHook: false },
        { name: 'e', tags: { 'kubernetes.io/cluster/prod': 'owned' }, hasTerminateHook: false },
      ],
      ['prod'],
    );
    assert.deepEqual(plan.map((p) => `${p.group}:${p.action}`), ['a:install', 'b:skip', 'c:skip', 'd:skip', 'e:skip']);
  });
});
