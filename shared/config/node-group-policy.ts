import type { KubernetesVersionPolicy } from '../ami/kubernetes-version.js';
import type { DrainPolicy } from '../events/drain.js';
import { describeSeconds, parseDurationSeconds } from './duration.js';
import { matchValue, NODE_GROUP_TAGS, POLICY_TAG_PREFIX } from './tag-vocabulary.js';

export { POLICY_TAG_PREFIX };

/**
 * A node group's policy, from its tags (the Auto Scaling group's for self-managed groups,
 * the EKS node group's for managed ones), prefix `eks-node-lifecycle/`. Pure.
 *
 * | tag | values | default |
 * |---|---|---|
 * | drain | on, off — opt in to terminate hooks installed by the service | off |
 * | drain-timeout | 90s, 15m, 3h, 1h30m | 15m (like EKS managed node groups) |
 * | on-drain-timeout | fail, force | fail |
 * | max-grace-period | a duration: cap on a pod's terminationGracePeriodSeconds | 10m |
 * | rebalance | drain, ignore — what a rebalance recommendation does (a recommendation is not an interruption; the Node Termination Handler leaves it off too) | ignore |
 * | launch-hook, terminate-hook | names of the group's own lifecycle hooks the service may complete, space separated (tag values allow no commas) | only the service's own |
 * | rollout | off, auto, approve, observe — roll the group onto new AMIs (approve: a person confirms; observe: plan and report what a rollout would do, never roll) | off |
 * | kubernetes-version | pinned (the minor the group runs), follow-control-plane (one minor at a time, up to the control plane's) — see ami/kubernetes-version.ts | pinned |
 *
 * A malformed value never stops a drain: the default applies and the problem is reported. So is
 * a drain timeout shorter than the grace period cap (a pod given its grace period outlives it).
 * The keys and their value sets are tag-vocabulary.ts's; a value differing only in case is read
 * as the listed one (tag-vocabulary.ts notes it).
 */

export interface NodeGroupPolicy {
  drain: DrainPolicy;
  installTerminateHook: boolean;
  onRebalance: 'drain' | 'ignore';
  /** observe: planned and reported as `Rollout Observed`, never rolled (config/observe.ts) */
  rollout: 'off' | 'auto' | 'approve' | 'observe';
  kubernetesVersion: KubernetesVersionPolicy;
  /** lifecycle hooks of the group, beyond the service's own, whose actions the service may complete */
  hooks: { launch: string[]; terminate: string[] };
}

export const DEFAULT_POLICY: NodeGroupPolicy = {
  drain: { drainTimeoutSeconds: 15 * 60, onDrainTimeout: 'fail', maxGracePeriodSeconds: 10 * 60 },
  installTerminateHook: false,
  onRebalance: 'ignore',
  rollout: 'off',
  kubernetesVersion: 'pinned',
  hooks: { launch: [], terminate: [] },
};

/** Auto Scaling's lifecycle hook names: 1–255 of letters, digits, `-`, `_`, `/` (API reference, PutLifecycleHook). */
const HOOK_NAME = /^[A-Za-z0-9\-_\/]{1,255}$/;

/**
 * `rejected`: the keys whose tag was given but not used (its default applies): where a value
 * came from (config/node-group-config.ts `settings`) is the readers' to say, not re-parsed.
 */
export function readNodeGroupPolicy(tags: Readonly<Record<string, string>>): { policy: NodeGroupPolicy; problems: string[]; rejected: string[] } {
  const problems: string[] = [];
  const rejected: string[] = [];
  const tag = (name: string) => tags[`${POLICY_TAG_PREFIX}${name}`]?.trim();
  const duration = (name: string, fallback: number) => {
    const raw = tag(name);
    if (raw === undefined) return fallback;
    const seconds = parseDurationSeconds(raw);
    if (seconds === undefined || seconds <= 0) {
      problems.push(`${POLICY_TAG_PREFIX}${name}=${raw} is not a duration like 15m or 3h; using the default`);
      rejected.push(name);
      return fallback;
    }
    return seconds;
  };
  const oneOf = <K extends 'drain' | 'on-drain-timeout' | 'rebalance' | 'rollout' | 'kubernetes-version'>(name: K, fallback: (typeof NODE_GROUP_TAGS)[K]['values'][number]) => {
    const values: readonly string[] = NODE_GROUP_TAGS[name].values;
    const raw = tag(name);
    if (raw === undefined) return fallback;
    const match = matchValue(raw, values);
    if (match) return match.value as typeof fallback;
    problems.push(`${POLICY_TAG_PREFIX}${name}=${raw} is not one of ${values.join(', ')}; using ${fallback}`);
    rejected.push(name);
    return fallback;
  };
  const hookNames = (name: 'launch-hook' | 'terminate-hook'): string[] => {
    const raw = tag(name);
    if (raw === undefined || raw === '') return [];
    const names = raw.split(/\s+/);
    const bad = names.filter((n) => !HOOK_NAME.test(n));
    if (bad.length === 0) return names;
    problems.push(`${POLICY_TAG_PREFIX}${name}=${raw}: ${bad.join(', ')} is not a lifecycle hook name (letters, digits, - _ /; several separated by spaces); only the service's own hooks are completed`);
    rejected.push(name);
    return names.filter((n) => HOOK_NAME.test(n));
  };
  const drain: DrainPolicy = {
    drainTimeoutSeconds: duration('drain-timeout', DEFAULT_POLICY.drain.drainTimeoutSeconds),
    onDrainTimeout: oneOf('on-drain-timeout', DEFAULT_POLICY.drain.onDrainTimeout),
    maxGracePeriodSeconds: duration('max-grace-period', DEFAULT_POLICY.drain.maxGracePeriodSeconds),
  };
  // a pod given its whole grace period would still be shutting down when the drain gives up
  if (drain.drainTimeoutSeconds < drain.maxGracePeriodSeconds) {
    problems.push(
      `${POLICY_TAG_PREFIX}drain-timeout (${describeSeconds(drain.drainTimeoutSeconds)}) is shorter than ${POLICY_TAG_PREFIX}max-grace-period (${describeSeconds(drain.maxGracePeriodSeconds)}): ` +
        `a pod that takes its grace period outlives the drain, which then ${drain.onDrainTimeout === 'force' ? 'forces' : 'fails'}; make the drain timeout longer or the grace period cap shorter`,
    );
  }
  return {
    policy: {
      drain,
      installTerminateHook: oneOf('drain', 'off') === 'on',
      onRebalance: oneOf('rebalance', DEFAULT_POLICY.onRebalance),
      rollout: oneOf('rollout', DEFAULT_POLICY.rollout),
      // a malformed value keeps the minor the group runs: never an upgrade nobody asked for
      kubernetesVersion: oneOf('kubernetes-version', DEFAULT_POLICY.kubernetesVersion),
      hooks: { launch: hookNames('launch-hook'), terminate: hookNames('terminate-hook') },
    },
    problems,
    rejected,
  };
}
