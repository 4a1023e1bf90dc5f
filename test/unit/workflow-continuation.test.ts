import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { executionArnOf, executionStatus } from '../../shared/aws/step-functions.js';
import { InvalidInputError } from '../../shared/errors.js';
import { parseInput } from '../../functions/lib/handler.js';
import { ContinueExecutionInputSchema } from '../../shared/events/continuation.js';
import { continuationName, continueNow, STEPS_PER_EXECUTION, stepTaken } from '../../shared/workflow/continuation.js';
import { continueExecution, MAX_PAYLOAD_BYTES } from '../../shared/workflow/continue-execution.js';
import { awsScope } from '../../shared/aws/clients.js';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-prod-node-drain';
const ORIGIN = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-prod-node-drain:drain-i-0123456789abcdef0-0';
const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const continuationArn = (origin: string, n: number) => executionArnOf(MACHINE, continuationName(origin.split(':').at(-1)!, n));

describe('Continuation: names and counts', () => {
  it('names the n-th continuation after its origin, and cuts a long origin to fit 80 characters with a hash of the whole', () => {
    assert.equal(continuationName('drain-i-0123456789abcdef0-0', 1), 'drain-i-0123456789abcdef0-0-c1');
    const long = `roll-${'x'.repeat(75)}`;
    const [a, b] = [continuationName(long, 12), continuationName(`${long.slice(0, 79)}y`, 12)];
    assert.equal(a.length, 80);
    assert.ok(a.endsWith('-c12'));
    assert.notEqual(a, b, 'origins that differ only past the cut still get different names');
    assert.throws(() => continuationName('x', 0), RangeError);
  });

  it('property: every continuation name is a valid execution name, the same on every call, and distinct per origin and number', () => {
    fc.assert(
      fc.property(fc.stringMatching(NAME), fc.stringMatching(NAME), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), (o1, o2, n1, n2) => {
        const name = continuationName(o1, n1);
        assert.match(name, NAME);
        assert.equal(continuationName(o1, n1), name);
        if (o1 !== o2 || n1 !== n2) assert.notEqual(continuationName(o2, n2), name);
      }),
    );
  });

  it('continues only a step about to wait, once the execution has taken its share of steps', () => {
    assert.equal(continueNow(STEPS_PER_EXECUTION - 1), false);
    assert.equal(continueNow(STEPS_PER_EXECUTION), true);
    assert.deepEqual(stepTaken(undefined, true), { steps: 1, continue: false });
    assert.deepEqual(stepTaken({ steps: STEPS_PER_EXECUTION - 1, continue: false }, true), { steps: STEPS_PER_EXECUTION, continue: true });
    assert.deepEqual(stepTaken({ steps: STEPS_PER_EXECUTION - 1, continue: false }, false), { steps: STEPS_PER_EXECUTION, continue: false }, 'a step that goes on at once, or ends, is not cut');
  });
});

describe('Continuation: continueExecution', () => {
  const state = (extra: Record<string, unknown> = {}) => ({ cluster: 'prod', instanceId: 'i-0123456789abcdef0', lineage: { origin: ORIGIN, number: 0 }, pass: { waitSeconds: 300 }, ...extra });
  const current = ORIGIN;

  it('starts the successor with the state and the next lineage, under a name derived from the origin; a retry finds the same one', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: continuationArn(ORIGIN, 1) }).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    const ports = { aws: awsScope({ region: 'eu-west-1' }), log: () => {} };
    const input = parseInput(ContinueExecutionInputSchema, { stateMachineArn: MACHINE, executionArn: current, state: state() });
    const first = await continueExecution(input, ports);
    const again = await continueExecution(input, ports);
    assert.deepEqual(first, { continuedAs: `${ORIGIN}-c1`, number: 1 });
    assert.deepEqual(again, first);
    const sent = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    assert.equal(sent[0]!.name, 'drain-i-0123456789abcdef0-0-c1');
    assert.deepEqual(JSON.parse(sent[0]!.input!), { ...state(), lineage: { origin: ORIGIN, number: 1, previous: current } });
    assert.deepEqual(sent[1], sent[0]);
    sfn.restore();
  });

  it('refuses an execution of another state machine, and a state over 256 KiB, starting nothing', async () => {
    const sfn = mockClient(SFNClient);
    const ports = { aws: awsScope({ region: 'eu-west-1' }), log: () => {} };
    const other = ORIGIN.replace('node-drain', 'ami-rollout');
    await assert.rejects(continueExecution({ stateMachineArn: MACHINE, executionArn: other, state: state() }, ports), (e: unknown) => e instanceof InvalidInputError && e.issues[0]!.path === 'executionArn');
    await assert.rejects(continueExecution({ stateMachineArn: MACHINE, executionArn: current, state: state({ lineage: { origin: other, number: 0 } }) }, ports), (e: unknown) => e instanceof InvalidInputError && e.issues[0]!.path === 'state.lineage.origin');
    await assert.rejects(continueExecution({ stateMachineArn: MACHINE, executionArn: current, state: state({ big: 'x'.repeat(MAX_PAYLOAD_BYTES) }) }, ports), (e: unknown) => e instanceof InvalidInputError && /at most 262144/.test(e.message));
    assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0);
    sfn.restore();
  });

  it('the input names the field that is wrong', () => {
    assert.throws(() => parseInput(ContinueExecutionInputSchema, { stateMachineArn: MACHINE, executionArn: 'nope', state: state() }), (e: unknown) => e instanceof InvalidInputError && e.issues.some((i) => i.path === 'executionArn'));
    assert.throws(() => parseInput(ContinueExecutionInputSchema, { stateMachineArn: MACHINE, executionArn: current, state: { cluster: 'prod' } }), (e: unknown) => e instanceof InvalidInputError && e.issues.some((i) => i.path === 'state.lineage'));
  });
});

describe('Continuation: an owner is followed to its latest execution', () => {
  it('an execution that continued is as alive as its successor; one that simply succeeded is over', async () => {
    const sfn = mockClient(SFNClient);
    const c1 = continuationArn(ORIGIN, 1);
    const c2 = continuationArn(ORIGIN, 2);
    sfn.on(DescribeExecutionCommand, { executionArn: ORIGIN }).resolves({ status: 'SUCCEEDED', output: JSON.stringify({ continuedAs: c1, number: 1 }) });
    sfn.on(DescribeExecutionCommand, { executionArn: c1 }).resolves({ status: 'SUCCEEDED', output: JSON.stringify({ continuedAs: c2, number: 2 }) });
    sfn.on(DescribeExecutionCommand, { executionArn: c2 }).resolves({ status: 'RUNNING' });
    const client = awsScope({ region: 'eu-west-1' });
    assert.equal(await executionStatus(client, ORIGIN), 'RUNNING');
    assert.deepEqual(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn), [ORIGIN, c1, c2]);
    sfn.on(DescribeExecutionCommand, { executionArn: c2 }).resolves({ status: 'SUCCEEDED', output: JSON.stringify({ outcome: 'drained' }) });
    assert.equal(await executionStatus(client, ORIGIN), 'SUCCEEDED');
    sfn.on(DescribeExecutionCommand, { executionArn: c2 }).rejects(Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' }));
    assert.equal(await executionStatus(client, ORIGIN), 'MISSING', 'a successor that never started is no owner');
    sfn.restore();
  });
});
