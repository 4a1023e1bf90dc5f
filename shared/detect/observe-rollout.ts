import { describeImage } from '../ami/image-provenance.js';
import type { ObservedBy } from '../config/observe.js';
import type { RolloutObserved } from '../events/observed.js';
import { decideStart, windowState } from '../rollout/maintenance-window.js';
import { type NodeToRoll, planBatches } from '../rollout/plan-batches.js';
import { readRolloutPolicy } from '../rollout/rollout-policy.js';
import type { GroupView } from './inventory.js';
import type { GroupPlan } from './plan-rollouts.js';

type RollPlan = Extract<GroupPlan, { action: 'roll' }>;

export interface ObserveRolloutInput {
  group: GroupView;
  plan: RollPlan;
  observedBy: ObservedBy;
  /** detection's trigger, or `chat` */
  trigger: string;
  /** the instances the group runs now (its Auto Scaling group's): what the batches would replace */
  instances: readonly NodeToRoll[];
  /** a person asked: a window refuses them unless they said --now, where detection waits */
  startedBy?: 'detection' | 'person';
  startNow?: boolean;
  /** the cluster's access policy requires approval (known to chat, not to detection) */
  approvalRequired?: boolean;
  now: Date;
}

/**
 * What a rollout of the group would do, had the service acted: the writes in order (launch
 * template version, node group update or group change, batches of replacements, canary
 * first), when it would start (the group's window), and whether a person would approve it.
 * Pure: the same planners the rollout uses (plan-batches.ts, maintenance-window.ts), over the
 * group as it is now. A real rollout plans its batches again when it starts.
 */
export function observeRollout(input: ObserveRolloutInput): RolloutObserved {
  const { group, plan } = input;
  const { policy } = readRolloutPolicy(group.tags);
  const who = `${plan.cluster}/${plan.group}`;
  const image = describeImage(plan.to);
  const approval = plan.mode === 'approve' || input.approvalRequired === true;
  const wouldDo: string[] = [];
  const template = group.launchTemplate ? `launch template ${group.launchTemplate.id}` : undefined;
  const newVersion = template ? `CreateLaunchTemplateVersion of ${template} from version ${group.launchTemplate!.version} with ImageId ${plan.to.imageId} (and user data for it)` : undefined;

  let update: RolloutObserved['update'];
  let batches: RolloutObserved['batches'];
  let maxUnavailable = String(policy.maxUnavailable);
  if (group.kind === 'managed') {
    update = 'eks-update';
    if (group.imageId && newVersion) wouldDo.push(newVersion, `UpdateNodegroupVersion ${who} onto that launch template version`);
    else wouldDo.push(`UpdateNodegroupVersion ${who} to release ${plan.to.release ?? plan.to.imageId}`);
    wouldDo.push(`EKS replaces the nodes (${policy.strategy === 'minimal' ? 'MINIMAL' : 'DEFAULT'} update strategy, max unavailable ${maxUnavailable})`);
  } else if (policy.selfManagedStrategy === 'instance-refresh') {
    update = 'instance-refresh';
    if (newVersion) wouldDo.push(newVersion);
    wouldDo.push(`StartInstanceRefresh on ${group.autoScalingGroup ?? group.name} with that launch template version`);
  } else {
    update = 'batches';
    if (newVersion) wouldDo.push(newVersion, `UpdateAutoScalingGroup ${group.autoScalingGroup ?? group.name} to launch that version`);
    const planned = planBatches(input.instances, policy, input.now, group.size ? { groupSize: group.size.desired } : {});
    if (planned.decision === 'roll') {
      maxUnavailable = String(planned.maxUnavailable);
      batches = planned.batches.map((b) => ({ canary: b.canary, instances: b.nodes.map((n) => ({ instanceId: n.instanceId, availabilityZone: n.availabilityZone })) }));
      planned.batches.forEach((b, i) => {
        const ids = b.nodes.map((n) => n.instanceId).join(', ');
        const order = b.launchFirst ? 'launch replacements, then cordon, drain and terminate' : 'cordon, drain and terminate, then launch replacements';
        wouldDo.push(`batch ${i + 1} of ${planned.batches.length}${b.canary ? ' (canary)' : ''}: ${order} ${ids}`);
      });
    } else {
      batches = [];
      wouldDo.push(`no instance to replace: ${planned.reason}`);
    }
  }

  const start = decideStart({ ...(policy.window ? { window: policy.window } : {}), now: input.now, startedBy: input.startedBy ?? 'detection', ...(input.startNow ? { startNow: true } : {}) });
  const window =
    start.decision === 'start'
      ? !policy.window
        ? 'now'
        : windowState(policy.window, input.now).open
          ? `now (maintenance window "${policy.window.text}" is open)`
          : `now (--now: outside the maintenance window "${policy.window.text}")`
      : start.decision === 'wait-until'
        ? `waits for the maintenance window "${policy.window!.text}", opening ${start.at.toISOString()}`
        : `refused: ${start.reason}`;
  const when = start.decision === 'start' ? (approval ? 'after approval' : 'now') : start.decision === 'wait-until' ? `at ${start.at.toISOString()}${approval ? ', after approval' : ''}` : 'not (outside its window)';
  return {
    mode: 'observe',
    observedBy: input.observedBy,
    cluster: plan.cluster,
    group: plan.group,
    groupKind: group.kind,
    trigger: input.trigger,
    from: plan.from,
    target: plan.to,
    reason: plan.reason,
    update,
    ...(batches ? { batches } : {}),
    maxUnavailable,
    window,
    approval,
    wouldDo,
    summary: `observe mode: would roll ${who} from ${plan.from.release ?? plan.from.imageId ?? 'unknown'} to ${image} ${when}${batches ? ` in ${batches.length} batch${batches.length === 1 ? '' : 'es'}` : ''}; nothing was changed`,
    at: input.now.toISOString(),
  };
}
