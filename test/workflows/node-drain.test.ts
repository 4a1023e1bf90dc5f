import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
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

const blocked = [{ pod: 'shop/web-1', pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'budget' }];
const pass = (next: string, extra: Record<string, unknown> = {}) => ({
  result: {
    nodeName: 'ip-10-0-1-5',
    phase: next === 'drained' || next === 'forced' ? 'drained' : next === 'node-gone' ? 'node-gone' : 'draining',
    next,
    remaining: next === 'drained' ? 0 : 3,
    evicted: 1,
    terminating: 0,
    skipped: 2,
    blocked: [],
    forced: [],
    deadlinePassed: false,
    waitSeconds: 10,
    heartbeat: 'no-hook',
    openActions: 0,
    loop: { passes: 1, consecutiveBlocked: 0, lastHeartbeatAt: null, heartbeatEverySeconds: null },
    here: { steps: 1, continue: false },
    ...extra,
  },
});

const run = (onDrainTimeout: 'fail' | 'force', answers: Record<string, Step[]>) => runScripted(model, 'nodeDrain', input(onDrainTimeout), answers, t0);

const finished = { result: { outcome: 'x' } };
const reported = { result: { publishedAt: '2026-11-21T09:15:00.000Z' } };
const modes = (calls: { fn: string; payload: any }[]) => calls.filter((c) => c.fn === 'drainStep').map((c) => c.payload.mode);

