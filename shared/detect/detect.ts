import type { AwsScope } from '../aws/clients.js';
import { identifyImage, identityFromAmiType } from '../ami/ami-family.js';
import { decideKubernetesMinor, type KubernetesMinorDecision } from '../ami/kubernetes-version.js';
import { CHANNEL_TAG } from '../ami/resolve-target.js';
import { parameterNamesFor, SsmParameterCache } from '../ami/ssm-parameters.js';
import { describeGroupMembers } from '../aws/group-members.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import type { ServiceMode } from '../config/service-config.js';
import { observedEvent, type RolloutObserved } from '../events/observed.js';
import { describeProblem, readNodeGroupConfig, rolloutBlockers } from '../config/node-group-config.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import type { DetectionTrigger } from '../events/detection.js';
import type { RolloutRequest } from '../events/rollout.js';
import type { PublishServiceEvent } from '../events/service-events.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import { type AnnouncePorts, announceProblems } from './announce-problems.js';
import type { DetectionWindows } from './detection-windows.js';
import { attachImages, type ClusterView, type GroupView, listClusters, listGroups } from './inventory.js';
import { observeRollout } from './observe-rollout.js';
import { type GroupPlan, planGroup, rolloutExecutionName, rolloutInputOf } from './plan-rollouts.js';
import { detectionImageSource, targetForGroup } from './target-for-group.js';

