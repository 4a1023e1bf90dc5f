import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideJoin, joinDeadline } from '../../shared/ownership/decide-join.js';

const now = new Date('2026-11-21T10:00:00Z');
const later = new Date('2026-11-21T10:30:00Z');

describe('decideJoin', () => {
  it('continues once the node is Ready, even past the deadline', () => {
    assert.deepEqual(decideJoin({ instanceState: 'running', node: { name: 'n1', ready: true }, now: later, deadline: now }), { status: 'ready', nodeName: 'n1' });
  });
  it('waits for a node that is not there or not Ready before the deadline', () => {
    assert.equal(decideJoin({ instanceState: 'pending', node: undefined, now, deadline: later }).status, 'waiting');
    assert.equal(decideJoin({ instanceState: 'running', node: { name: 'n1', ready: false }, now, deadline: later }).status, 'waiting');
  });
  it('times out at the deadline', () => {
    const d = decideJoin({ instanceState: 'running', node: undefined, now: later, deadline: later });
    assert.equal(d.status, 'timed-out');
  });
  it('stops when the instance is gone', () => {
    assert.equal(decideJoin({ instanceState: 'terminated', node: { name: 'n1', ready: true }, now, deadline: later }).status, 'instance-gone');
  });
  it('waits out an instance EC2 does not show yet (eventual consistency), until the deadline', () => {
    assert.deepEqual(decideJoin({ instanceState: undefined, node: undefined, now, deadline: later }), { status: 'waiting', reason: 'EC2 does not show the instance yet' });
    assert.equal(decideJoin({ instanceState: undefined, node: undefined, now: later, deadline: later }).status, 'timed-out');
  });
});

describe('joinDeadline', () => {
  it('leaves a margin before the hook heartbeat timeout', () => {
    assert.equal(joinDeadline(now, 3600).toISOString(), '2026-11-21T10:59:00.000Z');
    assert.equal(joinDeadline(now, 300).toISOString(), '2026-11-21T10:04:30.000Z');
  });
});
