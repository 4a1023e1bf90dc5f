import type { AwsScope } from '../aws/clients.js';
import type { Place } from '../aws/places.js';
import { putPropagatingGroupTag, snapshotGroup } from '../aws/auto-scaling-groups.js';
import { describeLifecycleHook, lifecycleHookNames } from '../aws/lifecycle-actions.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import { hookLeftToDefault } from '../config/observe.js';
import type { ServiceMode } from '../config/service-config.js';
import { type LaunchObserved, observedEvent } from '../events/observed.js';
import type { PublishServiceEvent } from '../events/service-events.js';
import { hookOwnership, ourHooks } from '../drain/hook-ownership.js';
import { tagInstance } from '../aws/instances.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import { ConfigurationError, InstanceNotFoundError } from '../errors.js';
import type { InstanceLaunchEvent } from '../events/instance-event.js';
import { instanceIdOf } from '../events/instance-event.js';
import { findInstanceOwner } from './find-owner.js';
import { type LaunchFacts, type LaunchPlan, ownerRefusal, planLaunch } from './plan-tagging.js';
import type { ManagedClusters } from './resolve-cluster.js';

/**
 * The ports of the instance's place: `aws` acts there (EC2, Auto Scaling: a member's role),
 * `managedClusters` are the clusters managed there; `hub` starts the node-join (Step Functions).
 */