export interface DetectPorts {
  aws: AwsScope;
  managedClusters: ManagedClusters;
  amiRolloutStateMachineArn: string;
  /** the service's mode (config/observe.ts); act when not given */
  mode?: ServiceMode;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/**
 * Detection's own: it announces configuration problems (claim, publish, release), which chat's
 * plan does not, and reports the rollouts it only observes (`Rollout Observed`).
 */
export interface DetectionPorts extends DetectPorts {
  announce: Omit<AnnouncePorts, 'log'>;
  publish: PublishServiceEvent;
  /** the debounce windows of AMI events (detection-windows.ts): a debounced detection reads its groups there */
  windows: Pick<DetectionWindows, 'close'>;
}

export interface DetectionResult {
  trigger: string;
  dryRun: boolean;
  plans: GroupPlan[];
  started: { cluster: string; group: string; executionName: string; alreadyRunning: boolean }[];
  /** rollouts planned and reported, not started (observe mode: the service's, or the group's tag) */
  observed?: RolloutObserved[];
  /** configuration problems published as events by this run (each problem once, whichever run finds it first) */
  problemsAnnounced?: number;
  ignored?: string;
}

function parameterNamesOfGroup(group: GroupView, minor: string): string[] {
  const identity = group.image ? identifyImage(group.image) : identityFromAmiType(group.amiType, minor);
  if (!identity) return [];
  const names = parameterNamesFor({ ...identity, kubernetesVersion: minor || identity.kubernetesVersion });
  return [names.imageId, ...(names.release ? [names.release] : [])];
}

/** The minor a group's next image is for: its own, or the next toward the control plane's (its kubernetes-version tag). */
function minorOfGroup(group: GroupView): KubernetesMinorDecision {
  const { policy } = readNodeGroupPolicy(group.tags);
  return decideKubernetesMinor({ groupVersion: group.kubernetesVersion, controlPlaneVersion: group.controlPlaneVersion, policy: policy.kubernetesVersion });
}

export interface PlanScope {
  cluster?: string;
  group?: string;
  /** these groups only (an AMI event's debounced detection) */
  groups?: readonly { cluster: string; group: string }[];
  /**
   * a person's choice of image instead of the group's channel tag: `recommended` (the
   * latest), or `pinned=<release|ami-…>`; the rollout policy then need not be opted in
   */
  channel?: string;
  /** plan a group whose rollouts are off as if it were opted in: does its channel resolve? (doctor; never used to start anything) */
  asIfOptedIn?: boolean;
}

/**
 * What detection would do, group by group, read only: the inventory (clusters, managed and
 * self-managed groups, their current images in one DescribeImages), then per group its
 * policy (tags) → the Kubernetes minor (kubernetes-version: pinned, or one minor toward the
 * control plane's) → identity → target (SSM public parameters, fetched ten at a time and
 * cached for this call; or the group's custom AMI selector) → plan (pure). Chat's `plan`
 * and `rollout` ask the same question.
 */
export async function planGroups(ports: Omit<DetectPorts, 'amiRolloutStateMachineArn'>, scope: PlanScope = {}): Promise<{ groups: GroupView[]; plans: GroupPlan[] }> {
  const only = scope.groups ? new Set(scope.groups.map((g) => `${g.cluster}/${g.group}`)) : undefined;
  const clusters: ClusterView[] = scope.groups
    ? (await Promise.all([...new Set(scope.groups.map((g) => g.cluster))].map((name) => listClusters(ports, name)))).flat()
    : await listClusters(ports, scope.cluster);
  const groups = (await Promise.all(clusters.map((c) => listGroups(ports, c, only ? (name) => only.has(`${c.name}/${name}`) : undefined))))
    .flat()
    .filter((g) => (!scope.group || g.name === scope.group) && (!only || only.has(`${g.cluster}/${g.name}`)));
  if (scope.channel) for (const g of groups) g.tags = { ...g.tags, [CHANNEL_TAG]: scope.channel };
  await attachImages(ports.aws, groups);

  const ssm = new SsmParameterCache(ports.aws);
  const images = detectionImageSource(ports.aws, groups.flatMap((g) => (g.image ? [g.image] : [])));
  const minors = new Map(groups.map((g) => [g, minorOfGroup(g)]));
  // every public parameter any group needs, in batches of ten, before the groups ask one by one
  await ssm.get([...new Set(groups.flatMap((g) => parameterNamesOfGroup(g, minors.get(g)!.minor)))]);
  const now = ports.now();
  const plans: GroupPlan[] = [];
  for (const group of groups) {
    const config = readNodeGroupConfig(group.tags);
    const problems = config.problems.map(describeProblem);
    if (problems.length > 0) ports.log('node group configuration problems', { cluster: group.cluster, group: group.name, problems });
    const blockers = rolloutBlockers(config).map(describeProblem);
    // the opt-in tag holds even for a person naming the image: it is also what IAM allows this
    // service to change (Auto Scaling and EKS writes are conditioned on it), so a group that is
    // not opted in is reported as such rather than failing half-way on AccessDenied
    const rollout = config.policy.rollout === 'off' && scope.asIfOptedIn ? 'auto' : config.policy.rollout;
    const minor = minors.get(group)!;
    const target = rollout === 'off' || blockers.length > 0 ? { decision: 'none' as const, reason: 'not resolved' } : await targetForGroup({ images, ssm }, group, minor.minor, now);
    plans.push(planGroup(group, { rollout, serviceMode: ports.mode ?? 'act', currentRelease: group.releaseVersion, target, blockers, problems, notes: config.notes, ...(minor.note ? { kubernetesNote: minor.note } : {}) }));
  }
  return { groups, plans };
}

/**
 * Detection: which opted-in node groups run an image older than their channel's target.
 * 1. what triggered it: the schedule or a person (every group, or the one asked for), or an
 *    AMI event's debounce window (only the groups its images could move: screen-image-event.ts);
 * 2. the inventory — clusters, managed and self-managed groups, their current images
 *    (one DescribeImages for all);
 * 3. per group: policy (tags) → identity → target (SSM public parameters, cached per
 *    invocation and fetched ten at a time; or the group's custom AMI selector) → plan (pure);
 * 4. unless it is a dry run, one ami-rollout per stale group, named after (cluster, group,
 *    target image): detecting again starts nothing new; a group observed (the service's mode,
 *    or its rollout=observe) gets a `Rollout Observed` event instead, with the batches of the
 *    instances it runs now: no execution, no lock, no write;
 * 5. unless it is a dry run (whose plans show them), a `Node Group Configuration Problem`
 *    event for each problem of a group's tags not announced before.
 */
export async function detectStaleGroups(trigger: DetectionTrigger, ports: DetectionPorts): Promise<DetectionResult> {
  const kind = trigger.kind;
  const dryRun = trigger.kind === 'detect' ? trigger.dryRun : false;
  const result: DetectionResult = { trigger: kind, dryRun, plans: [], started: [] };
  let scope: PlanScope = trigger.kind === 'detect' ? { ...(trigger.cluster ? { cluster: trigger.cluster } : {}), ...(trigger.group ? { group: trigger.group } : {}) } : {};
  if (trigger.kind === 'debounced-detection') {
    // the groups the window's AMI events could move (screen-image-event.ts), read once
    const window = await ports.windows.close(trigger.window, ports.now());
    if (window.groups.length === 0) {
      ports.log('detection ignored', { trigger: kind, window: trigger.window });
      return { ...result, ignored: `detection window ${trigger.window} holds no node group` };
    }
    ports.log('debounced detection', { window: trigger.window, images: window.images, groups: window.groups.map((g) => `${g.cluster}/${g.group}`) });
    scope = { groups: window.groups };
  }

  const { groups, plans } = await planGroups(ports, scope);
  result.plans.push(...plans);

  const now = ports.now();
  if (!dryRun) {
    for (const plan of result.plans) {
      if (plan.action !== 'roll') continue;
      const group = groups.find((g) => g.cluster === plan.cluster && g.name === plan.group)!;
      if (plan.observe) {
        const instances = group.kind === 'self-managed' && group.autoScalingGroup ? await describeGroupMembers(ports.aws, group.autoScalingGroup) : [];
        const observed = observeRollout({ group, plan, observedBy: plan.observe, trigger: kind, instances, now });
        const event = observedEvent('rollout', observed);
        await ports.publish(event.detailType, event.detail);
        (result.observed ??= []).push(event.detail);
        continue;
      }
      const executionName = rolloutExecutionName(plan.cluster, plan.group, plan.to);
      const input: RolloutRequest = { ...rolloutInputOf(group, plan), detectedAt: now.toISOString() };
      const started = await startExecutionOnce(ports.aws, ports.amiRolloutStateMachineArn, executionName, input);
      result.started.push({ cluster: plan.cluster, group: plan.group, executionName, alreadyRunning: !started.started });
    }
    const found = groups.map((group) => ({ group, problems: readNodeGroupConfig(group.tags).problems }));
    result.problemsAnnounced = await announceProblems(found, { ...ports.announce, log: ports.log });
  }
  ports.log('detection', {
    trigger: kind,
    dryRun,
    groups: result.plans.length,
    stale: result.plans.filter((p) => p.action === 'roll').length,
    started: result.started.filter((s) => !s.alreadyRunning).length,
    observed: result.observed?.length ?? 0,
  });
  return result;
}
