import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchFleetDetection } from '../../scripts/bench/fleet-detection.js';

/**
 * Issue 20's figures, small: the deployed detectStaleGroups function in a sandbox of member
 * accounts (IAM, AssumeRole, the API budgets and AWS's token buckets all on), as
 * scripts/bench/fleet-detection.ts measures them at full size (`npm run bench`).
 */
describe('Scenario: one detection across member accounts, as the bench measures it', () => {
  it('3 accounts × 2 regions × 2 clusters × 3 groups: one AssumeRole per place, calls per group as in one account, every group planned', async () => {
    const f = await benchFleetDetection(2, 3);
    assert.equal(f.memberPlaces, 6);
    assert.equal(f.planned, 36, 'every group of every place planned');
    assert.equal(f.unreachable, 0);
    // credentials cached per place: a second AssumeRole in a place is a cache that does not hold
    assert.equal(f.assumeRoleCalls, 6);
    assert.deepEqual(Object.values(f.assumeRolesPerPlace), [1, 1, 1, 1, 1, 1]);
    assert.equal(Object.keys(f.assumeRolesPerPlace).length, 6);
    // what a fleet adds over one account is fixed per place (its AssumeRole, the hub's own empty
    // listing: 7 calls over 36 groups, ≈ 0.19 a group); per group the calls are one account's
    assert.ok(f.ratioToSingle <= 1.2, `calls per group ${f.callsPerGroup.toFixed(2)} = ${f.ratioToSingle.toFixed(2)} × one account's ${f.singleCallsPerGroup.toFixed(2)}`);
    assert.equal(f.throttledAttempts, 0, 'no attempt throttled by AWS');
    for (const p of f.peaks) assert.ok(p.share <= 0.5, `${p.place} ${p.bucket}: ${p.perSecond}/s is above 50 % of ${p.refillPerSecond}/s`);
  });

  it('a place with more groups than a second of its budget: the budget paces them, no second and no bucket past half', async () => {
    // 1 account × 1 region × 12 clusters × 10 groups: 60 DescribeNodegroup, six seconds of a 50 % budget of EKS's 20/s
    const f = await benchFleetDetection(12, 10, { accounts: 1, regions: 1 });
    assert.equal(f.planned, 120);
    const nodegroups = f.peaks.find((p) => p.bucket === 'eks:DescribeNodegroup')!;
    assert.ok(nodegroups.drawn <= 0.5, `DescribeNodegroup drew ${(nodegroups.drawn * 100).toFixed(0)} % of its bucket`);
    assert.ok(f.virtualSeconds >= 5, `the calls waited their turn at 10 a second (${f.virtualSeconds} s)`);
    for (const p of f.peaks) assert.ok(p.share <= 0.5, `${p.place} ${p.bucket}: ${p.perSecond}/s is above 50 % of ${p.refillPerSecond}/s`);
    for (const p of f.peaks) assert.ok(p.drawn <= 0.5, `${p.place} ${p.bucket} drew ${(p.drawn * 100).toFixed(0)} % of its ${p.capacity} tokens`);
  });
});
