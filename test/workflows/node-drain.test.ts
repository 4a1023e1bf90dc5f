import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServerlessModel } from '../sim/serverless-config.js';
import { runScripted, type Step } from './scripted-run.js';

/** The node-drain workflow file as deployed, its steps answered by a script. */
const model = loadServerlessModel();
const t0 = Date.parse('2026-11-21T09:00:00Z');
const input = (onDrainTimeout: 'fail' | 'force') => ({
  cluster: 'prod',
  instanceId: 'i-0123456789abcdef0',
  trigger: 'terminate-hook',
  deadline: '2026-11-21T09:15:00Z',
  policy: { drainTimeoutSeconds: 900, onDrainTimeout, maxGracePeriodSeconds: 600 },
  startedAt: '2026-11-21T09:00:00Z',
});

const pass = (phase: string, extra: Record<string, unknown> = {}) => ({
  result: { nodeName: 'ip-10-0-1-5', phase, remaining: phase === 'drained' ? 0 : 3, evicted: 1, terminating: 0, skipped: 2, blocked: [], deadlinePassed: false, waitSeconds: 10, heartbeat: 'no-hook', loop: { passes: 1, consecutiveBlocked: 0, lastHeartbeatAt: null, heartbeatEverySeconds: null }, ...extra },
});

const run = (onDrainTimeout: 'fail' | 'force', answers: Record<string, Step[]>) => runScripted(model, 'nodeDrain', input(onDrainTimeout), answers, t0);

const finished = { result: { outcome: 'x' } };

describe('Workflow: node-drain', () => {
  it('passes until drained, waiting what each pass asks, carrying the node and loop state, then finishes drained', async () => {
    const { execution, calls, elapsed } = await run('fail', { drainStep: [pass('draining'), pass('draining', { waitSeconds: 25 }), pass('drained')], finishDrain: [finished] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(elapsed, 35_000);
    const steps = calls.filter((c) => c.fn === 'drainStep');
    assert.equal(steps[0]!.payload.nodeName, null, 'the first pass finds the node');
    assert.equal(steps[1]!.payload.nodeName, 'ip-10-0-1-5');
    assert.deepEqual(steps[1]!.payload.loop.passes, 1);
    assert.ok(steps.every((s) => s.payload.mode === 'evict'));
    const finish = calls.find((c) => c.fn === 'finishDrain')!;
    assert.equal(finish.payload.outcome, 'drained');
  });

  it('forces at the deadline when the policy says force, then finishes forced', async () => {
    const { execution, calls } = await run('force', { drainStep: [pass('draining', { deadlinePassed: true }), pass('draining'), pass('drained')], finishDrain: [finished] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(calls.filter((c) => c.fn === 'drainStep').map((c) => c.payload.mode), ['evict', 'force', 'force']);
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'forced');
  });

  it('fails at the deadline when the policy says fail, reporting the blockers', async () => {
    const blocked = [{ pod: 'shop/web-1', pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'budget' }];
    const { execution, calls } = await run('fail', { drainStep: [pass('draining', { deadlinePassed: true, blocked })], finishDrain: [finished] });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'DrainFailed');
    const finish = calls.find((c) => c.fn === 'finishDrain')!.payload;
    assert.equal(finish.outcome, 'failed');
    assert.deepEqual(finish.blockers, blocked);
  });

  it('ends node-gone when the node or instance is already gone', async () => {
    const { execution, calls } = await run('fail', { drainStep: [pass('node-gone', { nodeName: null })], finishDrain: [finished] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'node-gone');
  });

  it('retries transient failures of a pass, and finishes failed on an error it cannot retry', async () => {
    const retried = await run('fail', { drainStep: [{ error: 'KubernetesUnavailableError' }, pass('drained')], finishDrain: [finished] });
    assert.equal(retried.execution.status, 'SUCCEEDED');
    const denied = await run('fail', { drainStep: [{ error: 'KubernetesAccessDeniedError' }], finishDrain: [finished] });
    assert.equal(denied.execution.status, 'FAILED');
    assert.equal(denied.calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'failed');
  });
});
