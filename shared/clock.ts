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
