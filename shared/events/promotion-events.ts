import * as z from 'zod/mini';
import { HoldSchema, RingProgressSchema } from '../fleet/promotion-state.js';
import { ReleaseSchema } from '../fleet/release.js';

/**
 * `Promotion Progress` (source `eks-node-lifecycle`): one per transition of a release's
 * promotion (decide-promotion.ts's PromotionEvent: a ring entered, awaiting approval, soak
 * started, ring passed, held, done) and per person's action on it (held, released, promoted).
 * Chat posts each into the promotion's own thread (one per release), a progress line per ring.
 * The same schema writes and reads it.
 */
export const PROMOTION_PROGRESS = 'Promotion Progress';

export const PromotionProgressDetailSchema = z.object({
  /** the release key (release.ts releaseKey): the promotion's name and its thread's */
  key: z.string().check(z.minLength(1), z.maxLength(80)),
  release: ReleaseSchema,
  kind: z.enum(['ring-entered', 'awaiting-approval', 'soak-started', 'ring-passed', 'held', 'done', 'released', 'promoted', 'rolled-back']),
  ring: z.optional(z.string().check(z.maxLength(63))),
  at: z.iso.datetime({ offset: true }),
  detail: z.string().check(z.maxLength(4000)),
  /** where every ring stands after it */
  rings: z.array(RingProgressSchema).check(z.maxLength(10)),
  /** the hold, with its evidence, when the release is held */
  hold: z.optional(HoldSchema),
  /** who did it, for a person's action */
  by: z.optional(z.string().check(z.maxLength(200))),
});
export type PromotionProgressDetail = z.infer<typeof PromotionProgressDetailSchema>;
