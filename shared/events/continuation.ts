import * as z from 'zod/mini';
import { EXECUTION_ARN, STATE_MACHINE_ARN } from '../ids.js';

/**
 * The continue-execution step's input: which execution goes on in a fresh one, and the state
 * it carries (the whole of the workflow's state, `$`). See shared/workflow/continuation.ts.
 */
const stateMachineArn = z.string().check(z.regex(STATE_MACHINE_ARN, 'must be a Step Functions state machine ARN'));
const executionArn = z.string().check(z.regex(EXECUTION_ARN, 'must be a Step Functions execution ARN'));

export const LineageSchema = z.object({
  origin: executionArn,
  number: z.int().check(z.nonnegative(), z.lte(100_000)),
  previous: z.optional(executionArn),
});

export const ContinueExecutionInputSchema = z.strictObject({
  stateMachineArn,
  /** the execution that goes on in a fresh one (`$$.Execution.Id`) */
  executionArn,
  /** the workflow's state (`$`), its lineage included */
  state: z.looseObject({ lineage: LineageSchema }),
});
export type ContinueExecutionInput = z.infer<typeof ContinueExecutionInputSchema>;

/**
 * A loop's count in this execution alone, and whether it goes on in a fresh one now
 * (workflow/continuation.ts): each step returns it; the workflow sets it afresh at the start
 * of each execution.
 */
export const ExecutionStepsSchema = z.object({
  steps: z.int().check(z.nonnegative()),
  continue: z.boolean(),
});
export type ExecutionSteps = z.infer<typeof ExecutionStepsSchema>;
