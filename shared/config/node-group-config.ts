import { readAmiPolicy } from '../ami/resolve-target.js';
import { readRolloutPolicy, type RolloutPolicy } from '../rollout/rollout-policy.js';
import { type NodeGroupPolicy, readNodeGroupPolicy } from './node-group-policy.js';
import { caseNotes, type Governs, POLICY_TAG_PREFIX, specOf, unknownKeys } from './tag-vocabulary.js';

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

export interface NodeGroupConfig {
  policy: NodeGroupPolicy;
  rollout: RolloutPolicy;
  problems: ConfigProblem[];
  /** values accepted in another spelling than the listed one (`rollout=Auto` read as `auto`) */
  notes: string[];
}

export function readNodeGroupConfig(tags: Readonly<Record<string, string>>): NodeGroupConfig {
  const drain = readNodeGroupPolicy(tags);
  const rollout = readRolloutPolicy(tags);
  const ami = readAmiPolicy(tags);
  const problems: ConfigProblem[] = [
    ...[...drain.problems, ...rollout.problems, ...ami.problems].map(classify),
    ...unknownKeys(tags).map((u) => ({ key: u.key, governs: u.governs, message: u.message })),
  ];
  return { policy: drain.policy, rollout: rollout.policy, problems, notes: caseNotes(tags) };
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
