import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rolloutExecutionName } from '../../shared/detect/plan-rollouts.js';
import { rollName } from '../../shared/promotion/promotion-step.js';

describe('The name of a ring\'s rollout of a group', () => {
  const base = rolloutExecutionName('canary-eu', 'canary-eu-nodes', { imageId: 'ami-0123456789abcdef0' });
  const since = { status: 'rolling', since: '2026-12-07T10:00:00.000Z' };

  it('is detection\'s while no rollout of that name ended (first roll, or one still running)', () => {
    assert.equal(rollName(base, undefined, since), base);
    assert.equal(rollName(base, { state: 'rolling', executionName: base }, since), base);
    assert.equal(rollName(base, { state: 'current', executionName: base }, since), base);
  });

  it('after a hold stopped it and a person released it, a new name: the same for every retry of the decision, another for the next start of the ring', () => {
    const again = rollName(base, { state: 'stopped', executionName: base }, since);
    assert.notEqual(again, base);
    assert.ok(again.length <= 80 && /^[A-Za-z0-9_-]+$/.test(again), again);
    assert.equal(rollName(base, { state: 'stopped', executionName: base }, since), again, 'idempotent');
    assert.notEqual(rollName(base, { state: 'failed', executionName: again }, { status: 'rolling', since: '2026-12-08T10:00:00.000Z' }), again, 'a third start of the ring');
  });
});
