import { DEFAULT_MAX_ATTEMPTS, MAXIMUM_RETRY_DELAY, Retry } from '@smithy/core/retry';
import { CallIdentities } from '../call-identity';
import type { VirtualClock } from '../clock';
import { InstantBatch } from '../instant-batch';
import { InvocationSleeps } from '../invocation-sleeps';
import { PeakRate, TokenBucket, type BucketLimit } from '../token-bucket';
import type { ServiceName } from './errors';
import { drawsFor } from './ids';
import { bucketsFor, type BucketDraw } from './rate-limits';

/**
 * The account's API throttling, as AWS applies it (rate-limits.ts: token buckets per account
 * and region, refilled on the virtual clock), with the SDK's standard retry mode in front of
 * it, since the sandbox's mocks replace `send` and the SDK's own middleware never runs:
 * 1. an attempt takes its tokens, or is throttled;
 * 2. a throttled attempt is retried after the standard strategy's delay — a draw in
 *    [0, min(Retry.throttlingDelay() × 2^n, MAXIMUM_RETRY_DELAY)) from @smithy/core/retry,
 *    the jitter drawn from the seed and the call's identity — slept on the virtual clock,
 *    so the world moves on and the bucket refills meanwhile;
 * 3. after `maxAttempts` (the SDK's DEFAULT_MAX_ATTEMPTS, 3) throttled attempts the caller
 *    sees the service's throttling error, as a real client would.
 * The bases are the standard strategy's own (`Retry.delay()` 50 ms, `Retry.throttlingDelay()`
 * 1,000 ms in @smithy/core 3.41): DEFAULT_RETRY_DELAY_BASE (100) and
 * THROTTLING_RETRY_DELAY_BASE (500) now serve only the deprecated pre-SRA strategy, as
 * retries-2026-config.d.ts says. Not modelled: the client's retry quota (500 tokens, 5 a
 * throttled retry), which only a client hammered for minutes would exhaust.
 *
 * Reproducible for a seed: the attempts made at one virtual instant are admitted together
 * once every actor is asleep, in the order of their identities (call-identity.ts), not in
 * the order real I/O happened to deliver them (instant-batch.ts).
 *
 * Only calls made from inside a Lambda invocation while the world runs (`settle()`,
 * `advance()`) can wait: a scenario's own SDK calls (a person at the console), and those of
 * an invocation awaited outside `settle()`, take a token if one is there and are never
 * refused, since nothing would let virtual time pass for their retries. What the account
 * does on its own behalf (Auto Scaling launching and terminating instances) never passes
 * through here: AWS does not document it as drawing from the caller's buckets.
 *
 * Off by default; `enable()` / `disable()` switch it per scenario (World.start's
 * `throttling: { aws: true }` does it for you).
 */
export interface AwsThrottlingOptions {
  /** seeds the retry jitter; default 1 */
  seed?: number;
  /** attempts per call, the SDK's `maxAttempts`; default DEFAULT_MAX_ATTEMPTS (3) */
  maxAttempts?: number;
  /**
   * Other buckets than the documented ones, by key (`ec2:DescribeInstances`,
   * `ec2:DescribeInstances (unfiltered)`, `ec2:RunInstances (resource)`, `autoscaling:*`,
   * `eks:DescribeCluster`): a busier account, or a limit increase.
   */
  limits?: Record<string, BucketLimit>;
}

export interface AwsThrottlingTally {
  /** attempts that reached the account while throttling was on, by `service:command` (retries included) */
  attempts: Map<string, number>;
  /** attempts refused with the throttling error, by `service:command` */
  attemptsThrottled: Map<string, number>;
  /** calls whose every attempt was throttled: the caller saw the error */
  callsFailed: Map<string, number>;
  /** the busiest virtual second (attempts) of each API (`ec2:DescribeInstances`) and of each service (`ec2`), and when it began */
  peakPerSecond: Map<string, { perSecond: number; at: number }>;
}

/** What became of a call: admitted after `attempts`, or refused after all of them. */
export interface Admission {
  admitted: boolean;
  attempts: number;
  /** virtual milliseconds slept between attempts */
  totalRetryDelay: number;
}

const BUCKET_KEY = /^(ec2:[A-Z][A-Za-z]+( \((unfiltered|resource)\))?|autoscaling:\*|eks:[A-Z][A-Za-z]+)$/;
const ADMITTED_AT_ONCE: Admission = { admitted: true, attempts: 1, totalRetryDelay: 0 };

export class AwsThrottling {
  private options: Required<Omit<AwsThrottlingOptions, 'limits'>> & { limits: Record<string, BucketLimit> } = { seed: 1, maxAttempts: DEFAULT_MAX_ATTEMPTS, limits: {} };
  private on = false;
  private buckets = new Map<string, TokenBucket>();
  private identities = new CallIdentities();
  private readonly attempts: InstantBatch<BucketDraw[], boolean>;
  private readonly sleeps: InvocationSleeps;
  private readonly rates = new PeakRate();
  private readonly counts = { attempts: new Map<string, number>(), attemptsThrottled: new Map<string, number>(), callsFailed: new Map<string, number>() };

