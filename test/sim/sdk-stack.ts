import { AsyncLocalStorage } from 'node:async_hooks';
import { MAXIMUM_RETRY_DELAY, Retry, StandardRetryStrategy } from '@smithy/core/retry';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import type { MiddlewareStack, RetryErrorInfo, StandardRetryBackoffStrategy, StandardRetryToken } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { now } from '../../shared/clock.js';

/**
 * The sandbox inside the SDK's own middleware stack: a simulated service answers each attempt
 * where the HTTP handler would have sent it, so everything before runs for real — the
 * serializer, endpoint resolution, signing, and the retry middleware with the client's own
 * standard retry strategy (its classification, its retry quota, its backoff) — and every
 * error the model throws goes through that strategy as a service's or the network's would.
 *
 * Per SDK call (`send`), in the order the stack runs them:
 * 1. `sandboxCall` (initialize): asks the model to begin the call, and runs the rest of the
 *    stack with it as the current call (`currentSandboxCall()`);
 * 2. the SDK's serializer, user agent, retry middleware (each attempt below, and its waits),
 *    signing — untouched;
 * 3. `sandboxWire` (deserialize, ahead of the deserializer): one attempt, answered by the
 *    model with an output, or with the error it throws; nothing goes on the network;
 * 4. the call ends: the model hears its outcome, after every retry the SDK made.
 *
 * The retry strategy is the one the client's config resolves to (standard mode, its
 * `maxAttempts` from config or AWS_MAX_ATTEMPTS), rebuilt once per client as
 * `SandboxRetryStrategy`: the same class with its backoff's jitter drawn from the call's
 * identity (`jitter`) and its waits taken on the virtual clock (`wait`) instead of setTimeout.
 * The adaptive mode is refused loudly: its rate limiter reads the wall clock.
 *
 * Bound with aws-sdk-client-mock, whose `send` stub passes every call through to the SDK's
 * own `send` (so `commandCalls` histories still record them) after putting the two
 * middlewares into that client's stack, once per client instance, whenever it was created.
 */

/** One SDK call, as the model that answers it sees it: what it is, and how its retries wait. */
export interface SandboxCall {
  readonly service: string;
  /** `DescribeInstances` (without `Command`) */
  readonly command: string;
  readonly input: unknown;
  /** attempts that have reached the wire so far (1 during the first) */
  attempts: number;
  /** a draw in [0, 1) for the next backoff's jitter */
  jitter(): number;
  /** waits `ms` on the virtual clock, when something lets it pass; resolves with what was waited */
  wait(ms: number): Promise<number>;
  /**
   * Runs `work` with the world held still: for the SDK's own real-time steps between an
   * attempt and its wait (its strategy's 0 ms timer), during which the calling invocation may
   * have other waits pending and would otherwise pass for asleep.
   */
  holdStill<T>(work: () => Promise<T>): Promise<T>;
}

/** Where a call is sent from: the client's region and the credentials it signs with (what AWS routes it by). */
export interface CallOrigin {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey?: string; sessionToken?: string; expiration?: Date };
}

/** What answers the calls of the clients bound to it. */
export interface SdkModel<C extends SandboxCall> {
  /**
   * Set by a model that answers from several accounts and regions: each call's origin is
   * resolved (`await client.config.region()`, `await client.config.credentials()`) before
   * `begin`, which receives it; a model without it is never asked.
   */
  readonly routesByOrigin?: boolean;
  begin(service: string, command: string, input: unknown, origin?: CallOrigin): C;
  /** One attempt: the output (without `$metadata`) and its request id, or the error thrown. */
  attempt(call: C, request: HttpRequest, client: SdkClient): Promise<{ output: object; requestId: string }>;
  /** The call is over, after the SDK's retries: `error` is what its caller sees. */
  end(call: C, error?: unknown): void;
}

export interface SdkClient {
  middlewareStack: MiddlewareStack<object, object>;
  config: object;
}

// the client classes' constructors differ; all we need is something mockClient accepts
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ClientClass = new (...args: any[]) => { send: unknown };

interface Binding {
  service: string;
  model: SdkModel<SandboxCall>;
}

const bindings = new Map<ClientClass, Binding>();
const calls = new AsyncLocalStorage<SandboxCall>();
const prepared = new WeakSet<object>();

/** The call the code running now is part of, if the sandbox answers it. */
export function currentSandboxCall(): SandboxCall | undefined {
  return calls.getStore();
}

/** Answers every call of these client classes from `model`; returns what unbinds them. */
export function bindSdkModel<C extends SandboxCall>(classes: readonly (readonly [ClientClass, string])[], model: SdkModel<C>): () => void {
  const stubs: { restore(): void }[] = [];
  for (const [client, service] of classes) {
    const stub = mockClient(client as never);
    const sdkSend = (stub.send as unknown as { wrappedMethod: (...args: unknown[]) => unknown }).wrappedMethod;
    stub.send.callsFake(function sandboxSend(this: SdkClient, ...args: unknown[]) {
      prepare(this);
      return sdkSend.apply(this, args);
    } as never);
    bindings.set(client, { service, model: model as unknown as SdkModel<SandboxCall> });
    stubs.push(stub);
  }
  return () => {
    for (const [client] of classes) bindings.delete(client);
    for (const stub of stubs) stub.restore();
  };
}

function bindingOf(client: object): Binding | undefined {
  for (const [type, binding] of bindings) if (client instanceof type) return binding;
  return undefined;
}

