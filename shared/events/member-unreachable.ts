import * as z from 'zod/mini';
import { ACCOUNT_ID, REGION } from '../ids.js';

/**
 * `Member Accounts Unreachable` (source `eks-node-lifecycle`): a detection could not read one or
 * more member places (AssumeRole refused: the member stack is missing or trusts another hub;
 * or the first calls denied, by an SCP or a narrowed role). One event per detection, listing
 * every place it could not reach; the other places were detected as usual. The same schema
 * writes and reads it.
 */
export const MEMBER_UNREACHABLE = 'Member Accounts Unreachable';

export const UnreachablePlaceSchema = z.object({
  accountId: z.string().check(z.regex(ACCOUNT_ID)),
  region: z.string().check(z.regex(REGION)),
  /** what AWS said, shortened */
  reason: z.string().check(z.maxLength(1000)),
});
export type UnreachablePlace = z.infer<typeof UnreachablePlaceSchema>;

export const MemberUnreachableDetailSchema = z.object({
  /** what triggered the detection (`scheduled-detection`, `detect`, `debounced-detection`) */
  trigger: z.string().check(z.maxLength(64)),
  at: z.iso.datetime(),
  unreachable: z.array(UnreachablePlaceSchema).check(z.minLength(1), z.maxLength(200)),
});
export type MemberUnreachableDetail = z.infer<typeof MemberUnreachableDetailSchema>;
