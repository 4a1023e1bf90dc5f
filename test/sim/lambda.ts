import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { VirtualClock } from './clock.js';
import { PROJECT_ROOT, type ServerlessModel, type SimFunction } from './serverless-config.js';

/**
 * Invokes the real handlers named in serverless.yml, as Lambda would: each execution
 * environment loads the module once (a cold start) and is reused by the invocations that
 * follow, while concurrent invocations get environments of their own, so they never share
 * module state (clients, caches, a promise one of them is still waiting on); the result or
 * the error comes back as Lambda reports it (`errorType` is the error's `name`, which is
 * what Step Functions matches). Each invocation is an actor of the virtual clock: time
 * stands still while a handler runs.
 */
export interface Invocation {
  function: string;
  at: string;
  payload: unknown;
  outcome: { result: unknown } | { errorType: string; errorMessage: string };
}

export class LambdaFunctionError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** One execution environment of a function: its own copy of the handler module. */
interface Environment {
  handler: Promise<Handler>;
  busy: boolean;
  /** a crash or a timeout ended its invocation: never handed out again */
  retired: boolean;
}

/**
 * One running invocation, as code called from inside it sees it (`runningInvocation()`):
 * what lets the sandbox attribute a call to the invocation that made it, and end the
 * invocation the way a crash or a timeout does: at once, its result lost, whatever its
 * handler still has in flight (see lambda-crash.ts).
 */
export interface RunningInvocation {
  readonly function: string;
  /** the SimLambda (the world) running it; undefined for `runAsInvocation` */
  readonly lambda?: SimLambda;
  readonly record: Invocation;
  /** set once the invocation was ended by `kill` */
  readonly killed: boolean;
  /** aborted when `kill` ends the invocation: what its waits on the clock give up on */
  readonly ended: AbortSignal;
  /** a crash due at the handler's next step: if it returns first, its result is lost to this error */
  pendingCrash?: { errorType: string; errorMessage: string };
  /** ends the invocation now with this error, as Lambda reports a crash or a timeout */
  kill(errorType: string, errorMessage: string): void;
}

const running = new AsyncLocalStorage<RunningInvocation>();
/** the function whose handler module is loading (its cold start reads its environment) */
const loading = new AsyncLocalStorage<string>();

/** The function whose code runs now: an invocation's, or a cold start's (its module loading). */
export function currentFunction(): string | undefined {
  // a cold start first: a function invoked from another's handler (an async Lambda.Invoke) loads
  // its module inside the caller's running context, and its module-level code is its own
  return loading.getStore() ?? running.getStore()?.function;
}

/** The invocation whose handler is running the caller, if any. */
export function runningInvocation(): RunningInvocation | undefined {
  return running.getStore();
}

/**
 * Runs `body` as the handler of an invocation of `fn` runs: an actor of the clock, seen by
 * `runningInvocation()`. For tests of what the sandbox attributes to invocations (throttling,
 * seeded faults) without a handler module to load.
 */
export function runAsInvocation<T>(clock: VirtualClock, fn: string, payload: unknown, body: () => Promise<T>): Promise<T> {
  return clock.actor(() => {
    const record: Invocation = { function: fn, at: clock.iso(), payload, outcome: { result: undefined } };
    const scope: RunningInvocation = {
      function: fn,
      record,
      killed: false,
      ended: new AbortController().signal,
      kill() {
        throw new Error('runAsInvocation: an invocation run this way cannot be killed');
      },
    };
    return running.run(scope, body);
  });
}

export class SimLambda {
  readonly invocations: Invocation[] = [];
  private readonly listeners: ((invocation: Invocation) => void)[] = [];

  onInvoked(listener: (invocation: Invocation) => void): void {
    this.listeners.push(listener);
  }
  private readonly environments = new Map<string, Environment[]>();

  /**
   * @param coldStartKey a world's own copy of each handler module: module-level state (clients,
   *   caches) starts fresh in every sandbox world, as in a new Lambda execution environment
   */
  constructor(
    private readonly model: ServerlessModel,
    private readonly clock: VirtualClock,
    private readonly coldStartKey = 'sandbox',
  ) {}

  find(nameOrArn: string): SimFunction {
    const fn = this.model.functions.find((f) => f.key === nameOrArn || f.name === nameOrArn || f.arn === nameOrArn);
    if (!fn) throw new Error(`no function ${nameOrArn} in serverless.yml`);
    return fn;
  }

