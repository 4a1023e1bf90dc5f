import * as z from 'zod/mini';
import { ExecutionStepsSchema } from './continuation.js';
import { clusterName, instanceId, placeFields } from './eventbridge.js';
import { TerminateLifecycleActionEventSchema } from './lifecycle-action.js';
import { RebalanceRecommendationEventSchema, SpotInterruptionWarningEventSchema } from './spot-and-rebalance.js';

/**
 * A drain asked for by a person (chat, CLI) rather than by AWS: by instance id or node name.
 * Invoked directly (Lambda Invoke), so it has no EventBridge envelope.
 */
export const ManualDrainRequestSchema = z
  .object({
    kind: z.literal('manual-drain'),
    ...placeFields,
    cluster: clusterName,
    instanceId: z.optional(instanceId),
    nodeName: z.optional(z.string().check(z.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes node name'))),
    /** delete what budgets still block when the drain timeout is reached */
    force: z._default(z.boolean(), false),
    /** with force: the grant chat-ops wrote once it authorized the person (requestDrain cannot tell who invoked it) */
    forceGrant: z.optional(z.string().check(z.regex(/^fdg-[a-f0-9]{20}$/, 'is not a forced-drain grant id'))),
    requestedBy: z.string().check(z.minLength(1), z.maxLength(200)),
  })
  .check(z.refine((r) => (r.instanceId === undefined) !== (r.nodeName === undefined), { message: 'give exactly one of instanceId or nodeName' }));
export type ManualDrainRequest = z.infer<typeof ManualDrainRequestSchema>;

/**
 * A person asks to put a drained node back (chat, CLI): chat-ops found the instance and its
 * cluster and authorized the person; the requestDrain function, which has the cluster's
 * Kubernetes access, takes back what the drain added. Invoked directly.
 */
export const ManualUncordonRequestSchema = z.object({
  kind: z.literal('manual-uncordon'),
  ...placeFields,
  cluster: clusterName,
  instanceId,
  requestedBy: z.string().check(z.minLength(1), z.maxLength(200)),
});
export type ManualUncordonRequest = z.infer<typeof ManualUncordonRequestSchema>;

/**
 * A drain asked for by an ami-rollout execution before it terminates the instance: always
 * a fresh drain (a node drained earlier may have been uncordoned and refilled since).
 */
export const RolloutDrainRequestSchema = z.object({
  kind: z.literal('rollout-drain'),
  ...placeFields,
  cluster: clusterName,
  instanceId,
  rolloutExecutionArn: z.string().check(z.minLength(1), z.maxLength(2048)),
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
  drainTimeoutSeconds: z.int().check(z.positive()),
  onDrainTimeout: z.enum(['fail', 'force']),
  maxGracePeriodSeconds: z.int().check(z.nonnegative()),
});
export type DrainPolicy = z.infer<typeof DrainPolicySchema>;

/** Input of the `node-drain` workflow. */
export const NodeDrainInputSchema = z.object({
  ...placeFields,
  cluster: clusterName,
  instanceId,
  trigger: z.enum(DRAIN_TRIGGER_KINDS),
  /** when the drain must be over: the policy's drain timeout, or the spot notice, whichever is first */
  deadline: z.iso.datetime(),
  policy: DrainPolicySchema,
  startedAt: z.iso.datetime(),
  /** the ami-rollout that asked for this drain, if one did (its chat thread shows the drain) */
  rolloutExecutionArn: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type NodeDrainInput = z.infer<typeof NodeDrainInputSchema>;

/** What the drain loop carries from one pass to the next. */
export const DrainLoopSchema = z.object({
  passes: z.int().check(z.nonnegative()),
  consecutiveBlocked: z.int().check(z.nonnegative()),
  lastHeartbeatAt: z.nullable(z.iso.datetime()),
  heartbeatEverySeconds: z.nullable(z.int().check(z.positive())),
});
export type DrainLoop = z.infer<typeof DrainLoopSchema>;

/** Input of one pass of the node-drain workflow's drain step. */
export const BlockerSchema = z.object({
  pod: z.string(),
  pdb: z.nullable(z.object({ namespace: z.string(), name: z.string(), disruptionsAllowed: z.number() })),
  message: z.string(),
});

/** A pod a force pass deleted past its budget: `namespace/name`, and the budget (`namespace/name`) when known. */
export const ForcedPodSchema = z.object({ pod: z.string(), pdb: z.nullable(z.string()) });
export type ForcedPodReport = z.infer<typeof ForcedPodSchema>;
/** forced pods carried and reported: at most this many (Step Functions state is ≤ 256 KB) */
export const MAX_FORCED_REPORTED = 50;

export const DrainStepInputSchema = z.extend(NodeDrainInputSchema, {
  /** null on the first pass: the step finds the node by providerID */
  nodeName: z.nullable(z.string().check(z.minLength(1), z.maxLength(253))),
  /** keep-alive: the Kubernetes API stayed unreachable through the pass's retries; only the hooks are kept alive */
  mode: z.enum(['evict', 'force', 'keep-alive']),
  loop: z.nullable(DrainLoopSchema),
  here: z._default(ExecutionStepsSchema, { steps: 0, continue: false }),
  /** what the previous pass could not evict (the report's blockers if the hook closes under the drain) */
  blocked: z.optional(z.array(BlockerSchema).check(z.maxLength(50))),
  /** the pods force passes deleted so far */
  forced: z.optional(z.array(ForcedPodSchema).check(z.maxLength(MAX_FORCED_REPORTED))),
  executionArn: z.optional(z.string()),
});
export type DrainStepInput = z.infer<typeof DrainStepInputSchema>;

export const DrainOutcomeSchema = z.enum(['drained', 'forced', 'failed', 'node-gone']);
export type DrainOutcome = z.infer<typeof DrainOutcomeSchema>;


/** What every report of a drain carries: which node, since when, and what is still in its way. */
const DrainReportSchema = z.object({
  ...placeFields,
  cluster: clusterName,
  instanceId,
  nodeName: z.nullable(z.string()),
  trigger: z.enum(DRAIN_TRIGGER_KINDS),
  startedAt: z.iso.datetime(),
  remaining: z._default(z.int().check(z.nonnegative()), 0),
  blockers: z._default(z.array(BlockerSchema).check(z.maxLength(50)), []),
  executionArn: z.optional(z.string()),
  /** the workflow's input as it started (`$$.Execution.Input`): names the rollout that asked, if any */
  executionInput: z.optional(z.looseObject({ rolloutExecutionArn: z.optional(z.string().check(z.maxLength(2048))) })),
});

/** Input of the finish step: how the drain ended, and what still blocked it. */
export const FinishDrainInputSchema = z.extend(DrainReportSchema, {
  outcome: DrainOutcomeSchema,
  /** the pods force passes deleted past their budgets */
  forced: z._default(z.array(ForcedPodSchema).check(z.maxLength(MAX_FORCED_REPORTED)), []),
  /** the error that ended the drain (the workflow's Catch: `Error` and `Cause`), for the report */
  error: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
});
export type FinishDrainInput = z.infer<typeof FinishDrainInputSchema>;

/** Input of the step that reports a drain held past its deadline (`Node Drain Blocked`). */
export const ReportDrainBlockedInputSchema = z.extend(DrainReportSchema, {
  deadline: z.iso.datetime(),
});
export type ReportDrainBlockedInput = z.infer<typeof ReportDrainBlockedInputSchema>;
