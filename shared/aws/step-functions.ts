import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, type ExecutionStatus, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';

const sfnOf = (scope: AwsScope) => clientOf(scope, SFNClient);

export interface StartedExecution {
  executionArn: string;
  /**
   * false when the name was taken by an execution with another input or one that has
   * ended: the work is, or was, already done. (A running execution with the same name and
   * input is returned as if just started, as Step Functions does.)
   */
  started: boolean;
}

/**
 * Starts an execution whose name is derived from the work it does, so that the same event
 * delivered twice starts it once. Step Functions answers ExecutionAlreadyExists for a name
 * in use (with a different input, or once it has ended), which means the work is already
 * being, or has been, done.
 */
export async function startExecutionOnce(
  scope: AwsScope,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<StartedExecution> {
  const executionArn = executionArnOf(stateMachineArn, name);
  try {
    const out = await callAws('states:StartExecution', () =>
      sfnOf(scope).send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
    );
    return { executionArn: out.executionArn ?? executionArn, started: true };
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    return { executionArn, started: false };
  }
}

/** How many continuations `executionStatus` follows before it says what the last one is. */
export const MAX_CONTINUATIONS_FOLLOWED = 100;

/**
 * An execution's status (DescribeExecution), `MISSING` when Step Functions does not know it
 * (never started, or past its retention): either way it is not running. An execution that
 * went on in a fresh one (it SUCCEEDED with `{ "continuedAs": <ARN> }` as output, see
 * workflow/continuation.ts) is followed: the status is its latest successor's.
 */
export async function executionStatus(scope: AwsScope, executionArn: string): Promise<ExecutionStatus | 'MISSING'> {
  let arn = executionArn;
  for (let hop = 0; ; hop++) {
    let out: DescribeExecutionCommandOutput;
    try {
      out = await callAws('states:DescribeExecution', () => sfnOf(scope).send(new DescribeExecutionCommand({ executionArn: arn })));
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return 'MISSING';
      throw error;
    }
    const successor = out.status === 'SUCCEEDED' ? continuedAs(out.output) : undefined;
    if (!successor || hop >= MAX_CONTINUATIONS_FOLLOWED) return out.status ?? 'MISSING';
    arn = successor;
  }
}

function continuedAs(output: string | undefined): string | undefined {
  if (!output || !output.includes('continuedAs')) return undefined;
  try {
    const value = (JSON.parse(output) as { continuedAs?: unknown } | null)?.continuedAs;
    return typeof value === 'string' && value.startsWith('arn:') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The ARN the execution `name` of a state machine has (or will have). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** A callback task's answer: its output (SendTaskSuccess). */
export async function sendTaskSuccess(scope: AwsScope, taskToken: string, output: unknown): Promise<void> {
  await callAws('states:SendTaskSuccess', () => sfnOf(scope).send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
}

/** A callback task's failure, with the error name its Catch matches (SendTaskFailure; cause at most 256 characters). */
export async function sendTaskFailure(scope: AwsScope, taskToken: string, error: string, cause: string): Promise<void> {
  await callAws('states:SendTaskFailure', () => sfnOf(scope).send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 256) })));
}
