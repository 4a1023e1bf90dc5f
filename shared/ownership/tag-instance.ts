import type { AwsScope } from '../aws/clients.js';
import { createHash } from 'node:crypto';
import { type GroupSnapshot, putPropagatingGroupTag, snapshotGroup } from '../aws/auto-scaling-groups.js';
import { describeLifecycleHook, lifecycleHookNames } from '../aws/lifecycle-actions.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import { hookLeftToDefault } from '../config/observe.js';
import type { ServiceMode } from '../config/service-config.js';
import { type LaunchObserved, observedEvent } from '../events/observed.js';
import { hookOwnership, ourHooks } from '../drain/hook-ownership.js';
import { tagInstance } from '../aws/instances.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import { ConfigurationError, InstanceNotFoundError } from '../errors.js';
import type { InstanceLaunchEvent } from '../events/instance-event.js';
import { instanceIdOf } from '../events/instance-event.js';
import type { NodeJoinInput } from '../events/node-join.js';
import { joinDeadline } from './decide-join.js';
import { findInstanceOwner } from './find-owner.js';
import { planTagging } from './plan-tagging.js';
import type { ManagedClusters } from './resolve-cluster.js';

export interface TaggingPorts {
  aws: AwsScope;
  managedClusters: ManagedClusters;
  nodeJoinStateMachineArn: string;
  /** observe: the tags and the hook are reported (`Node Launch Observed`), not written nor answered */
  mode?: ServiceMode;
  publish?: (detailType: string, detail: object) => Promise<void>;
  now?: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export type TaggingOutcome =
  | { outcome: 'ignored'; instanceId: string; reason: string }
  | {
      outcome: 'tagged' | 'already-tagged';
      instanceId: string;
      cluster: string;
      groupTagSet: boolean;
      joinExecution?: { executionArn: string; started: boolean };
      /** a launch hook that is not the service's (another tool's): left alone, and why */
      hookLeftAlone?: string;
    }
  | { outcome: 'observed'; instanceId: string; cluster: string; observed: LaunchObserved };

/**
 * Tags a launching instance with its cluster's ownership tag and, for a launch hook, hands
 * the wait for its node to the `node-join` workflow.
 *
 * 1–2. find the owner (`findInstanceOwner`): no cluster, a conflict or an unmanaged cluster: ignore;
 * 3. tag the instance if the tag is missing;
 * 4. make the group's tag propagate at launch (self-managed groups);
 * 5. for a launch hook the service may answer (its own, or one the group names:
 *    drain/hook-ownership.ts; another tool's is left alone): start the node-join execution,
 *    named after the lifecycle action so a redelivered event finds it already running.
 * In observe mode, 3–5 are reported (`Node Launch Observed`) instead: no tag is written, no
 * node-join starts, and the launch hook's own default result applies at its timeout.
 */
export async function tagLaunchedInstance(event: InstanceLaunchEvent, ports: TaggingPorts): Promise<TaggingOutcome> {
  const instanceId = instanceIdOf(event);
  const ignore = (reason: string): TaggingOutcome => {
    ports.log('instance ignored', { instanceId, reason });
    return { outcome: 'ignored', instanceId, reason };
  };
  if (event['detail-type'] === 'EC2 Instance State-change Notification' && event.detail.state !== 'running') {
    return ignore(`state ${event.detail.state} is not running`);
  }

  const groupName = event['detail-type'] === 'EC2 Instance-launch Lifecycle Action' ? event.detail.AutoScalingGroupName : undefined;
  const owner = await findInstanceOwner(ports, instanceId, groupName, { settledByInstanceTags: true });
  if (!owner) {
    // a launch hook names an instance that exists: EC2 has not caught up yet, so fail and let
    // Lambda's retry (a minute later) find it, rather than let the hook time out unanswered
    if (event['detail-type'] === 'EC2 Instance-launch Lifecycle Action') throw new InstanceNotFoundError(instanceId);
    return ignore('instance not found');
  }
  const { instance, group, decision } = owner;
  if (instance.state === 'terminated' || instance.state === 'shutting-down') return ignore(`instance is ${instance.state}`);
  if (decision.decision === 'ignore') return ignore(decision.reason);
  const { cluster } = decision;

  const plan = planTagging(cluster, instance.tags, group && { ...group, managedByEks: 'eks:nodegroup-name' in group.tags });
  if (ports.mode === 'observe') return observeLaunch(event, { instanceId, cluster, plan, group }, ports);
  if (Object.keys(plan.instanceTags).length > 0) await tagInstance(ports.aws, instanceId, plan.instanceTags);
  if (plan.groupTag && group) await putPropagatingGroupTag(ports.aws, group.name, plan.groupTag.key, plan.groupTag.value);
  ports.log('ownership ensured', {
    cluster,
    instanceId,
    source: decision.source,
    instanceTagged: Object.keys(plan.instanceTags).length > 0,
    groupTagSet: plan.groupTag !== undefined,
  });

  const base = {
    outcome: Object.keys(plan.instanceTags).length > 0 ? ('tagged' as const) : ('already-tagged' as const),
    instanceId,
    cluster,
    groupTagSet: plan.groupTag !== undefined,
  };
  if (event['detail-type'] !== 'EC2 Instance-launch Lifecycle Action') return base;

  const detail = event.detail;
  const hookGroup = group ?? (await snapshotGroup(ports.aws, detail.AutoScalingGroupName));
  const groupTags = hookGroup?.tags ?? {};
  const ownership = hookOwnership(detail.LifecycleHookName, 'launch', readNodeGroupPolicy(groupTags).policy.hooks);
  if (!ownership.ours) {
    ports.log('launch hook left alone', { instanceId, hook: detail.LifecycleHookName, reason: ownership.reason });
    return { ...base, hookLeftAlone: ownership.reason };
  }
  const hook = await describeLifecycleHook(ports.aws, detail.AutoScalingGroupName, detail.LifecycleHookName);
  const input: NodeJoinInput = {
    cluster,
    instanceId,
    lifecycleAction: {
      autoScalingGroupName: detail.AutoScalingGroupName,
      lifecycleHookName: detail.LifecycleHookName,
      lifecycleActionToken: detail.LifecycleActionToken,
      instanceId,
    },
    deadline: joinDeadline(new Date(event.time), hook?.heartbeatTimeoutSeconds ?? 3600).toISOString(),
  };
  const joinExecution = await startExecutionOnce(ports.aws, ports.nodeJoinStateMachineArn, joinExecutionName(instanceId, detail.LifecycleActionToken), input);
  ports.log(joinExecution.started ? 'node-join started' : 'node-join already under way', { ...joinExecution });
  return { ...base, joinExecution };
}

/** Observe mode's steps 3–5: what would be written and answered, reported; nothing written. */
async function observeLaunch(
  event: InstanceLaunchEvent,
  found: { instanceId: string; cluster: string; plan: ReturnType<typeof planTagging>; group: GroupSnapshot | undefined },
  ports: TaggingPorts,
): Promise<TaggingOutcome> {
  const { instanceId, cluster, plan, group } = found;
  if (event['detail-type'] === 'EC2 Instance State-change Notification' && group) {
    // a launch the service would answer is reported once, with its launch hook's event
    const hooks = ourHooks(await lifecycleHookNames(ports.aws, group.name, 'autoscaling:EC2_INSTANCE_LAUNCHING'), 'launch', readNodeGroupPolicy(group.tags).policy.hooks);
    if (hooks.length > 0) return { outcome: 'ignored', instanceId, reason: `observe mode: reported with its launch hook ${hooks.join(', ')}` };
  }
  const wouldDo: string[] = [];
  const tags = Object.entries(plan.instanceTags);
  if (tags.length > 0) wouldDo.push(`CreateTags ${tags.map(([k, v]) => `${k}=${v}`).join(', ')} on ${instanceId}`);
  if (plan.groupTag && group) wouldDo.push(`CreateOrUpdateTags ${plan.groupTag.key}=${plan.groupTag.value} (PropagateAtLaunch) on group ${group.name}`);
  let lifecycleAction: LaunchObserved['lifecycleAction'];
  if (event['detail-type'] === 'EC2 Instance-launch Lifecycle Action') {
    const detail = event.detail;
    const hookGroup = group ?? (await snapshotGroup(ports.aws, detail.AutoScalingGroupName));
    const ownership = hookOwnership(detail.LifecycleHookName, 'launch', readNodeGroupPolicy(hookGroup?.tags ?? {}).policy.hooks);
    if (ownership.ours) {
      const hook = await describeLifecycleHook(ports.aws, detail.AutoScalingGroupName, detail.LifecycleHookName);
      lifecycleAction = {
        autoScalingGroupName: detail.AutoScalingGroupName,
        lifecycleHookName: detail.LifecycleHookName,
        ...(hook ? { defaultResult: hook.defaultResult, timeoutSeconds: hook.heartbeatTimeoutSeconds } : {}),
      };
      wouldDo.push(`wait for the node of ${instanceId} to be Ready, then CompleteLifecycleAction CONTINUE on hook ${detail.LifecycleHookName} (${hookLeftToDefault(lifecycleAction)})`);
    }
  }
  if (wouldDo.length === 0) {
    ports.log('observe mode: nothing to do for the instance', { instanceId, cluster });
    return { outcome: 'already-tagged', instanceId, cluster, groupTagSet: false };
  }
  const now = (ports.now ?? (() => new Date()))();
  const { detailType, detail } = observedEvent('launch', {
    mode: 'observe',
    observedBy: 'service',
    cluster,
    instanceId,
    instanceTags: plan.instanceTags,
    ...(plan.groupTag && group ? { groupTag: { group: group.name, key: plan.groupTag.key, value: plan.groupTag.value } } : {}),
    ...(lifecycleAction ? { lifecycleAction } : {}),
    wouldDo,
    summary: `observe mode: ${cluster}: would ${[tags.length > 0 ? `tag ${instanceId} ${tags.map(([k, v]) => `${k}=${v}`).join(', ')}` : undefined, lifecycleAction ? `answer its launch hook ${lifecycleAction.lifecycleHookName} once its node is Ready` : undefined].filter(Boolean).join(' and ')}; nothing was changed${lifecycleAction ? ` (${hookLeftToDefault(lifecycleAction)})` : ''}`,
    at: now.toISOString(),
  });
  if (!ports.publish) throw new ConfigurationError('observe mode needs a way to publish its report (TaggingPorts.publish)');
  await ports.publish(detailType, detail);
  ports.log('observe mode: launch reported', { instanceId, cluster, wouldDo });
  return { outcome: 'observed', instanceId, cluster, observed: detail };
}

/** One name per lifecycle action: `join-<instance>-<hash of the token>` (≤ 80 chars). */
export function joinExecutionName(instanceId: string, lifecycleActionToken: string): string {
  return `join-${instanceId}-${createHash('sha256').update(lifecycleActionToken).digest('hex').slice(0, 16)}`;
}
