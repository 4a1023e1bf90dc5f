/**
 * The service's notion of "now". Decisions take `now` as an argument; handlers read it here.
 * In AWS it is the wall clock; the sandbox points it at its virtual clock so that an hour
 * of waiting in a workflow is an hour for the handlers too.
 */
let source: () => number = Date.now;

export function now(): Date {
  return new Date(source());
}

/** Replaces the time source (the sandbox only). Returns a function that restores it. */
export function useTimeSource(next: () => number): () => void {
  const previous = source;
  source = next;
  return () => {
    source = previous;
  };
}

/** Starts a timer of `ms`; returns what cancels it. */
export type TimerSource = (ms: number, fire: () => void) => () => void;

const realTimers: TimerSource = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
};
let timers: TimerSource = realTimers;

/**
 * A deadline's timer (a Kubernetes request's). In AWS a real timer; the sandbox may run one on
 * its virtual clock instead, for a request it knows can never be answered (a private endpoint
 * out of the function's reach), so that the wait costs virtual time, not real.
 */
export function startTimer(ms: number, fire: () => void): () => void {
  return timers(ms, fire);
}

/** Replaces the timer source (the sandbox only). Returns a function that restores it. */
export function useTimerSource(next: TimerSource): () => void {
  const previous = timers;
  timers = next;
  return () => {
    timers = previous;
  };
}

/**
 * Waits `ms` milliseconds: a short, bounded pause inside one invocation (a chat command
 * waiting seconds for the rollout's first step), never the long waits, which are Step
 * Functions'. In AWS a timer; the sandbox points it at its virtual clock.
 */
let sleeper: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function sleep(ms: number): Promise<void> {
  return sleeper(ms);
}

/** Replaces how `sleep` waits (the sandbox only). Returns a function that restores it. */
export function useSleep(next: (ms: number) => Promise<void>): () => void {
  const previous = sleeper;
  sleeper = next;
  return () => {
    sleeper = previous;
  };
}

/** A time as whole seconds since the epoch, rounded down: what a DynamoDB TTL attribute holds. */
export function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}
