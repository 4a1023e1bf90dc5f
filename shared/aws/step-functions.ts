import { DescribeExecutionCommand, type ExecutionStatus, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { callAws } from './call.js';

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
  sfn: SFNClient,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<StartedExecution> {
  const executionArn = executionArnOf(stateMachineArn, name);
  try {
    const out = await callAws('states:StartExecution', () =>
      sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
    );
    return { executionArn: out.executionArn ?? executionArn, started: true };
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    return { executionArn, started: false };
  }
}

/**
 * An execution's status (DescribeExecution), `MISSING` when Step Functions does not know it
 * (never started, or past its retention): either way it is not running.
 */
export async function executionStatus(sfn: SFNClient, executionArn: string): Promise<ExecutionStatus | 'MISSING'> {
  try {
    const out = await callAws('states:DescribeExecution', () => sfn.send(new DescribeExecutionCommand({ executionArn })));
    return out.status ?? 'MISSING';
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return 'MISSING';
    throw error;
  }
}

/** The ARN the execution `name` of a state machine has (or will have). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
