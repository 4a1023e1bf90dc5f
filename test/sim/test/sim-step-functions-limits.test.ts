import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as realSleep } from 'node:timers/promises';
import { VirtualClock } from '../clock.js';
import { loadServerlessModel, oneMachineModel, type AslDefinition, type ServerlessModel } from '../serverless-config.js';
import { LIBRARY_TIMEOUT_SECONDS, SimStepFunctions, type SimStepFunctionsOptions } from '../step-functions.js';

/**
 * The sandbox's Step Functions keeps a Task's limits on the virtual clock: the library it
 * runs on races every Task against a real timer (60 s by default), which under load failed
 * waits and tasks with States.Timeout; that timer is pushed out of reach, and TimeoutSeconds,
 * TimeoutSecondsPath and the execution's own TimeoutSeconds are enforced in virtual time.
 */
const REGION = 'eu-west-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:111122223333:function:svc-sandbox-work`;
const MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:svc-sandbox-limits`;
const START = Date.parse('2026-11-21T09:00:00Z');

function model(definition: AslDefinition): ServerlessModel {
  return oneMachineModel(definition, { functionArn: FUNCTION_ARN, machineArn: MACHINE_ARN });
}

type Work = (payload: any, clock: VirtualClock, call: number) => Promise<unknown>;

const opened: (() => void)[] = [];
after(() => opened.forEach((close) => close()));

/** A SimStepFunctions on its own clock, the function answered by `work` (its nth call numbered from 1). */
function open(definition: AslDefinition, work: Work, options: SimStepFunctionsOptions = {}) {
  const clock = new VirtualClock(START);
  const calls: { payload: unknown; at: number }[] = [];
  const sfn = new SimStepFunctions(model(definition), clock, { invoke: async (_arn: string, payload: unknown) => work(payload, clock, calls.push({ payload, at: clock.now() })) }, options);
  opened.push(() => sfn.abortAll());
  const run = async (input: unknown = { cluster: 'prod' }) => {
    const { executionArn } = sfn.start(MACHINE_ARN, 'run-1', JSON.stringify(input));
    const execution = sfn.executions.get(executionArn)!;
    await clock.settle();
    await execution.done;
    return execution;
  };
  return { clock, sfn, calls, run };
}

const ENDS: Record<string, Record<string, unknown>> = {
  Done: { Type: 'Succeed' },
  TimedOut: { Type: 'Fail', Error: 'TimedOut', Cause: 'States.Timeout caught' },
  Failed: { Type: 'Fail', Error: 'TaskFailed', Cause: 'States.TaskFailed caught' },
};

/** The ends a state's catchers name, and Done (the validator wants every state reachable). */
function endsFor(state: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const named = ((state.Catch as { Next: string }[] | undefined) ?? []).map((c) => c.Next);
  return Object.fromEntries(['Done', ...named].map((name) => [name, ENDS[name]!]));
}

function task(limits: Record<string, unknown>, more: Record<string, unknown> = {}): AslDefinition {
  const work = { Type: 'Task', Resource: FUNCTION_ARN, ...limits, ...more, Next: 'Done' };
  return { StartAt: 'Work', States: { Work: work, ...endsFor(work) } };
}

const sleepVirtual = (ms: number): Work => async (_payload, clock) => {
  await clock.sleep(ms);
  return { slept: ms };
};

/** Every Task in a definition, Map and Parallel branches included. */
function tasks(definition: AslDefinition): [string, Record<string, unknown>][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    ...(state.Type === 'Task' || state.Type === 'Wait' ? [[name, state] as [string, Record<string, unknown>]] : []),
    ...[state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[] | undefined) ?? [])].filter((d): d is AslDefinition => !!d).flatMap(tasks),
  ]);
}

describe('Sandbox Step Functions: what the library is handed', () => {
  it('gives every Task of every workflow, and every Wait turned Task, the out-of-reach timeout and none of its own limits', () => {
    // Prepare
    const workflows = loadServerlessModel();
    const sfn = new SimStepFunctions(workflows, new VirtualClock(START), { invoke: async () => undefined });
    // Act
    const handed = workflows.stateMachines.map((machine) => ({ machine: machine.name, definition: sfn.libraryDefinition(machine.arn) }));
    // Assess
    assert.ok(LIBRARY_TIMEOUT_SECONDS * 1000 < 2 ** 31, 'below setTimeout’s ceiling, above which Node fires at once');
    assert.ok(LIBRARY_TIMEOUT_SECONDS >= 20 * 86_400, 'out of reach of any test run');
    let seen = 0;
    for (const { machine, definition } of handed) {
      assert.equal(definition.TimeoutSeconds, undefined, `${machine}: the execution's limit is kept off the library`);
      for (const [name, state] of tasks(definition)) {
        seen++;
        assert.equal(state.Type, 'Task', `${machine}.${name}: a Wait is run as a Task sleeping on the virtual clock`);
        assert.equal(state.TimeoutSeconds, LIBRARY_TIMEOUT_SECONDS, `${machine}.${name}`);
        for (const limit of ['TimeoutSecondsPath', 'HeartbeatSeconds', 'HeartbeatSecondsPath']) assert.equal(state[limit], undefined, `${machine}.${name}.${limit}`);
      }
    }
    assert.ok(seen > 20, `the workflows' states were all looked at (${seen})`);
  });

  it('does the same inside Map and Parallel states, and for limits given as paths', () => {
    // Prepare
    const inner: AslDefinition = { StartAt: 'Each', States: { Each: { Type: 'Task', Resource: FUNCTION_ARN, TimeoutSecondsPath: '$.limit', End: true } } };
    const definition: AslDefinition = {
      StartAt: 'Fan',
      TimeoutSeconds: 30,
      States: {
        Fan: { Type: 'Map', ItemsPath: '$.items', ItemProcessor: { ...inner, ProcessorConfig: { Mode: 'INLINE' } }, Next: 'Both' },
        Both: { Type: 'Parallel', Branches: [{ StartAt: 'Nap', States: { Nap: { Type: 'Wait', Seconds: 5, End: true } } }], Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    const { sfn } = open(definition, async () => undefined);
    // Act
    const handed = sfn.libraryDefinition(MACHINE_ARN);
    // Assess
    assert.equal(handed.TimeoutSeconds, undefined);
    const states = tasks(handed);
    assert.deepEqual(states.map(([name]) => name), ['Each', 'Nap']);
    for (const [, state] of states) {
      assert.equal(state.TimeoutSeconds, LIBRARY_TIMEOUT_SECONDS);
      assert.equal(state.TimeoutSecondsPath, undefined);
    }
  });
});

describe('Sandbox Step Functions: a Task state’s limits, in virtual time', () => {
  it('fails an attempt with States.Timeout once TimeoutSeconds of virtual time pass, and Retry retries it', async () => {
    // Prepare: the first attempt outruns its 5 s, the second does not
    const s = open(task({ TimeoutSeconds: 5, Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 2, MaxAttempts: 1 }] }), (payload, clock, call) => (call === 1 ? sleepVirtual(60_000)(payload, clock, call) : Promise.resolve({ second: true })));
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(execution.output, { second: true });
    const attempts = execution.history.filter((h) => h.state === 'Work');
    assert.equal(attempts.length, 2);
    assert.match(attempts[0]!.error ?? '', /^States\.Timeout: the task did not finish within 5 s/);
    assert.deepEqual(s.calls.map((c) => c.at), [START, START + 5_000 + 2_000], 'retried after the timeout and the Retry interval');
  });

  it('routes the timeout to a States.Timeout catcher, never to States.TaskFailed', async () => {
    // Prepare
    const catchers = [{ ErrorEquals: ['States.TaskFailed'], Next: 'Failed' }, { ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }];
    const s = open(task({ TimeoutSeconds: 5 }, { Catch: catchers }), sleepVirtual(60_000));
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'TimedOut');
    assert.equal(execution.stopDate!.getTime(), START + 5_000);
  });

  it('reads TimeoutSecondsPath from the state input, and still hands the function the input itself', async () => {
    // Prepare
    const s = open(task({ TimeoutSecondsPath: '$.limit' }, { Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }] }), sleepVirtual(60_000));
    // Act
    const execution = await s.run({ cluster: 'prod', limit: 3 });
    // Assess
    assert.equal(execution.error, 'TimedOut');
    assert.equal(execution.stopDate!.getTime(), START + 3_000);
    assert.deepEqual(s.calls.map((c) => c.payload), [{ cluster: 'prod', limit: 3 }]);
  });

  it('puts no limit on a Task without TimeoutSeconds: it may run for hours of virtual time', async () => {
    // Prepare
    const s = open(task({}), sleepVirtual(5 * 3_600_000));
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(s.clock.now(), START + 5 * 3_600_000);
  });

  it("ends the execution TIMED_OUT with States.Timeout when it outruns the definition's TimeoutSeconds", async () => {
    // Prepare
    const s = open({ ...task({}), TimeoutSeconds: 60 }, sleepVirtual(3_600_000));
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'TIMED_OUT');
    assert.equal(execution.error, 'States.Timeout');
    assert.equal(execution.stopDate!.getTime(), START + 60_000);
  });
});

