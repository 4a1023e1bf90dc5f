import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
import { runScripted, type Step } from './scripted-run.js';

/**
 * The node-join workflow file, run as deployed, with its Lambda steps replaced by scripted
 * answers: which path does it take, and how long (in virtual time) does it wait?
 */
const model = loadServerlessModel();
const input = {
  cluster: 'prod',
  instanceId: 'i-0123456789abcdef0',
  lifecycleAction: { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'wait-for-node', lifecycleActionToken: '11111111-2222-3333-4444-555555555555', instanceId: 'i-0123456789abcdef0' },
  deadline: '2026-11-21T09:10:00Z',
};

const run = (answers: Record<string, Step[]>) => runScripted(model, 'nodeJoin', input, answers);

const waiting = { result: { status: 'waiting', reason: 'no node yet' } };
const ready = { result: { status: 'ready', nodeName: 'ip-10-0-1-5.eu-west-1.compute.internal' } };
const completed = { result: { completed: true } };

describe('Workflow: node-join', () => {
  it('completes with CONTINUE once the node is Ready, after polling every 15 s', async () => {
    const { execution, calls, elapsed } = await run({ checkNodeReady: [waiting, waiting, ready], completeLifecycleAction: [completed] });
    assert.equal(execution.status, 'SUCCEEDED');
    const complete = calls.find((c) => c.fn === 'completeLifecycleAction')!;
    assert.equal(complete.payload.result, 'CONTINUE');
    assert.equal(complete.payload.reason, 'node ip-10-0-1-5.eu-west-1.compute.internal is Ready');
    assert.deepEqual(complete.payload.lifecycleAction, input.lifecycleAction);
    assert.equal(elapsed, 30_000, 'two Wait states of 15 virtual seconds');
    assert.equal(calls[0]!.payload.executionArn, execution.executionArn, 'steps receive the execution ARN for log correlation');
  });

  it('abandons the launch when the node has not joined by the deadline, and fails visibly', async () => {
    const { execution, calls } = await run({ checkNodeReady: [waiting, { result: { status: 'timed-out', reason: 'no node registered by 2026-11-21T09:10:00Z' } }], completeLifecycleAction: [completed] });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'NodeNeverJoined');
    const complete = calls.find((c) => c.fn === 'completeLifecycleAction')!;
    assert.equal(complete.payload.result, 'ABANDON');
    assert.equal(complete.payload.reason, 'no node registered by 2026-11-21T09:10:00Z');
  });

  it('ends quietly when the instance is gone, completing nothing', async () => {
    const { execution, calls } = await run({ checkNodeReady: [{ result: { status: 'instance-gone', reason: 'instance is terminated' } }] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.filter((c) => c.fn === 'completeLifecycleAction').length, 0);
  });

  it('retries a transient Kubernetes failure with backoff, then carries on', async () => {
    const { execution, elapsed } = await run({
      checkNodeReady: [{ error: 'KubernetesUnavailableError' }, { error: 'KubernetesUnavailableError' }, ready],
      completeLifecycleAction: [completed],
    });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(elapsed, 15_000, 'Retry waited 5 s then 10 s (IntervalSeconds 5, BackoffRate 2)');
  });

  it('leaves the hook to its default result when access is denied: no CONTINUE, no ABANDON', async () => {
    const { execution, calls } = await run({ checkNodeReady: [{ error: 'KubernetesAccessDeniedError' }] });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'CannotCheckNode');
    assert.equal(calls.filter((c) => c.fn === 'completeLifecycleAction').length, 0);
  });

  it('retries completing the action when Auto Scaling throttles', async () => {
    const { execution, calls } = await run({ checkNodeReady: [ready], completeLifecycleAction: [{ error: 'AwsTransientError' }, completed] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.filter((c) => c.fn === 'completeLifecycleAction').length, 2);
  });

  it('tells every step where the instance lives: a member\'s account and region, or the state machine\'s own', async () => {
    const member = { accountId: '444455556666', region: 'us-east-1' };
    const atMember = await runScripted(model, 'nodeJoin', { ...input, ...member }, { checkNodeReady: [ready], completeLifecycleAction: [completed] });
    assert.equal(atMember.execution.status, 'SUCCEEDED');
    assert.deepEqual(atMember.calls.map((c) => `${c.fn}@${c.payload.accountId}/${c.payload.region}`), ['checkNodeReady@444455556666/us-east-1', 'completeLifecycleAction@444455556666/us-east-1']);
    const atHub = await run({ checkNodeReady: [{ result: { status: 'timed-out', reason: 'late' } }], completeLifecycleAction: [completed] });
    const [, , , region, accountId] = atHub.execution.stateMachineArn.split(':');
    assert.deepEqual(atHub.calls.map((c) => `${c.fn}@${c.payload.accountId}/${c.payload.region}`), [`checkNodeReady@${accountId}/${region}`, `completeLifecycleAction@${accountId}/${region}`]);
  });
});