function prepare(client: SdkClient): void {
  if (prepared.has(client)) return;
  prepared.add(client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const binding = bindingOf(client);
      if (!binding) return next(args);
      const origin = binding.model.routesByOrigin ? await originOf(client) : undefined;
      const call = binding.model.begin(binding.service, String(context.commandName ?? '').replace(/Command$/, ''), (args as { input: unknown }).input, origin);
      try {
        const result = await calls.run(call, () => next(args));
        binding.model.end(call);
        return result;
      } catch (error) {
        binding.model.end(call, error);
        throw error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'sandboxCall', override: true },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const call = calls.getStore();
      const binding = bindingOf(client);
      if (!call || !binding) return next(args);
      call.attempts++;
      const { output, requestId } = await binding.model.attempt(call, (args as { request: HttpRequest }).request, client);
      return {
        output: { ...output, $metadata: { httpStatusCode: 200, requestId } },
        response: new HttpResponse({ statusCode: 200, headers: { 'x-amzn-requestid': requestId } }),
      };
    },
    { step: 'deserialize', priority: 'high', name: 'sandboxWire', override: true },
  );
  useSandboxRetries(client.config as { retryStrategy?: () => Promise<unknown> });
  refreshOnTheVirtualClock(client.config as { credentials?: CredentialsProvider });
}

type CredentialsProvider = (options?: { forceRefresh?: boolean }) => Promise<CallOrigin['credentials']>;

async function originOf(client: SdkClient): Promise<CallOrigin> {
  const config = client.config as { region?: string | (() => Promise<string>); credentials?: CredentialsProvider };
  const region = typeof config.region === 'function' ? await config.region() : String(config.region ?? '');
  const credentials = typeof config.credentials === 'function' ? await config.credentials() : (config.credentials ?? { accessKeyId: '' });
  return { region, credentials };
}

/**
 * The SDK renews expiring credentials (an assumed role's) 5 minutes before they expire, by the
 * wall clock (@smithy/core memoizeIdentityProvider, EXPIRATION_MS); the sandbox's expire on the
 * virtual one: the same rule on the virtual clock, asking the client's provider again
 * (`forceRefresh`) where the SDK would have.
 */
function refreshOnTheVirtualClock(config: { credentials?: CredentialsProvider }): void {
  const provider = config.credentials;
  if (typeof provider !== 'function') return;
  config.credentials = async (options) => {
    const identity = await provider(options);
    if (identity?.expiration && identity.expiration.getTime() - now().getTime() < 300_000 && !options?.forceRefresh) return provider({ ...options, forceRefresh: true });
    return identity;
  };
}

/** The strategy the client's config chose, rebuilt to wait on the virtual clock. */
function useSandboxRetries(config: { retryStrategy?: () => Promise<unknown> }): void {
  const resolve = config.retryStrategy;
  if (typeof resolve !== 'function') return;
  let ours: Promise<unknown> | undefined;
  config.retryStrategy = () => (ours ??= resolve().then(onTheVirtualClock));
}

async function onTheVirtualClock(strategy: unknown): Promise<unknown> {
  const chosen = strategy as { mode?: string; maxAttempts?: () => Promise<number>; baseDelay?: number };
  if ((strategy as object).constructor === StandardRetryStrategy) return new SandboxRetryStrategy(await chosen.maxAttempts!(), chosen.baseDelay ?? Retry.delay());
  if (chosen.mode === 'adaptive') throw new Error('the sandbox runs the SDK\'s standard retry mode only: the adaptive one (AWS_RETRY_MODE=adaptive) paces requests by the wall clock');
  return strategy; // one the code under test built itself: its own business
}

/**
 * The SDK's standard strategy, unchanged in what it decides (retryable or not, attempts left,
 * the retry quota, the backoff's base and cap); its waits on the virtual clock. Outside a
 * sandbox call it is the SDK's own, to the jitter and the real-time wait.
 */
export class SandboxRetryStrategy extends StandardRetryStrategy {
  constructor(maxAttempts: number, baseDelay: number) {
    super({ maxAttempts, baseDelay, backoff: new DrawnBackoff() });
  }

  override async refreshRetryTokenForRetry(token: StandardRetryToken, errorInfo: RetryErrorInfo): Promise<StandardRetryToken> {
    // the SDK decides, and waits the 0 ms DrawnBackoff handed it (or throws: no retry)
    const call = calls.getStore();
    const decide = () => super.refreshRetryTokenForRetry(token, errorInfo);
    const next = await (call ? call.holdStill(decide) : decide());
    const drawn = call ? pendingBackoff.get(call) : undefined;
    if (call && drawn !== undefined) {
      pendingBackoff.delete(call);
      // what the retry middleware adds to the call's totalRetryDelay
      (next as { $retryLog?: { acquisitionDelay: number } }).$retryLog = { acquisitionDelay: await call.wait(drawn) };
    }
    return next;
  }
}

const pendingBackoff = new WeakMap<SandboxCall, number>();

/**
 * The standard strategy's backoff (DefaultRetryBackoffStrategy in @smithy/core 3.41):
 * b × min(base × 2^retries, MAXIMUM_RETRY_DELAY), b uniform in [0, 1), the base set by the
 * strategy per error (Retry.delay() 50 ms, Retry.throttlingDelay() 1 s for throttling). For a
 * sandbox call, b is the call's own draw and the delay is handed to SandboxRetryStrategy to
 * wait on the virtual clock; the strategy itself is told 0.
 */
class DrawnBackoff implements StandardRetryBackoffStrategy {
  private base = Retry.delay();

  setDelayBase(delay: number): void {
    this.base = delay;
  }

  computeNextBackoffDelay(retries: number): number {
    const call = calls.getStore();
    const delay = Math.floor((call ? call.jitter() : Math.random()) * Math.min(this.base * 2 ** retries, MAXIMUM_RETRY_DELAY));
    if (!call) return delay;
    pendingBackoff.set(call, delay);
    return 0;
  }
}
