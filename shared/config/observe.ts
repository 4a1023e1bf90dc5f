import type { NodeGroupPolicy } from './node-group-policy.js';
import type { ServiceMode } from './service-config.js';

/**
 * Observe mode (issue 16 part 4): every flow runs its decisions and reports what it would do
 * (an `… Observed` event: events/observed.ts; chat; `history`) instead of doing it. Nothing is
 * written to the user's resources — no tag, no launch template version, no node group update,
 * no cordon or eviction, no lifecycle action completed or kept alive (a hook's own default
 * result applies at its timeout), no hook installed — and no workflow is started. Pure.
 *
 * Two switches: the service's `mode` param (every flow), and a group's `rollout=observe` tag
 * (that group's rollouts: planned and reported, never rolled; its drains follow the service's mode).
 */
export type ObservedBy = 'service' | 'group';

/** Who makes a flow only observe — the service's mode, then (for a rollout) the group's tag — or undefined: it acts. */
export function observedBy(mode: ServiceMode, rollout?: NodeGroupPolicy['rollout']): ObservedBy | undefined {
  if (mode === 'observe') return 'service';
  if (rollout === 'observe') return 'group';
  return undefined;
}

/** What becomes of a lifecycle action the service leaves unanswered, in words. */
export function hookLeftToDefault(hook: { defaultResult?: string | undefined; timeoutSeconds?: number | undefined } | undefined): string {
  if (!hook?.defaultResult) return 'the lifecycle action is not completed: the hook\'s own default result applies at its timeout';
  const when = hook.timeoutSeconds === undefined ? 'at its timeout' : `after ${hook.timeoutSeconds} s`;
  return `the lifecycle action is not completed: the hook's default result ${hook.defaultResult} applies ${when}`;
}

/** `observe mode (the service's mode param)` / `observe mode (the group's eks-node-lifecycle/rollout=observe)` */
export function observeLabel(by: ObservedBy): string {
  return by === 'service' ? 'observe mode (the service\'s mode param)' : 'observe mode (the group\'s eks-node-lifecycle/rollout=observe)';
}
