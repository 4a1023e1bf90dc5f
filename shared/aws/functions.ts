import { InvocationType, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

const lambdaOf = (scope: AwsScope) => clientOf(scope, LambdaClient);
const payloadOf = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));

/** Invokes a function and returns its result; a function error is rethrown with its errorType as name. */
export async function invokeFunction<T>(scope: AwsScope, functionName: string, payload: unknown): Promise<T> {
  const out = await callAws('lambda:Invoke', () => lambdaOf(scope).send(new InvokeCommand({ FunctionName: functionName, Payload: payloadOf(payload) })));
  const body = out.Payload ? JSON.parse(new TextDecoder().decode(out.Payload)) : null;
  if (out.FunctionError) {
    const e = body as { errorType?: string; errorMessage?: string } | null;
    throw Object.assign(new Error(e?.errorMessage ?? 'function error'), { name: e?.errorType ?? 'Lambda.FunctionError' });
  }
  return body as T;
}

/** Hands work to a function without waiting for it (an asynchronous invocation: Lambda queues the event). */
export async function invokeFunctionAsync(scope: AwsScope, functionName: string, payload: unknown): Promise<void> {
  await callAws('lambda:Invoke', () => lambdaOf(scope).send(new InvokeCommand({ FunctionName: functionName, InvocationType: InvocationType.Event, Payload: payloadOf(payload) })));
}
