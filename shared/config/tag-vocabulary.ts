import { KUBERNETES_VERSION_POLICIES } from '../ami/kubernetes-version.js';

/**
 * The whole `eks-node-lifecycle/` tag vocabulary of a node group, in one table: every key
 * the service reads from a group (the Auto Scaling group's tags for a self-managed group,
 * the EKS node group's for a managed one), what it governs, and the values of the keys that
 * take a fixed set. Pure, and a leaf: the readers (`node-group-policy.ts`,
 * `rollout/rollout-policy.ts`, `ami/resolve-target.ts`) take their value lists from here and
 * `node-group-config.ts` puts their findings together.
 *
 * What a key governs decides what a problem in it does (issue "Safe by default, loud on
 * misconfiguration"):
 * - `rollout`: automatic rollouts of the group stop until it is fixed — never a fall back
 *   to a default that may be riskier than what the operator meant (`channel=soak=7days`
 *   must not roll the newest image);
 * - `drain`: draining goes on with the safe default (a node leaving its group is drained
 *   whatever), and the problem is reported;
 * - `nothing`: reported only.
 */
export const POLICY_TAG_PREFIX = 'eks-node-lifecycle/';

export type Governs = 'rollout' | 'drain' | 'nothing';

export interface TagSpec {
  governs: Governs;
  /** the values of a key that takes a fixed set; a value differing only in case is read as the listed one, with a note */
  values?: readonly string[];
}

export const NODE_GROUP_TAGS = {
  // what rolls, and how (rollout/rollout-policy.ts, ami/resolve-target.ts, ami/kubernetes-version.ts)
  rollout: { governs: 'rollout', values: ['off', 'auto', 'approve', 'observe'] },
  channel: { governs: 'rollout' },
  // the group's ring in fleet promotion (fleet/ring-membership.ts; also on the cluster, for all its groups): its values are the promotion policy's rings, checked there
  ring: { governs: 'rollout' },
  'kubernetes-version': { governs: 'rollout', values: KUBERNETES_VERSION_POLICIES },
  'max-unavailable': { governs: 'rollout' },
  canary: { governs: 'rollout' },
  'update-strategy': { governs: 'rollout', values: ['surge', 'minimal'] },
  strategy: { governs: 'rollout', values: ['batches', 'instance-refresh'] },
  window: { governs: 'rollout' },
  'on-window-close': { governs: 'rollout', values: ['wait', 'end'] },
  'max-pause': { governs: 'rollout' },
  'max-pods': { governs: 'rollout' },
  // custom AMIs (ami/resolve-target.ts); image provenance keys go here too
  'ami-name-prefix': { governs: 'rollout' },
  'ami-owners': { governs: 'rollout' },
  // drains (node-group-policy.ts) and the lifecycle hooks the service may complete (drain/hook-ownership.ts)
  drain: { governs: 'drain', values: ['on', 'off'] },
  'drain-timeout': { governs: 'drain' },
  'on-drain-timeout': { governs: 'drain', values: ['fail', 'force'] },
  'max-grace-period': { governs: 'drain' },
  rebalance: { governs: 'drain', values: ['drain', 'ignore'] },
  'launch-hook': { governs: 'drain' },
  'terminate-hook': { governs: 'drain' },
} as const satisfies Record<string, TagSpec>;

export type NodeGroupTagKey = keyof typeof NODE_GROUP_TAGS;

/** Keys that are a family: `ami-tag-<image tag key>`. */
export const NODE_GROUP_TAG_FAMILIES: readonly { prefix: string; governs: Governs }[] = [{ prefix: 'ami-tag-', governs: 'rollout' }];

/** Keys read from custom images (ami/ami-family.ts, ami/resolve-target.ts), never from a group: on a group they do nothing. */
export const IMAGE_TAGS = ['ami-family', 'ami-variant', 'ami-architecture', 'windows-version', 'windows-edition', 'release'] as const;

