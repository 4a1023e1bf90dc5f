import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, AutoScalingServiceException, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { lambdaContext, quietLogs } from './lambda-context.js';

process.env.AWS_REGION = 'eu-west-1';
// MANAGED_CLUSTERS has no default: a deployment names its clusters (or '*')
process.env.MANAGED_CLUSTERS = '*';
quietLogs();
const autoscaling = mockClient(AutoScalingClient);
let handler: (event: unknown, context: unknown) => Promise<any>;
before(async () => {
  ({ handler } = await import('../../functions/complete-lifecycle-action.js'));
});

const lifecycleAction = { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'wait-for-node', lifecycleActionToken: '87654321-4321-4321-4321-210987654321', instanceId: 'i-1234567890abcdef0' };
const validationError = (message: string) => new AutoScalingServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });

describe('Handler: complete-lifecycle-action', () => {
  beforeEach(() => autoscaling.reset());

  it('completes the action with the token and the result asked for', async () => {
    autoscaling.on(CompleteLifecycleActionCommand).resolves({});
    const out = await handler({ lifecycleAction, result: 'CONTINUE', reason: 'node is Ready' }, lambdaContext());
    assert.deepEqual(out, { completed: true, result: 'CONTINUE' });
    assert.deepEqual(autoscaling.commandCalls(CompleteLifecycleActionCommand)[0]!.args[0].input, {
      AutoScalingGroupName: 'prod-workers',
      LifecycleHookName: 'wait-for-node',
      LifecycleActionToken: '87654321-4321-4321-4321-210987654321',
      InstanceId: 'i-1234567890abcdef0',
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('reports an action that is no longer open instead of failing (a retried step)', async () => {
    autoscaling.on(CompleteLifecycleActionCommand).rejects(validationError('No active Lifecycle Action found with token 87654321-4321-4321-4321-210987654321'));
    const out = await handler({ lifecycleAction, result: 'ABANDON' }, lambdaContext());
    assert.equal(out.completed, false);
  });

  it('throws AwsTransientError on throttling so the workflow retries', async () => {
    autoscaling.on(CompleteLifecycleActionCommand).rejects(new AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));
    await assert.rejects(handler({ lifecycleAction, result: 'CONTINUE' }, lambdaContext()), { name: 'AwsTransientError' });
  });

  it('passes other validation errors through (a bad hook name is not "already done")', async () => {
    autoscaling.on(CompleteLifecycleActionCommand).rejects(validationError('LifecycleHookName is invalid'));
    await assert.rejects(handler({ lifecycleAction, result: 'CONTINUE' }, lambdaContext()), { name: 'ValidationError' });
  });

  it('rejects bad input with InvalidInputError and calls nothing (fuzz)', async () => {
    await assert.rejects(handler({ lifecycleAction, result: 'MAYBE' }, lambdaContext()), { name: 'InvalidInputError' });
    await assert.rejects(handler({ lifecycleAction: { ...lifecycleAction, instanceId: 'node-1' }, result: 'CONTINUE' }, lambdaContext()), { name: 'InvalidInputError' });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ lifecycleAction: fc.jsonValue(), result: fc.string() })), async (event) => {
        await assert.rejects(handler(event, lambdaContext()), { name: 'InvalidInputError' });
      }),
      { numRuns: 300 },
    );
    assert.equal(autoscaling.calls().length, 0);
  });
});
