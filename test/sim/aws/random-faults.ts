import { CallIdentities } from '../call-identity';
import { accountThrottlingError, type FaultRule, type NetworkFault } from './account';
import { drawsFor } from './ids';
import type { AwsNetworkFault } from './network-errors';

/**
 * Seeded failures of a share of AWS attempts: each service's own throttling error (EC2's
 * `RequestLimitExceeded`, Auto Scaling's and STS's and IAM's `Throttling`, EKS's and SSM's
 * `ThrottlingException`) — an account near its API rate limits — or a network failure
 * (network-errors.ts: a connection reset, a DNS failure, a socket timeout, a response cut off
 * halfway).
 *
 * Reproducible whatever order concurrent handlers call in: whether an attempt fails is drawn
 * from the seed, the call's identity (call-identity.ts: the Lambda invocation making it, the
 * command, and how many times that invocation called it before) and the attempt's number.
 *
 * The account's services are failed per attempt (`rule`): the SDK's own retry strategy runs
 * in the sandbox and retries what it would retry, so a call fails for its caller only when
 * every attempt does. For the services the sandbox answers at `send` (Step Functions, Lambda
 * and EventBridge are mocks; DynamoDB is failed before it is sent), `throttles()` draws a
 * whole call: `attemptsPerCall` (default 1) puts back the SDK's retries it bypasses — 3 is the
 * standard mode's.
 */
export interface RandomThrottlingOptions {
  seed: number;
  /** which commands (`DescribeInstances`, `autoscaling:DescribeTags`); default every command */
  commands?: string[];
  /** for the services answered at `send`: attempts per call; default 1 */
  attemptsPerCall?: number;
}

export interface ThrottlingTally {
  /** calls the rule was asked about (their first attempts, for the account's services) */
  calls: number;
  /** calls whose caller saw the throttling error, by `service:command` */
  throttled: Map<string, number>;
  /** attempts drawn, and how many of them were throttled */
  attempts: number;
  attemptsThrottled: number;
}

export interface RandomThrottling {
  /** the account's fault rule: per attempt, the service's throttling error when the draw says so */
  rule: FaultRule;
  /** a whole call of a service outside the account (see throttle-every-service.ts) */
  throttles(service: string, command: string): boolean;
  /** whether `error` is one of the rule's: what a caller saw, for the tally */
  threw(error: unknown): boolean;
  tally: ThrottlingTally;
}

export function randomThrottling(rate: number, options: RandomThrottlingOptions): RandomThrottling {
  checkRate('randomThrottling', rate);
  const attempts = options.attemptsPerCall ?? 1;
  const selected = selector(options.commands);
  const identities = new CallIdentities();
  const thrown = new WeakSet<object>();
  const tally: ThrottlingTally = { calls: 0, throttled: new Map(), attempts: 0, attemptsThrottled: 0 };

  const rule: FaultRule = (_input, attempt) => {
    if (!selected(attempt.service, attempt.command)) return undefined;
    if (attempt.attemptOfCall === 1) tally.calls++;
    tally.attempts++;
    if (drawsFor(options.seed, `${attempt.call} try ${attempt.attemptOfCall}`).next() >= rate) return undefined;
    tally.attemptsThrottled++;
    const error = accountThrottlingError(attempt.service);
    thrown.add(error);
    return error;
  };

  function throttles(service: string, command: string): boolean {
    const key = `${service}:${command}`;
    if (!selected(service, command)) return false;
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

  return { rule, throttles, threw: (error) => typeof error === 'object' && error !== null && thrown.has(error), tally };
}

export interface RandomNetworkFaultsOptions {
  seed: number;
  /** which failures, drawn evenly among; default all four */
  kinds?: readonly AwsNetworkFault[];
  /** which commands (`DescribeInstances`, `autoscaling:DescribeTags`); default every command */
  commands?: string[];
  /** at most this many failures */
  limit?: number;
}

export interface NetworkFaultTally {
  attempts: number;
  /** attempts failed, by kind */
  failed: Map<AwsNetworkFault, number>;
}

/**
 * The account's fault rule failing a seeded `rate` of attempts on the network, the kind drawn
 * too; `account.faults.set('*', rule)`.
 */
export function randomNetworkFaults(rate: number, options: RandomNetworkFaultsOptions): { rule: FaultRule; tally: NetworkFaultTally } {
  checkRate('randomNetworkFaults', rate);
  const kinds = options.kinds ?? (['connection-reset', 'dns-failure', 'socket-timeout', 'half-written-response'] as const);
  if (kinds.length === 0) throw new Error('randomNetworkFaults: no kinds of failure to draw from');
  const selected = selector(options.commands);
  const tally: NetworkFaultTally = { attempts: 0, failed: new Map() };
  const rule: FaultRule = (_input, attempt): NetworkFault | undefined => {
    if (!selected(attempt.service, attempt.command)) return undefined;
    tally.attempts++;
    const draws = drawsFor(options.seed, `${attempt.call} try ${attempt.attemptOfCall} network`);
    if (draws.next() >= rate) return undefined;
    const failed = [...tally.failed.values()].reduce((a, b) => a + b, 0);
    if (options.limit !== undefined && failed >= options.limit) return undefined;
    const network = kinds[Math.floor(draws.next() * kinds.length)]!;
    tally.failed.set(network, (tally.failed.get(network) ?? 0) + 1);
    return { network };
  };
  return { rule, tally };
}

function checkRate(what: string, rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`${what}: rate ${rate} is not in [0, 1]`);
}

function selector(commands: string[] | undefined): (service: string, command: string) => boolean {
  const only = commands?.map((c) => c.replace(/Command$/, ''));
  return (service, command) => !only || only.includes(command) || only.includes(`${service}:${command}`);
}
