import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { VirtualClock } from './clock.js';
import { PROJECT_ROOT, type ServerlessModel, type SimFunction } from './serverless-config.js';

/**
 * Invokes the real handlers named in serverless.yml, as Lambda would: the module is loaded
 * once (a cold start) and reused; the result or the error comes back as Lambda reports it
 * (`errorType` is the error's `name`, which is what Step Functions matches). Each
 * invocation is an actor of the virtual clock: time stands still while a handler runs.
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

/**
 * One running invocation, as code called from inside it sees it (`runningInvocation()`):
 * what lets the sandbox attribute a call to the invocation that made it, and end the
 * invocation the way a crash or a timeout does: at once, its result lost, whatever its
 * handler still has in flight (see lambda-crash.ts).
 */
export interface RunningInvocation {
  readonly function: string;
  readonly record: Invocation;
  /** set once the invocation was ended by `kill` */
  readonly killed: boolean;
  /** a crash due at the handler's next step: if it returns first, its result is lost to this error */
  pendingCrash?: { errorType: string; errorMessage: string };
  /** ends the invocation now with this error, as Lambda reports a crash or a timeout */
  kill(errorType: string, errorMessage: string): void;
}

const running = new AsyncLocalStorage<RunningInvocation>();

/** The invocation whose handler is running the caller, if any. */
export function runningInvocation(): RunningInvocation | undefined {
  return running.getStore();
}

export class SimLambda {
  readonly invocations: Invocation[] = [];
  private readonly listeners: ((invocation: Invocation) => void)[] = [];

  onInvoked(listener: (invocation: Invocation) => void): void {
    this.listeners.push(listener);
  }
  private readonly loaded = new Map<string, Promise<Handler>>();

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
    return this.clock.actor(async () => {
      const handler = await this.load(fn);
      const record: Invocation = { function: fn.key, at: this.clock.iso(), payload, outcome: { result: undefined } };
      this.invocations.push(record);
      let kill!: (error: Error) => void;
      const killed = new Promise<never>((_resolve, reject) => (kill = reject));
      killed.catch(() => undefined);
      const scope: RunningInvocation & { killed: boolean } = {
        function: fn.key,
        record,
        killed: false,
        kill(errorType: string, errorMessage: string) {
          scope.killed = true;
          kill(new LambdaFunctionError(errorType, errorMessage));
        },
      };
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
      }
    });
  }

  private load(fn: SimFunction): Promise<Handler> {
    let found = this.loaded.get(fn.key);
    if (!found) {
      found = import(`${pathToFileURL(join(PROJECT_ROOT, `${fn.module}.ts`)).href}?cold=${this.coldStartKey}`).then((mod) => {
        const handler = mod[fn.exportName];
        if (typeof handler !== 'function') throw new Error(`${fn.module} has no export ${fn.exportName}`);
        return handler as Handler;
      });
      this.loaded.set(fn.key, found);
    }
    return found;
  }
}

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
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
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
      void lambda.invoke(fn.key, payload).catch(() => undefined);
      return { StatusCode: 202 };
    }
    try {
      return { StatusCode: 200, Payload: encode(await lambda.invoke(fn.key, payload)), ExecutedVersion: '$LATEST' };
    } catch (error) {
      const e = error as Error;
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: e.name, errorMessage: e.message }), ExecutedVersion: '$LATEST' };
    }
  });
  return () => mock.restore();
}
