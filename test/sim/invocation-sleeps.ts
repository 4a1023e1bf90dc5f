import type { VirtualClock } from './clock.js';

/**
 * Timed waits on the virtual clock for code running inside one actor (a Lambda invocation)
 * that may wait several times at once — concurrent SDK calls, each backing off — while the
 * clock sees a single sleep per actor: it counts sleeps against actors, so one actor with two
 * sleeps pending would pass for two actors asleep and let time move under another that is
 * still awake. Each owner's waits share one cancellable sleep, set for the earliest of them.
 */
export class InvocationSleeps {
  private readonly alarms = new WeakMap<object, Alarm>();

  constructor(private readonly clock: VirtualClock) {}

  /** Resolves once `ms` virtual milliseconds have passed; `owner` is the actor waiting (an invocation). */
  sleep(owner: object, ms: number): Promise<void> {
    let alarm = this.alarms.get(owner);
    if (!alarm) this.alarms.set(owner, (alarm = new Alarm(this.clock)));
    return alarm.wait(this.clock.now() + Math.max(0, ms));
  }
}

class Alarm {
  private readonly waiters: { due: number; wake: () => void }[] = [];
  private armed: { due: number; cancel(): void } | undefined;

  constructor(private readonly clock: VirtualClock) {}

  wait(due: number): Promise<void> {
    return new Promise((wake) => {
      // in due order, ties in arrival order
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.due > due) i--;
      this.waiters.splice(i, 0, { due, wake });
      if (!this.armed || due < this.armed.due) this.arm(due);
    });
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
