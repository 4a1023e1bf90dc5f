import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
import { runScripted, type Step } from './scripted-run.js';

/**
 * The fleet-promotion workflow file as deployed, PromotionStep answered by a script: it
 * decides, waits until the time the decision names, decides again, and ends only when every
 * ring has passed; a long promotion goes on in a fresh execution of itself.
 */
const model = loadServerlessModel();
const T0 = Date.parse('2026-11-21T09:00:00Z');
const key = 'al2023-x86_64-standard-1.31-20261120';
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

let count = 0;
/** one decision: its command, when to decide again (minutes after T0), its count in this execution */
const decide = (command: string, nextMinutes: number, steps = ++count, extra: Record<string, unknown> = {}): Step => ({
  result: { command, next: at(nextMinutes), done: command === 'done', here: { steps, continue: false }, reason: command, ...extra },
});
const fns = (calls: { fn: string }[]) => calls.map((c) => c.fn);

describe('Workflow: fleet-promotion', () => {
  it('goes ring by ring: roll, soak, promote at once, roll the next, soak, done — waiting each time until the decision says', async () => {
    count = 0;
    const script = [
      decide('roll', 5), // canary entered, its groups started
      decide('wait', 10), // rolling
      decide('soak', 70), // every group runs it: soak an hour (next: the soak's end)
      decide('promote', 70), // canary passed: prod entered at once
      decide('roll', 75),
      decide('soak', 135),
      decide('done', 135),
    ];
    const { execution, calls, elapsed } = await runScripted(model, 'fleetPromotion', { key }, { promotionStep: script }, T0);
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(fns(calls).length, 7);
    assert.ok(fns(calls).every((f) => f === 'promotionStep'));
    assert.equal(elapsed, 135 * 60_000, 'it waited exactly until each decision\'s next, nothing more');
    // the step is given the whole state: the key, the lineage, the last decision (with its count)
    assert.equal(calls[0]!.payload.key, key);
    assert.equal(calls[0]!.payload.lineage.origin, execution.executionArn);
    assert.equal(calls[0]!.payload.decision, undefined);
    assert.deepEqual(calls[3]!.payload.decision.here, { steps: 3, continue: false });
    assert.equal(calls[3]!.payload.decision.command, 'soak');
    // per decision: one Lambda invocation, three states (Decide, Route, Wait), about ten history
    // events — 400 decisions per execution (continuation.ts) stay near 4,000 of the 25,000
    const events = execution.historyEventCount;
    assert.ok(events / 7 <= 11, `${events} history events for 7 decisions`);
    assert.ok(execution.history.length / 7 <= 3.5, `${execution.history.length} states entered for 7 decisions`);
  });

  it('never ends on await-approval or held: it decides again at the next time until a person\'s change lets it finish', async () => {
    count = 0;
    const { execution, calls, elapsed } = await runScripted(model, 'fleetPromotion', { key }, { promotionStep: [decide('await-approval', 5), decide('held', 10), decide('held', 15), decide('done', 15)] }, T0);
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.length, 4);
    assert.equal(elapsed, 15 * 60_000);
  });

  it('retries a transient failure of the step with backoff, and fails visibly on bad input', async () => {
    count = 0;
    const retried = await runScripted(model, 'fleetPromotion', { key }, { promotionStep: [{ error: 'AwsTransientError' }, decide('done', 0)] }, T0);
    assert.equal(retried.execution.status, 'SUCCEEDED');
    assert.equal(retried.calls.length, 2);
    const bad = await runScripted(model, 'fleetPromotion', { key }, { promotionStep: [{ error: 'InvalidInputError' }] }, T0);
    assert.equal(bad.execution.status, 'FAILED');
    assert.equal(bad.execution.error, 'InvalidInputError');
  });

  it('a malformed promotion policy is asked again every 5 minutes rather than ending the promotion', async () => {
    count = 0;
    const { execution, calls, elapsed } = await runScripted(model, 'fleetPromotion', { key }, { promotionStep: [{ error: 'ConfigurationError' }, { error: 'ConfigurationError' }, decide('done', 10)] }, T0);
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.length, 3);
    assert.equal(elapsed, 10 * 60_000);
  });

  describe('going on in a fresh execution', () => {
    const origin = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-sandbox-fleet-promotion:promo-origin';

    it('a decision that says continue hands the whole state to ContinueAsNew; the execution ends with the successor as its output', async () => {
      const successor = `${origin}-c1`;
      const { execution, calls } = await runScripted(
        model,
        'fleetPromotion',
        { key },
        { promotionStep: [decide('soak', 60, 400, { here: { steps: 400, continue: true } })], continueExecution: [{ result: { continuedAs: successor, number: 1 } }] },
        T0,
      );
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(execution.output, { continuedAs: successor, number: 1 });
      const asked = calls.find((c) => c.fn === 'continueExecution')!.payload;
      assert.equal(asked.executionArn, execution.executionArn);
      assert.equal(asked.state.key, key);
      assert.deepEqual(asked.state.lineage, { origin: execution.executionArn, number: 0 });
      assert.equal(asked.state.decision.next, at(60), 'the wait goes with the state');
    });

    it('a continuation waits what the last decision asked, counts afresh, then decides', async () => {
      const carried = { key, lineage: { origin, number: 1, previous: origin }, decision: { command: 'soak', next: at(30), done: false, here: { steps: 400, continue: true }, reason: 'soaking' } };
      const { execution, calls, elapsed } = await runScripted(model, 'fleetPromotion', carried, { promotionStep: [decide('done', 30, 1)] }, T0);
      assert.equal(execution.status, 'SUCCEEDED');
      assert.equal(elapsed, 30 * 60_000, 'the wait first');
      assert.deepEqual(calls[0]!.payload.decision.here, { steps: 0, continue: false });
      assert.deepEqual(calls[0]!.payload.lineage, carried.lineage, 'the same promotion: its origin stays');
    });

    it('a continuation that fails leaves the promotion going on here', async () => {
      const { execution, calls } = await runScripted(
        model,
        'fleetPromotion',
        { key },
        { promotionStep: [decide('soak', 5, 400, { here: { steps: 400, continue: true } }), decide('done', 5, 401)], continueExecution: [{ error: 'InvalidInputError' }] },
        T0,
      );
      assert.equal(execution.status, 'SUCCEEDED');
      assert.deepEqual(fns(calls), ['promotionStep', 'continueExecution', 'promotionStep']);
    });
  });
});
