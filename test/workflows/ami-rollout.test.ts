import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APPROVAL_TIMEOUT_SECONDS } from '../../shared/rollout/approvals.js';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
import { type Approver, runScripted, type Step } from './scripted-run.js';

/**
 * The ami-rollout workflow file as deployed, its Lambda steps answered by a script: which
 * path does each begin, preflight, template and roll result take, with what payloads, and
 * how long does it wait?
 */
const model = loadServerlessModel();
const T0 = Date.parse('2026-11-21T09:00:00Z');
const input = {
  cluster: 'prod',
  group: { kind: 'self-managed', name: 'prod-workers', autoScalingGroup: 'prod-workers', launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 } },
  target: { imageId: 'ami-0123456789abcdef0', release: '1.31.0-20261120' },
  from: { imageId: 'ami-0fedcba9876543210' },
  mode: 'auto',
  startedBy: { kind: 'detection', startNow: false },
};
const policy = { maxUnavailable: 1, canary: 1, strategy: 'surge', approval: false, selfManagedStrategy: 'batches', drain: { drainTimeoutSeconds: 900, onDrainTimeout: 'fail', maxGracePeriodSeconds: 600 } };

const run = (answers: Record<string, Step[]>) => runScripted(model, 'amiRollout', input, answers, T0);

// ---- scripted answers ------------------------------------------------------------------
/** BeginRollout returns the input it was given (the lineage with it) and its decision */
const begin = (decision: Record<string, unknown>): Step => ({ answer: (payload) => ({ ...payload.input, begin: decision }) });
const proceed = (over: Record<string, unknown> = {}) => begin({ decision: 'proceed', startAt: null, policy, surge: 1, groupSize: 4, problems: [], summary: 'prod/prod-workers: 4 nodes, 1 at a time (surge)', ...over });
const preflightOk: Step = { result: { ok: true, checks: [] } };
const template: Step = { result: { launchTemplateId: 'lt-0123456789abcdef0', version: 4, created: true, pruned: [], family: 'al2023' } };
const rollState = { kind: 'self-managed', phase: 'launch' };
const here = { steps: 1, continue: false };
const step = (summary = 'planned'): Step => ({ result: { state: rollState, next: 'step', wait: null, summary, outcome: null, here } });
const wait = (phase: string, seconds: number, steps = here): Step => ({ result: { state: rollState, next: 'wait', wait: { seconds, phase }, summary: `waiting: ${phase}`, outcome: null, here: steps } });
const end = (outcome: string): Step => ({ result: { state: { ...rollState, phase: 'ended', end: outcome }, next: 'end', wait: null, summary: `ended: ${outcome}`, outcome, here } });
const finished = (outcome: string, succeeded: boolean): Step => ({ result: { outcome, succeeded, released: true } });
/** fresh arrays each time: the runner consumes its script */
const upToRoll = () => ({ beginRollout: [proceed()], rolloutPreflight: [preflightOk], prepareLaunchTemplate: [template] });

const fns = (calls: { fn: string }[]) => calls.map((c) => c.fn);
const states = (history: { state: string }[]) => history.map((h) => h.state);

/** runScripted for the approval gate: `answer` plays the person once the workflow waits. */
const runWithApprover = (answers: Record<string, Step[]>, answer: Approver, start = T0) => runScripted(model, 'amiRollout', input, answers, start, answer);

