import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { VirtualClock } from '../clock.js';
import { LambdaFunctionError } from '../lambda.js';
import { oneMachineModel, type AslDefinition } from '../serverless-config.js';
import type { HistoryEventType } from '../step-functions-history.js';
import { HISTORY_EVENT_LIMIT, HISTORY_LIMIT_CAUSE, PAYLOAD_LIMIT_BYTES } from '../step-functions-quotas.js';
import { SimStepFunctions, type SimExecution } from '../step-functions.js';

/**
 * The sandbox's Step Functions keeps the service's quotas: it counts each execution's history
 * events as AWS records them and fails it at the 25,000th that is not its end; it holds
 * payloads to 262,144 UTF-8 bytes; it refuses names, inputs and tokens as the API does.
 * Expected histories are written by hand from the AWS documentation and from the histories
 * LocalStack recorded against AWS (see test/sim/step-functions-history.ts).
 */
const REGION = 'eu-west-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:111122223333:function:svc-sandbox-work`;
const MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:svc-sandbox-quotas`;
const START = Date.parse('2026-11-21T09:00:00Z');

type Work = (payload: any, call: number) => unknown;

const opened: (() => void)[] = [];
after(() => opened.forEach((close) => close()));

/** A SimStepFunctions on its own clock, bound to the SDK, the function answered by `work` (its nth call numbered from 1). */
function open(definition: AslDefinition, work: Work = () => ({})) {
  const clock = new VirtualClock(START);
  const calls: { payload: unknown; at: number }[] = [];
  const sfn = new SimStepFunctions(oneMachineModel(definition, { functionArn: FUNCTION_ARN, machineArn: MACHINE_ARN }), clock, {
    invoke: async (_arn: string, payload: unknown) => work(payload, calls.push({ payload, at: clock.now() })),
  });
  sfn.bind();
  opened.push(() => {
    sfn.abortAll();
    sfn.restore();
  });
  const client = new SFNClient({ region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const begin = (input: unknown = {}, name = 'run-1'): SimExecution => sfn.executions.get(sfn.start(MACHINE_ARN, name, JSON.stringify(input)).executionArn)!;
  const run = async (input: unknown = {}) => {
    const execution = begin(input);
    await clock.settle();
    await execution.done;
    return execution;
  };
  return { clock, sfn, calls, client, begin, run };
}

const invoke = (payload: Record<string, unknown> = { 'input.$': '$' }) => ({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: FUNCTION_ARN, Payload: payload } });
/** a JSON string value whose text is exactly `bytes` bytes of UTF-8 */
const jsonOfBytes = (bytes: number, char = 'x') => char.repeat((bytes - 2) / Buffer.byteLength(char));

describe('Sandbox Step Functions: the history, counted event by event as AWS records it', () => {
  it('records the events AWS records for a small workflow: a function ARN retried once, a Wait, lambda:invoke, Choice, Pass, Succeed', async () => {
    // Prepare: the first attempt of Work fails with Flaky, the second succeeds
    const definition: AslDefinition = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Pass', Result: { cluster: 'prod' }, Next: 'Work' },
        Work: { Type: 'Task', Resource: FUNCTION_ARN, Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 5, MaxAttempts: 2 }], Next: 'Pause' },
        Pause: { Type: 'Wait', Seconds: 60, Next: 'Report' },
        Report: { ...invoke(), ResultSelector: { 'done.$': '$.Payload.done' }, Next: 'Decide' },
        Decide: { Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Done' }], Default: 'Pause' },
        Done: { Type: 'Succeed' },
      },
    };
    const s = open(definition, (_payload, call) => {
      if (call === 1) throw new LambdaFunctionError('Flaky', 'try again');
      return { done: true };
    });
    // Act
    const execution = await s.run();
    // Assess
    const expected: HistoryEventType[] = [
      'ExecutionStarted',
      'PassStateEntered', 'PassStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed',
      'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded',
      'TaskStateExited',
      'WaitStateEntered', 'WaitStateExited',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited',
      'ChoiceStateEntered', 'ChoiceStateExited',
      'SucceedStateEntered', 'SucceedStateExited',
      'ExecutionSucceeded',
    ];
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(execution.historyEvents, expected);
    assert.equal(execution.historyEventCount, 23);
    assert.equal(execution.historyEventsByType.LambdaFunctionScheduled, 2);
    assert.equal(execution.historyEventsByType.TaskStateEntered, 2);
    assert.deepEqual(s.sfn.historyEventCounts(MACHINE_ARN).map((e) => [e.name, e.historyEventCount]), [['run-1', 23]]);
  });

  it('records TaskSubmitted for a callback and nothing for its heartbeats; a heartbeat timeout is TaskTimedOut', async () => {
    // Prepare: two approval gates; the first is answered after heartbeats, the second never
    const gate = (next: string) => ({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: FUNCTION_ARN, Payload: { 'token.$': '$$.Task.Token' } },
      TimeoutSeconds: 600,
      HeartbeatSeconds: 120,
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.Timeout', 'States.HeartbeatTimeout'], Next: 'Expired' }],
      Next: next,
    });
    const definition: AslDefinition = { StartAt: 'Approve', States: { Approve: gate('Again'), Again: gate('Done'), Done: { Type: 'Succeed' }, Expired: { Type: 'Fail', Error: 'Expired' } } };
    const s = open(definition);
    const execution = s.begin();
    await s.clock.settle();
    const [first] = s.sfn.pendingCallbacks();
    await s.client.send(new SendTaskHeartbeatCommand({ taskToken: first!.token }));
    await s.client.send(new SendTaskHeartbeatCommand({ taskToken: first!.token }));
    await s.client.send(new SendTaskSuccessCommand({ taskToken: first!.token, output: '{"approved":true}' }));
    // Act: the second gate hears nothing
    await s.clock.settle();
    await s.clock.advance(3_600_000);
    await execution.done;
    // Assess
    assert.equal(execution.error, 'Expired');
    assert.deepEqual(execution.historyEvents, [
      'ExecutionStarted',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskTimedOut', 'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
  });

  it('records a function that outruns TimeoutSeconds as LambdaFunctionTimedOut, and an uncaught failure ends with ExecutionFailed', async () => {
    // Prepare
    const definition: AslDefinition = { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: FUNCTION_ARN, TimeoutSeconds: 5, Next: 'Done' }, Done: { Type: 'Succeed' } } };
    const clock = new VirtualClock(START);
    const sfn = new SimStepFunctions(oneMachineModel(definition, { functionArn: FUNCTION_ARN, machineArn: MACHINE_ARN }), clock, { invoke: () => clock.sleep(60_000) });
    opened.push(() => sfn.abortAll());
    // Act
    const execution = sfn.executions.get(sfn.start(MACHINE_ARN, 'slow', '{}').executionArn)!;
    await clock.settle();
    await execution.done;
    // Assess
    assert.equal(execution.error, 'States.Timeout');
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionTimedOut', 'ExecutionFailed']);
  });

  it('ends a stopped execution with ExecutionAborted and records nothing for the Wait it was in', async () => {
    // Prepare
    const s = open({ StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, Next: 'Done' }, Done: { Type: 'Succeed' } } });
    const execution = s.begin();
    await s.clock.settle(START + 60_000);
    // Act
    s.sfn.stop(execution.executionArn);
    await execution.done;
    // Assess
    assert.equal(execution.status, 'ABORTED');
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted']);
  });
});

describe('Sandbox Step Functions: 25,000 history events per execution', () => {
  /** Work (a function ARN) then Again (a Choice) back to Work: 7 events a round; a States.ALL catcher would go to Caught. */
  const endlessLoop: AslDefinition = {
    StartAt: 'Work',
    States: {
      Work: { Type: 'Task', Resource: FUNCTION_ARN, Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 5 }], Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }], Next: 'Again' },
      Again: { Type: 'Choice', Choices: [{ Variable: '$.again', BooleanEquals: true, Next: 'Work' }], Default: 'Done' },
      Caught: { Type: 'Pass', Next: 'Done' },
      Done: { Type: 'Succeed' },
    },
  };

  it('fails a loop with States.Runtime where its 25,000th event would not end it: no Catch(States.ALL), no retry, no invocation after', async () => {
    // Prepare: ExecutionStarted, then per round TaskStateEntered, LambdaFunctionScheduled,
    // LambdaFunctionStarted, LambdaFunctionSucceeded, TaskStateExited, ChoiceStateEntered,
    // ChoiceStateExited. After 3,571 rounds the history holds 1 + 7 × 3,571 = 24,998 events;
    // the next TaskStateEntered is the 24,999th, and its LambdaFunctionScheduled, due 25,000th,
    // is not the execution's end: ExecutionFailed takes that place.
    const rounds = Math.floor((HISTORY_EVENT_LIMIT - 2) / 7);
    const s = open(endlessLoop, () => ({ again: true }));
    const began = Date.now();
    // Act
    const execution = await s.run();
    const tookMs = Date.now() - began;
    await s.clock.settle();
    // Assess
    assert.equal(rounds, 3_571);
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'States.Runtime');
    assert.equal(execution.cause, HISTORY_LIMIT_CAUSE);
    assert.equal(execution.cause, 'The execution reached the maximum number of history events (25000).');
    assert.equal(execution.historyEventCount, 25_000);
    assert.equal(execution.historyEvents.length, 25_000);
    assert.deepEqual(execution.historyEvents.slice(-3), ['ChoiceStateExited', 'TaskStateEntered', 'ExecutionFailed']);
    assert.equal(s.calls.length, rounds, 'the function is not invoked for the round the quota ended');
    assert.equal(execution.historyEventsByType.LambdaFunctionScheduled, rounds);
    assert.equal(execution.historyEventsByType.PassStateEntered, undefined, 'the States.ALL catcher did not run');
    assert.ok(!execution.history.some((h) => h.state === 'Caught'));
    assert.ok(tookMs < 20_000, `counted in ${tookMs} ms`);
  });

  it('lets the 25,000th event be ExecutionSucceeded, and fails the same loop one round longer', async () => {
    // Prepare: Count (Pass) and More (Choice) make 4 events a round; ExecutionStarted, and
    // Done's SucceedStateEntered, SucceedStateExited and ExecutionSucceeded make 4 more:
    // 6,249 rounds end exactly on the 25,000th event; a 6,250th round reaches it at its Choice.
    const loop = (rounds: number): AslDefinition => ({
      StartAt: 'Count',
      States: {
        Count: { Type: 'Pass', Parameters: { 'n.$': 'States.MathAdd($.n, 1)' }, Next: 'More' },
        More: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericLessThan: rounds, Next: 'Count' }], Default: 'Done' },
        Done: { Type: 'Succeed' },
      },
    });
    // Act
    const exact = await open(loop(6_249)).run({ n: 0 });
    const longer = await open(loop(6_250)).run({ n: 0 });
    // Assess
    assert.equal(exact.status, 'SUCCEEDED');
    assert.equal(exact.historyEventCount, HISTORY_EVENT_LIMIT);
    assert.equal(exact.historyEvents.at(-1), 'ExecutionSucceeded');
    assert.deepEqual(exact.output, { n: 6_249 });
    assert.equal(longer.status, 'FAILED');
    assert.equal(longer.error, 'States.Runtime');
    assert.equal(longer.historyEventCount, HISTORY_EVENT_LIMIT);
    assert.deepEqual(longer.historyEvents.slice(-2), ['PassStateExited', 'ExecutionFailed'], 'round 6,250’s ChoiceStateEntered would have been the 25,000th');
  });

  it('calls off a Wait still running in another branch when the quota ends the execution', async () => {
    // Prepare: one branch waits an hour, the other loops without end
    const definition: AslDefinition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Nap', States: { Nap: { Type: 'Wait', Seconds: 3600, End: true } } },
            { StartAt: 'Spin', States: { Spin: { Type: 'Pass', Next: 'Round' }, Round: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Stop' }], Default: 'Spin' }, Stop: { Type: 'Succeed' } } },
          ],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    };
    const s = open(definition);
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'States.Runtime');
    assert.equal(execution.historyEventCount, HISTORY_EVENT_LIMIT);
    assert.equal(execution.historyEventsByType.WaitStateExited, undefined);
    assert.equal(execution.stopDate!.getTime(), START, 'no virtual time passed');
    assert.equal(s.clock.now(), START, 'the hour-long Wait was called off, not slept');
    assert.equal(s.clock.pending(), 0);
  });
});

describe('Sandbox Step Functions: 262,144-byte payloads', () => {
  const catchAll = { Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }], Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }] };
  /** Work, then Done; the states its catchers name are Pass states that end the execution. */
  const withCatchers = (work: Record<string, unknown>): AslDefinition => {
    const caught = ((work.Catch as { Next: string }[] | undefined) ?? []).map((c) => [c.Next, { Type: 'Pass', End: true }]);
    return { StartAt: 'Work', States: { Work: { ...work, Next: 'Done' }, ...Object.fromEntries(caught), Done: { Type: 'Succeed' } } };
  };

  it('fails with States.DataLimitExceeded when a task returns 300 KiB; neither Retry nor Catch on States.ALL takes it', async () => {
    // Prepare
    const s = open(withCatchers({ Type: 'Task', Resource: FUNCTION_ARN, ...catchAll }), () => ({ blob: 'x'.repeat(300 * 1024) }));
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'States.DataLimitExceeded');
    assert.equal(execution.cause, `The state/task '${FUNCTION_ARN}' returned a result with a size exceeding the maximum number of bytes service limit.`);
    assert.equal(s.calls.length, 1, 'not retried');
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed', 'ExecutionFailed']);
  });

  it('does the same for lambda:invoke, whose cause names the integration, and a States.TaskFailed catcher does not take it either', async () => {
    // Prepare
    const s = open(withCatchers({ ...invoke(), Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }] }), () => ({ blob: 'x'.repeat(300 * 1024) }));
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.error, 'States.DataLimitExceeded');
    assert.equal(execution.cause, "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit.");
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'ExecutionFailed']);
  });

  it('lets a catcher that names States.DataLimitExceeded take it, as AWS records it', async () => {
    // Prepare: the catcher naming the error comes after a States.TaskFailed one
    const s = open(
      withCatchers({ ...invoke(), Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }, { ErrorEquals: ['States.DataLimitExceeded'], Next: 'Named' }, { ErrorEquals: ['States.ALL'], Next: 'Caught' }] }),
      () => ({ blob: 'x'.repeat(300 * 1024) }),
    );
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(execution.output, { Error: 'States.DataLimitExceeded', Cause: "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit." });
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
    assert.ok(execution.history.every((h) => h.state !== 'Caught'));
  });

  it('ends the execution when a state’s output is over the quota: no Exited event, nothing catches it', async () => {
    // Prepare
    const s = open({ StartAt: 'State_1', States: { State_1: { Type: 'Pass', Result: { Arg1: 'a'.repeat(257 * 1024) }, End: true } } });
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.error, 'States.DataLimitExceeded');
    assert.equal(execution.cause, "The state/task 'State_1' returned a result with a size exceeding the maximum number of bytes service limit.");
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
  });

  it('counts UTF-8 bytes: a result of exactly 262,144 bytes passes, one byte more fails', async () => {
    // Prepare: results whose JSON text is 262,144 and 262,145 bytes, the first of 2-byte characters
    const sized = (bytes: number, char?: string) => open(withCatchers({ Type: 'Task', Resource: FUNCTION_ARN, ResultPath: null }), () => jsonOfBytes(bytes, char));
    // Act
    const [within, over, multibyte] = await Promise.all([sized(PAYLOAD_LIMIT_BYTES, 'é').run(), sized(PAYLOAD_LIMIT_BYTES + 1).run(), sized(PAYLOAD_LIMIT_BYTES + 2, 'é').run()]);
    // Assess
    assert.equal(within.status, 'SUCCEEDED');
    assert.equal(over.error, 'States.DataLimitExceeded');
    assert.equal(multibyte.error, 'States.DataLimitExceeded', '131,072 characters, 262,146 bytes');
  });

  it('fails a Task whose parameters are over the quota before invoking anything', async () => {
    // Prepare: 150 KiB of input, twice in the Payload
    const s = open(withCatchers({ ...invoke({ 'first.$': '$.blob', 'second.$': '$.blob' }), ...catchAll }));
    // Act
    const execution = await s.run({ blob: 'x'.repeat(150 * 1024) });
    // Assess
    assert.equal(execution.error, 'States.DataLimitExceeded');
    assert.equal(execution.cause, "The state/task 'Work' provided parameters with a size exceeding the maximum number of bytes service limit.");
    assert.equal(s.calls.length, 0);
    assert.deepEqual(execution.historyEvents, ['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
  });
});

describe('Sandbox Step Functions: what StartExecution and SendTask… refuse', () => {
  const passThrough: AslDefinition = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
  const start = (s: ReturnType<typeof open>, name: string | undefined, input: string) => s.client.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name, input }));

  it('refuses an input over 262,144 bytes with ValidationException, and starts nothing', async () => {
    // Prepare
    const s = open(passThrough);
    // Act & Assess
    await assert.rejects(start(s, 'too-big', JSON.stringify(jsonOfBytes(300 * 1024))), {
      name: 'ValidationException',
      message: "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
    });
    await assert.rejects(start(s, 'too-big-utf8', JSON.stringify(jsonOfBytes(PAYLOAD_LIMIT_BYTES + 2, 'é'))), { name: 'ValidationException' });
    assert.equal(s.sfn.executions.size, 0);
    const { executionArn } = await start(s, 'just-fits', JSON.stringify(jsonOfBytes(PAYLOAD_LIMIT_BYTES)));
    await s.clock.settle();
    await s.sfn.executions.get(executionArn!)!.done;
    assert.equal(s.sfn.executions.get(executionArn!)!.status, 'SUCCEEDED');
  });

  it('refuses input that is not JSON with InvalidExecutionInput', async () => {
    const s = open(passThrough);
    await assert.rejects(start(s, 'not-json', '{"cluster":'), { name: 'InvalidExecutionInput' });
  });

  it('refuses a name outside 1–80 characters with ValidationException, echoing it as AWS does', async () => {
    // Prepare
    const s = open(passThrough);
    const long = 'n'.repeat(81);
    // Act & Assess
    await assert.rejects(start(s, long, '{}'), {
      name: 'ValidationException',
      message: `1 validation error detected: Value '${long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80`,
    });
    await assert.rejects(start(s, '', '{}'), { name: 'ValidationException', message: /length greater than or equal to 1/ });
    await assert.rejects(start(s, `${long} x`, JSON.stringify(jsonOfBytes(300 * 1024))), { message: /^2 validation errors detected: .*'name'.*; Value at 'input'/ });
    await start(s, 'n'.repeat(80), '{}');
  });

  it('refuses with InvalidName what AWS refuses in a name, and accepts the rest, non-ASCII included', async () => {
    // Prepare
    const s = open(passThrough);
    const refused = ['with space', 'tab\there', 'new\nline', 'wild*card', 'ques?tion', '<b>', '{x}', '[x]', 'a"b', 'hash#', 'per%cent', 'back\\slash', 'car^et', 'pi|pe', 'til~de', 'back`tick', 'dol$lar', 'amp&', 'com,ma', 'semi;colon', 'co:lon', 'sla/sh', 'nul\u0000', 'del\u007f', 'c1\u0085', 'lone\ud800', 'nonchar\uffff', 'last\u{10ffff}'];
    const accepted = ['node-join_web-1', 'node.join@2026+1=ok!', 'ünïcödé-名前', 'emoji-😀', "quote's", '(parens)'];
    // Act & Assess
    for (const name of refused) await assert.rejects(start(s, name, '{}'), { name: 'InvalidName' }, JSON.stringify(name));
    for (const name of accepted) await start(s, name, '{}');
    assert.equal(s.sfn.executions.size, accepted.length);
  });

  it('refuses an output over 262,144 bytes, a token outside 1–2048 characters and an overlong error with ValidationException', async () => {
    // Prepare: a callback waiting for its answer
    const s = open({
      StartAt: 'Approve',
      States: { Approve: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: FUNCTION_ARN, Payload: { 'token.$': '$$.Task.Token' } }, End: true } },
    });
    const execution = s.begin();
    await s.clock.settle();
    const { token } = s.sfn.pendingCallbacks()[0]!;
    // Act & Assess
    await assert.rejects(s.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(jsonOfBytes(PAYLOAD_LIMIT_BYTES + 1)) })), {
      name: 'ValidationException',
      message: "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144",
    });
    await assert.rejects(s.client.send(new SendTaskHeartbeatCommand({ taskToken: 'A'.repeat(2049) })), { name: 'ValidationException', message: /at 'taskToken' .* less than or equal to 2048/ });
    await assert.rejects(s.client.send(new SendTaskHeartbeatCommand({ taskToken: '' })), { name: 'ValidationException', message: /greater than or equal to 1/ });
    await assert.rejects(s.client.send(new SendTaskHeartbeatCommand({ taskToken: 'A'.repeat(2048) })), { name: 'InvalidToken' });
    await assert.rejects(s.client.send(new SendTaskFailureCommand({ taskToken: token, error: 'E'.repeat(257) })), { name: 'ValidationException', message: /Value at 'error' .* less than or equal to 256/ });
    assert.equal(s.sfn.pendingCallbacks().length, 1, 'the task is still open');
    await s.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(jsonOfBytes(PAYLOAD_LIMIT_BYTES)) }));
    await s.clock.settle();
    await execution.done;
    assert.equal(execution.status, 'SUCCEEDED');
  });
});
