import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NotedLifecycleAction } from '../../shared/aws/drain-records.js';
import { leaseHolds, leaseRenewalDue, leaseUntil, DRAIN_LEASE_SECONDS } from '../../shared/drain/drain-owner.js';
import { closedSince, earliestHeartbeat, nextHeartbeatAt, noteLifecycleAction, openActions, withActions } from '../../shared/drain/lifecycle-actions.js';

const INSTANCE = 'i-0123456789abcdef0';
const token = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const action = (hook: string, n: number) => ({ autoScalingGroupName: 'workers', lifecycleHookName: hook, lifecycleActionToken: token(n), instanceId: INSTANCE });
const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 9, minute));

describe('Drain record: the lifecycle actions of an instance', () => {
  it('keeps one action per hook: a second hook is added, a redelivered token changes nothing', () => {
    const one = noteLifecycleAction([], action('drain', 1), at(0))!;
    assert.deepEqual(one.map((a) => [a.lifecycleHookName, a.state, a.openedAt]), [['drain', 'open', at(0).toISOString()]]);
    const two = noteLifecycleAction(one, action('log-shipper', 2), at(0))!;
    assert.deepEqual(two.map((a) => a.lifecycleHookName).sort(), ['drain', 'log-shipper']);
    const completed = withActions(two, [{ ...two[0]!, state: 'completed', endedAt: at(5).toISOString() }]);
    assert.equal(noteLifecycleAction(completed, action('drain', 1), at(6)), undefined, 'the same event again: a completed action stays completed');
  });

  it('replaces a hook\'s action by a newer token, never by an older one', () => {
    const noted = noteLifecycleAction([], action('drain', 1), at(10))!;
    assert.equal(noteLifecycleAction(noted, action('drain', 2), at(5)), undefined, 'an older token delivered late');
    const replaced = noteLifecycleAction(noted, action('drain', 3), at(20))!;
    assert.deepEqual(replaced.map((a) => a.lifecycleActionToken), [token(3)]);
  });

  it('ends with the latest-opened token of each hook, whatever the order of delivery (property)', () => {
    const event = fc.record({ hook: fc.constantFrom('drain', 'log-shipper', 'backup'), n: fc.integer({ min: 1, max: 50 }) });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 20 }), (events) => {
        // a token opens at minute n: a later token of a hook is a later action
        let actions: NotedLifecycleAction[] = [];
        for (const e of events) actions = noteLifecycleAction(actions, action(e.hook, e.n), at(e.n)) ?? actions;
        const hooks = new Set(events.map((e) => e.hook));
        assert.equal(actions.length, hooks.size, 'one action per hook');
        for (const hook of hooks) {
          const latest = Math.max(...events.filter((e) => e.hook === hook).map((e) => e.n));
          assert.equal(actions.find((a) => a.lifecycleHookName === hook)?.lifecycleActionToken, token(latest));
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('knows which are open, which closed under the drain, and when the next heartbeat is due', () => {
    const actions: NotedLifecycleAction[] = [
      { ...action('drain', 1), openedAt: at(0).toISOString(), state: 'open', heartbeatEverySeconds: 150, lastHeartbeatAt: at(10).toISOString() },
      { ...action('log-shipper', 2), openedAt: at(0).toISOString(), state: 'open', heartbeatEverySeconds: 60 },
      { ...action('backup', 3), openedAt: at(0).toISOString(), state: 'closed', endedAt: at(12).toISOString() },
      { ...action('old', 4), openedAt: at(0).toISOString(), state: 'completed', endedAt: at(1).toISOString() },
    ];
    assert.deepEqual(openActions({ lifecycleActions: actions }).map((a) => a.lifecycleHookName), ['drain', 'log-shipper']);
    assert.deepEqual(nextHeartbeatAt(actions[0]!), new Date(at(10).getTime() + 150_000));
    assert.deepEqual(nextHeartbeatAt(actions[1]!), at(1), 'never heartbeated: due an interval after it opened');
    assert.deepEqual(nextHeartbeatAt({ ...actions[1]!, heartbeatEverySeconds: undefined }), at(0), 'the hook\'s timeout not read yet: due at once');
    assert.deepEqual(earliestHeartbeat(actions), { at: at(1), everySeconds: 60 });
    assert.deepEqual(closedSince(actions, at(11)).map((a) => a.lifecycleHookName), ['backup']);
    assert.deepEqual(closedSince(actions, at(13)), []);
  });
});

describe('Drain record: the owner\'s lease', () => {
  const now = at(30);
  it('holds until it lapses; a record of the old shape has none', () => {
    assert.equal(leaseHolds({ leaseUntil: leaseUntil(now) }, now), true);
    assert.equal(leaseHolds({ leaseUntil: leaseUntil(now, -1) }, now), false);
    assert.equal(leaseHolds({}, now), false);
  });
  it('is renewed once half of it is gone, so an owner passing every minute writes every five', () => {
    const renewedAt = now.getTime();
    const written = { leaseUntil: leaseUntil(now) };
    const due = [1, 2, 4, 5, 6].map((minutes) => leaseRenewalDue(written, new Date(renewedAt + minutes * 60_000)));
    assert.deepEqual(due, [false, false, false, false, true]);
    assert.equal(DRAIN_LEASE_SECONDS, 600);
    assert.equal(leaseRenewalDue({}, now), true);
  });
});
