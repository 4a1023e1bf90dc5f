import type { CallIdentity } from '../call-identity';
import type { VirtualClock } from '../clock';
import { InstantBatch } from '../instant-batch';
import { InvocationSleeps } from '../invocation-sleeps';
import { PeakRate, TokenBucket, type BucketLimit } from '../token-bucket';
import type { ServiceName } from './errors';
import { bucketsFor, type BucketDraw } from './rate-limits';

/**
 * The account's API throttling, as AWS applies it (rate-limits.ts: token buckets per account
 * and region, refilled on the virtual clock). Each attempt that reaches the account — the
 * SDK's retries included, since the sandbox answers inside the SDK's middleware stack
 * (../sdk-stack.ts) — takes its tokens, or is refused with the service's throttling error;
 * the SDK's own standard retry strategy then decides whether and when to try again (three
 * attempts, a backoff of up to 1 s × 2^retries for throttling, its retry quota), its wait
 * taken on the virtual clock so the world moves on and the bucket refills meanwhile.
 *
 * Reproducible for a seed: the attempts made at one virtual instant are admitted together
 * once every actor is asleep, in the order of their identities (call-identity.ts: the
 * invocation, the call, the attempt), not in the order real I/O happened to deliver them
 * (instant-batch.ts); the retry jitter is drawn from the seed and the call's identity.
 *
 * Only calls made from inside a Lambda invocation while the world runs (`settle()`,
 * `advance()`) can be refused: a scenario's own SDK calls (a person at the console), and those
 * of an invocation awaited outside `settle()`, take a token if one is there and are never
 * refused, since nothing would let virtual time pass for their retries. What the account
 * does on its own behalf (Auto Scaling launching and terminating instances) never passes
 * through here: AWS does not document it as drawing from the caller's buckets.
 *
 * On in every World unless a scenario switches it off (world-throttling.ts); a bare
 * SimAccount starts with it off: `enable()` / `disable()`.
 */
export interface AwsThrottlingOptions {
  /** seeds the order of simultaneous attempts' tie-breaks and the SDK's retry jitter; default 1 */
  seed?: number;
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
  /** calls the SDK gave up on with the throttling error (its attempts, or its retry quota, spent): the caller saw it */
  callsFailed: Map<string, number>;
  /** the busiest virtual second (attempts) of each API (`ec2:DescribeInstances`) and of each service (`ec2`), and when it began */
  peakPerSecond: Map<string, { perSecond: number; at: number }>;
}

const BUCKET_KEY = /^(ec2:[A-Z][A-Za-z]+( \((unfiltered|resource)\))?|autoscaling:\*|eks:[A-Z][A-Za-z]+)$/;

export class AwsThrottling {
  private options: Required<Omit<AwsThrottlingOptions, 'limits'>> & { limits: Record<string, BucketLimit> } = { seed: 1, limits: {} };
  private on = false;
  private buckets = new Map<string, TokenBucket>();
  private readonly attempts: InstantBatch<BucketDraw[], boolean>;
  private readonly sleeps: InvocationSleeps;
  private readonly rates = new PeakRate();
  private readonly counts = { attempts: new Map<string, number>(), attemptsThrottled: new Map<string, number>(), callsFailed: new Map<string, number>() };
  /** other accounts' throttling that follows this switch (lead()) */
  private readonly followers: AwsThrottling[] = [];

  constructor(private readonly clock: VirtualClock) {
    this.attempts = new InstantBatch((draws) => this.grant(draws, { lenient: false }));
    this.sleeps = InvocationSleeps.of(clock);
  }

  get enabled(): boolean {
    return this.on;
  }

  /** The seed of the SDK retries' jitter and of the attempts' order (1 until `enable` says otherwise). */
  get seed(): number {
    return this.options.seed;
  }

  /** Switches throttling on with full buckets. */
  enable(options: AwsThrottlingOptions = {}): this {
    const known = new Set(['seed', 'limits']);
    for (const key of Object.keys(options)) {
      if (key === 'maxAttempts') throw new Error('AwsThrottling: maxAttempts is the SDK client\'s own setting now (its config, or AWS_MAX_ATTEMPTS): the sandbox runs its retries for real');
      if (!known.has(key)) throw new Error(`AwsThrottling: unknown option ${key}`);
    }
    for (const key of Object.keys(options.limits ?? {})) {
      if (!BUCKET_KEY.test(key)) throw new Error(`AwsThrottling: ${key} names no bucket (ec2:DescribeInstances, ec2:DescribeInstances (unfiltered), ec2:RunInstances (resource), autoscaling:*, eks:DescribeCluster)`);
    }
    this.options = { seed: options.seed ?? 1, limits: { ...options.limits } };
    this.buckets = new Map();
    this.on = true;
    for (const follower of this.followers) follower.enable(options);
    return this;
  }

  disable(): void {
    this.on = false;
    for (const follower of this.followers) follower.disable();
  }

  /**
   * Another account-region's throttling (a member account of the same world) follows this
   * switch: on or off and with the same options now, and whenever it is switched later. Each
   * keeps its own buckets, as AWS keeps them per account and region.
   */
  lead(follower: AwsThrottling): void {
    this.followers.push(follower);
    if (this.on) follower.enable({ seed: this.options.seed, limits: this.options.limits });
    else follower.disable();
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

  /**
   * One attempt of a call against its buckets: true when it took its tokens, false when it is
   * throttled. `attempt` is 1 for the call's first try, 2 for the SDK's first retry, …
   */
  async attempt(service: ServiceName | 'iam', command: string, input: unknown, identity: CallIdentity, attempt: number): Promise<boolean> {
    if (!this.on) return true;
    const api = `${service}:${command}`;
    const draws = bucketsFor(service, command, input).map((d) => ({ ...d, limit: this.options.limits[d.key] ?? d.limit }));
    // a caller that starts the world right after starting the invocation is still on its way to settle()
    if (identity.invocation && draws.length > 0 && !this.clock.settling) await new Promise((resolve) => setImmediate(resolve));
    if (draws.length === 0 || !identity.invocation || !this.clock.settling) {
      this.count(service, api);
      this.grant(draws, { lenient: true });
      return true;
    }
    const invocation = identity.invocation;
    const granted = await this.attempts.decide(`${identity.key} attempt ${attempt}`, draws, () => this.sleeps.sleep(invocation, 0, invocation.ended));
    this.count(service, api);
    if (!granted) bump(this.counts.attemptsThrottled, api);
    return granted;
  }

  /** The SDK gave up on a call with a throttling error of the buckets'. */
  countFailedCall(service: ServiceName | 'iam', command: string): void {
    bump(this.counts.callsFailed, `${service}:${command}`);
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
