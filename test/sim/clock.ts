/**
 * A discrete-event virtual clock for the sandbox.
 *
 * Nothing in the sandbox waits for real time. Timers (`at`, `after`) and sleeps are kept in
 * one queue ordered by due time. Time moves forward only inside `settle()`/`advance()`, and
 * only when the world is idle: every registered actor (a running workflow execution, a Lambda
 * invocation) is asleep. Then the clock jumps to the earliest due entry and fires it. An hour
 * of waiting therefore costs a few event-loop turns.
 *
 * An awake actor holds the clock, so the real I/O it does (an HTTP call to the sandbox's
 * Kubernetes API, a DynamoDB call to dynalite) takes no virtual time at all.
 */
export interface Timer {
  readonly due: number;
  cancel(): void;
}

export interface TimerOptions {
  /**
   * A background timer (a lifecycle hook's expiry, a token's lifetime) fires in order when
   * time passes it, but does not by itself keep `settle()` running.
   */
  background?: boolean;
}

interface Entry {
  due: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
  background: boolean;
  sleeper?: boolean;
}

export class VirtualClock {
  private current: number;
  private seq = 0;
  private readonly queue: Entry[] = [];
  private actors = 0;
  private sleeping = 0;
  private settlers = 0;

  constructor(start: Date | number = Date.UTC(2026, 10, 21, 9, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  date(): Date {
    return new Date(this.current);
  }

  iso(): string {
    return new Date(this.current).toISOString();
  }

  /** Fires `fn` when the virtual time reaches `due` (ms since epoch). */
  at(due: number, fn: () => void, options: TimerOptions = {}): Timer {
    const entry = this.push(Math.max(due, this.current), fn, options.background ?? false);
    return { due: entry.due, cancel: () => { entry.cancelled = true; } };
  }

  /** Fires `fn` after `ms` virtual milliseconds. */
  after(ms: number, fn: () => void, options: TimerOptions = {}): Timer {
    return this.at(this.current + Math.max(0, ms), fn, options);
  }

  /**
   * Suspends the calling actor for `ms` virtual milliseconds. While it sleeps it no longer
   * holds the clock back. Called outside an actor it simply waits for time to pass.
   */
  sleep(ms: number): Promise<void> {
    return this.cancellableSleep(ms).done;
  }

  /**
   * A sleep that can be called off: `cancel()` takes it back off the clock before it is due
   * (the caller counts as awake again, and `done` never settles). What lets one actor's
   * several timed waits share a single sleep (invocation-sleeps.ts), since the clock counts
   * sleeps, and one actor with two pending would look like two actors asleep.
   */
  cancellableSleep(ms: number): { done: Promise<void>; cancel(): void } {
    let entry!: Entry;
    let over = false;
    const done = new Promise<void>((resolve) => {
      this.sleeping++;
      entry = this.push(this.current + Math.max(0, ms), () => {
        over = true;
        this.sleeping--;
        resolve();
      }, false);
      entry.sleeper = true;
    });
    const cancel = () => {
      if (over) return;
      over = true;
      entry.cancelled = true;
      this.sleeping--;
    };
    return { done, cancel };
  }

  /**
   * Waits, from inside an actor, for another actor's work (a Lambda invocation it called and
   * awaits): meanwhile the caller counts as asleep, so the world may move once that work
   * itself sleeps. Only for actors: outside of one it would stand for an actor that is not there.
   */
  async waitFor<T>(work: Promise<T>): Promise<T> {
    this.sleeping++;
    try {
      return await work;
    } finally {
      this.sleeping--;
    }
  }

  /** Runs `body` as an actor: the clock does not advance while it is awake. */
  async actor<T>(body: () => Promise<T>): Promise<T> {
    this.actors++;
    try {
      return await body();
    } finally {
      this.actors--;
    }
  }

  /**
   * Lets the world run: waits until every actor is asleep, then moves time to the next
   * due entry and fires it, again and again. Stops when nothing is left that would keep
   * the world busy (no actor, no foreground timer), or, with `until`, once everything due
   * by then has fired; the clock then reads `until`.
   */
  async settle(until = Number.POSITIVE_INFINITY): Promise<void> {
    this.settlers++;
    try {
      await this.run(until);
    } finally {
      this.settlers--;
    }
  }

  /**
   * Whether something is letting the world run (`settle()`/`advance()` under way): what an
   * actor about to wait on the clock asks first, since outside of one nothing would wake it.
   */
  get settling(): boolean {
    return this.settlers > 0;
  }

  /**
   * Counts as letting the world run until the returned function is called: for a pacer that
   * advances the clock in steps with real pauses between them (the persistent sandbox), so an
   * invocation arriving in a pause waits on the clock as it would inside `settle()`.
   */
  holdSettling(): () => void {
    this.settlers++;
    let held = true;
    return () => {
      if (held) this.settlers--;
      held = false;
    };
  }

  private async run(until: number): Promise<void> {
    for (;;) {
      await this.quiescent();
      const next = this.queue.find((e) => !e.cancelled);
      if (Number.isFinite(until)) {
        if (!next || next.due > until) {
          this.current = Math.max(this.current, until);
          return;
        }
      } else if (this.actors === 0 && !this.queue.some((e) => !e.cancelled && !e.background)) {
        return;
      }
      if (!next) return;
      this.current = Math.max(this.current, next.due);
      while (this.queue.length > 0 && this.queue[0]!.due <= this.current) {
        const entry = this.queue.shift()!;
        if (!entry.cancelled) entry.fire();
      }
    }
  }

  /** Runs the world for `ms` virtual milliseconds from now. */
  advance(ms: number): Promise<void> {
    return this.settle(this.current + ms);
  }

  /**
   * Shutting down: wakes every sleeper at once (time does not move) and drops every timer,
   * so nothing is left waiting on a clock that will never advance again.
   */
  release(): void {
    const entries = this.queue.splice(0);
    for (const entry of entries) if (entry.sleeper && !entry.cancelled) entry.fire();
  }

  /** Timers and sleeps still queued. */
  pending(): number {
    return this.queue.filter((e) => !e.cancelled).length;
  }

  /**
   * Resolves when every actor is asleep. Two event-loop turns in a row must find the world
   * idle, so promise chains resumed by the last firing get to register their next sleep.
   */
  private async quiescent(): Promise<void> {
    let idleTurns = 0;
    while (idleTurns < 2) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      idleTurns = this.actors <= this.sleeping ? idleTurns + 1 : 0;
      if (idleTurns === 0) await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }

  private push(due: number, fire: () => void, background: boolean): Entry {
    const entry: Entry = { due, seq: this.seq++, fire, cancelled: false, background };
    // ordered by due time, then by insertion; the queue is short, so insertion is cheap
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.due > due) i--;
    this.queue.splice(i, 0, entry);
    return entry;
  }
}
