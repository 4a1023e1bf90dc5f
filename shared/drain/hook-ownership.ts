import type { NodeGroupPolicy } from '../config/node-group-policy.js';
import { POLICY_TAG_PREFIX } from '../config/tag-vocabulary.js';
import { INSTALLED_HOOK } from './ensure-terminate-hooks.js';

/**
 * Which lifecycle hooks the service may answer (CompleteLifecycleAction, heartbeats). Pure.
 *
 * A group's hooks may belong to other tools — a log shipper flushing, a backup agent, the
 * Node Termination Handler — which complete them when their own work is done. Answering one
 * of those for them would cut that work short, so the service answers only:
 * - the terminate hook it installs itself (`eks-node-lifecycle-drain`, ensure-terminate-hooks.ts),
 *   and the launch hook the README tells operators to add (`eks-node-lifecycle-launch`);
 * - hooks the group names as the service's, space separated: `eks-node-lifecycle/launch-hook`,
 *   `eks-node-lifecycle/terminate-hook` (e.g. a hook eksctl or CloudFormation created).
 * Any other hook is left alone, and why is logged.
 */
export const DOCUMENTED_LAUNCH_HOOK = 'eks-node-lifecycle-launch';

export type HookTransition = 'launch' | 'terminate';

export type HookOwnership = { ours: true } | { ours: false; reason: string };

export function hookOwnership(hookName: string, transition: HookTransition, hooks: NodeGroupPolicy['hooks']): HookOwnership {
  const own = transition === 'launch' ? DOCUMENTED_LAUNCH_HOOK : INSTALLED_HOOK.name;
  const named = transition === 'launch' ? hooks.launch : hooks.terminate;
  if (hookName === own || named.includes(hookName)) return { ours: true };
  return {
    ours: false,
    reason:
      `the ${transition} hook ${hookName} is not this service's (its own is ${own}; the group's tag ${POLICY_TAG_PREFIX}${transition}-hook names ${named.length ? named.join(' ') : 'none'}): ` +
      'left for the tool that owns it to complete',
  };
}

/** The hooks of `names` this service may answer. */
export function ourHooks(names: readonly string[], transition: HookTransition, hooks: NodeGroupPolicy['hooks']): string[] {
  return names.filter((name) => hookOwnership(name, transition, hooks).ours);
}
