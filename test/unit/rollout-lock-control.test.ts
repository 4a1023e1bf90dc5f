import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LockLostError } from '../../shared/errors.js';
import { NodeGroupLocks } from '../../shared/rollout/node-group-lock.js';
import { startLocksTable } from '@eks-node-lifecycle/sandbox';
import { dynaliteScope } from './dynalite-scope.js';

/** A running rollout's pause/abort and approval token, kept on its group's lock (real DynamoDB). */
const TABLE = 'node-group-locks';
const A = 'arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:a';
const B = 'arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:b';
const TOKEN = `AQ${'a'.repeat(86)}`;
const T0 = new Date('2025-01-15T12:00:00Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('Node group locks: control and approval token (real DynamoDB)', () => {
  let table: Awaited<ReturnType<typeof startLocksTable>>;
  let locks: NodeGroupLocks;
  let n = 0;
  const key = () => `prod/web-${++n}`;
  const held = async (owner = A) => {
    const k = key();
    assert.deepEqual(await locks.acquire(k, owner, 600, T0), { acquired: true });
    return k;
  };

  before(async () => {
    table = await startLocksTable(TABLE);
    locks = new NodeGroupLocks(dynaliteScope(table.dynamo.endpoint), TABLE);
  });

  after(() => table.close());

  describe('setControl', () => {
    it('records a pause (numbered: the first) and who asked, returning the lock as it now is', async () => {
      const k = await held();
      const record = await locks.setControl(k, 'pause', 'U123');
      assert.deepEqual(record, { lockKey: k, owner: A, acquiredAt: T0.toISOString(), expiresAt: later(600).getTime() / 1000, expiresAtIso: later(600).toISOString(), control: 'pause', controlBy: 'U123', pauses: 1 });
      assert.deepEqual(await locks.get(k), record);
    });

    it('an abort replaces a pause', async () => {
      const k = await held();
      await locks.setControl(k, 'pause', 'U1');
      const record = await locks.setControl(k, 'abort', 'U2');
      assert.equal(record?.control, 'abort');
      assert.equal(record?.controlBy, 'U2');
    });

    it('resume of the current pause clears the control and records who resumed', async () => {
      const k = await held();
      const paused = await locks.setControl(k, 'pause', 'U1');
      assert.equal(paused?.pauses, 1);
      const out = await locks.resume(k, 1, 'U2');
      assert.equal(out.resumed, true);
      assert.ok(!('control' in (await locks.get(k))!));
      assert.equal((await locks.get(k))?.controlBy, 'U2');
    });

    it('resume of an older pause changes nothing: a newer pause stays', async () => {
      const k = await held();
      await locks.setControl(k, 'pause', 'U1');
      await locks.resume(k, 1, 'U2');
      await locks.setControl(k, 'pause', 'U3');
      const out = await locks.resume(k, 1, 'U2');
      assert.equal(out.resumed, false);
      assert.equal(out.lock?.control, 'pause');
      assert.equal(out.lock?.pauses, 2);
      assert.equal(out.lock?.controlBy, 'U3');
    });

    it('resume when nothing was paused changes nothing', async () => {
      const k = await held();
      const out = await locks.resume(k, 1, 'U1');
      assert.equal(out.resumed, false);
      assert.equal(out.lock?.owner, A);
      assert.equal(out.lock?.control, undefined);
    });

    it('with no rollout holding the group: undefined, and no lock is created', async () => {
      const k = key();
      assert.equal(await locks.setControl(k, 'pause', 'U1'), undefined);
      assert.equal(await locks.get(k), undefined);
      assert.deepEqual(await locks.acquire(k, A, 600, T0), { acquired: true }, 'the group stays free to roll');
    });

    it('after the rollout released its lock: undefined', async () => {
      const k = await held();
      await locks.release(k, A);
      assert.equal(await locks.setControl(k, 'abort', 'U1'), undefined);
      assert.equal(await locks.get(k), undefined);
    });

    it('leaves the lease and the approval token alone', async () => {
      const k = await held();
      await locks.setApprovalId(k, A, TOKEN);
      const record = await locks.setControl(k, 'pause', 'U1');
      assert.equal(record?.approvalId, TOKEN);
      assert.equal(record?.expiresAt, later(600).getTime() / 1000);
      assert.equal(record?.owner, A);
    });

    it('a renewal keeps the control', async () => {
      const k = await held();
      await locks.setControl(k, 'pause', 'U1');
      await locks.renew(k, A, 600, later(300));
      assert.equal((await locks.get(k))?.control, 'pause');
    });
  });

  describe('setApprovalId', () => {
    it('the owner keeps the token on its lock', async () => {
      const k = await held();
      await locks.setApprovalId(k, A, TOKEN);
      assert.equal((await locks.get(k))?.approvalId, TOKEN);
    });

    it('null clears it, leaving the rest of the lock', async () => {
      const k = await held();
      await locks.setApprovalId(k, A, TOKEN);
      await locks.setControl(k, 'pause', 'U1');
      await locks.setApprovalId(k, A, null);
      const record = (await locks.get(k))!;
      assert.ok(!('approvalId' in record));
      assert.equal(record.control, 'pause');
      assert.equal(record.owner, A);
    });

    it('clearing a token that is not there is harmless', async () => {
      const k = await held();
      await locks.setApprovalId(k, A, null);
      assert.equal((await locks.get(k))?.owner, A);
    });

    it('a newer token replaces an older one (a retried approval request)', async () => {
      const k = await held();
      await locks.setApprovalId(k, A, TOKEN);
      const newer = `AQ${'b'.repeat(86)}`;
      await locks.setApprovalId(k, A, newer);
      assert.equal((await locks.get(k))?.approvalId, newer);
    });

    it('another execution cannot set or clear it: LockLostError, the token untouched', async () => {
      const k = await held();
      await locks.setApprovalId(k, A, TOKEN);
      for (const token of [`AQ${'c'.repeat(86)}`, null]) {
        await assert.rejects(locks.setApprovalId(k, B, token), (error: unknown) => {
          assert.ok(error instanceof LockLostError);
          assert.equal(error.name, 'LockLostError');
          assert.equal(error.key, k);
          return true;
        });
      }
      assert.equal((await locks.get(k))?.approvalId, TOKEN);
    });

    it('with no lock at all: LockLostError, and no lock is created', async () => {
      const k = key();
      await assert.rejects(locks.setApprovalId(k, A, TOKEN), LockLostError);
      assert.equal(await locks.get(k), undefined);
    });

    it('after the lease was taken over: LockLostError for the old owner', async () => {
      const k = await held();
      await locks.acquire(k, B, 600, later(601));
      await assert.rejects(locks.setApprovalId(k, A, TOKEN), LockLostError);
      assert.equal((await locks.get(k))?.approvalId, undefined);
    });
  });

  describe('a new rollout of the group', () => {
    it('does not inherit the previous rollout\'s control or approval token when it takes over an expired lease', async () => {
      const k = await held();
      await locks.setControl(k, 'abort', 'U1');
      await locks.setApprovalId(k, A, TOKEN);
      assert.deepEqual(await locks.acquire(k, B, 600, later(600)), { acquired: true });
      const record = (await locks.get(k))!;
      assert.equal(record.owner, B);
      assert.equal(record.control, undefined);
      assert.equal(record.controlBy, undefined);
      assert.equal(record.approvalId, undefined);
    });

    it('does not inherit them after a release either', async () => {
      const k = await held();
      await locks.setControl(k, 'pause', 'U1');
      await locks.release(k, A);
      await locks.acquire(k, B, 600, later(1));
      assert.equal((await locks.get(k))?.control, undefined);
    });
  });
});