  constructor(private readonly clock: VirtualClock) {
    this.attempts = new InstantBatch((draws) => this.grant(draws, { lenient: false }));
    this.sleeps = new InvocationSleeps(clock);
  }

  get enabled(): boolean {
    return this.on;
  }

  /** Switches throttling on with full buckets. */
  enable(options: AwsThrottlingOptions = {}): this {
    const known = new Set(['seed', 'maxAttempts', 'limits']);
    for (const key of Object.keys(options)) if (!known.has(key)) throw new Error(`AwsThrottling: unknown option ${key}`);
    for (const key of Object.keys(options.limits ?? {})) {
      if (!BUCKET_KEY.test(key)) throw new Error(`AwsThrottling: ${key} names no bucket (ec2:DescribeInstances, ec2:DescribeInstances (unfiltered), ec2:RunInstances (resource), autoscaling:*, eks:DescribeCluster)`);
    }
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`AwsThrottling: maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
    this.options = { seed: options.seed ?? 1, maxAttempts, limits: { ...options.limits } };
    this.buckets = new Map();
    this.identities = new CallIdentities();
    this.on = true;
    return this;
  }

  disable(): void {
    this.on = false;
  }

  tally(): AwsThrottlingTally {
    return {
      attempts: new Map(this.counts.attempts),
      attemptsThrottled: new Map(this.counts.attemptsThrottled),
      callsFailed: new Map(this.counts.callsFailed),
      peakPerSecond: this.rates.peak(),
    };
  }

  /** Forgets the counts (after set-up, before the measured run); the buckets stay as they are. */
  resetTally(): void {
    for (const map of Object.values(this.counts)) map.clear();
    this.rates.reset();
  }

  /** Runs the call's attempts against its buckets (see the numbered steps above). */
  async admit(service: ServiceName | 'iam', command: string, input: unknown): Promise<Admission> {
    if (!this.on) return ADMITTED_AT_ONCE;
    const api = `${service}:${command}`;
    const draws = bucketsFor(service, command, input).map((d) => ({ ...d, limit: this.options.limits[d.key] ?? d.limit }));
    const identity = this.identities.next(api);
    // a caller that starts the world right after starting the invocation is still on its way to settle()
    if (identity.invocation && draws.length > 0 && !this.clock.settling) await new Promise((resolve) => setImmediate(resolve));
    if (draws.length === 0 || !identity.invocation || !this.clock.settling) {
      this.count(service, api);
      this.grant(draws, { lenient: true });
      return ADMITTED_AT_ONCE;
    }
    const jitter = drawsFor(this.options.seed, identity.key);
    const invocation = identity.invocation;
    let totalRetryDelay = 0;
    for (let attempt = 1; ; attempt++) {
      // 1. an attempt takes its tokens, or is throttled
      const granted = await this.attempts.decide(`${identity.key} attempt ${attempt}`, draws, () => this.sleeps.sleep(invocation, 0));
      this.count(service, api);
      if (granted) return { admitted: true, attempts: attempt, totalRetryDelay };
      bump(this.counts.attemptsThrottled, api);
      // 3. out of attempts: the caller sees the error
      if (attempt >= this.options.maxAttempts) {
        bump(this.counts.callsFailed, api);
        return { admitted: false, attempts: attempt, totalRetryDelay };
      }
      // 2. the standard strategy's backoff, on the virtual clock
      const delay = Math.floor(jitter.next() * Math.min(Retry.throttlingDelay() * 2 ** (attempt - 1), MAXIMUM_RETRY_DELAY));
      totalRetryDelay += delay;
      await this.sleeps.sleep(invocation, delay);
    }
  }

  /** Takes from every bucket the call draws from, or from none; lenient: takes what is there and passes. */
  private grant(draws: readonly BucketDraw[], { lenient }: { lenient: boolean }): boolean {
    const now = this.clock.now();
    const buckets = draws.map((d) => this.bucket(d));
    const ready = buckets.every((bucket, i) => bucket.available(now) >= draws[i]!.cost);
    if (ready) buckets.forEach((bucket, i) => bucket.take(now, draws[i]!.cost));
    else if (lenient) buckets.forEach((bucket, i) => bucket.take(now, Math.min(draws[i]!.cost, Math.floor(bucket.available(now)))));
    return ready || lenient;
  }

  private bucket(draw: BucketDraw): TokenBucket {
    let bucket = this.buckets.get(draw.key);
    if (!bucket) this.buckets.set(draw.key, (bucket = new TokenBucket(draw.limit, this.clock.now())));
    return bucket;
  }

  private count(service: string, api: string): void {
    bump(this.counts.attempts, api);
    this.rates.count(api, this.clock.now());
    this.rates.count(service, this.clock.now());
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
