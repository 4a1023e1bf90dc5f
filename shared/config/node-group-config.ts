import { type CustomSelector, readAmiPolicy, type ReleaseChannel } from '../ami/resolve-target.js';
import { INSTALLED_HOOK } from '../drain/ensure-terminate-hooks.js';
import { DOCUMENTED_LAUNCH_HOOK } from '../drain/hook-ownership.js';
import { readRolloutPolicy, type RolloutPolicy } from '../rollout/rollout-policy.js';
import { describeSeconds } from './duration.js';
import { type NodeGroupPolicy, readNodeGroupPolicy } from './node-group-policy.js';
import { caseNotes, type Governs, NODE_GROUP_TAG_FAMILIES, NODE_GROUP_TAGS, type NodeGroupTagKey, POLICY_TAG_PREFIX, specOf, unknownKeys } from './tag-vocabulary.js';

/**
 * A node group's whole configuration, from its tags, with every problem found in it: what
 * `plan`, `status`, detection (and its dry runs), chat and the `Node Group Configuration
 * Problem` event show. Pure. The readers validate the values (drain and hooks:
 * node-group-policy.ts; rollouts: rollout/rollout-policy.ts; images: ami/resolve-target.ts),
 * tag-vocabulary.ts knows the keys and what each governs.
 */
export interface ConfigProblem {
  /** the key under the prefix (`channel`, `max-unavialable`) */
  key: string;
  governs: Governs;
  message: string;
}

/**
 * Where a setting's effective value comes from: the group's tag, or the service's default —
 * when no tag gives it, or when the tag's value could not be used (`rejected`: a problem says
 * why; for a rollout setting that problem also stops automatic rollouts). Node group tags are
 * the only place settings are read from: there is no cluster-level tag and no stage-level
 * override of a setting (serverless params hold service settings only).
 */
export type SettingSource = 'tag' | 'default' | 'rejected';

export interface EffectiveSetting {
  /** the key under the prefix (`drain-timeout`, `ami-tag-team`) */
  key: string;
  governs: Governs;
  /** the value in effect, as a tag would write it */
  value: string;
  source: SettingSource;
  /** the tag's own text, when a tag was given */
  tag?: string;
}

export interface NodeGroupConfig {
  policy: NodeGroupPolicy;
  rollout: RolloutPolicy;
  ami: { channel: ReleaseChannel; selector?: CustomSelector };
  problems: ConfigProblem[];
  /** values accepted in another spelling than the listed one (`rollout=Auto` read as `auto`) */
  notes: string[];
  /** every setting of the vocabulary, its value in effect and where it came from */
  settings: EffectiveSetting[];
}

export function readNodeGroupConfig(tags: Readonly<Record<string, string>>): NodeGroupConfig {
  const drain = readNodeGroupPolicy(tags);
  const rollout = readRolloutPolicy(tags);
  const ami = readAmiPolicy(tags);
  const problems: ConfigProblem[] = [
    ...[...drain.problems, ...rollout.problems, ...ami.problems].map(classify),
    ...unknownKeys(tags).map((u) => ({ key: u.key, governs: u.governs, message: u.message })),
  ];
  const values = { policy: drain.policy, rollout: rollout.policy, ami: { channel: ami.channel, ...(ami.selector ? { selector: ami.selector } : {}) } };
  const rejected = new Set([...drain.rejected, ...rollout.rejected, ...ami.rejected]);
  return { ...values, problems, notes: caseNotes(tags), settings: effectiveSettings(tags, values, rejected) };
}

type Values = Pick<NodeGroupConfig, 'policy' | 'rollout' | 'ami'>;