describe('Workflow: ami-rollout', () => {
  describe('begin', () => {
    it('a group already being rolled ends Succeed, naming the holder, calling nothing else', async () => {
      const holder = { decision: 'already-rolling', heldBy: 'arn:aws:states:eu-west-1:123456789012:execution:x:first', expiresAt: '2026-11-21T11:00:00.000Z', summary: 'prod/prod-workers is already being rolled by …:first' };
      const { execution, calls } = await run({ beginRollout: [begin(holder)] });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(execution.output, holder);
      assert.deepEqual(fns(calls), ['beginRollout']);
    });

    it('a refused start ends in Fail RolloutRefused, calling nothing else (no lock was taken)', async () => {
      const { execution, calls } = await run({ beginRollout: [begin({ decision: 'refused', reason: 'outside the window', summary: 'not started' })] });
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'RolloutRefused');
      assert.deepEqual(fns(calls), ['beginRollout']);
    });

    it('BeginRollout gets the workflow input as it came and the execution ARN', async () => {
      const { execution, calls } = await run({ beginRollout: [begin({ decision: 'refused', reason: 'r', summary: 's' })] });
      // no `fleet` in the input: `{}` travels in its place (a JSONPath to an absent field would fail the state)
      assert.deepEqual(calls[0]!.payload, { input: { ...input, place: {}, fleet: {}, lineage: { origin: execution.executionArn, number: 0 } }, executionArn: execution.executionArn });
    });

    it('a transient failure of BeginRollout is retried', async () => {
      const { execution, calls } = await run({ beginRollout: [{ error: 'AwsTransientError' }, begin({ decision: 'refused', reason: 'r', summary: 's' })] });
      assert.equal(execution.error, 'RolloutRefused');
      assert.equal(calls.length, 2);
    });

    it('a non-transient failure of BeginRollout is reported as the rollout\'s failure (finishRollout releases a lock only if Begin took it)', async () => {
      const { execution, calls } = await run({ beginRollout: [{ error: 'ConfigurationError' }], finishRollout: [finished('failed', false)] });
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'RolloutFailed');
      assert.deepEqual(fns(calls), ['beginRollout', 'finishRollout']);
      assert.equal((calls[1]!.payload as { outcome: string }).outcome, 'failed');
      assert.match(JSON.stringify((calls[1]!.payload as { detail: unknown }).detail), /ConfigurationError/);
    });

    it('waits for the maintenance window before the preflight', async () => {
      const { execution, calls, elapsed } = await run({ ...upToRoll(), beginRollout: [proceed({ startAt: '2026-11-21T22:00:00.000Z' })], rollStep: [end('finished')], finishRollout: [finished('finished', true)] });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.equal(elapsed, 13 * 3600_000);
      assert.ok(states(execution.history).indexOf('WaitForWindow') < states(execution.history).indexOf('Preflight'));
      assert.deepEqual(fns(calls), ['beginRollout', 'rolloutPreflight', 'prepareLaunchTemplate', 'rollStep', 'finishRollout']);
    });
  });

  describe('approval gate', () => {
    const approvalAnswers = () => ({ ...upToRoll(), beginRollout: [proceed({ policy: { ...policy, approval: true } })], requestApproval: [{ result: { posted: true } } as Step], rollStep: [end('finished')], finishRollout: [finished('finished', true)] });

    it('asks a person with the task token and the plan, and rolls once approved', async () => {
      const { execution, calls, pending: waited } = await runWithApprover(approvalAnswers(), async (task, sfn) => {
        sfn.sendTaskSuccess(task.token, JSON.stringify({ approvedBy: 'U123' }));
      });
      const pending = waited!;
      assert.equal(execution.status, 'SUCCEEDED');
      assert.equal(pending.state, 'RequestApproval');
      const ask = calls.find((c) => c.fn === 'requestApproval')!.payload;
      assert.equal(ask.taskToken, pending.token);
      assert.deepEqual(ask, { taskToken: pending.token, place: {}, cluster: 'prod', group: input.group, target: input.target, from: input.from, executionArn: execution.executionArn, startedBy: input.startedBy, plan: { summary: 'prod/prod-workers: 4 nodes, 1 at a time (surge)' } });
      assert.deepEqual(fns(calls), ['beginRollout', 'requestApproval', 'rolloutPreflight', 'prepareLaunchTemplate', 'rollStep', 'finishRollout']);
    });

    it('a rejection ends in Fail RolloutRejected after releasing the lock, before any preflight', async () => {
      const { execution, calls } = await runWithApprover({ ...approvalAnswers(), finishRollout: [finished('rejected', false)] }, async (task, sfn) => {
        sfn.sendTaskFailure(task.token, 'RolloutRejectedError', 'rejected by U123: not during the sale');
      });
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'RolloutRejected');
      assert.deepEqual(fns(calls), ['beginRollout', 'requestApproval', 'finishRollout']);
      const finish = calls.at(-1)!.payload;
      assert.equal(finish.outcome, 'rejected');
      assert.equal(finish.executionArn, execution.executionArn);
      assert.equal(finish.detail.Error, 'RolloutRejectedError');
    });

    it("waits for a person as long as the approval's own expiry (APPROVAL_TIMEOUT_SECONDS): no sooner, no later", () => {
      const machine = model.stateMachines.find((m) => m.key === 'amiRollout')!;
      assert.equal((machine.definition.States['RequestApproval'] as { TimeoutSeconds?: number }).TimeoutSeconds, APPROVAL_TIMEOUT_SECONDS);
    });

    it('nobody answering for 24 hours ends in Fail ApprovalExpired after releasing the lock', async () => {
      const { execution, calls, elapsed } = await runWithApprover({ ...approvalAnswers(), finishRollout: [finished('approval-expired', false)] }, async (_task, _sfn, clock) => {
        await clock.advance(86_400_000);
      });
      assert.equal(execution.error, 'ApprovalExpired');
      assert.equal(elapsed, 86_400_000);
      assert.deepEqual(fns(calls), ['beginRollout', 'requestApproval', 'finishRollout']);
      assert.equal(calls.at(-1)!.payload.outcome, 'approval-expired');
    });

    it('a failing approval request releases the lock as failed', async () => {
      const answers = { ...approvalAnswers(), requestApproval: [{ error: 'LockLostError' } as Step], finishRollout: [finished('failed', false)] };
      const { execution, calls } = await run(answers);
      assert.equal(execution.error, 'RolloutFailed');
      assert.deepEqual(fns(calls), ['beginRollout', 'requestApproval', 'finishRollout']);
      assert.equal(calls.at(-1)!.payload.outcome, 'failed');
    });
  });

  describe('preflight and launch template', () => {
    it('a failed preflight is reported through PreflightFailed and ends in Fail PreflightFailed; no template is prepared', async () => {
      const report = { ok: false, checks: [{ name: 'node-role', ok: false, fix: 'attach AmazonEKSWorkerNodePolicy' }] };
      const { execution, calls } = await run({ beginRollout: [proceed()], rolloutPreflight: [{ result: report }], finishRollout: [finished('preflight-failed', false)] });
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'PreflightFailed');
      assert.deepEqual(fns(calls), ['beginRollout', 'rolloutPreflight', 'finishRollout']);
      assert.ok(states(execution.history).includes('PreflightFailed'));
      assert.deepEqual(calls.at(-1)!.payload, { place: {}, cluster: 'prod', group: input.group, target: input.target, executionArn: execution.executionArn, outcome: 'preflight-failed', detail: report });
    });

    it('the preflight gets the surge BeginRollout computed', async () => {
      const { calls } = await run({ beginRollout: [proceed({ surge: 3 })], rolloutPreflight: [{ result: { ok: false } }], finishRollout: [finished('preflight-failed', false)] });
      assert.equal(calls[1]!.payload.surge, 3);
    });

    it('an invalid launch template ends in Fail LaunchTemplateInvalid after releasing the lock', async () => {
      const { execution, calls } = await run({ beginRollout: [proceed()], rolloutPreflight: [preflightOk], prepareLaunchTemplate: [{ error: 'LaunchTemplateValidationError' }], finishRollout: [finished('launch-template-invalid', false)] });
      assert.equal(execution.error, 'LaunchTemplateInvalid');
      assert.deepEqual(fns(calls), ['beginRollout', 'rolloutPreflight', 'prepareLaunchTemplate', 'finishRollout']);
      assert.equal(calls.at(-1)!.payload.outcome, 'launch-template-invalid');
      assert.equal(calls.at(-1)!.payload.detail.Error, 'LaunchTemplateValidationError');
    });

    it('any other failure before the roll releases the lock as failed', async () => {
      const { execution, calls } = await run({ beginRollout: [proceed()], rolloutPreflight: [{ error: 'KubernetesAccessDeniedError' }], finishRollout: [finished('failed', false)] });
      assert.equal(execution.error, 'RolloutFailed');
      assert.deepEqual(fns(calls), ['beginRollout', 'rolloutPreflight', 'finishRollout']);
      assert.equal(calls.at(-1)!.payload.outcome, 'failed');
    });
  });

  describe('the roll loop', () => {
    it('routes each wait phase to its Wait state for the seconds asked, and `end` to FinishRoll; finished → Succeed', async () => {
      const { execution, calls, elapsed } = await run({
        ...upToRoll(),
        rollStep: [step(), wait('replacements', 15), wait('drains', 20), wait('terminations', 30), wait('health', 45), wait('paused', 60), wait('nodegroup-update', 90), wait('instance-refresh', 120), step('batch done'), end('finished')],
        finishRollout: [finished('finished', true)],
      });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.equal(elapsed, (15 + 20 + 30 + 45 + 60 + 90 + 120) * 1000);
      const waits = states(execution.history).filter((s) => s.startsWith('Wait') || s === 'Paused');
      assert.deepEqual(waits, ['WaitForReplacements', 'WaitForDrains', 'WaitForTerminations', 'WaitForHealth', 'Paused', 'WaitForNodegroupUpdate', 'WaitForInstanceRefresh']);
      assert.equal(states(execution.history).at(-1), 'FinishRoll');
      assert.equal(calls.filter((c) => c.fn === 'rollStep').length, 10);
    });

    it('gives the first roll step the marker, and each next one the previous result', async () => {
      const { calls } = await run({ ...upToRoll(), rollStep: [step('one'), wait('drains', 10), end('finished')], finishRollout: [finished('finished', true)] });
      const rolls = calls.filter((c) => c.fn === 'rollStep').map((c) => c.payload);
      assert.deepEqual(rolls[0]!.roll, { first: true });
      assert.equal(rolls[1]!.roll.summary, 'one');
      assert.equal(rolls[2]!.roll.wait.phase, 'drains');
      assert.deepEqual(rolls[0]!.policy, policy);
      assert.deepEqual(rolls[0]!.launchTemplate, (template as { result: unknown }).result);
      assert.equal(rolls[0]!.failure, undefined);
    });

    it('FinishRoll reports the roll\'s outcome and summary as already announced', async () => {
      const { execution, calls } = await run({ ...upToRoll(), rollStep: [end('finished')], finishRollout: [finished('finished', true)] });
      // with the release it rolled (none here: `{}`) and the image it left, for the promotion's outcome record
      assert.deepEqual(calls.at(-1)!.payload, { place: {}, cluster: 'prod', group: input.group, target: input.target, executionArn: execution.executionArn, outcome: 'finished', detail: 'ended: finished', fleet: {}, from: input.from, announced: true });
    });

    it('aborted is a success', async () => {
      const { execution } = await run({ ...upToRoll(), rollStep: [end('aborted')], finishRollout: [finished('aborted', true)] });
      assert.equal(execution.status, 'SUCCEEDED');
    });

    const endings: [string, string][] = [
      ['rolled-back', 'RolledBack'],
      ['rollback-failed', 'RollbackFailed'],
      ['failed', 'RolloutFailed'],
    ];
    for (const [outcome, error] of endings) {
      it(`${outcome} → Fail ${error}`, async () => {
        const { execution, calls } = await run({ ...upToRoll(), rollStep: [end(outcome)], finishRollout: [finished(outcome, false)] });
        assert.equal(execution.status, 'FAILED');
        assert.equal(execution.error, error);
        assert.equal(calls.at(-1)!.payload.outcome, outcome);
      });
    }

    it('a transient roll step failure is retried, not rolled back', async () => {
      const { execution, calls } = await run({ ...upToRoll(), rollStep: [{ error: 'AwsTransientError' }, end('finished')], finishRollout: [finished('finished', true)] });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.ok(!states(execution.history).includes('RollAfterFailure'));
      assert.equal(calls.filter((c) => c.fn === 'rollStep').length, 2);
    });

    it('a failed roll step goes to RollAfterFailure with the failure and the last good roll, then carries on', async () => {
      const { execution, calls } = await run({
        ...upToRoll(),
        rollStep: [step('planned'), { error: 'KubernetesAccessDeniedError' }, wait('replacements', 15), end('rolled-back')],
        finishRollout: [finished('rolled-back', false)],
      });
      assert.equal(execution.error, 'RolledBack');
      const rolls = calls.filter((c) => c.fn === 'rollStep').map((c) => c.payload);
      assert.equal(rolls[2]!.failure.Error, 'KubernetesAccessDeniedError');
      assert.match(rolls[2]!.failure.Cause, /KubernetesAccessDeniedError/);
      assert.equal(rolls[2]!.roll.summary, 'planned', 'the roll as it was before the failed step');
      assert.equal(rolls[3]!.failure, undefined, 'the next Roll is a normal step');
      assert.deepEqual(states(execution.history).slice(states(execution.history).indexOf('RollAfterFailure')), ['RollAfterFailure', 'WaitForReplacements', 'Roll', 'FinishRoll']);
    });

    it('RollAfterFailure is retried three times on an error that is not transient, then GiveUp tidies up and the end is reported', async () => {
      const { execution, calls } = await run({
        ...upToRoll(),
        rollStep: [step(), { error: 'Error' }, { error: 'ConfigurationError' }, { error: 'ConfigurationError' }, { error: 'ConfigurationError' }, { error: 'ConfigurationError' }, end('rollback-failed')],
        finishRollout: [finished('rollback-failed', false)],
      });
      assert.equal(execution.error, 'RollbackFailed');
      const rollSteps = calls.filter((c) => c.fn === 'rollStep');
      assert.equal(rollSteps.length, 7, 'the failed step, RollAfterFailure once and three retries, then GiveUp');
      const giveUp = rollSteps.at(-1)!.payload;
      assert.equal(giveUp.giveUp, true);
      assert.equal(giveUp.failure.Error, 'ConfigurationError', 'GiveUp is told why the rollback failed');
      assert.deepEqual(giveUp.roll, (step() as { result: unknown }).result, 'and gets the last good roll state');
      assert.equal(calls.at(-1)!.payload.outcome, 'rollback-failed');
      assert.equal(calls.at(-1)!.payload.announced, true, 'GiveUp announced the end with what it left');
    });

    it('a GiveUp that fails too still releases the lock and reports the rollback failed', async () => {
      const failing = Array.from({ length: 4 }, () => ({ error: 'ConfigurationError' }));
      const { execution, calls } = await run({
        ...upToRoll(),
        rollStep: [step(), { error: 'Error' }, ...failing, ...failing],
        finishRollout: [finished('rollback-failed', false)],
      });
      assert.equal(execution.error, 'RollbackFailed');
      assert.equal(calls.filter((c) => c.fn === 'rollStep').length, 10, 'GiveUp is retried three times too');
      assert.equal(calls.at(-1)!.payload.outcome, 'rollback-failed');
      assert.equal(calls.at(-1)!.payload.detail.Error, 'ConfigurationError');
    });

    it('RollAfterFailure keeps retrying throttling far longer (a rollback is the safety net)', async () => {
      const throttled = Array.from({ length: 10 }, () => ({ error: 'AwsTransientError' }));
      const { execution, calls } = await run({
        ...upToRoll(),
        rollStep: [step(), { error: 'Error' }, ...throttled, end('rolled-back')],
        finishRollout: [finished('rolled-back', false)],
      });
      assert.equal(calls.filter((c) => c.fn === 'rollStep').length, 13, 'ten throttled attempts, then the rollback step went through');
      assert.equal(execution.error, 'RolledBack');
    });

    it('LockLostError from a roll step ends in Fail LockLost without touching anything else', async () => {
      const { execution, calls } = await run({ ...upToRoll(), rollStep: [step(), { error: 'LockLostError' }] });
      assert.equal(execution.error, 'LockLost');
      assert.deepEqual(fns(calls).slice(-2), ['rollStep', 'rollStep']);
      assert.ok(!fns(calls).includes('finishRollout'), 'the lock is someone else\'s now: nothing to release');
    });

    it('LockLostError from RollAfterFailure ends in Fail LockLost at once (no retry)', async () => {
      const { execution, calls } = await run({ ...upToRoll(), rollStep: [step(), { error: 'Error' }, { error: 'LockLostError' }] });
      assert.equal(execution.error, 'LockLost');
      assert.equal(calls.filter((c) => c.fn === 'rollStep').length, 3);
    });

    it('a FinishRoll failure is retried', async () => {
      const { execution, calls } = await run({ ...upToRoll(), rollStep: [end('finished')], finishRollout: [{ error: 'AwsTransientError' }, { error: 'InternalFailure' }, finished('finished', true)] });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.equal(calls.filter((c) => c.fn === 'finishRollout').length, 3);
    });
  });
  describe('going on in a fresh execution', () => {
    const origin = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-sandbox-ami-rollout:amiRollout-origin';
    const successor = `${origin}-c1`;

    it('a step about to wait that says continue hands the whole state to ContinueAsNew; the execution ends with the successor as its output', async () => {
      const { execution, calls } = await run({ ...upToRoll(), rollStep: [step(), wait('drains', 30, { steps: 400, continue: true })], continueExecution: [{ result: { continuedAs: successor, number: 1 } }] });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(execution.output, { continuedAs: successor, number: 1 });
      const asked = calls.find((c) => c.fn === 'continueExecution')!.payload;
      assert.equal(asked.executionArn, execution.executionArn);
      assert.deepEqual(asked.state.lineage, { origin: execution.executionArn, number: 0 });
      assert.deepEqual(asked.state.roll.wait, { seconds: 30, phase: 'drains' }, 'the wait goes with the state');
      assert.equal(asked.state.launchTemplate.version, 4);
      assert.equal(asked.state.begin.policy.maxUnavailable, 1);
      assert.ok(!fns(calls).includes('finishRollout'), 'nothing is finished: the rollout goes on');
    });

    it('a continuation waits what the last step asked, counts afresh, and names the rollout by its origin everywhere', async () => {
      const carried = { ...input, lineage: { origin, number: 1, previous: origin }, begin: { decision: 'proceed', startAt: null, policy, surge: 1, summary: 's' }, launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version: 4 }, roll: { state: rollState, next: 'wait', wait: { seconds: 30, phase: 'drains' }, summary: 'draining', outcome: null, here: { steps: 400, continue: true } } };
      const { execution, calls, elapsed } = await runScripted(model, 'amiRollout', carried, { rollStep: [end('finished')], finishRollout: [finished('finished', true)] }, T0);
      assert.equal(execution.status, 'SUCCEEDED');
      assert.equal(elapsed, 30_000, 'the wait first');
      assert.deepEqual(fns(calls), ['rollStep', 'finishRollout'], 'no second BeginRollout: the lock is held already');
      assert.deepEqual(calls[0]!.payload.roll.here, { steps: 0, continue: false });
      assert.ok(calls.every((c) => c.payload.executionArn === origin));
    });

    it('a continuation that fails leaves the roll going on here; the next step asks again', async () => {
      const { execution, calls } = await run({
        ...upToRoll(),
        rollStep: [step(), wait('drains', 30, { steps: 400, continue: true }), wait('drains', 30, { steps: 401, continue: true }), end('finished')],
        continueExecution: [{ error: 'InvalidInputError' }, { error: 'InvalidInputError' }],
        finishRollout: [finished('finished', true)],
      });
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(fns(calls).slice(3), ['rollStep', 'rollStep', 'continueExecution', 'rollStep', 'continueExecution', 'rollStep', 'finishRollout']);
    });
  });
  describe("the group's place", () => {
    const member = { accountId: '444455556666', region: 'eu-west-2' };
    /** every step the workflow calls, with its payload's place (BeginRollout: the input it was given) */
    const placesOf = (calls: { fn: string; payload: any }[]) => calls.map((c) => [c.fn, c.fn === 'beginRollout' ? c.payload.input.place : c.payload.place]);
    /** BeginRollout as the handler answers: the input, its place resolved, and the decision */
    const beginAt = (place: Record<string, string>, decision: Record<string, unknown>): Step => ({ answer: (payload) => ({ ...payload.input, place, begin: decision }) });
    const proceedAt = (place: Record<string, string>) => beginAt(place, { decision: 'proceed', startAt: null, policy: { ...policy, approval: true }, surge: 1, groupSize: 4, problems: [], summary: 's' });

    it("a member's rollout hands its account and region to every step: approval, preflight, template, roll, finish", async () => {
      const { execution, calls } = await runScripted(
        model,
        'amiRollout',
        { ...input, ...member },
        { beginRollout: [proceedAt(member)], requestApproval: [{ result: { posted: true } } as Step], rolloutPreflight: [preflightOk], prepareLaunchTemplate: [template], rollStep: [step(), end('finished')], finishRollout: [finished('finished', true)] },
        T0,
        async (task, sfn) => {
          sfn.sendTaskSuccess(task.token, JSON.stringify({ approvedBy: 'U123' }));
        },
      );
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(placesOf(calls), [
        ['beginRollout', member],
        ['requestApproval', member],
        ['rolloutPreflight', member],
        ['prepareLaunchTemplate', member],
        ['rollStep', member],
        ['rollStep', member],
        ['finishRollout', member],
      ]);
      assert.deepEqual(calls[0]!.payload.input.accountId, member.accountId, 'BeginRollout gets the input as it came');
    });

    it('a place that names only its region (another region of the hub account) is handed on as given', async () => {
      const { calls } = await runScripted(model, 'amiRollout', { ...input, region: 'eu-west-2' }, { beginRollout: [{ error: 'ConfigurationError' }], finishRollout: [finished('failed', false)] }, T0);
      assert.deepEqual(placesOf(calls), [['beginRollout', { region: 'eu-west-2' }], ['finishRollout', { region: 'eu-west-2' }]]);
    });

    it("Begin's failure is finished in the member's place too (the lock, if Begin took it, is the member's key)", async () => {
      const { execution, calls } = await runScripted(model, 'amiRollout', { ...input, ...member }, { beginRollout: [{ error: 'ConfigurationError' }], finishRollout: [finished('failed', false)] }, T0);
      assert.equal(execution.error, 'RolloutFailed');
      assert.deepEqual(calls[1]!.payload.place, member);
    });

    it("the continuation carries the place: ContinueAsNew's state has it, and the fresh execution's steps get it", async () => {
      const { calls } = await runScripted(model, 'amiRollout', { ...input, ...member }, { beginRollout: [beginAt(member, { decision: 'proceed', startAt: null, policy, surge: 1, groupSize: 4, problems: [], summary: 's' })], rolloutPreflight: [preflightOk], prepareLaunchTemplate: [template], rollStep: [step(), wait('drains', 30, { steps: 400, continue: true })], continueExecution: [{ result: { continuedAs: 'x', number: 1 } }] }, T0);
      const asked = calls.find((c) => c.fn === 'continueExecution')!.payload;
      assert.deepEqual(asked.state.place, member);
      const origin = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-sandbox-ami-rollout:amiRollout-origin';
      const next = await runScripted(model, 'amiRollout', { ...asked.state, lineage: { origin, number: 1, previous: origin } }, { rollStep: [end('finished')], finishRollout: [finished('finished', true)] }, T0);
      assert.deepEqual(placesOf(next.calls), [['rollStep', member], ['finishRollout', member]]);
    });

    it("a continuation of an execution started before places existed (no place, no account) goes on in the hub's own place", async () => {
      const origin = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-sandbox-ami-rollout:amiRollout-origin';
      const carried = { ...input, lineage: { origin, number: 1, previous: origin }, begin: { decision: 'proceed', startAt: null, policy, surge: 1, summary: 's' }, launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version: 4 }, roll: { state: rollState, next: 'wait', wait: { seconds: 30, phase: 'drains' }, summary: 'draining', outcome: null, here: { steps: 400, continue: true } } };
      const { execution, calls } = await runScripted(model, 'amiRollout', carried, { rollStep: [end('finished')], finishRollout: [finished('finished', true)] }, T0);
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(placesOf(calls), [['rollStep', {}], ['finishRollout', {}]]);
    });
  });
});
