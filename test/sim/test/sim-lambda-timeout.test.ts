import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../clock.js';
import { useClock } from '../fixtures/sleepy-handler.js';
import { SimLambda } from '../lambda.js';
import { oneMachineModel } from '../serverless-config.js';

/**
 * The sandbox's Lambda keeps a function's timeout on the virtual clock: a handler that sleeps
 * past it (an SDK call backing off) ends as Lambda ends it, `Sandbox.Timedout`; and nothing
 * of the timeout is in real time (middy's early-timeout timer is armed from the context's
 * remaining time, and a busy sandbox would trip a real 30 s).
 */
function lambdaWith(timeoutSeconds: number) {
  const clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
  useClock(clock);
  const model = oneMachineModel({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }, {
    functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:sleepy',
    machineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:unused',
  });
  model.functions[0] = { ...model.functions[0]!, module: 'test/sim/fixtures/sleepy-handler', timeoutSeconds };
  return { clock, lambda: new SimLambda(model, clock, `timeout-${timeoutSeconds}`) };
}

describe('Sandbox Lambda: the function timeout in virtual time', () => {
  it('a handler that sleeps past its timeout ends Sandbox.Timedout, at the timeout', async () => {
    const { clock, lambda } = lambdaWith(30);
    const started = clock.now();
    const call = lambda.invoke('sleepy', { sleepMs: 60_000 }).then(
      () => assert.fail('should time out'),
      (error: Error) => ({ name: error.name, message: error.message, at: clock.now() - started }),
    );
    await clock.settle();
    assert.deepEqual(await call, { name: 'Sandbox.Timedout', message: 'Task timed out after 30.00 seconds', at: 30_000 });
    assert.deepEqual(lambda.invocations[0]!.outcome, { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 30.00 seconds' });
  });

  it('within its timeout it answers, and its context gives no real-time limit for middy to arm a timer on', async () => {
    const { clock, lambda } = lambdaWith(30);
    const call = lambda.invoke('sleepy', { sleepMs: 29_000 });
    await clock.settle();
    assert.deepEqual(await call, { remainingTime: 'undefined' });
  });
});
