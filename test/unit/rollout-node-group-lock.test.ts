import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LockLostError } from '../../shared/errors.js';
import { NodeGroupLocks } from '../../shared/rollout/node-group-lock.js';
import { startLocksTable } from '@eks-node-lifecycle/sandbox';
import { dynaliteScope } from './dynalite-scope.js';

const TABLE = 'node-group-locks';
const A = 'arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:a';
const B = 'arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:b';
const T0 = new Date('2025-01-15T12:00:00Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('Node group locks (real DynamoDB)', () => {
  let table: Awaited<ReturnType<typeof startLocksTable>>;
  let locks: NodeGroupLocks;
  let n = 0;
  const key = () => `prod/web-${++n}`;

  before(async () => {
    table = await startLocksTable(TABLE);
    locks = new NodeGroupLocks(dynaliteScope(table.dynamo.endpoint), TABLE);
  });

  after(() => table.close());

  it('takes a free lock and records the lease with a TTL and an ISO copy', async () => {
    const k = key();
    assert.deepEqual(await locks.acquire(k, A, 600, T0), { acquired: true });
    assert.deepEqual(await locks.get(k), { lockKey: k, owner: A, acquiredAt: T0.toISOString(), expiresAt: T0.getTime() / 1000 + 600, expiresAtIso: later(600).toISOString() });
  });

  it('two owners race: exactly one acquires, the other learns the holder', async () => {
    const k = key();
    const results = await Promise.all([locks.acquire(k, A, 600, T0), locks.acquire(k, B, 600, T0)]);
    const winners = results.filter((r) => r.acquired);
    assert.equal(winners.length, 1);
    const holder = (await locks.get(k))!.owner;
    const loser = results.find((r) => !r.acquired);
    assert.deepEqual(loser, { acquired: false, heldBy: holder, expiresAt: later(600).toISOString() });
  });

  it('many owners race: exactly one acquires', async () => {
    const k = key();
    const owners = Array.from({ length: 8 }, (_, i) => `${A}-${i}`);
    const results = await Promise.all(owners.map((o) => locks.acquire(k, o, 600, T0)));
    assert.equal(results.filter((r) => r.acquired).length, 1);
    const holder = (await locks.get(k))!.owner;
    for (const r of results) if (!r.acquired) assert.equal(r.heldBy, holder);
  });

  it('refuses while the lease runs, even one second before it ends', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    assert.deepEqual(await locks.acquire(k, B, 600, later(599)), { acquired: false, heldBy: A, expiresAt: later(600).toISOString() });
  });

  it('an expired lease can be taken over', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    assert.deepEqual(await locks.acquire(k, B, 600, later(600)), { acquired: true });
    assert.equal((await locks.get(k))!.owner, B);
  });

  it('the same owner re-acquires (a retried step) and extends its lease', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    assert.deepEqual(await locks.acquire(k, A, 600, later(300)), { acquired: true });
    assert.equal((await locks.get(k))!.expiresAt, later(900).getTime() / 1000);
  });

  it('renew by the owner extends the lease', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    await locks.renew(k, A, 600, later(500));
    assert.equal((await locks.get(k))!.expiresAtIso, later(1100).toISOString());
    assert.equal((await locks.acquire(k, B, 600, later(700))).acquired, false);
  });

  it('renew by a non-owner throws LockLostError and leaves the lease alone', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    await assert.rejects(locks.renew(k, B, 600, later(10)), (error: unknown) => {
      assert.ok(error instanceof LockLostError);
      assert.equal(error.name, 'LockLostError');
      assert.equal(error.retryable, false);
      assert.equal(error.key, k);
      return true;
    });
    assert.equal((await locks.get(k))!.expiresAt, later(600).getTime() / 1000);
  });

  it('renew keeps what held the last drain pass back, and drops it once nothing does', async () => {
    const k = key();
    await locks.acquire(k, A, 60, T0);
    const blocked = ['shop/web-1 (PodDisruptionBudget shop/web)'];
    assert.deepEqual((await locks.renew(k, A, 60, later(10), blocked)).blockedBy, blocked);
    assert.deepEqual((await locks.get(k))!.blockedBy, blocked);
    // a renewal that says nothing of it leaves it; an empty list removes it
    assert.deepEqual((await locks.renew(k, A, 60, later(20))).blockedBy, blocked);
    assert.equal((await locks.renew(k, A, 60, later(30), [])).blockedBy, undefined);
    assert.equal((await locks.get(k))!.blockedBy, undefined);
  });

  it('renew after the lock was taken over throws LockLostError', async () => {
    const k = key();
    await locks.acquire(k, A, 60, T0);
    await locks.acquire(k, B, 600, later(120));
    await assert.rejects(locks.renew(k, A, 60, later(121)), LockLostError);
  });

  it('renew of a lock nobody holds throws LockLostError', async () => {
    await assert.rejects(locks.renew(key(), A, 60, T0), LockLostError);
  });

  it('release by a non-owner is a no-op that leaves the lock', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    assert.deepEqual(await locks.release(k, B), { released: false });
    assert.equal((await locks.get(k))!.owner, A);
  });

  it('release by the owner frees the lock for the next owner, saying since when it was held; releasing twice is a no-op', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    assert.deepEqual(await locks.release(k, A), { released: true, heldSince: T0.toISOString() });
    assert.equal(await locks.get(k), undefined);
    assert.deepEqual(await locks.release(k, A), { released: false });
    assert.deepEqual(await locks.acquire(k, B, 600, later(1)), { acquired: true });
  });

  it('the rollout pauses itself only where no person asked for anything: an abort stays an abort', async () => {
    const [free, aborting] = [key(), key()];
    for (const k of [free, aborting]) await locks.acquire(k, A, 600, T0);
    await locks.setControl(aborting, 'abort', 'alice');
    await locks.pauseIfUncontrolled(free, A, 'eks-node-lifecycle: the group was changed');
    await locks.pauseIfUncontrolled(aborting, A, 'eks-node-lifecycle: the group was changed');
    assert.deepEqual([(await locks.get(free))!.control, (await locks.get(free))!.controlBy], ['pause', 'eks-node-lifecycle: the group was changed']);
    assert.deepEqual([(await locks.get(aborting))!.control, (await locks.get(aborting))!.controlBy], ['abort', 'alice']);
    await locks.pauseIfUncontrolled(free, B, 'not the owner');
    assert.equal((await locks.get(free))!.controlBy, 'eks-node-lifecycle: the group was changed', 'only the owner may');
  });

  it('keeps what was announced, each once, and the intent of the last group change; both only for the owner', async () => {
    const k = key();
    await locks.acquire(k, A, 600, T0);
    await locks.markAnnounced(k, A, 'planned');
    await locks.markAnnounced(k, A, 'rolling-back');
    await locks.markAnnounced(k, A, 'planned');
    const intent = { from: { desired: 4, min: 4, max: 4 }, to: { desired: 5, min: 4, max: 5, launchTemplate: { id: 'lt-0123456789abcdef0', version: '2' } } };
    await locks.recordIntent(k, A, intent);
    const record = (await locks.renew(k, A, 600, T0))!;
    assert.deepEqual([...record.announced!].sort(), ['planned', 'rolling-back']);
    assert.deepEqual(record.intent, intent);
    await assert.rejects(locks.markAnnounced(k, B, 'finished'), LockLostError);
    await assert.rejects(locks.recordIntent(k, B, intent), LockLostError);
  });
});
