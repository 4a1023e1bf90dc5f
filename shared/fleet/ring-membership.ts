import { didYouMean, matchValue, POLICY_TAG_PREFIX } from '../config/tag-vocabulary.js';
import { type PromotionPolicy, ringIndex } from './promotion-policy.js';

/**
 * Which ring a node group is in: the `eks-node-lifecycle/ring` tag on the group, else the one
 * on its cluster (for all its groups); the group's wins. A group in no ring is not part of any
 * promotion and rolls as it always has. Pure.
 *
 * A ring tag that names no ring of the policy (or is given while no policy is configured) is
 * never read as "no ring": that would let the group take every release at once, the riskiest
 * reading. The group is `misconfigured` and automatic rollouts of it wait until it is fixed.
 */
export const RING_TAG = `${POLICY_TAG_PREFIX}ring`;

export type RingMembership =
  | { kind: 'none' }
  | { kind: 'ring'; ring: string; index: number; from: 'group' | 'cluster'; note?: string }
  | { kind: 'misconfigured'; from: 'group' | 'cluster'; problem: string };

export function ringOf(groupTags: Readonly<Record<string, string>>, clusterTags: Readonly<Record<string, string>>, policy: PromotionPolicy | undefined): RingMembership {
  const own = groupTags[RING_TAG];
  const from = own !== undefined ? 'group' : 'cluster';
  const raw = (own ?? clusterTags[RING_TAG])?.trim();
  if (raw === undefined) return { kind: 'none' };
  const where = `${RING_TAG}=${raw} on the ${from === 'group' ? 'node group' : 'cluster'}`;
  if (!policy) return { kind: 'misconfigured', from, problem: `${where} names a ring, but no promotion policy is configured` };
  const names = policy.rings.map((r) => r.name);
  const match = matchValue(raw, names);
  if (!match) {
    const near = raw === '' ? undefined : didYouMean(raw, names);
    return { kind: 'misconfigured', from, problem: `${where} is not a ring of the promotion policy (${names.join(', ')})${near ? `; did you mean ${near}?` : ''}` };
  }
  return { kind: 'ring', ring: match.value, index: ringIndex(policy, match.value), from, ...(match.exact ? {} : { note: `${where} read as ${match.value}; write it ${match.value}` }) };
}
