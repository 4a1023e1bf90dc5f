import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { VirtualClock } from '../clock.js';
import { LambdaFunctionError } from '../lambda.js';
import { oneMachineModel, type AslDefinition, type ServerlessModel } from '../serverless-config.js';
import { SimStepFunctions } from '../step-functions.js';

/**
 * The sandbox's Step Functions and the two Lambda integrations a workflow reaches through a
 * service ARN: `lambda:invoke` (the result wrapped in the integration's envelope) and
 * `lambda:invoke.waitForTaskToken` (a callback: the state waits, on the virtual clock, for
 * SendTaskSuccess / SendTaskFailure / a timeout), plus StopExecution.
 */
const REGION = 'eu-west-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:111122223333:function:svc-sandbox-requestApproval`;
const MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:svc-sandbox-gate`;
const START = Date.parse('2026-11-21T09:00:00Z');

function model(definition: AslDefinition): ServerlessModel {
  return oneMachineModel(definition, { functionArn: FUNCTION_ARN, machineArn: MACHINE_ARN });
}

type Answer = (payload: any) => unknown;

const ENDS: Record<string, Record<string, unknown>> = {
  Rejected: { Type: 'Fail', Error: 'Rejected', Cause: 'the approver said no' },
  TimedOut: { Type: 'Fail', Error: 'ApprovalExpired', Cause: 'nobody answered' },
  Failed: { Type: 'Fail', Error: 'TaskFailed', Cause: 'the task failed' },
};

/** An approval gate as the ami-rollout workflow writes it; `catchers` route its failures. */
function gate(options: { timeoutSeconds?: number; heartbeatSeconds?: number; catchers?: { ErrorEquals: string[]; Next: string }[]; after?: Record<string, unknown>; more?: Record<string, Record<string, unknown>> } = {}): AslDefinition {
  return {
    StartAt: 'RequestApproval',
    States: {
      RequestApproval: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: FUNCTION_ARN,
          Payload: { 'taskToken.$': '$$.Task.Token', 'cluster.$': '$.cluster', 'executionArn.$': '$$.Execution.Id', 'note.$': "States.Format('token {} for {}', $$.Task.Token, $.cluster)" },
        },
        ...(options.timeoutSeconds !== undefined ? { TimeoutSeconds: options.timeoutSeconds } : {}),
        ...(options.heartbeatSeconds !== undefined ? { HeartbeatSeconds: options.heartbeatSeconds } : {}),
        ResultPath: '$.approval',
        ...(options.catchers ? { Catch: options.catchers.map((c) => ({ ...c, ResultPath: '$.error' })) } : {}),
        Next: 'AfterApproval',
      },
      AfterApproval: options.after ?? { Type: 'Succeed' },
      // the validator wants every state reachable: only the ends the catchers name
      ...Object.fromEntries((options.catchers ?? []).map((c) => [c.Next, ENDS[c.Next]!])),
      ...options.more,
    },
  };
}

/** A SimStepFunctions on its own clock, the function answered by `answer`. */
function sandbox(definition: AslDefinition, answer: Answer = () => ({ posted: true })) {
  const clock = new VirtualClock(START);
  const invocations: { arn: string; payload: any }[] = [];
  const sfn = new SimStepFunctions(model(definition), clock, {
    invoke: async (arn: string, payload: unknown) => {
      invocations.push({ arn, payload });
      return answer(payload);
    },
  });
  sfn.bind();
  const client = new SFNClient({ region: REGION });
  const start = async (input: unknown = { cluster: 'prod' }, name = 'run-1') => {
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: MACHINE_ARN, name, input: JSON.stringify(input) }));
    return sfn.executions.get(executionArn!)!;
  };
  const close = () => {
    sfn.abortAll();
    sfn.restore();
  };
  return { clock, sfn, client, invocations, start, close };
}

const opened: (() => void)[] = [];
after(() => opened.forEach((close) => close()));
function open(definition: AslDefinition, answer?: Answer) {
  const s = sandbox(definition, answer);
  opened.push(s.close);
  return s;
}

describe('Sandbox Step Functions: callback tasks (.waitForTaskToken)', () => {
  it('invokes the function with a fresh task token, then waits without keeping settle() running', async () => {
    // Prepare
    const s = open(gate({ timeoutSeconds: 86_400 }));
    // Act
    const execution = await s.start();
    await s.clock.settle();
    // Assess
    assert.equal(execution.status, 'RUNNING');
    assert.equal(s.clock.now(), START, 'settle() returned at once: the timeout a day away did not fire');
    assert.equal(s.invocations.length, 1);
    const payload = s.invocations[0]!.payload;
    assert.equal(s.invocations[0]!.arn, FUNCTION_ARN);
    assert.match(payload.taskToken, /^AQ[A-Za-z0-9_-]{86}$/);
    assert.equal(payload.cluster, 'prod');
    assert.equal(payload.executionArn, execution.executionArn);
    assert.equal(payload.note, `token ${payload.taskToken} for prod`, 'the token also reaches intrinsic functions');
    assert.deepEqual(s.sfn.pendingCallbacks(), [{ token: payload.taskToken, executionArn: execution.executionArn, state: 'RequestApproval', since: new Date(START).toISOString(), payload }]);
  });

  it('continues with the SendTaskSuccess output as the state result, and holds the clock again once resumed', async () => {
    // Prepare
    const s = open(gate({ timeoutSeconds: 86_400, after: { Type: 'Wait', Seconds: 60, Next: 'Done' }, more: { Done: { Type: 'Succeed' } } }));
    const execution = await s.start();
    await s.clock.settle();
    await s.clock.advance(3_600_000); // an hour before anyone answers
    // Act
    await s.client.send(new SendTaskSuccessCommand({ taskToken: s.invocations[0]!.payload.taskToken, output: JSON.stringify({ approvedBy: 'alice' }) }));
    await s.clock.settle();
    await execution.done;
    // Assess
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(execution.output, { cluster: 'prod', approval: { approvedBy: 'alice' } });
    assert.equal(s.clock.now(), START + 3_600_000 + 60_000, 'the Wait after the approval ran its 60 s on the virtual clock');
    assert.deepEqual(execution.history.map((h) => h.state), ['RequestApproval', 'AfterApproval']);
    assert.deepEqual(s.sfn.pendingCallbacks(), []);
  });

  it('fails the state with the SendTaskFailure error and cause, which Catch routes by name', async () => {
    // Prepare
    const s = open(gate({ catchers: [{ ErrorEquals: ['ApprovalRejected'], Next: 'Rejected' }, { ErrorEquals: ['States.ALL'], Next: 'Failed' }] }));
    const execution = await s.start();
    await s.clock.settle();
    // Act
    await s.client.send(new SendTaskFailureCommand({ taskToken: s.invocations[0]!.payload.taskToken, error: 'ApprovalRejected', cause: 'bob: not during the sale' }));
    await execution.done;
    // Assess
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'Rejected');
  });

  it('times out after TimeoutSeconds of virtual time with States.Timeout, which a States.TaskFailed catcher does not take', async () => {
    // Prepare
    const s = open(gate({ timeoutSeconds: 86_400, catchers: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Failed' }, { ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }] }));
    const execution = await s.start();
    await s.clock.settle();
    const { taskToken } = s.invocations[0]!.payload;
    // Act
    await s.clock.advance(86_399_000);
    const beforeTimeout = execution.status;
    await s.clock.advance(2_000);
    await execution.done;
    // Assess
    assert.equal(beforeTimeout, 'RUNNING');
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'ApprovalExpired');
    assert.equal(execution.stopDate!.getTime(), START + 86_400_000);
    await assert.rejects(s.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })), { name: 'TaskTimedOut' });
  });

  it('fails with States.HeartbeatTimeout when no heartbeat comes within HeartbeatSeconds; each heartbeat restarts the count', async () => {
    // Prepare
    const s = open(gate({ timeoutSeconds: 3_600, heartbeatSeconds: 60, catchers: [{ ErrorEquals: ['States.HeartbeatTimeout'], Next: 'TimedOut' }] }));
    const execution = await s.start();
    await s.clock.settle();
    const { taskToken } = s.invocations[0]!.payload;
    // Act
    await s.clock.advance(50_000);
    await s.client.send(new SendTaskHeartbeatCommand({ taskToken }));
    await s.clock.advance(50_000); // 100 s after the start, 50 s after the heartbeat
    const afterHeartbeat = execution.status;
    await s.clock.advance(11_000);
    await execution.done;
    // Assess
    assert.equal(afterHeartbeat, 'RUNNING');
    assert.equal(execution.error, 'ApprovalExpired');
    assert.equal(execution.stopDate!.getTime(), START + 110_000);
  });

  it('answers a bad token like the service: InvalidToken, TaskDoesNotExist, TaskTimedOut, InvalidOutput', async () => {
    // Prepare
    const s = open(gate());
    const execution = await s.start();
    await s.clock.settle();
    const { taskToken } = s.invocations[0]!.payload;
    const unknown = `AQ${'x'.repeat(86)}`;
    // Act / Assess
    await assert.rejects(s.client.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })), { name: 'InvalidToken' });
    await assert.rejects(s.client.send(new SendTaskHeartbeatCommand({ taskToken: unknown })), { name: 'TaskDoesNotExist' });
    await assert.rejects(s.client.send(new SendTaskSuccessCommand({ taskToken, output: 'approved' })), { name: 'InvalidOutput' });
    assert.equal(execution.status, 'RUNNING', 'a refused answer leaves the task waiting');
    await s.client.send(new SendTaskSuccessCommand({ taskToken, output: '"approved"' }));
    await assert.rejects(s.client.send(new SendTaskFailureCommand({ taskToken, error: 'Late' })), { name: 'TaskTimedOut' });
    await execution.done;
    assert.equal(execution.status, 'SUCCEEDED');
  });

  it('fails the state at once when the function itself fails, leaving no task to answer', async () => {
    // Prepare
    const s = open(gate({ catchers: [{ ErrorEquals: ['ChatUnavailableError'], Next: 'Failed' }] }), () => {
      throw new LambdaFunctionError('ChatUnavailableError', 'slack is down');
    });
    // Act
    const execution = await s.start();
    await s.clock.settle();
    await execution.done;
    // Assess
    assert.equal(execution.error, 'TaskFailed');
    assert.deepEqual(s.sfn.pendingCallbacks(), []);
  });

  it('accepts an answer sent while the function is still running', async () => {
    // Prepare: a function that approves its own request before it returns
    let sfn!: SimStepFunctions;
    const s = open(gate(), (payload) => sfn.sendTaskSuccess(payload.taskToken, JSON.stringify({ auto: true })));
    sfn = s.sfn;
    // Act
    const execution = await s.start();
    await s.clock.settle();
    await execution.done;
    // Assess
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual((execution.output as any).approval, { auto: true });
  });

  it('issues a new token to each retry of the state', async () => {
    // Prepare
    const definition = gate();
    definition.States.RequestApproval!.Retry = [{ ErrorEquals: ['ApprovalRejected'], IntervalSeconds: 30, MaxAttempts: 1 }];
    const s = open(definition);
    const execution = await s.start();
    await s.clock.settle();
    // Act
    await s.client.send(new SendTaskFailureCommand({ taskToken: s.invocations[0]!.payload.taskToken, error: 'ApprovalRejected' }));
    await s.clock.settle();
    // Assess
    assert.equal(s.invocations.length, 2);
    assert.notEqual(s.invocations[1]!.payload.taskToken, s.invocations[0]!.payload.taskToken);
    assert.equal(s.clock.now(), START + 30_000, 'the retry waited its interval on the virtual clock');
    await s.client.send(new SendTaskSuccessCommand({ taskToken: s.invocations[1]!.payload.taskToken, output: '{}' }));
    await execution.done;
    assert.equal(execution.status, 'SUCCEEDED');
  });
});

describe('Sandbox Step Functions: StopExecution', () => {
  it('aborts a running execution at once, ending its callback task', async () => {
    // Prepare
    const s = open(gate({ timeoutSeconds: 86_400 }));
    const execution = await s.start();
    await s.clock.settle();
    const { taskToken } = s.invocations[0]!.payload;
    // Act
    const { stopDate } = await s.client.send(new StopExecutionCommand({ executionArn: execution.executionArn, error: 'OperatorAbort', cause: 'abort requested from chat' }));
    // Assess
    const described = await s.client.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    assert.equal(described.status, 'ABORTED');
    assert.equal(described.error, 'OperatorAbort');
    assert.equal(described.cause, 'abort requested from chat');
    assert.equal(stopDate!.getTime(), START);
    await execution.done;
    assert.equal(execution.status, 'ABORTED');
    assert.equal(execution.output, undefined);
    await assert.rejects(s.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })), { name: 'TaskTimedOut' });
    await s.clock.settle();
    assert.equal(s.clock.now(), START, 'nothing of the aborted execution is left on the clock');
    await assert.rejects(s.client.send(new StopExecutionCommand({ executionArn: `${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:nope` })), { name: 'ExecutionDoesNotExist' });
  });
});

describe('Sandbox Step Functions: lambda:invoke', () => {
  const invoke = (catchers?: unknown[]): AslDefinition => ({
    StartAt: 'Invoke',
    States: {
      Invoke: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: `${FUNCTION_ARN}:$LATEST`, 'Payload.$': '$' },
        ResultPath: '$.invoked',
        ...(catchers ? { Catch: catchers } : {}),
        End: true,
      },
      ...(catchers ? { Caught: { Type: 'Pass', End: true } } : {}),
    },
  });

  it("wraps the function's result like the integration: Payload, StatusCode 200, ExecutedVersion", async () => {
    // Prepare
    const s = open(invoke(), (payload) => ({ echoed: payload.cluster }));
    // Act
    const execution = await s.start();
    await s.clock.settle();
    await execution.done;
    // Assess
    const invoked = (execution.output as any).invoked;
    assert.deepEqual(invoked.Payload, { echoed: 'prod' });
    assert.equal(invoked.StatusCode, 200);
    assert.equal(invoked.ExecutedVersion, '$LATEST');
    assert.equal(s.invocations[0]!.arn, FUNCTION_ARN, 'a qualified name invokes the function');
    assert.deepEqual(s.invocations[0]!.payload, { cluster: 'prod' });
  });

  it("fails with the function's error type and Lambda's JSON error document as the Cause", async () => {
    // Prepare
    const s = open(invoke([{ ErrorEquals: ['DrainBlockedError'], ResultPath: '$.error', Next: 'Caught' }]), () => {
      throw new LambdaFunctionError('DrainBlockedError', 'drain blocked by shop/web');
    });
    // Act
    const execution = await s.start();
    await s.clock.settle();
    await execution.done;
    // Assess
    const error = (execution.output as any).error;
    assert.equal(error.Error, 'DrainBlockedError');
    assert.deepEqual({ ...JSON.parse(error.Cause), requestId: undefined }, { errorType: 'DrainBlockedError', errorMessage: 'drain blocked by shop/web', requestId: undefined, stackTrace: [] });
  });
});

describe('Sandbox Step Functions: state output', () => {
  it('replaces the input with the result under ResultPath $, and passes the input through a Wait unchanged', async () => {
    // Prepare
    const s = open(
      {
        StartAt: 'Begin',
        States: {
          Begin: { Type: 'Task', Resource: FUNCTION_ARN, Parameters: { 'input.$': '$' }, ResultPath: '$', Next: 'Pause' },
          Pause: { Type: 'Wait', Seconds: 5, Next: 'Done' },
          Done: { Type: 'Succeed' },
        },
      },
      (payload) => ({ begun: payload.input.cluster }),
    );
    // Act
    const execution = await s.start();
    await s.clock.settle();
    await execution.done;
    // Assess
    assert.deepEqual(execution.output, { begun: 'prod' });
    assert.equal(s.clock.now(), START + 5_000);
  });
});
