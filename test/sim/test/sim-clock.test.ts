import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../clock.js';

describe('Sandbox: virtual clock', () => {
  it('runs an hour of sleeping actors in real milliseconds, in virtual-time order', async () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    const a = clock.actor(async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1_200_000);
        log.push(`a@${clock.now()}`);
      }
    });
    const b = clock.actor(async () => {
      await clock.sleep(2_000_000);
      log.push(`b@${clock.now()}`);
    });
    const started = Date.now();
    await clock.settle();
    await Promise.all([a, b]);
    assert.deepEqual(log, ['a@1200000', 'b@2000000', 'a@2400000', 'a@3600000']);
    assert.equal(clock.now(), 3_600_000);
    assert.ok(Date.now() - started < 2_000, 'an hour of virtual time in well under two real seconds');
  });

  it('holds time still while an actor is awake doing real I/O', async () => {
    const clock = new VirtualClock(0);
    let seenAfterIo = -1;
    const actor = clock.actor(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30)); // real I/O takes no virtual time
      seenAfterIo = clock.now();
      await clock.sleep(1000);
    });
    clock.after(500, () => undefined);
    await clock.settle();
    await actor;
    assert.equal(seenAfterIo, 0);
    assert.equal(clock.now(), 1000);
  });

  it('does not keep running for background timers alone, but fires them when time passes them', async () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    clock.after(10_000, () => fired.push(clock.now()), { background: true });
    await clock.settle();
    assert.deepEqual(fired, []);
    assert.equal(clock.now(), 0);
    await clock.advance(20_000);
    assert.deepEqual(fired, [10_000]);
    assert.equal(clock.now(), 20_000);
  });

  it('does not fire cancelled timers', async () => {
    const clock = new VirtualClock(0);
    let fired = false;
    clock.after(100, () => (fired = true)).cancel();
    await clock.advance(1000);
    assert.equal(fired, false);
  });

  it('wakes every sleeper on release, without moving time', async () => {
    const clock = new VirtualClock(0);
    const woke = clock.actor(() => clock.sleep(3_600_000));
    clock.release();
    await woke;
    assert.equal(clock.now(), 0);
    assert.equal(clock.pending(), 0);
  });
});
