import https from 'node:https';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import type { VirtualClock } from './clock.js';
import { runningInvocation, type RunningInvocation } from './lambda.js';
import { replaceHttpsRequest } from './https-gate.js';
import { installSdkGate, READ_COMMAND } from './sdk-gate.js';

/**
 * A Lambda function that dies midway, as a crash (out of memory, the runtime killed) or its
 * timeout does: right after a chosen write, the invocation ends with the error Step Functions
 * reports for it, and nothing the handler still had in flight happens any more.
 *
 * How Step Functions names the death of a function in a Task whose Resource is the function's
 * ARN: an unhandled failure that returns no error type (out of memory, the runtime exiting) is
 * `Lambda.Unknown`; a function that reaches its timeout is reported with Lambda's error type
 * `Sandbox.Timedout` ("Task timed out after N seconds"), which older runtimes surfaced as
 * `Lambda.Unknown` too. Both are `States.TaskFailed`; neither is `States.Timeout`, which only a
 * Task's own TimeoutSeconds raises.
 *
 * How "nothing happens any more" is kept: every call is attributed to the invocation that made
 * it (`runningInvocation()`), at the two doors a handler has to the world: the AWS SDK clients
 * (sdk-gate.ts: the simulated account, DynamoDB, EventBridge, Step Functions, Lambda) and
 * HTTPS to the Kubernetes API (`https.request`, and undici for @kubernetes/client-node). After the chosen write has gone through, the
 * invocation's next call never returns and the invocation ends then (or when the handler
 * returns, its result lost). Writes already sent before that (a batch of evictions sent at
 * once) are not undone, as on AWS.
 */
export type CrashError = 'Lambda.Unknown' | 'Sandbox.Timedout';

export interface ObservedWrite {
  via: 'aws' | 'kube';
  /** `autoscaling:SetDesiredCapacity`, `dynamodb:UpdateItem`, `POST /api/v1/namespaces/shop/pods/web-1/eviction` */
  what: string;
  input?: unknown;
}

export interface CrashPlan {
  /** the function's key in serverless.yml (`rollStep`, `drainStep`, `prepareLaunchTemplate`), or several: the first to make the write dies */
  function: string | string[];
  /** the write after which the invocation dies; default: its first write */
  after?: (write: ObservedWrite) => boolean;
  error: CrashError;
  /** how many invocations die, one after another (default 1) */
  times?: number;
}

export interface CrashRecord {
  function: string;
  /** virtual time (ISO) of the write after which it died */
  at: string;
  after: ObservedWrite;
  /** the invocation's writes up to and including that one */
  writes: ObservedWrite[];
}

export interface LambdaCrashes {
  readonly crashes: CrashRecord[];
  restore(): void;
}

type Gate = 'pass' | 'hang';

/** Installs the crashes (one plan per function, or several); `restore()` before the world stops. */
export function crashLambda(world: { clock: VirtualClock }, plans: CrashPlan | CrashPlan[]): LambdaCrashes {
  const crashes: CrashRecord[] = [];
  const armed = (Array.isArray(plans) ? plans : [plans]).map((plan) => ({ plan, left: plan.times ?? 1 }));
  const writesOf = new WeakMap<RunningInvocation, ObservedWrite[]>();

  /** Decides one call of the invocation running it: through, or never answered. */
  function gate(write: ObservedWrite | undefined): Gate {
    const scope = runningInvocation();
    if (!scope) return 'pass';
    if (scope.killed) return 'hang';
    if (scope.pendingCrash) {
      // the call after the fatal write: the process is gone
      scope.kill(scope.pendingCrash.errorType, scope.pendingCrash.errorMessage);
      return 'hang';
    }
    const mine = armed.filter((a) => [a.plan.function].flat().includes(scope.function) && a.left > 0);
    if (!write || mine.length === 0) return 'pass';
    const writes = writesOf.get(scope) ?? [];
    writes.push(write);
    writesOf.set(scope, writes);
    const due = mine.find((a) => !a.plan.after || a.plan.after(write));
    if (!due) return 'pass';
    due.left--;
    crashes.push({ function: scope.function, at: world.clock.iso(), after: write, writes: [...writes] });
    scope.pendingCrash = { errorType: due.plan.error, errorMessage: crashMessage(due.plan.error, scope.record) };
    return 'pass';
  }

  const restores = [
    installSdkGate((call) => gate(READ_COMMAND.test(call.command) ? undefined : { via: 'aws', what: `${call.service}:${call.command}`, input: call.input })),
    gateUndici(gate),
    gateHttps(gate),
  ];
  return {
    crashes,
    restore() {
      for (const restore of restores.reverse()) restore();
    },
  };
}

function crashMessage(error: CrashError, invocation: { at: string }): string {
  const requestId = `sandbox-${invocation.at}`;
  return error === 'Sandbox.Timedout'
    ? `RequestId: ${requestId} Error: Task timed out after 30.00 seconds`
    : 'The cause could not be determined because Lambda did not return an error type. Returned payload: ' +
        JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed` });
}

/** Gates undici, the Kubernetes client's HTTP: GETs pass (unless the invocation is gone), the rest are writes. */
function gateUndici(gate: (write: ObservedWrite | undefined) => Gate): () => void {
  // loaded when a crash is installed: most of the sandbox's users never crash a function
  const { Agent } = createRequire(import.meta.url)('undici') as typeof import('undici');
  const proto = Agent.prototype as unknown as { dispatch: (opts: { method?: string; path?: string }, handler: unknown) => boolean };
  const inherited = proto.dispatch;
  const gated = function gatedDispatch(this: unknown, opts: { method?: string; path?: string }, handler: unknown): boolean {
    const method = (opts.method ?? 'GET').toUpperCase();
    const write = method === 'GET' ? undefined : { via: 'kube' as const, what: `${method} ${opts.path ?? ''}` };
    // never answered: the request simply never leaves the dead process
    if (gate(write) === 'hang') return true;
    return inherited.call(this, opts, handler);
  };
  Object.defineProperty(proto, 'dispatch', { value: gated, configurable: true, writable: true });
  return () => {
    if (Object.prototype.hasOwnProperty.call(proto, 'dispatch') && proto.dispatch === gated) delete (proto as { dispatch?: unknown }).dispatch;
  };
}

/**
 * Gates `https.request`, which the product's Kubernetes REST client uses. A request of a dead
 * invocation fails at once with a reset connection rather than hanging: the client's own
 * deadline is a real timer, and nothing the dead handler does next gets through anyway.
 */
function gateHttps(gate: (write: ObservedWrite | undefined) => Gate): () => void {
  const nowhere = new https.Agent();
  (nowhere as unknown as { createConnection: () => PassThrough }).createConnection = () => new PassThrough();
  return replaceHttpsRequest((call) => function gatedRequest(this: unknown, ...args: unknown[]) {
    const [first, second] = args as [string | URL | https.RequestOptions, https.RequestOptions | undefined];
    const options = (first instanceof URL || typeof first === 'string' ? second : first) ?? {};
    const method = (options.method ?? 'GET').toUpperCase();
    const path = first instanceof URL ? first.pathname : typeof first === 'string' ? new URL(first).pathname : (options.path ?? '');
    if (gate(method === 'GET' ? undefined : { via: 'kube', what: `${method} ${path}` }) === 'hang') {
      const request = call([{ host: 'sandbox.invalid', path, method, agent: nowhere }]);
      process.nextTick(() => request.destroy(Object.assign(new Error('socket hang up: the invocation is gone'), { code: 'ECONNRESET' })));
      return request;
    }
    return call(args);
  } as typeof https.request);
}
