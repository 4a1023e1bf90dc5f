import type { FinalizeHandler, FinalizeHandlerArguments, HandlerExecutionContext, Pluggable } from '@smithy/types';
import { now as clockNow, sleep as clockSleep } from '../clock.js';
import type { ScopeBudget } from './clients.js';

/**
 * A share of an account-region's API request rates, so that the service never takes more than
 * that share of what AWS lets the account do (other tools, the console, people, share it too).
 *
 * EC2 — "Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html: a token bucket per
 * account, region and API ("each API is evaluated individually"), sized by the API's category:
 *
 * | category                                                  | bucket | refill/s |
 * | --------------------------------------------------------- | ------ | -------- |
 * | non-mutating (Describe*, List*, Search*, Get*)            | 100    | 20       |
 * | unfiltered and unpaginated non-mutating (DescribeInstances …) | 50 | 10       |
 * | mutating                                                  | 50     | 5        |
 * | RunInstances, StartInstances                              | 5      | 2        |
 * | TerminateInstances                                        | 100    | 5        |
 * | CreateTags, DeleteTags                                    | 100    | 10       |
 * | CreateLaunchTemplateVersion, ModifyLaunchTemplate         | 100    | 5        |
 *
 * Auto Scaling documents no numbers: "all Amazon EC2 Auto Scaling API calls have a single,
 * shared API limit" per account and region
 * (https://repost.aws/knowledge-center/autoscaling-api-calls-throttled). We assume EC2's
 * non-mutating bucket (100, 20/s) for all its actions together — shared, so the conservative
 * reading — as the sandbox does (test/sim/aws/rate-limits.ts).
 *
 * EKS documents none either; we assume EC2's categories per action (Describe*, List* 100 at
 * 20/s; any other 50 at 5/s), again as the sandbox does.
 *
 * A budget of share s lets no second hold more of a bucket's requests than s of its refill
 * (budgetedLimit, RollingWindow), and leaves the bucket's own tokens — its burst — to the
 * account's other callers. (Holding s of the bucket as a burst let a detection's first second
 * take 2.5–3× the refill: 50 of a 100-token bucket at once, then 10 a second.)
 */
export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}

/** The service's default share of an account-region's documented rates. */
export const DEFAULT_API_SHARE = 0.5;

