import { executionNameOf } from '../aws/partition.js';
import type { AwsScope } from '../aws/clients.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import type { ContinueExecutionInput } from '../events/continuation.js';
import { InvalidInputError } from '../errors.js';
import { continuationName } from './continuation.js';

export interface ContinueExecutionPorts {
  aws: AwsScope;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export interface Continued {
  /** the successor's ARN: the execution's output, which `executionStatus` follows */
  continuedAs: string;
  number: number;
}

/** Step Functions' limit on an execution's input (and any state's data): 256 KiB of UTF-8. */
export const MAX_PAYLOAD_BYTES = 262_144;

/**
 * Starts the execution's successor with its state (idempotent: the successor's name is derived
 * from the origin's and the number, so a retried step finds the one it started).
 */
export async function continueExecution(input: ContinueExecutionInput, ports: ContinueExecutionPorts): Promise<Continued> {
  const { lineage } = input.state;
  const machine = machineOf(input.stateMachineArn);
  for (const [field, arn] of [['executionArn', input.executionArn], ['state.lineage.origin', lineage.origin]] as const) {
    if (machineOf(arn) !== machine) throw new InvalidInputError([{ path: field, message: `${arn} is not an execution of ${input.stateMachineArn}` }]);
  }
  const number = lineage.number + 1;
  const successorInput = { ...input.state, lineage: { origin: lineage.origin, number, previous: input.executionArn } };
  const bytes = Buffer.byteLength(JSON.stringify(successorInput), 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) throw new InvalidInputError([{ path: 'state', message: `is ${bytes} bytes; an execution's input is at most ${MAX_PAYLOAD_BYTES}` }]);
  const name = continuationName(executionNameOf(lineage.origin), number);
  const started = await startExecutionOnce(ports.aws, input.stateMachineArn, name, successorInput);
  ports.log('execution continued in a fresh one', { origin: lineage.origin, from: input.executionArn, continuedAs: started.executionArn, number, started: started.started, bytes });
  return { continuedAs: started.executionArn, number };
}

/** `<partition>:<region>:<account>:<machine>` of a state machine or execution ARN. */
function machineOf(arn: string): string {
  const parts = arn.split(':');
  return [parts[1], parts[3], parts[4], parts[6]].join(':');
}
