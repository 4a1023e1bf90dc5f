/**
 * Decisions about what arrives at one virtual instant (an API attempt against a token
 * bucket), taken together once the world is idle and in a stable order, so that a run
 * replays them whatever order real I/O delivered them in.
 *
 * `decide` steps off the clock with `park`, a zero-length sleep of the caller's actor: when
 * every actor is asleep, the clock fires all the sleeps due now in one go, and the first
 * caller to resume decides the whole batch, sorted by `order`, before any other resumes.
 */
interface Batch<T, R> {
  entries: { order: string; item: T; result?: R }[];
  decided: boolean;
}

export class InstantBatch<T, R> {
  private open: Batch<T, R> | undefined;

  constructor(private readonly decideOne: (item: T) => R) {}

  async decide(order: string, item: T, park: () => Promise<void>): Promise<R> {
    const batch = (this.open ??= { entries: [], decided: false });
    const entry: Batch<T, R>['entries'][number] = { order, item };
    batch.entries.push(entry);
    await park();
    if (!batch.decided) {
      // what arrives from now on waits for the next idle instant
      batch.decided = true;
      if (this.open === batch) this.open = undefined;
      batch.entries.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
      for (const queued of batch.entries) queued.result = this.decideOne(queued.item);
    }
    return entry.result as R;
  }
}
