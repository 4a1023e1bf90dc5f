import * as z from 'zod/mini';
import { ReleaseSchema } from '../fleet/release.js';
import { ExecutionStepsSchema, LineageSchema } from './continuation.js';

/**
 * The fleet-promotion workflow's data (workflows/fleet-promotion.asl.yml): what starts it
 * (`{ key }`, from detection: shared/fleet/release.ts promotionExecutionName names the
 * execution), and what its one step, PromotionStep, is given and answers. The step is given
 * the workflow's whole state (`$`): the key, the lineage, and the last decision it answered.
 */
const key = z.string().check(z.minLength(1), z.maxLength(80), z.regex(/^[A-Za-z0-9._-]+$/, 'must be a release key (shared/fleet/release.ts releaseKey)'));

export const PROMOTION_COMMANDS = ['roll', 'wait', 'soak', 'promote', 'await-approval', 'done', 'hold', 'held', 'paused'] as const;

/** What the step answers: small (the workflow keeps it between decisions; well under the 256 KiB of a state). */
export const PromotionStepResultSchema = z.object({
  command: z.enum(PROMOTION_COMMANDS),
  /** ISO 8601: when to decide again */
  next: z.iso.datetime({ offset: true }),
  /** every ring passed: the workflow ends */
  done: z.boolean(),
  /** this execution's decisions so far, and whether to go on in a fresh one (shared/workflow/continuation.ts) */
  here: ExecutionStepsSchema,
  /** the decision's reason, cut short */
  reason: z.string().check(z.maxLength(500)),
  /** the rollouts this decision started (by execution name), and the groups it could not */
  started: z.optional(z.array(z.string()).check(z.maxLength(100))),
  skipped: z.optional(z.array(z.string()).check(z.maxLength(100))),
});
export type PromotionStepResult = z.infer<typeof PromotionStepResultSchema>;

export const PromotionStepInputSchema = z.looseObject({
  /** the release key: the promotion's name */
  key,
  /** the release, when whoever started the workflow knows it: a promotion missing from the table is created from it (a re-drive) */
  release: z.optional(ReleaseSchema),
  lineage: z.optional(LineageSchema),
  /** the last decision (absent before the first): its count of decisions in this execution */
  decision: z.optional(z.looseObject({ here: z.optional(ExecutionStepsSchema) })),
});
export type PromotionStepInput = z.infer<typeof PromotionStepInputSchema>;
