import { createHash } from 'node:crypto';
import type { GroupSnapshot } from '../aws/auto-scaling-groups.js';
import type { HookView } from '../aws/lifecycle-actions.js';
import type { Place } from '../aws/places.js';
import type { HookOwnership } from '../drain/hook-ownership.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import type { NodeJoinInput } from '../events/node-join.js';
import { joinDeadline } from './decide-join.js';
import type { InstanceOwner } from './find-owner.js';
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

/** What a launch event saw of its instance (tag-instance.ts), each lookup only while it can matter. */
export interface LaunchFacts {
  instanceId: string;
  /** a member's instance: its account and region (absent: the hub's own) */
  place?: Place;
  /** a state change's new state (a launch hook's event has none) */
  state?: string;
  /** a launch hook's action, and when Auto Scaling opened it */
  launchHook?: { action: LifecycleAction; openedAt: Date };
  /** undefined: EC2 does not show the instance (yet) */
  owner: InstanceOwner | undefined;
  /** a launch hook's: whether the service may answer it and, if so, the hook as Auto Scaling describes it */
  hook?: { ownership: HookOwnership; described?: HookView };
}

/** The node-join execution that waits for a launching node and answers its hook. */
export interface JoinStart {
  name: string;
  input: NodeJoinInput;
}

/**
 * Everything a launch event does, decided once: nothing (`ignore`), fail for Lambda's retry
 * (`not-visible-yet`: a launch hook names an instance EC2 does not show yet — failing beats a
 * hook left to time out), or ensure ownership — the tags planned, and for a launch hook the
 * node-join to start, or why the hook is left alone.
 */
export type LaunchPlan =
  | { action: 'ignore'; reason: string }
  | { action: 'not-visible-yet' }
  | { action: 'ensure'; cluster: string; source: string; tagging: TaggingPlan; group?: string; join?: JoinStart; hookLeftAlone?: string };

export function planLaunch(facts: LaunchFacts): LaunchPlan {
  if (facts.state !== undefined && facts.state !== 'running') return { action: 'ignore', reason: `state ${facts.state} is not running` };
  const { owner } = facts;
  if (!owner) return facts.launchHook ? { action: 'not-visible-yet' } : { action: 'ignore', reason: 'instance not found' };
  const { instance, group, decision } = owner;
  const refused = ownerRefusal(owner);
  if (refused !== undefined || decision.decision === 'ignore') return { action: 'ignore', reason: refused ?? 'not a managed cluster\'s' };
  const { cluster } = decision;
  const tagging = planTagging(cluster, instance.tags, group && { ...group, managedByEks: 'eks:nodegroup-name' in group.tags });
  const ensure = { action: 'ensure' as const, cluster, source: decision.source, tagging, ...(group ? { group: group.name } : {}) };
  const { launchHook, hook } = facts;
  if (!launchHook || !hook) return ensure;
  if (!hook.ownership.ours) return { ...ensure, hookLeftAlone: hook.ownership.reason };
  const { place } = facts;
  const input: NodeJoinInput = {
    ...(place ? { accountId: place.accountId, region: place.region } : {}),
    cluster,
    instanceId: facts.instanceId,
    lifecycleAction: launchHook.action,
    deadline: joinDeadline(launchHook.openedAt, hook.described?.heartbeatTimeoutSeconds ?? 3600).toISOString(),
  };
  return { ...ensure, join: { name: joinExecutionName(facts.instanceId, launchHook.action.lifecycleActionToken, place), input } };
}

/** Why a found instance is not one to tag: gone already, or not a managed cluster's (resolveCluster). */
export function ownerRefusal(owner: Pick<InstanceOwner, 'instance' | 'decision'>): string | undefined {
  if (owner.instance.state === 'terminated' || owner.instance.state === 'shutting-down') return `instance is ${owner.instance.state}`;
  return owner.decision.decision === 'ignore' ? owner.decision.reason : undefined;
}

/**
 * One name per lifecycle action: `join-<instance>-<hash of the token>` in the hub's own place
 * (as before), `join-<account>-<region>-<instance>-<hash>` in a member's (at most 5 + 13 + 15
 * + 20 + 16 = 69 of Step Functions' 80 characters).
 */
export function joinExecutionName(instanceId: string, lifecycleActionToken: string, place?: Place): string {
  const hash = createHash('sha256').update(lifecycleActionToken).digest('hex').slice(0, 16);
  return place ? `join-${place.accountId}-${place.region}-${instanceId}-${hash}` : `join-${instanceId}-${hash}`;
}