export interface TaggingPorts {
  aws: AwsScope;
  hub: AwsScope;
  /** a member's instance: its account and region (absent: the hub's own) */
  place?: Place;
  managedClusters: ManagedClusters;
  nodeJoinStateMachineArn: string;
  /** observe: the tags and the hook are reported (`Node Launch Observed`), not written nor answered */
  mode?: ServiceMode;
  publish?: PublishServiceEvent;
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
 * 1. observe: the owner (`findInstanceOwner`); for a launch hook, whether the service may
 *    answer it (its own, or one the group names: drain/hook-ownership.ts; another tool's is
 *    left alone) and, if so, its heartbeat timeout;
 * 2. decide, once (planLaunch, pure): no cluster, a conflict or an unmanaged cluster: ignore;
 *    else the tags missing and the node-join to start;
 * 3. tag the instance if the tag is missing;
 * 4. make the group's tag propagate at launch (self-managed groups);
 * 5. start the node-join execution, named after the lifecycle action so a redelivered event
 *    finds it already running.
 * In observe mode, 3–5 are reported (`Node Launch Observed`) instead: no tag is written, no
 * node-join starts, and the launch hook's own default result applies at its timeout.
 */
export async function tagLaunchedInstance(event: InstanceLaunchEvent, ports: TaggingPorts): Promise<TaggingOutcome> {
  const instanceId = instanceIdOf(event);
  // 1.–2.
  const facts = { ...(await observeLaunch(event, ports)), ...(ports.place ? { place: ports.place } : {}) };
  const plan = planLaunch(facts);
  if (plan.action === 'not-visible-yet') throw new InstanceNotFoundError(instanceId);
  if (plan.action === 'ignore') {
    ports.log('instance ignored', { instanceId, reason: plan.reason });
    return { outcome: 'ignored', instanceId, reason: plan.reason };
  }
  if (ports.mode === 'observe') return reportLaunch(event, facts, plan, ports);
  const { cluster, tagging } = plan;
  // 3.–4.
  if (Object.keys(tagging.instanceTags).length > 0) await tagInstance(ports.aws, instanceId, tagging.instanceTags);
  if (tagging.groupTag && plan.group) await putPropagatingGroupTag(ports.aws, plan.group, tagging.groupTag.key, tagging.groupTag.value);
  ports.log('ownership ensured', {
    cluster,
    instanceId,
    source: plan.source,
    instanceTagged: Object.keys(tagging.instanceTags).length > 0,
    groupTagSet: tagging.groupTag !== undefined,
  });
  const base = {
    outcome: Object.keys(tagging.instanceTags).length > 0 ? ('tagged' as const) : ('already-tagged' as const),
    instanceId,
    cluster,
    groupTagSet: tagging.groupTag !== undefined,
  };
  if (plan.hookLeftAlone) {
    ports.log('launch hook left alone', { instanceId, hook: facts.launchHook?.action.lifecycleHookName, reason: plan.hookLeftAlone });
    return { ...base, hookLeftAlone: plan.hookLeftAlone };
  }
  if (!plan.join) return base;
  // 5.
  const joinExecution = await startExecutionOnce(ports.hub, ports.nodeJoinStateMachineArn, plan.join.name, plan.join.input);
  ports.log(joinExecution.started ? 'node-join started' : 'node-join already under way', { ...joinExecution });
  return { ...base, joinExecution };
}

/** Step 1: the instance's owner and, for a launch hook of an instance the service may own, the hook. */
async function observeLaunch(event: InstanceLaunchEvent, ports: TaggingPorts): Promise<LaunchFacts> {
  const instanceId = instanceIdOf(event);
  if (event['detail-type'] === 'EC2 Instance State-change Notification') {
    const { state } = event.detail;
    // a state change other than running is ignored on its face
    if (state !== 'running') return { instanceId, state, owner: undefined };
    return { instanceId, state, owner: await findInstanceOwner(ports, instanceId, undefined, { settledByInstanceTags: true }) };
  }
  const detail = event.detail;
  const launchHook = {
    action: { autoScalingGroupName: detail.AutoScalingGroupName, lifecycleHookName: detail.LifecycleHookName, lifecycleActionToken: detail.LifecycleActionToken, instanceId },
    openedAt: new Date(event.time),
  };
  const owner = await findInstanceOwner(ports, instanceId, detail.AutoScalingGroupName, { settledByInstanceTags: true });
  if (!owner || ownerRefusal(owner) !== undefined) return { instanceId, launchHook, owner };
  const hookGroup = owner.group ?? (await snapshotGroup(ports.aws, detail.AutoScalingGroupName));
  const ownership = hookOwnership(detail.LifecycleHookName, 'launch', readNodeGroupPolicy(hookGroup?.tags ?? {}).policy.hooks);
  const described = ownership.ours ? await describeLifecycleHook(ports.aws, detail.AutoScalingGroupName, detail.LifecycleHookName) : undefined;
  return { instanceId, launchHook, owner, hook: { ownership, ...(described ? { described } : {}) } };
}

/** Observe mode's steps 3–5: what would be written and answered, reported; nothing written. */
async function reportLaunch(event: InstanceLaunchEvent, facts: LaunchFacts, plan: Extract<LaunchPlan, { action: 'ensure' }>, ports: TaggingPorts): Promise<TaggingOutcome> {
  const { instanceId } = facts;
  const { cluster, tagging } = plan;
  const group = facts.owner?.group;
  if (event['detail-type'] === 'EC2 Instance State-change Notification' && group) {
    // a launch the service would answer is reported once, with its launch hook's event
    const hooks = ourHooks(await lifecycleHookNames(ports.aws, group.name, 'autoscaling:EC2_INSTANCE_LAUNCHING'), 'launch', readNodeGroupPolicy(group.tags).policy.hooks);
    if (hooks.length > 0) return { outcome: 'ignored', instanceId, reason: `observe mode: reported with its launch hook ${hooks.join(', ')}` };
  }
  const wouldDo: string[] = [];
  const tags = Object.entries(tagging.instanceTags);
  if (tags.length > 0) wouldDo.push(`CreateTags ${tags.map(([k, v]) => `${k}=${v}`).join(', ')} on ${instanceId}`);
  if (tagging.groupTag && group) wouldDo.push(`CreateOrUpdateTags ${tagging.groupTag.key}=${tagging.groupTag.value} (PropagateAtLaunch) on group ${group.name}`);
  let lifecycleAction: LaunchObserved['lifecycleAction'];
  if (plan.join) {
    const { autoScalingGroupName, lifecycleHookName } = plan.join.input.lifecycleAction;
    const hook = facts.hook?.described;
    lifecycleAction = { autoScalingGroupName, lifecycleHookName, ...(hook ? { defaultResult: hook.defaultResult, timeoutSeconds: hook.heartbeatTimeoutSeconds } : {}) };
    wouldDo.push(`wait for the node of ${instanceId} to be Ready, then CompleteLifecycleAction CONTINUE on hook ${lifecycleHookName} (${hookLeftToDefault(lifecycleAction)})`);
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
    instanceTags: tagging.instanceTags,
    ...(tagging.groupTag && group ? { groupTag: { group: group.name, key: tagging.groupTag.key, value: tagging.groupTag.value } } : {}),
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