describe('Workflow: node-drain', () => {
  it('passes until drained, waiting what each pass asks, carrying the node and loop state, then finishes drained', async () => {
    const { execution, calls, elapsed } = await run('fail', { drainStep: [pass('wait'), pass('wait', { waitSeconds: 25 }), pass('drained')], finishDrain: [finished] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(elapsed, 35_000);
    const steps = calls.filter((c) => c.fn === 'drainStep');
    assert.equal(steps[0]!.payload.nodeName, null, 'the first pass finds the node');
    assert.equal(steps[1]!.payload.nodeName, 'ip-10-0-1-5');
    assert.deepEqual(steps[1]!.payload.loop.passes, 1);
    assert.deepEqual(steps[0]!.payload.forced, [], 'no pod forced yet');
    assert.ok(steps.every((s) => s.payload.mode === 'evict'));
    const finish = calls.find((c) => c.fn === 'finishDrain')!;
    assert.equal(finish.payload.outcome, 'drained');
  });

  it('forces at the deadline when the policy says force, then finishes forced with the pods it deleted', async () => {
    const forced = [{ pod: 'shop/web-1', pdb: 'shop/web' }];
    const { execution, calls } = await run('force', { drainStep: [pass('force', { deadlinePassed: true }), pass('wait', { forced }), pass('forced', { forced })], finishDrain: [finished] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(modes(calls), ['evict', 'force', 'force']);
    assert.deepEqual(calls.filter((c) => c.fn === 'drainStep')[2]!.payload.forced, forced, 'each force pass is told what the earlier ones deleted');
    const finish = calls.find((c) => c.fn === 'finishDrain')!.payload;
    assert.equal(finish.outcome, 'forced');
    assert.deepEqual(finish.forced, forced);
  });

  it('stops forcing when the pass says the deleted pods had their grace period (no endless force loop)', async () => {
    const { execution, calls } = await run('force', { drainStep: [pass('force'), pass('wait'), pass('wait'), pass('forced', { remaining: 1 })], finishDrain: [finished] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'forced');
  });

  it('fails at the deadline when the policy says fail and no lifecycle action holds the node, reporting the blockers', async () => {
    const { execution, calls } = await run('fail', { drainStep: [pass('fail', { deadlinePassed: true, blocked })], finishDrain: [finished] });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'DrainFailed');
    const finish = calls.find((c) => c.fn === 'finishDrain')!.payload;
    assert.equal(finish.outcome, 'failed');
    assert.deepEqual(finish.blockers, blocked);
    assert.equal(calls.filter((c) => c.fn === 'reportDrainBlocked').length, 0);
  });

  it('holds a node leaving its group past the deadline: reports it blocked once, passes on, and finishes drained when the pods are gone', async () => {
    const hold = (waitSeconds: number) => pass('hold', { deadlinePassed: true, blocked, waitSeconds, openActions: 1 });
    const { execution, calls, elapsed } = await run('fail', {
      drainStep: [hold(60), hold(120), hold(240), hold(300), pass('drained')],
      reportDrainBlocked: [reported],
      finishDrain: [finished],
    });
    assert.equal(execution.status, 'SUCCEEDED');
    const reports = calls.filter((c) => c.fn === 'reportDrainBlocked');
    assert.equal(reports.length, 1, 'Node Drain Blocked published once');
    assert.deepEqual(reports[0]!.payload.blockers, blocked);
    assert.equal(reports[0]!.payload.deadline, '2026-11-21T09:15:00Z');
    assert.equal(elapsed, (60 + 120 + 240 + 300) * 1000, 'each wait as the pass asked');
    assert.ok(modes(calls).every((m) => m === 'evict'), 'a hold never forces');
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'drained');
    const states = execution.history.map((h) => h.state);
    assert.deepEqual(states.filter((s) => s === 'ReportBlocked'), ['ReportBlocked']);
  });

  it('ends failed when the held action closes under the drain (its global timeout: AWS terminates)', async () => {
    const { execution, calls } = await run('fail', {
      drainStep: [pass('hold', { blocked, openActions: 1 }), pass('closed', { blocked, heartbeat: 'expired' })],
      reportDrainBlocked: [reported],
      finishDrain: [finished],
    });
    assert.equal(execution.status, 'FAILED');
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'failed');
  });

  it('goes on holding when the blocked report cannot be sent', async () => {
    const { execution, calls } = await run('fail', {
      drainStep: [pass('hold', { openActions: 1 }), pass('hold', { openActions: 1 }), pass('drained')],
      reportDrainBlocked: [{ error: 'InvalidInputError' }, reported],
      finishDrain: [finished],
    });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.filter((c) => c.fn === 'reportDrainBlocked').length, 2, 'tried again on the next holding pass');
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

  const unreachable = (times: number): Step[] => Array.from({ length: times }, () => ({ error: 'KubernetesUnavailableError' }));

  it('the Kubernetes API away past the retries, a hook open: keeps the hooks alive, tries the API again later, and drains when it is back', async () => {
    const { execution, calls } = await run('fail', {
      // 21 attempts of the first pass (1 + 20 retries), then keep-alive, a probe that fails, keep-alive, a probe that drains
      drainStep: [...unreachable(21), pass('hold', { waitSeconds: 150, openActions: 1 }), ...unreachable(1), pass('hold', { waitSeconds: 150, openActions: 1 }), pass('drained')],
      finishDrain: [finished],
    });
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    assert.deepEqual(modes(calls).slice(21), ['keep-alive', 'evict', 'keep-alive', 'evict']);
    const states = execution.history.map((h) => h.state);
    assert.deepEqual(states.filter((s) => s === 'ProbePass').length, 2);
    assert.equal(calls.filter((c) => c.fn === 'reportDrainBlocked').length, 0, 'away is not blocked');
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.outcome, 'drained');
  });

  it('the Kubernetes API away past the retries, no hook open (a manual drain): fails as before, saying why', async () => {
    const { execution, calls } = await run('fail', { drainStep: [...unreachable(21), pass('fail')], finishDrain: [finished] });
    assert.equal(execution.status, 'FAILED');
    const finish = calls.find((c) => c.fn === 'finishDrain')!.payload;
    assert.equal(finish.outcome, 'failed');
    assert.equal(finish.error.Error, 'KubernetesUnavailableError');
  });

  it('holds for 48 h (a 3600 s hook\'s global timeout) at five-minute passes far below 25,000 history events', async () => {
    const passes = (48 * 3600) / 300;
    const { execution } = await run('fail', {
      drainStep: [...Array.from({ length: passes }, () => pass('hold', { waitSeconds: 300, openActions: 1 })), pass('closed')],
      reportDrainBlocked: [reported],
      finishDrain: [finished],
    });
    assert.equal(execution.status, 'FAILED');
    // Step Functions records a Task as 5 events (entered, scheduled, started, succeeded, exited),
    // a Choice or a Wait as 2: a holding pass (DrainPass, AfterPass, WaitBeforePass) is 9
    const EVENTS: Record<string, number> = { DrainPass: 5, ProbePass: 5, KeepHooksAlive: 5, ForcePass: 5, ReportBlocked: 5, Drained: 5, Forced: 5, NodeGone: 5, DrainTimedOut: 5, DrainError: 5 };
    const events = execution.history.reduce((n, h) => n + (EVENTS[h.state] ?? 2), 2);
    assert.ok(events < 6_000, `${events} history events for ${passes} holding passes`);
  });
  it('goes on in a fresh execution when a pass says so: the whole state to ContinueAsNew, the successor as the output', async () => {
    const { execution, calls } = await run('fail', {
      drainStep: [pass('wait'), pass('wait', { waitSeconds: 40, here: { steps: 400, continue: true } })],
      continueExecution: [{ result: { continuedAs: 'arn:aws:states:eu-west-1:123456789012:execution:m:nodeDrain-test-c1', number: 1 } }],
    });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(execution.output, { continuedAs: 'arn:aws:states:eu-west-1:123456789012:execution:m:nodeDrain-test-c1', number: 1 });
    const asked = calls.find((c) => c.fn === 'continueExecution')!.payload;
    assert.equal(asked.executionArn, execution.executionArn);
    assert.equal(asked.stateMachineArn, execution.stateMachineArn);
    assert.deepEqual(asked.state.lineage, { origin: execution.executionArn, number: 0 }, 'the first execution is the origin');
    assert.equal(asked.state.pass.waitSeconds, 40, 'the wait the pass asked for goes with the state');
    assert.equal(asked.state.instanceId, 'i-0123456789abcdef0');
    assert.ok(calls.filter((c) => c.fn === 'drainStep').every((c) => c.payload.executionArn === execution.executionArn));
  });

  it('a continuation counts afresh, waits what the last pass asked, and names the drain by its origin', async () => {
    const origin = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-sandbox-node-drain:drain-i-0123456789abcdef0-0';
    const carried = { ...input('fail'), lineage: { origin, number: 1, previous: origin }, pass: { ...pass('wait', { waitSeconds: 40, here: { steps: 400, continue: true } }).result } };
    const { execution, calls, elapsed } = await runScripted(model, 'nodeDrain', carried, { drainStep: [pass('drained')], finishDrain: [finished] }, t0);
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(elapsed, 40_000, 'the wait comes first');
    const step = calls.find((c) => c.fn === 'drainStep')!.payload;
    assert.deepEqual(step.here, { steps: 0, continue: false });
    assert.equal(step.executionArn, origin);
    assert.equal(step.nodeName, 'ip-10-0-1-5', 'the node found before goes on');
    assert.equal(calls.find((c) => c.fn === 'finishDrain')!.payload.executionArn, origin);
  });

  it('a continuation that fails is asked again after the next pass, the drain going on here', async () => {
    const { execution, calls } = await run('fail', {
      drainStep: [pass('wait', { here: { steps: 400, continue: true } }), pass('wait', { here: { steps: 401, continue: true } }), pass('drained')],
      continueExecution: [{ error: 'InvalidInputError' }, { error: 'InvalidInputError' }],
      finishDrain: [finished],
    });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(calls.map((c) => c.fn), ['drainStep', 'continueExecution', 'drainStep', 'continueExecution', 'drainStep', 'finishDrain']);
  });

  describe('where the node lives', () => {
    const places = (calls: { fn: string; payload: any }[]) => new Set(calls.filter((c) => c.fn !== 'continueExecution').map((c) => `${c.fn}@${c.payload.accountId}/${c.payload.region}`));
    const member = { accountId: '444455556666', region: 'us-east-1' };

    it('tells every step the member\'s account and region its input names, the blocked report and the end included', async () => {
      const hold = pass('hold', { deadlinePassed: true, blocked, openActions: 1 });
      const { execution, calls } = await runScripted(model, 'nodeDrain', { ...input('fail'), ...member }, { drainStep: [hold, pass('drained')], reportDrainBlocked: [reported], finishDrain: [finished] }, t0);
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(places(calls), new Set(['drainStep@444455556666/us-east-1', 'reportDrainBlocked@444455556666/us-east-1', 'finishDrain@444455556666/us-east-1']));
    });

    it('an input without a place is the hub\'s own: the state machine\'s account and region, carried into a continuation', async () => {
      const { execution, calls } = await run('fail', {
        drainStep: [pass('wait', { here: { steps: 400, continue: true } })],
        continueExecution: [{ result: { continuedAs: 'arn:aws:states:eu-west-1:111122223333:execution:m:nodeDrain-test-c1', number: 1 } }],
      });
      assert.equal(execution.status, 'SUCCEEDED');
      const [, , , region, accountId] = execution.stateMachineArn.split(':');
      assert.deepEqual(places(calls), new Set([`drainStep@${accountId}/${region}`]));
      const state = calls.find((c) => c.fn === 'continueExecution')!.payload.state;
      assert.deepEqual([state.accountId, state.region], [accountId, region], 'the successor starts with the place');
    });

    it('refuses half a place (an account without a region) before any step', async () => {
      const { execution, calls } = await runScripted(model, 'nodeDrain', { ...input('fail'), accountId: member.accountId }, {}, t0);
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'InvalidInputError');
      assert.equal(calls.length, 0);
    });
  });
});
