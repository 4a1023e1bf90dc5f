import type { VirtualClock } from '../clock.js';
import { PeakRate, TokenBucket } from '../token-bucket.js';

/**
 * API Priority and Fairness for the sandbox's API server: each flow (the requesting user, as
 * kube-apiserver's `ByUser` distinguisher has it) may send `burst` requests at once and
 * `perSecond` a virtual second after that; past it, a request is refused the way
 * kube-apiserver refuses it.
 *
 * The refusal, from kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/server/filters/
 * priority-and-fairness.go (`tooManyRequests`, and `setResponseHeaders`):
 *   w.Header().Set("Retry-After", retryAfter)
 *   http.Error(w, "Too many requests, please try again later.", http.StatusTooManyRequests)
 * that is 429 with a *plain-text* body (http.Error adds the newline, `text/plain;
 * charset=utf-8` and `X-Content-Type-Options: nosniff`), not a Status object, plus the
 * X-Kubernetes-PF-FlowSchema-UID / -PriorityLevel-UID headers. It is client-go that turns
 * such an answer into a StatusError (reason TooManyRequests, details.retryAfterSeconds from
 * the header). Retry-After follows util/flowcontrol/dropped_requests_tracker.go: 1 s, doubled
 * (at most 32) when a priority level dropped at least 3 × retryAfter requests in the last
 * retryAfter seconds, one less when it dropped fewer than retryAfter — here on the virtual clock.
 *
 * Real APF limits seats (requests executing at once) and queues the rest; the sandbox's
 * requests take no virtual time, so a token bucket per flow stands in for it. Our numbers,
 * not Kubernetes': `burst` 300 is what one flow can hold in APF's queues before it is
 * refused with the global-default priority level's defaults (hand size 6 × queue length 50);
 * `perSecond` 100 is a sustained rate well below what that level serves on a default API
 * server, so that a burst of drains meets it.
 *
 * Requests are decided as they arrive. A Lambda invocation waiting on the API server holds
 * the virtual clock (the server cannot tell which actor a request came from, so it cannot
 * wait for the world to be idle the way the AWS side does), so when a flow runs out within
 * one virtual instant, which of its concurrent requests is the one refused follows the real
 * order of arrival; how many are refused does not. Health checks are exempt, as the
 * `probes` FlowSchema makes them.
 */
export interface FlowControlOptions {
  /** requests a flow may send at once; default 300 */
  burst?: number;
  /** requests per virtual second a flow is granted once its burst is spent; default 100 */
  perSecond?: number;
}

export interface FlowControlTally {
  /** requests that went through flow control, by flow */
  requests: Map<string, number>;
  /** of them, refused with 429, by flow */
  rejected: Map<string, number>;
  /** each flow's busiest virtual second, and when it began */
  peakPerSecond: Map<string, { perSecond: number; at: number }>;
}

export type FlowDecision = { admitted: true } | { admitted: false; retryAfterSeconds: number };

export const TOO_MANY_REQUESTS = 'Too many requests, please try again later.';
/** the UIDs the sandbox's one FlowSchema and PriorityLevelConfiguration (global-default) carry */
export const FLOW_SCHEMA_UID = '5a1c2bd3-8b4e-4d0f-9c61-3f2a7e0d9b10';
export const PRIORITY_LEVEL_UID = '7e3d9c21-64f0-4b8a-a5d2-0c9b1e8f4a27';

const MAX_RETRY_AFTER = 32;

export class PriorityAndFairness {
  private on = false;
  private options: Required<FlowControlOptions> = { burst: 300, perSecond: 100 };
  private buckets = new Map<string, TokenBucket>();
  private readonly retryAfter = new RetryAfter();
  private readonly rates = new PeakRate();
  private readonly counts = { requests: new Map<string, number>(), rejected: new Map<string, number>() };

  constructor(private readonly clock: VirtualClock) {}

  get enabled(): boolean {
    return this.on;
  }

  enable(options: FlowControlOptions = {}): this {
    for (const key of Object.keys(options)) if (key !== 'burst' && key !== 'perSecond') throw new Error(`PriorityAndFairness: unknown option ${key}`);
    const next = { burst: options.burst ?? 300, perSecond: options.perSecond ?? 100 };
    if (!(next.burst >= 1) || !(next.perSecond > 0)) throw new Error(`PriorityAndFairness: burst must be ≥ 1 and perSecond > 0, got ${JSON.stringify(options)}`);
    this.options = next;
    this.buckets = new Map();
    this.on = true;
    return this;
  }

  disable(): void {
    this.on = false;
  }

  tally(): FlowControlTally {
    return { requests: new Map(this.counts.requests), rejected: new Map(this.counts.rejected), peakPerSecond: this.rates.peak() };
  }

  resetTally(): void {
    this.counts.requests.clear();
    this.counts.rejected.clear();
    this.rates.reset();
  }

  /** Admits a request of `flow` (the requesting user), or says how to refuse it. */
  admit(flow: string): FlowDecision {
    const now = this.clock.now();
    bump(this.counts.requests, flow);
    this.rates.count(flow, now);
    let bucket = this.buckets.get(flow);
    if (!bucket) this.buckets.set(flow, (bucket = new TokenBucket({ capacity: this.options.burst, refillPerSecond: this.options.perSecond }, now)));
    if (bucket.take(now)) return { admitted: true };
    bump(this.counts.rejected, flow);
    return { admitted: false, retryAfterSeconds: this.retryAfter.dropped(Math.floor(now / 1000)) };
  }
}

/**
 * kube-apiserver's DroppedRequestsTracker for one priority level, on the virtual clock: the
 * Retry-After to send with a request dropped in second `unix`.
 */
class RetryAfter {
  private value = 1;
  private updatedAt = 0;
  private currentSecond = Number.NEGATIVE_INFINITY;
  private currentCount = 0;
  private readonly history: { second: number; count: number }[] = [];

  dropped(unix: number): number {
    if (unix === this.currentSecond) {
      this.currentCount++;
      return this.value;
    }
    if (Number.isFinite(this.currentSecond)) this.history.push({ second: this.currentSecond, count: this.currentCount });
    while (this.history.length > 0 && unix - this.history[0]!.second > MAX_RETRY_AFTER) this.history.shift();
    this.currentSecond = unix;
    this.currentCount = 1;
    // only when a new second begins, from the seconds before it: [unix - retryAfter, unix)
    const recent = this.history.filter((h) => unix - h.second <= this.value && h.second < unix).reduce((sum, h) => sum + h.count, 0);
    if (unix - this.updatedAt >= this.value && recent >= 3 * this.value) {
      this.value = Math.min(this.value * 2, MAX_RETRY_AFTER);
      this.updatedAt = unix;
    } else if (recent < this.value && this.value > 1) {
      this.value--;
    }
    return this.value;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
