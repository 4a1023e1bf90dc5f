import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { World } from '../world.js';

/**
 * Reserved concurrency in the sandbox, as Lambda applies it: a ceiling. Past it a synchronous
 * invocation is refused (TooManyRequestsException, 429) and an asynchronous one stays queued
 * and is retried; functions without a reservation are not affected.
 */
describe('sandbox Lambda: reserved concurrency', () => {
  let world: World;
  before(async () => {
    world = await World.start();
  });
  after(() => world.stop());

  it('runs at most chatSlack\'s 10 at once: the 11th to 15th are throttled, requestDrain alongside is not', async () => {
    const fn = world.model.functions.find((f) => f.key === 'chatSlack')!;
    assert.equal(fn.reservedConcurrency, 10);
    const flood = Array.from({ length: 15 }, () => world.lambda.invoke('chatSlack', { body: 'not signed', headers: {} }));
    const drain = world.lambda.invoke('requestDrain', { kind: 'not an event' });
    const outcomes = await Promise.allSettled(flood);
    const throttled = outcomes.filter((o) => o.status === 'rejected' && (o.reason as Error).name === 'Lambda.TooManyRequestsException');
    assert.equal(throttled.length, 5);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 10, 'the first ten ran (and answered)');
    const drained = await Promise.allSettled([drain]);
    assert.notEqual((drained[0] as PromiseRejectedResult).reason?.name, 'Lambda.TooManyRequestsException', 'an unreserved function is not throttled');
  });

  it('answers a synchronous Invoke past the ceiling with the API\'s 429, and keeps asynchronous ones queued until they run', async () => {
    const lambda = new LambdaClient({ region: world.model.region });
    const payload = new TextEncoder().encode(JSON.stringify({ body: 'not signed', headers: {} }));
    const busy = Array.from({ length: 10 }, () => world.lambda.invoke('chatSlack', { body: 'not signed', headers: {} }));
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'eks-node-lifecycle-sandbox-chatSlack', Payload: payload })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.name === 'TooManyRequestsException' && e.$metadata?.httpStatusCode === 429);
    const before = world.lambda.invocations.filter((i) => i.function === 'chatSlack').length;
    const sentAt = world.clock.now();
    const queued = await lambda.send(new InvokeCommand({ FunctionName: 'eks-node-lifecycle-sandbox-chatSlack', InvocationType: 'Event', Payload: payload }));
    assert.equal(queued.StatusCode, 202);
    await Promise.allSettled(busy);
    await world.run(5_000);
    await world.settle();
    const ran = world.lambda.invocations.filter((i) => i.function === 'chatSlack').slice(before);
    assert.equal(ran.length, 1, 'the queued invocation ran once');
    assert.ok(Date.parse(ran[0]!.at) >= sentAt + 1_000, `throttled at first, it ran on a retry (at ${ran[0]!.at}, sent ${new Date(sentAt).toISOString()})`);
  });
});
