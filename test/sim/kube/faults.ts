import { drawsFor } from '../aws/ids.js';
import type { FaultAction, FaultHook, FaultRequest, HoldEnd, KubeApiServer } from './api-server.js';
import type { Verb } from './rest-handlers.js';

/**
 * Seeded faults for the sandbox's Kubernetes API server, by verb and resource: 5xx answers,
 * requests that hang, writes whose answer comes too late, connections reset (a TCP RST) and
 * answers cut off halfway through their body. Wire them with
 * `injectKubeFaults(cluster.server, { seed, rules })`; `stop()` takes them off again.
 *
 * Whether a request fails is drawn from the seed and the request's identity (verb, path,
 * and how many times that same request was made before), not from arrival order: the
 * concurrent evictions of a pass reach the server in any order, and a run must still fail
 * the same requests as the run before it.
 *
 * The faults about time are in real milliseconds (a client's timeout is real time, and the
 * virtual clock stands still while a Lambda handler waits) and bounded by `holdMs`, so a
 * client without a timeout costs a test `holdMs`, never a hang.
 */

export type KubeFault =
  /** answered with this status and its Status object; nothing is done */
  | { kind: 'status'; status: number }
  /** neither done nor answered; the connection is dropped once the client gives up, or after holdMs */
  | { kind: 'hang' }
  /** done at once, answered only after holdMs — by then a client with a timeout has given up */
  | { kind: 'late-answer' }
  /** the connection reset before anything is done: the client reads ECONNRESET */
  | { kind: 'reset' }
  /** done, then the answer's headers and half its body written and the connection destroyed */
  | { kind: 'half-written' };

export interface KubeFaultRule {
  /** which requests: any of these verbs (all when unset) … */
  verbs?: readonly Verb[];
  /** … on any of these resources (all when unset) … */
  resources?: readonly string[];
  /** … with this subresource ('eviction'); null: only requests without one; unset: either */
  subresource?: string | null;
  /** the share of matching requests that fail, 0–1 */
  rate: number;
  fault: KubeFault;
  /** at most this many faults from this rule */
  limit?: number;
}

export interface InjectedKubeFault {
  /** `create pods/eviction shop/web-7d9f-x2` */
  request: string;
  fault: KubeFault['kind'];
  status?: number;
  /** for hang and late-answer: how the hold ended */
  held?: HoldEnd;
}

export interface KubeFaults {
  /** in the order they were injected */
  readonly injected: InjectedKubeFault[];
  /** requests that matched a rule, failed or not */
  readonly matched: number;
  stop(): void;
}

export interface KubeFaultOptions {
  seed: number;
  rules: readonly KubeFaultRule[];
  /** real milliseconds a hang or a late answer is held at most; default 20 s */
  holdMs?: number;
}

export const DEFAULT_HOLD_MS = 20_000;

export function describeRequest(request: FaultRequest): string {
  const what = `${request.resource}${request.subresource ? `/${request.subresource}` : ''}`;
  const which = [request.namespace, request.name].filter((part) => part !== undefined).join('/');
  return `${request.verb} ${what}${which ? ` ${which}` : ''}`;
}

function matches(rule: KubeFaultRule, request: FaultRequest): boolean {
  if (!request.verb || !request.resource) return false; // discovery and health checks stay healthy
  if (rule.verbs && !rule.verbs.includes(request.verb as Verb)) return false;
  if (rule.resources && !rule.resources.includes(request.resource)) return false;
  if (rule.subresource === null && request.subresource !== undefined) return false;
  if (typeof rule.subresource === 'string' && request.subresource !== rule.subresource) return false;
  return true;
}

export function injectKubeFaults(server: KubeApiServer, options: KubeFaultOptions): KubeFaults {
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  for (const rule of options.rules) {
    if (!(rule.rate >= 0 && rule.rate <= 1)) throw new Error(`injectKubeFaults: rate ${rule.rate} is not in [0, 1]`);
  }
  const injected: InjectedKubeFault[] = [];
  const used = options.rules.map(() => 0);
  const occurrences = new Map<string, number>();
  let matched = 0;

  const hook: FaultHook = {
    before(request) {
      const candidates = options.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => matches(rule, request));
      if (candidates.length === 0) return undefined;
      matched++;
      const identity = `${request.method} ${request.path}?${request.query.toString()}`;
      const occurrence = (occurrences.get(identity) ?? 0) + 1;
      occurrences.set(identity, occurrence);
      // the first rule (in order) whose own draw falls under its rate
      const chosen = candidates.find(({ rule, index }) => {
        if (rule.limit !== undefined && used[index]! >= rule.limit) return false;
        return drawsFor(options.seed, `${index} ${identity}#${occurrence}`).next() < rule.rate;
      });
      if (!chosen) return undefined;
      used[chosen.index]!++;
      const { fault } = chosen.rule;
      const record: InjectedKubeFault = { request: describeRequest(request), fault: fault.kind };
      injected.push(record);
      const onHeld = (end: HoldEnd) => {
        record.held = end;
      };
      switch (fault.kind) {
        case 'status':
          record.status = fault.status;
          return { status: fault.status } satisfies FaultAction;
        case 'hang':
          return { hangMs: holdMs, onHeld };
        case 'late-answer':
          return { answerAfterMs: holdMs, onHeld };
        case 'reset':
          return { reset: true };
        case 'half-written':
          return { halfWritten: true };
      }
    },
  };
  const previous = server.faults;
  server.faults = hook;
  return {
    injected,
    get matched() {
      return matched;
    },
    stop() {
      if (server.faults === hook) server.faults = previous;
    },
  };
}