/** Each key's value in effect, written as its tag would be (the ring: the tag's own, checked against the promotion policy by fleet/ring-membership.ts). */
const SHOW: Record<Exclude<NodeGroupTagKey, 'ring'>, (v: Values) => string> = {
  rollout: (v) => v.policy.rollout,
  channel: (v) => channelText(v.ami.channel),
  'kubernetes-version': (v) => v.policy.kubernetesVersion,
  'max-unavailable': (v) => String(v.rollout.maxUnavailable),
  canary: (v) => String(v.rollout.canary),
  'update-strategy': (v) => v.rollout.strategy,
  strategy: (v) => v.rollout.selfManagedStrategy,
  window: (v) => v.rollout.window?.text ?? 'none (any time)',
  'on-window-close': (v) => v.rollout.onWindowClose,
  'max-pause': (v) => describeSeconds(v.rollout.maxPauseSeconds),
  'max-pods': (v) => (v.rollout.maxPods === undefined ? "the user data's, else computed" : String(v.rollout.maxPods)),
  'ami-name-prefix': (v) => v.ami.selector?.namePrefix ?? 'none',
  'ami-owners': (v) => v.ami.selector?.owners?.join(' ') ?? 'self',
  drain: (v) => (v.policy.installTerminateHook ? 'on' : 'off'),
  'drain-timeout': (v) => describeSeconds(v.policy.drain.drainTimeoutSeconds),
  'on-drain-timeout': (v) => v.policy.drain.onDrainTimeout,
  'max-grace-period': (v) => describeSeconds(v.policy.drain.maxGracePeriodSeconds),
  rebalance: (v) => v.policy.onRebalance,
  'launch-hook': (v) => [DOCUMENTED_LAUNCH_HOOK, ...v.policy.hooks.launch].join(' '),
  'terminate-hook': (v) => [INSTALLED_HOOK.name, ...v.policy.hooks.terminate].join(' '),
};

function channelText(channel: ReleaseChannel): string {
  switch (channel.kind) {
    case 'recommended':
      return 'recommended';
    case 'soak':
      return `soak=${describeSeconds(channel.minAgeSeconds)}`;
    case 'pinned':
      return `pinned=${channel.imageId ?? channel.release ?? ''}`;
  }
}

function effectiveSettings(tags: Readonly<Record<string, string>>, values: Values, rejected: ReadonlySet<string>): EffectiveSetting[] {
  const setting = (key: string, governs: Governs, value: string): EffectiveSetting => {
    const tag = tags[`${POLICY_TAG_PREFIX}${key}`];
    if (tag === undefined) return { key, governs, value, source: 'default' };
    return { key, governs, value, source: rejected.has(key) ? 'rejected' : 'tag', tag };
  };
  const show = (key: NodeGroupTagKey) => (key === 'ring' ? (tags[`${POLICY_TAG_PREFIX}ring`] ?? "its cluster's, else none") : SHOW[key](values));
  const known = (Object.keys(NODE_GROUP_TAGS) as NodeGroupTagKey[]).map((key) => setting(key, NODE_GROUP_TAGS[key].governs, show(key)));
  // a family's members are settings only when given (`ami-tag-team`)
  const family = Object.entries(tags).flatMap(([fullKey, value]) => {
    const key = fullKey.startsWith(POLICY_TAG_PREFIX) ? fullKey.slice(POLICY_TAG_PREFIX.length) : '';
    const member = NODE_GROUP_TAG_FAMILIES.find((f) => key.startsWith(f.prefix));
    return member ? [setting(key, member.governs, rejected.has(key) ? 'none' : value)] : [];
  });
  return [...known, ...family];
}

/**
 * The readers' problems name their key first (`eks-node-lifecycle/window: …`,
 * `eks-node-lifecycle/channel=… …`). A rollout setting's problem stops automatic rollouts, so
 * the readers' "using the default" no longer holds for it and is left out.
 */
function classify(message: string): ConfigProblem {
  const key = new RegExp(`^${POLICY_TAG_PREFIX}([A-Za-z0-9._-]+)`).exec(message)?.[1] ?? '';
  const governs = specOf(key)?.governs ?? 'rollout';
  return { key, governs, message: governs === 'rollout' ? message.replace(/; (using .*|rolling without a window|ignored)$/, '') : message };
}

/** The problems that stop rollouts of the group (automatic ones; and a person's, who is told what to fix). */
export function rolloutBlockers(config: Pick<NodeGroupConfig, 'problems'>): ConfigProblem[] {
  return config.problems.filter((p) => p.governs === 'rollout');
}

/** How a problem reads where an operator looks: what is wrong, and what it does. */
export function describeProblem(problem: ConfigProblem): string {
  switch (problem.governs) {
    case 'rollout':
      return `${problem.message} — automatic rollouts of this group are stopped until it is fixed`;
    case 'drain': // the readers already say which default a drain uses
    case 'nothing':
      return problem.message;
  }
}
