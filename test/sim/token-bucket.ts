/**
 * A token bucket on the virtual clock, the algorithm AWS documents for its API throttling:
 * it holds at most `capacity` tokens, starts full, and gains `refillPerSecond` tokens a
 * virtual second (continuously, so fractional rates such as EC2's 0.1/s work); a request
 * takes `cost` tokens or is refused, and a refused request takes nothing.
 */
export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly limit: BucketLimit,
    now: number,
  ) {
    if (!(limit.capacity > 0) || !(limit.refillPerSecond > 0)) throw new Error(`TokenBucket: capacity and refillPerSecond must be > 0, got ${JSON.stringify(limit)}`);
    this.tokens = limit.capacity;
    this.at = now;
  }

  /** Tokens in the bucket at virtual time `now`. */
  available(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.limit.capacity, this.tokens + ((now - this.at) / 1000) * this.limit.refillPerSecond);
      this.at = now;
    }
    return this.tokens;
  }

  /** Takes `cost` tokens if the bucket holds them. */
  take(now: number, cost = 1): boolean {
    if (this.available(now) < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

/**
 * Requests per virtual second, by key (an API, a flow): the busiest second of each, as a
 * benchmark reports "peak request rate". The busiest second of several keys together is not
 * the sum of their peaks: count the total under a key of its own.
 */
export class PeakRate {
  private readonly current = new Map<string, { second: number; count: number }>();
  private readonly peaks = new Map<string, { perSecond: number; at: number }>();

  count(key: string, now: number): void {
    const second = Math.floor(now / 1000);
    let slot = this.current.get(key);
    if (!slot || slot.second !== second) this.current.set(key, (slot = { second, count: 0 }));
    slot.count++;
    const peak = this.peaks.get(key);
    if (!peak || slot.count > peak.perSecond) this.peaks.set(key, { perSecond: slot.count, at: second * 1000 });
  }

  /** Each key's busiest virtual second: how many requests, and when that second began (ms since epoch). */
  peak(): Map<string, { perSecond: number; at: number }> {
    return new Map([...this.peaks].map(([key, peak]) => [key, { ...peak }]));
  }

  /** Forgets every count (after set-up, before the measured run). */
  reset(): void {
    this.current.clear();
    this.peaks.clear();
  }
}