/** What a key under the prefix is, as far as a node group is concerned. */
export function specOf(key: string): TagSpec | undefined {
  if (Object.hasOwn(NODE_GROUP_TAGS, key)) return NODE_GROUP_TAGS[key as NodeGroupTagKey];
  return NODE_GROUP_TAG_FAMILIES.find((f) => key.startsWith(f.prefix) && key.length > f.prefix.length);
}

/** The listed value `raw` names: exactly, or differing only in case (`Auto` is `auto`). */
export function matchValue<T extends string>(raw: string, values: readonly T[]): { value: T; exact: boolean } | undefined {
  const exact = values.find((v) => v === raw);
  if (exact !== undefined) return { value: exact, exact: true };
  const folded = values.find((v) => v.toLowerCase() === raw.toLowerCase());
  return folded === undefined ? undefined : { value: folded, exact: false };
}

/** The value a fixed-set tag holds (trimmed, case folded), or undefined when it is absent or names none of the values. */
export function tagValue<K extends NodeGroupTagKey>(tags: Readonly<Record<string, string>>, key: K): (typeof NODE_GROUP_TAGS)[K] extends { values: readonly (infer V)[] } ? V | undefined : never {
  const spec: TagSpec = NODE_GROUP_TAGS[key];
  const raw = tags[`${POLICY_TAG_PREFIX}${key}`]?.trim();
  return (raw === undefined || !spec.values ? undefined : matchValue(raw, spec.values)?.value) as never;
}

/** Notes for values read in another case than the one listed (`rollout=Auto` read as `auto`). */
export function caseNotes(tags: Readonly<Record<string, string>>): string[] {
  const notes: string[] = [];
  for (const [key, spec] of Object.entries(NODE_GROUP_TAGS) as [string, TagSpec][]) {
    const raw = tags[`${POLICY_TAG_PREFIX}${key}`]?.trim();
    if (raw === undefined || !spec.values) continue;
    const match = matchValue(raw, spec.values);
    if (match && !match.exact) notes.push(`${POLICY_TAG_PREFIX}${key}=${raw} read as ${match.value}; write it ${match.value}`);
  }
  return notes;
}

export interface UnknownKey {
  key: string;
  governs: Governs;
  message: string;
}

/**
 * Keys under the prefix that no node group reads: a misspelling (`max-unavialable`) or an
 * image's tag put on a group. A misspelt key's problem governs what the key it most likely
 * meant governs; one that resembles nothing governs rollouts — it may have meant anything.
 */
export function unknownKeys(tags: Readonly<Record<string, string>>): UnknownKey[] {
  const found: UnknownKey[] = [];
  for (const fullKey of Object.keys(tags)) {
    if (!fullKey.startsWith(POLICY_TAG_PREFIX)) continue;
    const key = fullKey.slice(POLICY_TAG_PREFIX.length);
    if (specOf(key)) continue;
    if ((IMAGE_TAGS as readonly string[]).includes(key)) {
      found.push({ key, governs: 'nothing', message: `${fullKey} is read from custom images, not from node groups; it does nothing here` });
      continue;
    }
    const suggestion = didYouMean(key, [...Object.keys(NODE_GROUP_TAGS), ...NODE_GROUP_TAG_FAMILIES.map((f) => `${f.prefix}<key>`)]);
    const governs = suggestion ? (specOf(suggestion.replace('<key>', 'x'))?.governs ?? 'rollout') : 'rollout';
    found.push({ key, governs, message: `${fullKey} is not a setting${suggestion ? `; did you mean ${POLICY_TAG_PREFIX}${suggestion}?` : ''}` });
  }
  return found;
}

/** The nearest known key, when it is near enough to be a typo (edit distance ≤ 2, or ≤ a third of the key). */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.name : undefined;
}

/** Damerau–Levenshtein (optimal string alignment): a swap of two letters is one edit, as typos are. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
