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
