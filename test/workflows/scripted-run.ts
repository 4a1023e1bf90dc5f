import assert from 'node:assert/strict';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LambdaFunctionError, type PendingCallback, type ServerlessModel, SimStepFunctions, VirtualClock } from '@eks-node-lifecycle/sandbox';

/**
 * Runs a workflow file as deployed, its Lambda steps answered by a script: per function, the
 * results (or named errors) its successive invocations return. Tells which path the
 * workflow took, with what payloads, and how much virtual time it waited.
 */
/** a result, a named error, or a result computed from what the step was given */
export type Step = { result: unknown } | { error: string } | { answer: (payload: any) => unknown };

/** Plays the person a `.waitForTaskToken` state waits for, once the workflow is waiting. */
export type Approver = (pending: PendingCallback, sfn: SimStepFunctions, clock: VirtualClock) => Promise<void>;

export async function runScripted(
  model: ServerlessModel,
  machineKey: string,
  input: unknown,
  answers: Record<string, Step[]>,
  start = Date.parse('2026-11-21T09:00:00Z'),
  approver?: Approver,
) {
  const machine = model.stateMachines.find((m) => m.key === machineKey)!;
  const clock = new VirtualClock(start);
  const calls: { fn: string; payload: any }[] = [];
  const sfn = new SimStepFunctions(model, clock, {
    invoke: async (arn: string, payload: unknown) => {
      const fn = model.functions.find((f) => f.arn === arn)!.key;
      calls.push({ fn, payload });
      const next = answers[fn]?.shift();
      if (!next) throw new Error(`no scripted answer left for ${fn}`);
      if ('error' in next) throw new LambdaFunctionError(next.error, `${next.error} (scripted)`);
      return 'answer' in next ? next.answer(payload) : next.result;
    },
  });
  sfn.bind();
  try {
    const { executionArn } = await new SFNClient({ region: 'eu-west-1' }).send(
      new StartExecutionCommand({ stateMachineArn: machine.arn, name: `${machineKey}-test`, input: JSON.stringify(input) }),
    );
    await clock.settle();
    let pending: PendingCallback | undefined;
    if (approver) {
      const waiting = sfn.pendingCallbacks(executionArn);
      assert.equal(waiting.length, 1, 'the workflow waits for one person');
      pending = waiting[0]!;
      await approver(pending, sfn, clock);
      await clock.settle();
    }
    const execution = sfn.executions.get(executionArn!)!;
    await execution.done;
    return { execution, calls, elapsed: clock.now() - start, pending };
  } finally {
    sfn.abortAll();
    sfn.restore();
  }
}