const EC2_NON_MUTATING: BucketLimit = { capacity: 100, refillPerSecond: 20 };
const EC2_UNFILTERED: BucketLimit = { capacity: 50, refillPerSecond: 10 };
const EC2_MUTATING: BucketLimit = { capacity: 50, refillPerSecond: 5 };
const EC2_OWN: Readonly<Record<string, BucketLimit>> = {
  RunInstances: { capacity: 5, refillPerSecond: 2 },
  StartInstances: { capacity: 5, refillPerSecond: 2 },
  TerminateInstances: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
  DeleteTags: { capacity: 100, refillPerSecond: 10 },
  CreateLaunchTemplateVersion: { capacity: 100, refillPerSecond: 5 },
  ModifyLaunchTemplate: { capacity: 100, refillPerSecond: 5 },
};
/** asked without a filter or pagination, these take from the smaller unfiltered bucket */
const EC2_UNFILTERED_ACTIONS: ReadonlySet<string> = new Set(['DescribeInstances', 'DescribeInstanceStatus', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups', 'DescribeSnapshots', 'DescribeSpotInstanceRequests', 'DescribeVolumes']);
const AUTO_SCALING_SHARED: BucketLimit = { capacity: 100, refillPerSecond: 20 };
const EKS_NON_MUTATING: BucketLimit = { capacity: 100, refillPerSecond: 20 };
const EKS_MUTATING: BucketLimit = { capacity: 50, refillPerSecond: 5 };
const NON_MUTATING = /^(Describe|List|Search|Get)/;

export type BudgetedService = 'ec2' | 'autoscaling' | 'eks';

/** The documented (or assumed, see above) bucket a request draws from: its key within the account-region, and its size. */
export function documentedBucket(service: BudgetedService, command: string, input: unknown = {}): { key: string; limit: BucketLimit } {
  switch (service) {
    case 'autoscaling':
      return { key: 'autoscaling:*', limit: AUTO_SCALING_SHARED };
    case 'eks':
      return { key: `eks:${command}`, limit: NON_MUTATING.test(command) ? EKS_NON_MUTATING : EKS_MUTATING };
    case 'ec2': {
      const i = (input ?? {}) as { Filters?: unknown[]; MaxResults?: number; NextToken?: string };
      if (EC2_UNFILTERED_ACTIONS.has(command) && !i.Filters?.length && i.MaxResults === undefined && i.NextToken === undefined) return { key: `ec2:${command} (unfiltered)`, limit: EC2_UNFILTERED };
      return { key: `ec2:${command}`, limit: EC2_OWN[command] ?? (NON_MUTATING.test(command) ? EC2_NON_MUTATING : EC2_MUTATING) };
    }
  }
}

/** At most `requests` sent in any `windowMs`: what a budget keeps each bucket's requests to. */
export interface WindowLimit {
  requests: number;
  windowMs: number;
}

/**
 * The budget of one documented bucket at `share`: as many requests in any second as `share` of
 * its refill (at least one; for a refill slower than that, one per the time it takes the share
 * to refill one token). None of the bucket's own tokens — its burst — is taken beyond that: they
 * are left to the account's other callers.
 */
export function budgetedLimit(documented: BucketLimit, share: number): WindowLimit {
  const perSecond = documented.refillPerSecond * share;
  const windowMs = Math.max(1000, Math.ceil(1000 / perSecond));
  return { requests: Math.max(1, Math.floor((perSecond * windowMs) / 1000)), windowMs };
}

/**
 * A rolling window that hands out reservations (pure; time in ms is passed in): a request goes
 * now while the window that ends with it holds fewer than `requests`, else when the oldest of the
 * last `requests` sends leaves it. Reserving keeps the waiters in order however many wait at
 * once, and no window of `windowMs` ever holds more than `requests` sends: the figure the issue
 * sets (the busiest second against the documented refill) is the one it keeps.
 */
export class RollingWindow {
  /** the last `requests` send times, oldest first (never decreasing) */
  private readonly sent: number[] = [];

  constructor(readonly limit: WindowLimit) {
    if (!(limit.requests >= 1) || !(limit.windowMs > 0)) throw new RangeError(`a window needs requests ≥ 1 and a length > 0, got ${JSON.stringify(limit)}`);
  }

  /** Reserves a send at or after `now`; returns how many ms the request must wait (0: now). */
  reserve(now: number): number {
    const full = this.sent.length >= this.limit.requests;
    const send = Math.max(now, this.sent.at(-1) ?? now, full ? this.sent[0]! + this.limit.windowMs : now);
    this.sent.push(send);
    if (this.sent.length > this.limit.requests) this.sent.shift();
    return send - now;
  }
}

/**
 * One account-region's budget: a RollingWindow per API bucket AWS keeps there, at `share` of
 * its refill. Every request the SDK sends in that place (each attempt, retries included) takes
 * from it first, waiting on the service's clock (virtual in the sandbox) when it is empty.
 */
export class RequestBudget implements ScopeBudget {
  private readonly buckets = new Map<string, RollingWindow>();
  /** requests let through, and ms waited, by bucket key (what the bench and the logs report) */
  readonly taken = new Map<string, { requests: number; waitedMs: number }>();

  /** told of each request when it is let go (bucket key, ms since epoch): what the bench's peak rates are counted from */
  onSend?: (key: string, at: number) => void;

  constructor(
    readonly share: number = DEFAULT_API_SHARE,
    private readonly clock: { now: () => number; sleep: (ms: number) => Promise<void> } = { now: () => clockNow().getTime(), sleep: clockSleep },
  ) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`an API budget is a share in (0, 1], got ${share}`);
  }

  /** How long a request must wait (reserving its token): 0 when it may go now. */
  reserve(service: BudgetedService, command: string, input?: unknown): number {
    const { key, limit } = documentedBucket(service, command, input);
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new RollingWindow(budgetedLimit(limit, this.share))));
    const wait = bucket.reserve(this.clock.now());
    const counted = this.taken.get(key) ?? { requests: 0, waitedMs: 0 };
    this.taken.set(key, { requests: counted.requests + 1, waitedMs: counted.waitedMs + wait });
    return wait;
  }

  /** The SDK middleware that takes from this budget before each request (clients.ts puts it in every client of the scope). */
  middleware(): Pluggable<object, object> {
    return budgetMiddleware(this);
  }

  /** Takes a token, waiting for it when the bucket is empty. */
  async take(service: BudgetedService, command: string, input?: unknown): Promise<void> {
    const wait = this.reserve(service, command, input);
    if (wait > 0) await this.clock.sleep(wait);
    this.onSend?.(documentedBucket(service, command, input).key, this.clock.now());
  }
}

/** The SDK clients a budget paces, by the `clientName` the SDK puts in a middleware's context. */
const BUDGETED_CLIENTS: Readonly<Record<string, BudgetedService>> = { EC2Client: 'ec2', AutoScalingClient: 'autoscaling', EKSClient: 'eks' };

/**
 * The middleware that takes from the budget before each attempt goes out: inside the SDK's
 * retry loop (a retried request is a request AWS counts), before it is signed (a wait does not
 * age the signature).
 */
export function budgetMiddleware(budget: RequestBudget): Pluggable<object, object> {
  return {
    applyToStack(stack) {
      stack.addRelativeTo(
        (next: FinalizeHandler<object, object>, context: HandlerExecutionContext) => async (args: FinalizeHandlerArguments<object>) => {
          const service = BUDGETED_CLIENTS[String(context.clientName ?? '')];
          if (service) await budget.take(service, String(context.commandName ?? '').replace(/Command$/, ''), args.input);
          return next(args);
        },
        { name: 'requestBudget', relation: 'before', toMiddleware: 'httpSigningMiddleware', override: true },
      );
    },
  };
}