  private closed = false;

  /** The sandbox is shutting down: later invocations are refused. */
  close(): void {
    this.closed = true;
  }

  /** Runs the function; resolves with its result or rejects with a `LambdaFunctionError`. */
  async invoke(nameOrArn: string, payload: unknown): Promise<unknown> {
    const fn = this.find(nameOrArn);
    if (this.closed) throw new LambdaFunctionError('Lambda.ServiceException', 'the sandbox has stopped');
    // reserved concurrency is also a ceiling: past it Lambda throttles the invocation
    // (429 TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded)
    const busy = (this.environments.get(fn.key) ?? []).filter((e) => e.busy && !e.retired).length;
    if (fn.reservedConcurrency !== undefined && busy >= fn.reservedConcurrency) {
      throw new LambdaFunctionError('Lambda.TooManyRequestsException', `Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: ${fn.name} runs ${busy} of ${fn.reservedConcurrency})`);
    }
    const environment = this.acquire(fn);
    return this.clock.actor(async () => {
      const handler = await environment.handler;
      const record: Invocation = { function: fn.key, at: this.clock.iso(), payload, outcome: { result: undefined } };
      this.invocations.push(record);
      let kill!: (error: Error) => void;
      const killed = new Promise<never>((_resolve, reject) => (kill = reject));
      killed.catch(() => undefined);
      const ending = new AbortController();
      const scope: RunningInvocation & { killed: boolean } = {
        function: fn.key,
        lambda: this,
        record,
        killed: false,
        ended: ending.signal,
        kill(errorType: string, errorMessage: string) {
          scope.killed = true;
          ending.abort();
          // the handler runs on, unheeded, in an environment Lambda will not hand out again
          environment.retired = true;
          kill(new LambdaFunctionError(errorType, errorMessage));
        },
      };
      // the function's timeout, on the virtual clock: a handler that sleeps past it (an SDK call
      // backing off from throttling) ends as Lambda ends it; time stands still while it computes
      const timeout = this.clock.after(fn.timeoutSeconds * 1000, () => scope.kill('Sandbox.Timedout', `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`), { background: true });
      try {
        // payloads cross a JSON boundary in Lambda; so they do here
        const event = JSON.parse(JSON.stringify(payload ?? null));
        const result = await running.run(scope, () => Promise.race([handler(event, lambdaContext(fn)), killed]));
        if (scope.pendingCrash) throw new LambdaFunctionError(scope.pendingCrash.errorType, scope.pendingCrash.errorMessage);
        const json = result === undefined ? null : JSON.parse(JSON.stringify(result));
        record.outcome = { result: json };
        for (const listener of this.listeners) listener(record);
        return json;
      } catch (error) {
        const e = error as Error;
        record.outcome = { errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(error) };
        for (const listener of this.listeners) listener(record);
        throw new LambdaFunctionError(e?.name ?? 'Error', e?.message ?? String(error));
      } finally {
        timeout.cancel();
        environment.busy = false;
      }
    });
  }

  /**
   * Invokes and waits for the result, as a caller that may itself be an invocation (a handler's
   * RequestResponse Invoke): that caller is off the clock meanwhile, so the function it waits
   * for may sleep on the clock (a throttled SDK call backing off) without holding the world still.
   */
  invokeAndWait(nameOrArn: string, payload: unknown): Promise<unknown> {
    const call = this.invoke(nameOrArn, payload);
    return runningInvocation() ? this.clock.waitFor(call) : call;
  }

  /**
   * An asynchronous invocation (`InvocationType: 'Event'`): Lambda queues it and answers at
   * once; a throttled one stays queued and is retried, backing off from 1 s to 5 minutes, for
   * up to six hours (Lambda developer guide, "How Lambda handles errors and retries with
   * asynchronous invocation"). Its own failure is the function's business.
   */
  invokeQueued(nameOrArn: string, payload: unknown): void {
    const queuedAt = this.clock.now();
    const attempt = (backoff: number) => {
      this.invoke(nameOrArn, payload).catch((error: Error) => {
        if (error.name !== 'Lambda.TooManyRequestsException' || this.clock.now() + backoff - queuedAt > 6 * 3_600_000) return;
        this.clock.after(backoff, () => attempt(Math.min(backoff * 2, 300_000)));
      });
    };
    attempt(1000);
  }

