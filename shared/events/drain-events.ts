import * as z from 'zod/mini';
import { BlockerSchema, DRAIN_TRIGGER_KINDS, DrainOutcomeSchema, ForcedPodSchema } from './drain.js';
import { clusterName, instanceId, placeFields } from './eventbridge.js';

/**
 * What the node-drain workflow publishes (source `eks-node-lifecycle`): the same schemas type
 * the publishers (drain/finish-drain.ts, drain/report-blocked.ts) and parse what chat reads
 * (chatops/drain-replies.ts). Required: which node, and how it ended; the rest is shown when
 * there.
 */
export const DRAIN_FINISHED = 'Node Drain Finished';
export const DRAIN_BLOCKED = 'Node Drain Blocked';

const node = {
  /** a member's node: its account and region (absent: the hub's own) */
  ...placeFields,
  cluster: clusterName,
  instanceId,
  nodeName: z.nullable(z.string()),
};
const about = {
  /** pods still on the node */
  remaining: z.optional(z.int().check(z.nonnegative())),
  /** what the last pass could not evict */
  blockers: z.optional(z.array(BlockerSchema)),
  /** the node-drain execution (not a rollout: it does not thread) */
  executionArn: z.optional(z.string()),
  /** the ami-rollout that asked for the drain: its chat thread shows it */
  rolloutExecutionArn: z.optional(z.string()),
};

export const DrainFinishedSchema = z.object({
  ...node,
  ...about,
  outcome: DrainOutcomeSchema,
  trigger: z.enum(DRAIN_TRIGGER_KINDS),
  durationSeconds: z.optional(z.number().check(z.nonnegative())),
  /** the pods force passes deleted past their budgets, and the budget each went past when known */
  forced: z.optional(z.array(ForcedPodSchema)),
  /**
   * the instance's lifecycle actions, in one word: `continued` (completed with CONTINUE, by this
   * drain or at once by a later trigger), `already-closed` (Auto Scaling had closed them),
   * `left-to-default` (the drain failed: they are Auto Scaling's), `none`
   */
  lifecycleAction: z.optional(z.enum(['continued', 'already-closed', 'left-to-default', 'none'])),
  /** each of them: its hook and how it ended (`open`: left to its default result) */
  lifecycleActions: z.optional(z.array(z.object({ hook: z.string(), state: z.enum(['open', 'completed', 'closed']) }))),
  /** the error that ended a failed drain, `Error: Cause` */
  reason: z.optional(z.string()),
});
export type DrainFinished = z.infer<typeof DrainFinishedSchema>;

/** A drain past its deadline that holds its node for the terminate hook (drain/report-blocked.ts). */
export const DrainBlockedSchema = z.object({
  ...node,
  ...about,
  trigger: z.optional(z.enum(DRAIN_TRIGGER_KINDS)),
  startedAt: z.optional(z.iso.datetime()),
  deadline: z.optional(z.iso.datetime()),
  /** the PodDisruptionBudgets in the way, `namespace/name` */
  budgets: z.optional(z.array(z.string())),
  summary: z.optional(z.string()),
});
export type DrainBlocked = z.infer<typeof DrainBlockedSchema>;
