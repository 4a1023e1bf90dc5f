/**
 * Bounded concurrency (a leaf: the drain's requests, detection's places). No timers, no sleeps.
 */

/**
 * Calls `fn` for every item, at most `limit` at a time; results in item order. After the
 * first failure nothing new starts; the calls in flight are let finish, then it rethrows.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
