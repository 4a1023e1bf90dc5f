/**
 * Bounded concurrency for a pass's requests. No timers, no sleeps: a pass does what it can
 * at once and reports; the workflow does the waiting.
 */

export { mapBounded } from '../../map-bounded.js';

/** How a result bears on the rest of its group: go on, stop this group, or stop everything. */
export type Verdict = 'accepted' | 'neutral' | 'refused' | 'halt';

export interface GroupedOptions<T, R> {
  /** requests in flight at once, over all groups */
  limit: number;
  /** items likely to share a limit (pods of one controller share a budget) */
  groupOf: (item: T) => string;
  verdict: (result: R) => Verdict;
}

export interface GroupedRun<T, R> {
  done: { item: T; result: R }[];
  /** items never tried: their group was refused, or everything halted */
  untried: T[];
}

/**
 * Like `mapBounded`, but a group's items probe before they rush: one at a time until two
 * are accepted, then as many in flight as have been accepted (doubling every round trip,
 * as TCP's slow start), and a group stops at its first refusal. A budget that allows one
 * disruption therefore costs one refused request per pass, not one per pod; a group
 * without a budget still goes at nearly full speed. Groups are served in turn.
 */
export function runGrouped<T, R>(items: readonly T[], options: GroupedOptions<T, R>, fn: (item: T) => Promise<R>): Promise<GroupedRun<T, R>> {
  interface Group {
    queue: T[];
    inFlight: number;
    accepted: number;
    stopped: boolean;
  }
  const groups = new Map<string, Group>();
  for (const item of items) {
    const key = options.groupOf(item);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { queue: [], inFlight: 0, accepted: 0, stopped: false }));
    group.queue.push(item);
  }
  const done: GroupedRun<T, R>['done'] = [];
  let inFlight = 0;
  let halted = false;
  let failure: { error: unknown } | undefined;

  return new Promise((resolve, reject) => {
    const window = (group: Group) => Math.min(options.limit, Math.max(1, group.accepted));
    const settle = () => {
      if (inFlight > 0) return;
      if (failure) reject(failure.error);
      else resolve({ done, untried: [...groups.values()].flatMap((group) => group.queue) });
    };
    const pump = () => {
      let started = true;
      while (started && !failure && !halted && inFlight < options.limit) {
        started = false;
        for (const group of groups.values()) {
          if (inFlight >= options.limit) break;
          if (group.stopped || group.queue.length === 0 || group.inFlight >= window(group)) continue;
          start(group, group.queue.shift()!);
          started = true;
        }
      }
      settle();
    };
    const start = (group: Group, item: T) => {
      group.inFlight++;
      inFlight++;
      fn(item).then(
        (result) => {
          group.inFlight--;
          inFlight--;
          done.push({ item, result });
          const verdict = options.verdict(result);
          if (verdict === 'accepted') group.accepted++;
          else if (verdict === 'refused') group.stopped = true;
          else if (verdict === 'halt') halted = true;
          pump();
        },
        (error: unknown) => {
          group.inFlight--;
          inFlight--;
          failure ??= { error };
          settle();
        },
      );
    };
    pump();
  });
}
