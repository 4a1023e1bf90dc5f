import { KUBERNETES_VERSION_POLICIES, type KubernetesVersionPolicy } from '../ami/kubernetes-version.js';
import type { DrainPolicy } from '../events/drain.js';
import { describeSeconds, parseDurationSeconds } from './duration.js';

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
 * | rebalance | drain, ignore — what a rebalance recommendation does | drain |
 * | rollout | off, auto, approve — roll the group onto new AMIs (approve: a person confirms) | off |
 * | kubernetes-version | pinned (the minor the group runs), follow-control-plane (one minor at a time, up to the control plane's) — see ami/kubernetes-version.ts | pinned |
 *
 * A malformed value never stops a drain: the default applies and the problem is reported. So is
 * a drain timeout shorter than the grace period cap (a pod given its grace period outlives it).
 */
export const POLICY_TAG_PREFIX = 'eks-node-lifecycle/';

export interface NodeGroupPolicy {
  drain: DrainPolicy;
  installTerminateHook: boolean;
  onRebalance: 'drain' | 'ignore';
  rollout: 'off' | 'auto' | 'approve';
  kubernetesVersion: KubernetesVersionPolicy;
}

export const DEFAULT_POLICY: NodeGroupPolicy = {
  drain: { drainTimeoutSeconds: 15 * 60, onDrainTimeout: 'fail', maxGracePeriodSeconds: 10 * 60 },
  installTerminateHook: false,
  onRebalance: 'drain',
  rollout: 'off',
  kubernetesVersion: 'pinned',
};

export function readNodeGroupPolicy(tags: Readonly<Record<string, string>>): { policy: NodeGroupPolicy; problems: string[] } {
  const problems: string[] = [];
  const tag = (name: string) => tags[`${POLICY_TAG_PREFIX}${name}`]?.trim();
  const duration = (name: string, fallback: number) => {
    const raw = tag(name);
    if (raw === undefined) return fallback;
    const seconds = parseDurationSeconds(raw);
    if (seconds === undefined || seconds <= 0) {
      problems.push(`${POLICY_TAG_PREFIX}${name}=${raw} is not a duration like 15m or 3h; using the default`);
      return fallback;
    }
    return seconds;
  };
  const oneOf = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
    const raw = tag(name);
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${POLICY_TAG_PREFIX}${name}=${raw} is not one of ${values.join(', ')}; using ${fallback}`);
    return fallback;
  };
  const drain: DrainPolicy = {
    drainTimeoutSeconds: duration('drain-timeout', DEFAULT_POLICY.drain.drainTimeoutSeconds),
    onDrainTimeout: oneOf('on-drain-timeout', ['fail', 'force'], DEFAULT_POLICY.drain.onDrainTimeout),
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
      installTerminateHook: oneOf('drain', ['on', 'off'], 'off') === 'on',
      onRebalance: oneOf('rebalance', ['drain', 'ignore'], DEFAULT_POLICY.onRebalance),
      rollout: oneOf('rollout', ['off', 'auto', 'approve'], DEFAULT_POLICY.rollout),
      // a malformed value keeps the minor the group runs: never an upgrade nobody asked for
      kubernetesVersion: oneOf('kubernetes-version', KUBERNETES_VERSION_POLICIES, DEFAULT_POLICY.kubernetesVersion),
    },
    problems,
  };
}