  /** An idle execution environment of the function, or a new one (a cold start), busy from now on. */
  private acquire(fn: SimFunction): Environment {
    let pool = this.environments.get(fn.key);
    if (!pool) this.environments.set(fn.key, (pool = []));
    let environment = pool.find((e) => !e.busy && !e.retired);
    if (!environment) {
      // the first environment keeps the world's own key, so a world's sequential runs look as before
      const key = pool.length === 0 ? this.coldStartKey : `${this.coldStartKey}-${pool.length}`;
      environment = { handler: this.load(fn, key), busy: false, retired: false };
      pool.push(environment);
    }
    environment.busy = true;
    return environment;
  }

  /**
   * Runs `body` as an invocation of the deployed function `nameOrArn` runs: its role's IAM,
   * its environment, an actor of the clock. For code of the product that no handler reaches
   * yet, called as a handler would call it.
   */
  runAs<T>(nameOrArn: string, body: () => Promise<T>): Promise<T> {
    const fn = this.find(nameOrArn);
    return this.clock.actor(() => {
      const record: Invocation = { function: fn.key, at: this.clock.iso(), payload: null, outcome: { result: undefined } };
      const scope: RunningInvocation = {
        function: fn.key,
        lambda: this,
        record,
        killed: false,
        ended: new AbortController().signal,
        kill() {
          throw new Error('runAs: an invocation run this way cannot be killed');
        },
      };
      return running.run(scope, body);
    });
  }

  private load(fn: SimFunction, key: string): Promise<Handler> {
    return loading.run(fn.key, () => this.importHandler(fn, key));
  }

  private importHandler(fn: SimFunction, key: string): Promise<Handler> {
    return import(`${pathToFileURL(join(PROJECT_ROOT, `${fn.module}.ts`)).href}?cold=${key}`).then((mod) => {
      const handler = mod[fn.exportName];
      if (typeof handler !== 'function') throw new Error(`${fn.module} has no export ${fn.exportName}`);
      return handler as Handler;
    });
  }
}

/**
 * The invocation's context, without `getRemainingTimeInMillis`: the function's timeout is kept
 * on the virtual clock (invoke), and any real-time figure here would arm middy's early-timeout
 * timer in real time — tripped by a busy sandbox, and keeping a dead invocation's process alive.
 * middy arms none when the context has no such method (as outside Lambda).
 */
function lambdaContext(fn: SimFunction): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `sandbox/[$LATEST]${randomUUID().replace(/-/g, '')}`,

    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as Omit<Context, 'getRemainingTimeInMillis'> as Context;
}

/**
 * The Lambda API (`Invoke`) bound to the sandbox's functions, as the service's own code
 * calls it: `RequestResponse` answers with the result (or `FunctionError: 'Unhandled'` and
 * the error as Lambda reports it); `Event` queues the invocation and answers 202 at once —
 * the function then runs as the world runs, and its failure is only logged, as Lambda's
 * asynchronous invocation (with no retries configured) would.
 */
export function bindLambdaApi(lambda: SimLambda): () => void {
  const mock = mockClient(LambdaClient);
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value ?? null));
  mock.on(InvokeCommand).callsFake(async (input: { FunctionName?: string; InvocationType?: string; Payload?: Uint8Array | string }) => {
    const raw = input.Payload === undefined ? 'null' : typeof input.Payload === 'string' ? input.Payload : new TextDecoder().decode(input.Payload);
    const payload = JSON.parse(raw);
    const fn = lambda.find(input.FunctionName ?? '');
    if (input.InvocationType === 'Event') {
      lambda.invokeQueued(fn.key, payload);
      return { StatusCode: 202 };
    }
    try {
      return { StatusCode: 200, Payload: encode(await lambda.invokeAndWait(fn.key, payload)), ExecutedVersion: '$LATEST' };
    } catch (error) {
      const e = error as Error;
      // a throttle is the Invoke API's own error (429), not the function's
      if (e.name === 'Lambda.TooManyRequestsException') throw new TooManyRequestsException({ message: e.message, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', $metadata: { httpStatusCode: 429 } });
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: e.name, errorMessage: e.message }), ExecutedVersion: '$LATEST' };
    }
  });
  return () => mock.restore();
}