describe('Sandbox Step Functions: an execution stopped mid-wait', () => {
  it('takes its Wait off the clock: time does not move under an actor that is awake afterwards', async () => {
    // Prepare: an execution waiting an hour, stopped from outside (StopExecution)
    const clock = new VirtualClock(START);
    const sfn = new SimStepFunctions(model({ StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, Next: 'Done' }, Done: { Type: 'Succeed' } } }), clock, { invoke: async () => ({}) });
    const { executionArn } = sfn.start(MACHINE_ARN, 'held', '{}');
    await clock.settle(START + 60_000);
    sfn.stop(executionArn);
    // Act: an actor awake on real I/O (a handler talking to the API server) while the world runs
    const seen = clock.actor(async () => {
      await realSleep(30);
      return clock.now();
    });
    await clock.settle();
    // Assess: the stopped Wait is no sleeper that would let the clock jump to its hour
    assert.equal(await seen, START + 60_000);
    assert.equal(sfn.executions.get(executionArn)!.status, 'ABORTED');
  });
});

describe('Sandbox Step Functions: real time', () => {
  it('does not time out a Task that takes longer in real time than its TimeoutSeconds: the limit counts virtual time', async () => {
    // Prepare: 1.5 real seconds, no virtual time at all
    const s = open(task({ TimeoutSeconds: 1 }), async () => {
      await realSleep(1_500);
      return { done: true };
    });
    // Act
    const execution = await s.run();
    // Assess
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(execution.output, { done: true });
  });

  it("races a Task against the library timeout it is handed (made small here to show it), never against its own TimeoutSeconds", async () => {
    // Prepare: a Wait of an hour, then a task taking 1.5 real seconds under a virtual limit of an hour
    const work = { Type: 'Task', Resource: FUNCTION_ARN, TimeoutSeconds: 3_600, Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }], Next: 'Done' };
    const definition: AslDefinition = { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 3_600, Next: 'Work' }, Work: work, ...endsFor(work) } };
    const slow: Work = async () => {
      await realSleep(1_500);
      return { done: true };
    };
    const tight = open(definition, slow, { libraryTimeoutSeconds: 1 });
    const roomy = open(definition, slow, { libraryTimeoutSeconds: 5 });
    // Act
    const [timedOut, finished] = await Promise.all([tight.run(), roomy.run()]);
    // Assess
    assert.equal(timedOut.error, 'TimedOut', 'the 1 s real-time timeout fired, not the state’s hour');
    assert.equal(finished.status, 'SUCCEEDED', 'the hour-long Wait cost no real time');
  });

  it('lets a busy world hold up a Wait in real time: at a 1 s library timeout it would fail, at the default it does not', async () => {
    // Prepare: another actor keeps the clock for 1.5 real seconds just before the Wait is due
    const definition: AslDefinition = { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 10, Next: 'Done' }, Done: { Type: 'Succeed' } } };
    const tight = open(definition, async () => undefined, { libraryTimeoutSeconds: 1 });
    const byDefault = open(definition, async () => undefined);
    for (const s of [tight, byDefault]) s.clock.at(START + 9_000, () => void s.clock.actor(() => realSleep(1_500)));
    // Act
    const started = Date.now();
    const [failed, waited] = await Promise.all([tight.run(), byDefault.run()]);
    // Assess
    assert.ok(Date.now() - started >= 1_400, 'the world was busy');
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.error, 'States.Timeout');
    assert.equal(waited.status, 'SUCCEEDED');
    assert.equal(waited.stopDate!.getTime(), START + 10_000);
  });
});
