import { CallIdentities } from '../call-identity';
import { accountThrottlingError, type FaultRule } from './account';
import { drawsFor } from './ids';

/**
 * A seeded share of calls failed with each service's own throttling error (EC2's
 * `RequestLimitExceeded`, Auto Scaling's and STS's and IAM's `Throttling`, EKS's and SSM's
 * `ThrottlingException`): what an account near its API rate limits looks like.
 *
 * Reproducible whatever order concurrent handlers call in: whether a call fails is drawn
 * from the seed and the call's identity (call-identity.ts: the Lambda invocation making it,
 * the command, and how many times that invocation called it before).
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
  const identities = new CallIdentities();
  const tally: ThrottlingTally = { calls: 0, throttled: new Map(), attempts: 0, attemptsThrottled: 0 };

  function throttles(service: string, command: string): boolean {
    const key = `${service}:${command}`;
    if (only && !only.includes(command) && !only.includes(key)) return false;
    tally.calls++;
    const draws = drawsFor(options.seed, identities.next(key).key);
    for (let attempt = 0; attempt < attempts; attempt++) {
      tally.attempts++;
      if (draws.next() >= rate) return false;
      tally.attemptsThrottled++;
    }
    tally.throttled.set(key, (tally.throttled.get(key) ?? 0) + 1);
    return true;
  }
  const rule: FaultRule = (_input, call) => (throttles(call.service, call.command) ? accountThrottlingError(call.service) : undefined);
  return { rule, throttles, tally };
}
