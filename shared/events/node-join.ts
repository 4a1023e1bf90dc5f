import * as z from 'zod/mini';
import { clusterName, instanceId, placeFields } from './eventbridge.js';
import { LifecycleActionSchema } from './lifecycle-action.js';

/** Input of the `node-join` workflow, and of each of its steps. */
export const NodeJoinInputSchema = z.object({
  ...placeFields,
  cluster: clusterName,
  instanceId,
  lifecycleAction: LifecycleActionSchema,
  /** ISO time after which the node is given up on and the launch is abandoned */
  deadline: z.iso.datetime(),
  /** set by the workflow (`$$.Execution.Id`) so logs correlate with the execution */
  executionArn: z.optional(z.string()),
});
export type NodeJoinInput = z.infer<typeof NodeJoinInputSchema>;

/** Input of `complete-lifecycle-action`. */
export const CompleteLifecycleActionInputSchema = z.object({
  ...placeFields,
  lifecycleAction: LifecycleActionSchema,
  result: z.enum(['CONTINUE', 'ABANDON']),
  reason: z.optional(z.string().check(z.maxLength(500))),
  /** the node's cluster and when its node-join workflow started (the launch hook fired), for the NodeJoins and TimeToReady metrics */
  cluster: z.optional(clusterName),
  startedAt: z.optional(z.iso.datetime({ offset: true })),
  executionArn: z.optional(z.string()),
});
export type CompleteLifecycleActionInput = z.infer<typeof CompleteLifecycleActionInputSchema>;
