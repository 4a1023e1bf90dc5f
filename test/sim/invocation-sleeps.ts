import type { VirtualClock } from './clock.js';

/**
 * Timed waits on the virtual clock for code running inside one actor (a Lambda invocation)
 * that may wait several times at once — concurrent SDK calls, each backing off — while the
 * clock sees a single sleep per actor: it counts sleeps against actors, so one actor with two
 * sleeps pending would pass for two actors asleep and let time move under another that is
 * still awake. Each owner's waits share one cancellable sleep, set for the earliest of them.
 */
export class InvocationSleeps {
  /**
   * The clock's one set of invocation sleeps: every waiter on behalf of an invocation (a bucket's
   * admission, an SDK retry's backoff, a request left unanswered) must share it, or one actor
   * would again hold two sleeps.
   */
  static of(clock: VirtualClock): InvocationSleeps {
    let sleeps = shared.get(clock);
    if (!sleeps) shared.set(clock, (sleeps = new InvocationSleeps(clock)));
    return sleeps;
  }

  private readonly alarms = new WeakMap<object, Alarm>();

  constructor(private readonly clock: VirtualClock) {}

  /**
   * Resolves once `ms` virtual milliseconds have passed; `owner` is the actor waiting (an
   * invocation). Once `cancel` aborts (the actor is gone: Lambda ended the invocation) the wait
   * is taken off the clock and never resolves, so it no longer counts as a sleeping actor.
   */
  sleep(owner: object, ms: number, cancel?: AbortSignal): Promise<void> {
    let alarm = this.alarms.get(owner);
    if (!alarm) this.alarms.set(owner, (alarm = new Alarm(this.clock)));
    if (cancel?.aborted) return new Promise<void>(() => undefined);
    return alarm.wait(this.clock.now() + Math.max(0, ms), cancel);
  }
}

const shared = new WeakMap<VirtualClock, InvocationSleeps>();

class Alarm {
  private readonly waiters: { due: number; wake: () => void }[] = [];
  private armed: { due: number; cancel(): void } | undefined;

  constructor(private readonly clock: VirtualClock) {}

  wait(due: number, cancel?: AbortSignal): Promise<void> {
    return new Promise((wake) => {
      // in due order, ties in arrival order
      const waiter = { due, wake };
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.due > due) i--;
      this.waiters.splice(i, 0, waiter);
      if (!this.armed || due < this.armed.due) this.arm(due);
      cancel?.addEventListener('abort', () => this.drop(waiter), { once: true });
    });
  }

  /** Takes a waiter off, and the alarm with it if it was the last (or re-arms for the next). */
  private drop(waiter: { due: number; wake: () => void }): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    if (this.waiters.length === 0) {
      this.armed?.cancel();
      this.armed = undefined;
    } else if (this.armed && this.waiters[0]!.due > this.armed.due) {
      this.arm(this.waiters[0]!.due);
    }
  }

  private arm(due: number): void {
    this.armed?.cancel();
    const sleep = this.clock.cancellableSleep(due - this.clock.now());
    const armed = { due, cancel: sleep.cancel };
    this.armed = armed;
    void sleep.done.then(() => {
      if (this.armed !== armed) return;
      this.armed = undefined;
      const now = this.clock.now();
      while (this.waiters.length > 0 && this.waiters[0]!.due <= now) this.waiters.shift()!.wake();
      if (this.waiters.length > 0) this.arm(this.waiters[0]!.due);
    });
  }
}
