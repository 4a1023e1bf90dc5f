import { z } from 'zod';
import { clusterName, instanceId } from './eventbridge.js';
import { TerminateLifecycleActionEventSchema } from './lifecycle-action.js';
import { RebalanceRecommendationEventSchema, SpotInterruptionWarningEventSchema } from './spot-and-rebalance.js';

/**
 * A drain asked for by a person (chat, CLI) rather than by AWS: by instance id or node name.
 * Invoked directly (Lambda Invoke), so it has no EventBridge envelope.
 */
export const ManualDrainRequestSchema = z
  .object({
    kind: z.literal('manual-drain'),
    cluster: clusterName,
    instanceId: instanceId.optional(),
    nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes node name').optional(),
    /** delete what budgets still block when the drain timeout is reached */
    force: z.boolean().default(false),
    requestedBy: z.string().min(1).max(200),
  })
  .refine((r) => (r.instanceId === undefined) !== (r.nodeName === undefined), { message: 'give exactly one of instanceId or nodeName' });
export type ManualDrainRequest = z.infer<typeof ManualDrainRequestSchema>;

/**
 * A drain asked for by an ami-rollout execution before it terminates the instance: always
 * a fresh drain (a node drained earlier may have been uncordoned and refilled since).
 */
export const RolloutDrainRequestSchema = z.object({
  kind: z.literal('rollout-drain'),
  cluster: clusterName,
  instanceId,
  rolloutExecutionArn: z.string().min(1).max(2048),
});
export type RolloutDrainRequest = z.infer<typeof RolloutDrainRequestSchema>;

/** Everything that can start a drain. */
export const DrainTriggerSchema = z.union([
  TerminateLifecycleActionEventSchema,
  SpotInterruptionWarningEventSchema,
  RebalanceRecommendationEventSchema,
  ManualDrainRequestSchema,
  RolloutDrainRequestSchema,
]);
export type DrainTrigger = z.infer<typeof DrainTriggerSchema>;

export const DRAIN_TRIGGER_KINDS = ['terminate-hook', 'spot-interruption', 'rebalance', 'manual', 'rollout'] as const;
export type DrainTriggerKind = (typeof DRAIN_TRIGGER_KINDS)[number];

export const DrainPolicySchema = z.object({
  drainTimeoutSeconds: z.number().int().positive(),
  onDrainTimeout: z.enum(['fail', 'force']),
  maxGracePeriodSeconds: z.number().int().nonnegative(),
});
export type DrainPolicy = z.infer<typeof DrainPolicySchema>;

/** Input of the `node-drain` workflow. */
export const NodeDrainInputSchema = z.object({
  cluster: clusterName,
  instanceId,
  trigger: z.enum(DRAIN_TRIGGER_KINDS),
  /** when the drain must be over: the policy's drain timeout, or the spot notice, whichever is first */
  deadline: z.iso.datetime(),
  policy: DrainPolicySchema,
  startedAt: z.iso.datetime(),
  /** the ami-rollout that asked for this drain, if one did (its chat thread shows the drain) */
  rolloutExecutionArn: z.string().min(1).max(2048).optional(),
});
export type NodeDrainInput = z.infer<typeof NodeDrainInputSchema>;

/** What the drain loop carries from one pass to the next. */
export const DrainLoopSchema = z.object({
  passes: z.number().int().nonnegative(),
  consecutiveBlocked: z.number().int().nonnegative(),
  lastHeartbeatAt: z.iso.datetime().nullable(),
  heartbeatEverySeconds: z.number().int().positive().nullable(),
});
export type DrainLoop = z.infer<typeof DrainLoopSchema>;

/** Input of one pass of the node-drain workflow's drain step. */
export const DrainStepInputSchema = NodeDrainInputSchema.extend({
  /** null on the first pass: the step finds the node by providerID */
  nodeName: z.string().min(1).max(253).nullable(),
  mode: z.enum(['evict', 'force']),
  loop: DrainLoopSchema.nullable(),
  executionArn: z.string().optional(),
});
export type DrainStepInput = z.infer<typeof DrainStepInputSchema>;

export const DrainOutcomeSchema = z.enum(['drained', 'forced', 'failed', 'node-gone']);
export type DrainOutcome = z.infer<typeof DrainOutcomeSchema>;

export const BlockerSchema = z.object({
  pod: z.string(),
  pdb: z.object({ namespace: z.string(), name: z.string(), disruptionsAllowed: z.number() }).nullable(),
  message: z.string(),
});

/** Input of the finish step: how the drain ended, and what still blocked it. */
export const FinishDrainInputSchema = z.object({
  cluster: clusterName,
  instanceId,
  nodeName: z.string().nullable(),
  trigger: z.enum(DRAIN_TRIGGER_KINDS),
  startedAt: z.iso.datetime(),
  outcome: DrainOutcomeSchema,
  remaining: z.number().int().nonnegative().default(0),
  blockers: z.array(BlockerSchema).max(50).default([]),
  executionArn: z.string().optional(),
  /** the workflow's input as it started (`$$.Execution.Input`): names the rollout that asked, if any */
  executionInput: z.object({ rolloutExecutionArn: z.string().max(2048).optional() }).loose().optional(),
});
export type FinishDrainInput = z.infer<typeof FinishDrainInputSchema>;
