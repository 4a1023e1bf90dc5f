import type { GroupSnapshot } from '../aws/auto-scaling-groups.js';
import { OWNERSHIP_TAG_PREFIX } from './resolve-cluster.js';

/**
 * The writes that make an instance and its group carry the ownership tag. Pure: only what
 * is missing is written, so a repeated event plans nothing.
 */
export interface TaggingPlan {
  /** tags to put on the instance (empty: already tagged) */
  instanceTags: Record<string, string>;
  /** a group tag to set with PropagateAtLaunch=true, so later launches carry it from birth */
  groupTag?: { key: string; value: string };
}

export function planTagging(
  cluster: string,
  instanceTags: Readonly<Record<string, string>>,
  group: (Pick<GroupSnapshot, 'tags' | 'propagateAtLaunch'> & { managedByEks: boolean }) | undefined,
): TaggingPlan {
  const key = `${OWNERSHIP_TAG_PREFIX}${cluster}`;
  // a value already there (owned, or shared set by the operator) is theirs to keep
  const toTag: Record<string, string> = instanceTags[key] === undefined ? { [key]: 'owned' } : {};
  // EKS owns the tags of a managed node group's group; self-managed groups are ours to fix
  if (!group || group.managedByEks) return { instanceTags: toTag };
  if (group.tags[key] !== undefined && group.propagateAtLaunch.includes(key)) return { instanceTags: toTag };
  return { instanceTags: toTag, groupTag: { key, value: group.tags[key] || 'owned' } };
}
