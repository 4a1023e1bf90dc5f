import { runningInvocation, type RunningInvocation } from '../lambda';
import type { AccountServiceName, FaultRule } from './account';
import { throttlingError } from './errors';
import { iamThrottling } from './iam';
import { drawsFor } from './ids';

/**
 * A seeded share of calls failed with each service's own throttling error (EC2's
 * `RequestLimitExceeded`, Auto Scaling's and STS's and IAM's `Throttling`, EKS's and SSM's
 * `ThrottlingException`): what an account near its API rate limits looks like.
 *
 * Reproducible whatever order concurrent handlers call in: whether a call fails is drawn
 * from the seed, the Lambda invocation making it (function, virtual time, payload), the
 * command and how many times that invocation called it before — never from a shared
 * sequence that another handler's calls would shift. (Not from the call's input: inputs
 * carry what differs from run to run, such as the API server's port inside user data.)
 *
 * `attemptsPerCall` models the SDK's retry middleware, which the sandbox bypasses: with 3
 * (the SDK's standard mode) a call fails only when all three attempts are throttled, which
 * is what the caller of a real client would see at that rate. The default, 1, shows the
 * caller every throttle: harsher than reality.
 */
export interface RandomThrottlingOptions {
  seed: number;
  /** which commands (`DescribeInstances`, `autoscaling:DescribeTags`); default every command */
  commands?: string[];
  attemptsPerCall?: number;
}

export interface ThrottlingTally {
  /** calls the rule was asked about */
  calls: number;
  /** calls it failed, by `service:command` */
  throttled: Map<string, number>;
  /** attempts drawn (`attemptsPerCall` at most per call) and how many of them were throttled */
  attempts: number;
  attemptsThrottled: number;
}

export interface RandomThrottling {
  /** the account's fault rule: the service's throttling error when the draw says so */
  rule: FaultRule;
  /** the draw alone, for services outside the account (see throttle-every-service.ts) */
  throttles(service: string, command: string): boolean;
  tally: ThrottlingTally;
}

export function randomThrottling(rate: number, options: RandomThrottlingOptions): RandomThrottling {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`randomThrottling: rate ${rate} is not in [0, 1]`);
  const attempts = options.attemptsPerCall ?? 1;
  const only = options.commands?.map((c) => c.replace(/Command$/, ''));
  // occurrences of each call, per invocation (calls from outside a handler share one count)
  const outside = new Map<string, number>();
  const seen = new WeakMap<RunningInvocation, { key: string; counts: Map<string, number> }>();
  const tally: ThrottlingTally = { calls: 0, throttled: new Map(), attempts: 0, attemptsThrottled: 0 };

  function throttles(service: string, command: string): boolean {
    const key = `${service}:${command}`;
    if (only && !only.includes(command) && !only.includes(key)) return false;
    tally.calls++;
    const invocation = runningInvocation();
    let caller = invocation ? seen.get(invocation) : undefined;
    if (invocation && !caller) seen.set(invocation, (caller = { key: `${invocation.function}@${invocation.record.at} ${stablePayload(invocation.record.payload)}`, counts: new Map() }));
    const counts = caller?.counts ?? outside;
    const nth = (counts.get(key) ?? 0) + 1;
    counts.set(key, nth);
    const draws = drawsFor(options.seed, `${caller?.key ?? 'sandbox'} ${key} #${nth}`);
    for (let attempt = 0; attempt < attempts; attempt++) {
      tally.attempts++;
      if (draws.next() >= rate) return false;
      tally.attemptsThrottled++;
    }
    tally.throttled.set(key, (tally.throttled.get(key) ?? 0) + 1);
    return true;
  }
  const rule: FaultRule = (_input, call) => (throttles(call.service, call.command) ? throttleOf(call.service) : undefined);
  return { rule, throttles, tally };
}

function throttleOf(service: AccountServiceName): Error {
  return service === 'iam' ? iamThrottling() : throttlingError(service);
}

/** A payload as JSON, without what is drawn at random each run: an EventBridge event's id. */
function stablePayload(payload: unknown): string {
  const event = payload as { 'detail-type'?: unknown; id?: unknown } | null;
  if (event && typeof event === 'object' && 'detail-type' in event) {
    const { id: _id, ...rest } = event;
    return JSON.stringify(rest);
  }
  return JSON.stringify(payload ?? null);
}
