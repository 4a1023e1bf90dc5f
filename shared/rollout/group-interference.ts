import type { GroupSnapshot } from '../aws/auto-scaling-groups.js';
import type { GroupSettings, SelfManagedRoll } from '../events/rollout.js';

/**
 * Someone else changing a group under a rollout: a person setting another launch template
 * version, an autoscaler moving desired capacity, a pipeline resizing it. The rollout keeps
 * what it last set (`expected`) and compares each observation with it. Pure.
 *
 * It never fights the change: a forward roll pauses and says what changed; a rollback or the
 * end of a roll adopts it — what a rollout restores at the end is then shifted by the same
 * amount, so an autoscaler's +3 survives the rollout's own "back to the original size".
 */

export function groupSettingsOf(group: Pick<GroupSnapshot, 'desired' | 'min' | 'max' | 'launchTemplate'>): GroupSettings {
  return { desired: group.desired, min: group.min, max: group.max, ...(group.launchTemplate ? { launchTemplate: { ...group.launchTemplate } } : {}) };
}

export interface GroupChange {
  field: 'desired' | 'min' | 'max' | 'launchTemplate';
  /** in words, for people: `desired capacity moved from 5 to 7` */
  text: string;
}

/** What differs between what the rollout left and what the group is now. */
export function groupChanges(expected: GroupSettings, observed: GroupSettings): GroupChange[] {
  const changes: GroupChange[] = [];
  const sizes = [
    ['desired', 'desired capacity'],
    ['min', 'minimum size'],
    ['max', 'maximum size'],
  ] as const;
  for (const [field, words] of sizes) {
    if (expected[field] !== observed[field]) changes.push({ field, text: `${words} moved from ${expected[field]} to ${observed[field]}` });
  }
  const [was, now] = [expected.launchTemplate, observed.launchTemplate];
  if (was?.id !== now?.id || was?.version !== now?.version) {
    changes.push({ field: 'launchTemplate', text: `launch template changed from ${describeTemplate(was)} to ${describeTemplate(now)}` });
  }
  return changes;
}

/** Words for the interference: what changed, and that it was not this rollout. */
export function describeInterference(changes: readonly GroupChange[]): string {
  return `the group was changed outside this rollout: ${changes.map((c) => c.text).join('; ')} (CloudTrail's UpdateAutoScalingGroup/SetDesiredCapacity events name who)`;
}

/**
 * The roll with the other party's changes adopted: the original sizes it restores at the end
 * shifted by what they changed, and their launch template kept as the group's at the end.
 */
export function adoptChanges(state: SelfManagedRoll, observed: GroupSettings, changes: readonly GroupChange[]): SelfManagedRoll {
  const expected = state.expected;
  if (!expected || changes.length === 0) return state;
  // their changes add up, uncapped, on top of the sizes the rollout planned with; what the end
  // restores is that sum made a valid group (a −2 then a +1 is a −1, even where −2 went below none)
  const planned = state.adoption?.planned ?? { desired: state.original.desired, min: state.original.min, max: state.original.max };
  const before = state.adoption?.shift ?? { desired: 0, min: 0, max: 0 };
  const shift = { desired: before.desired + observed.desired - expected.desired, min: before.min + observed.min - expected.min, max: before.max + observed.max - expected.max };
  const [min, desired] = [Math.max(0, planned.min + shift.min), Math.max(0, planned.desired + shift.desired)];
  // min ≤ desired ≤ max: their desired capacity stands, so a maximum the rollout had raised stays high enough for it
  const max = Math.max(planned.max + shift.max, desired, min);
  const templateChanged = changes.some((c) => c.field === 'launchTemplate');
  return {
    ...state,
    original: { ...state.original, desired: Math.max(desired, min), min, max },
    adoption: { planned, shift },
    expected: { ...observed },
    ...(templateChanged && observed.launchTemplate ? { foreignTemplate: { ...observed.launchTemplate } } : {}),
    adopted: [...(state.adopted ?? []), ...changes.map((c) => c.text)].slice(-20),
  };
}

function describeTemplate(lt: GroupSettings['launchTemplate']): string {
  if (!lt) return 'none';
  return /^\d+$/.test(lt.version) ? `${lt.id} version ${lt.version}` : `${lt.id} ${lt.version}`;
}

/**
 * What a step of this rollout was changing when it last wrote the group: the group before its
 * writes and after them. A step that dies midway (a crash, a throttled call after others went
 * through) leaves the group anywhere in between, which is its own doing, not someone else's.
 */
export interface GroupIntent {
  from: GroupSettings;
  to: GroupSettings;
}

/** The changes the rollout's own interrupted step does not explain. */
export function unexplainedChanges(changes: readonly GroupChange[], observed: GroupSettings, intent: GroupIntent | undefined): GroupChange[] {
  if (!intent) return [...changes];
  const between = (field: 'desired' | 'min' | 'max') => {
    const [a, b] = [intent.from[field], intent.to[field]];
    return observed[field] >= Math.min(a, b) && observed[field] <= Math.max(a, b);
  };
  const sameTemplate = (lt: GroupSettings['launchTemplate']) => lt?.id === observed.launchTemplate?.id && lt?.version === observed.launchTemplate?.version;
  return changes.filter((c) => (c.field === 'launchTemplate' ? !sameTemplate(intent.from.launchTemplate) && !sameTemplate(intent.to.launchTemplate) : !between(c.field)));
}
