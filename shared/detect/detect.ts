import type { AwsScope } from '../aws/clients.js';
import { type Place, placeKey } from '../aws/places.js';
import type { FleetPlace } from '../config/member-accounts.js';
import { MemberAccessError } from '../errors.js';
import { MEMBER_UNREACHABLE, type UnreachablePlace } from '../events/member-unreachable.js';
import { mapBounded } from '../map-bounded.js';
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
import { attachImages, type ClusterView, type GroupRef, type GroupView, listClusters, listGroups, type PlaceAt, placeFieldsOf } from './inventory.js';
import { observeRollout } from './observe-rollout.js';
import type { FleetRecords } from '../aws/fleet-records.js';
import type { FleetView } from '../fleet/may-start.js';
import type { PromotionPolicy } from '../fleet/promotion-policy.js';
import { newPromotion } from '../fleet/promotion-state.js';
import { promotionExecutionName } from '../fleet/release.js';
import { type DeferredRollout, deferredOf, releasesToPromote, ringProblemOf, type RollPlan, startVerdictOf } from './fleet-gate.js';
import { RING_TAG, ringOf } from '../fleet/ring-membership.js';
import { type GroupPlan, planGroup, rolloutExecutionName, rolloutInputOf } from './plan-rollouts.js';
import { detectionImageSource, targetForGroup } from './target-for-group.js';

/** One place's planning: its scope, its managed clusters, where it is (absent: the hub's own). */
export interface DetectPorts {
  aws: AwsScope;
  managedClusters: ManagedClusters;
  at?: PlaceAt;
  amiRolloutStateMachineArn: string;
  /** the service's mode (config/observe.ts); act when not given */
  mode?: ServiceMode;
  /** the promotion policy (fleet promotion), read for this detection: which rings a ring tag may name; absent, none is configured */
  promotionPolicy?: PromotionPolicy;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/**
 * Every place of the fleet: a scope per place (PlaceScopes, one per function: member
 * credentials cached and budgets kept across places and invocations) and the places, hub first
 * (config/member-accounts.ts fleetPlaces).
 */
export interface FleetPorts {
  places: { scopeOf(place?: Partial<Place>): AwsScope };
  fleet: readonly FleetPlace[];
  mode?: ServiceMode;
  promotionPolicy?: PromotionPolicy;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/**
 * Detection's own: it announces configuration problems (claim, publish, release), which chat's
 * plan does not, and reports the rollouts it only observes (`Rollout Observed`). `aws` is the
 * hub's own scope: the rollout state machine, the bus and the tables are the hub's.
 */
export interface DetectionPorts extends FleetPorts {
  aws: AwsScope;
  amiRolloutStateMachineArn: string;
  announce: Omit<AnnouncePorts, 'log'>;
  publish: PublishServiceEvent;
  /** the debounce windows of AMI events (detection-windows.ts): a debounced detection reads its groups there */
  windows: Pick<DetectionWindows, 'close'>;
  /**
   * Fleet promotion: the fleet table (promotions and freezes, read once per detection that
   * finds a stale group; where a release's promotion is recorded) and the promotion workflow
   * (one execution per release). Absent: no promotion and no freeze is known, so groups in no
   * ring start as always and ring groups wait (no promotion ever reaches them).
   */
  promotions?: { records: Pick<FleetRecords, 'fleetView' | 'createPromotion'>; stateMachineArn: string };
}

/** What detection did about a release's promotion: begun (or found begun by a concurrent run), or only reported (observe mode, dry run). */
export interface PromotionBegun {
  release: string;
  executionName: string;
  outcome: 'begun' | 'already-begun' | 'observed' | 'dry-run';
}

export interface DetectionResult {
  trigger: string;
  dryRun: boolean;
  plans: GroupPlan[];
  /** a member's rollouts say where (accountId, region); the hub's do not */
  started: { accountId?: string; region?: string; cluster: string; group: string; executionName: string; alreadyRunning: boolean }[];
  /** member places this detection could not read (each once); the others were detected */
  unreachable?: UnreachablePlace[];
  /** rollouts planned and reported, not started (observe mode: the service's, or the group's tag) */
  observed?: RolloutObserved[];
  /** stale groups not started: a freeze covers them, their release is held, or their ring's turn has not come (fleet promotion) */
  deferred?: DeferredRollout[];
  /** promotions of releases ring groups roll to that had none */
  promotions?: PromotionBegun[];
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
  /** these groups only (an AMI event's debounced detection); planGroups reads those of its own place */
  groups?: readonly GroupRef[];
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
  const here = ports.at ?? { place: { accountId: ports.aws.accountId ?? '', region: ports.aws.region }, home: true };
  const mine = scope.groups?.filter((g) => isOf(here, g));
  const only = mine ? new Set(mine.map((g) => `${g.cluster}/${g.group}`)) : undefined;
  const clusters: ClusterView[] = mine
    ? (await Promise.all([...new Set(mine.map((g) => g.cluster))].map((name) => listClusters(ports, name)))).flat()
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
    // a ring the policy does not have stops the group's rollouts, as a misspelt tag does: never read as "no ring" (every release at once)
    const ring = ringOf(group.tags, group.clusterRing !== undefined ? { [RING_TAG]: group.clusterRing } : {}, ports.promotionPolicy);
    const blockers = [...rolloutBlockers(config).map(describeProblem), ...(ring.kind === 'misconfigured' ? [ring.problem] : [])];
    // the opt-in tag holds even for a person naming the image: it is also what IAM allows this
    // service to change (Auto Scaling and EKS writes are conditioned on it), so a group that is
    // not opted in is reported as such rather than failing half-way on AccessDenied
    const rollout = config.policy.rollout === 'off' && scope.asIfOptedIn ? 'auto' : config.policy.rollout;
    const minor = minors.get(group)!;
    const target = rollout === 'off' || blockers.length > 0 ? { decision: 'none' as const, reason: 'not resolved' } : await targetForGroup({ images, ssm }, group, minor.minor, now);
    const notes = [...config.notes, ...(ring.kind === 'ring' && ring.note ? [ring.note] : [])];
    plans.push(planGroup(group, { rollout, serviceMode: ports.mode ?? 'act', currentRelease: group.releaseVersion, target, blockers, problems, notes, ring, ...(minor.note ? { kubernetesNote: minor.note } : {}) }));
  }
  return { groups, plans };
}

/** Whether a group named on the wire (placeFields: absent, the hub's own) is of this place. */
function isOf(at: PlaceAt, ref: { accountId?: string | undefined; region?: string | undefined }): boolean {
  const where = placeFieldsOf(at);
  return ref.accountId === where.accountId && ref.region === where.region;
}

/**
 * Places planned at once. Each place's calls are paced by its own budget (aws/request-budget.ts),
 * so more places at once would not overload any account; what bounds them is the function: its
 * memory (each place's inventory is held until its plans are made) and its sockets (the SDK keeps
 * up to 50 per client, one client per service and place). A paced place of 1,000 groups takes
 * about 100 s (its 1,000 DescribeNodegroup at 10 a second): eight at once keep a fleet of eight
 * such account-regions within one round of the function's timeout, and 512 MB holds them.
 */
export const PLACES_AT_ONCE = 8;

/**
 * Detections that may run at once: detectStaleGroups' reserved concurrency in serverless.yml (the
 * schedule and one AMI event's window; a test holds the two equal). Each takes this part of the
 * API budget, so that two at once still keep every account-region within its share.
 */
export const DETECTIONS_AT_ONCE = 2;

/**
 * The errors that say a member place cannot be read at all (not a fault of one call): AssumeRole
 * refused (MemberAccessError), or the member's first calls denied — an SCP or a role without the
 * permission (EC2 `UnauthorizedOperation`, Auto Scaling `AccessDenied`, EKS and SSM
 * `AccessDeniedException`), or credentials the service does not accept there.
 */
const UNREACHABLE_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthFailure', 'UnrecognizedClientException', 'InvalidClientTokenId']);

export function unreachableReason(error: unknown): string | undefined {
  if (error instanceof MemberAccessError) return error.message;
  const name = (error as Error | undefined)?.name ?? '';
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (UNREACHABLE_CODES.has(name)) return `${name}: ${(error as Error).message}`;
  return cause !== undefined && cause !== error ? unreachableReason(cause) : undefined;
}

/**
 * planGroups in every place of the fleet, at most PLACES_AT_ONCE places at a time, each in its
 * own scope (its member role's credentials, its budget) with its own cluster allow-list. A
 * member place that cannot be read is reported (`unreachable`, once per place) and the others
 * go on; the hub's own place fails the detection as it always has (its role is the
 * deployment's). `places`: only these (a person's `detect` naming a place).
 */
export async function planFleet(ports: FleetPorts, scope: PlanScope = {}, only?: Partial<Place>): Promise<{ groups: GroupView[]; plans: GroupPlan[]; unreachable: UnreachablePlace[] }> {
  const wanted = ports.fleet.filter(
    (at) => (!only?.accountId || at.place.accountId === only.accountId) && (!only?.region || at.place.region === only.region) && (!scope.groups || scope.groups.some((g) => isOf(at, g))),
  );
  const done = await mapBounded(wanted, PLACES_AT_ONCE, async (at) => {
    try {
      return await planGroups({ aws: ports.places.scopeOf(at.place), managedClusters: at.clusters, at, ...(ports.mode ? { mode: ports.mode } : {}), ...(ports.promotionPolicy ? { promotionPolicy: ports.promotionPolicy } : {}), now: ports.now, log: ports.log }, scope);
    } catch (error) {
      const reason = at.home ? undefined : unreachableReason(error);
      if (reason === undefined) throw error;
      ports.log('member place unreachable', { place: placeKey(at.place), reason });
      return { unreachable: { accountId: at.place.accountId, region: at.place.region, reason: reason.slice(0, 1000) } };
    }
  });
  return {
    groups: done.flatMap((d) => ('groups' in d ? d.groups : [])),
    plans: done.flatMap((d) => ('plans' in d ? d.plans : [])),
    unreachable: done.flatMap((d) => ('unreachable' in d ? [d.unreachable] : [])),
  };
}

/**
 * Fleet promotion's part of a detection, before any rollout starts: the fleet table read once
 * (two Queries: promotions, freezes), a promotion begun for each release a ring group rolls to
 * that has none (recorded, then its execution started under the release's name: a detection
 * that runs again, or a retry, finds both and starts nothing new; observe mode and dry runs only
 * report it), then mayStart per stale group. What may not start is reported (`deferred`, the
 * log, and a note on the plan a dry run shows); the plans that may are returned to be started.
 */
async function gateOnFleet(rolls: RollPlan[], dryRun: boolean, now: Date, ports: DetectionPorts, result: DetectionResult): Promise<Set<RollPlan>> {
  if (rolls.length === 0) return new Set();
  let view: FleetView = ports.promotions ? await ports.promotions.records.fleetView() : { promotions: [], freezes: [] };
  for (const { key, release, acted } of releasesToPromote(rolls, view)) {
    const executionName = promotionExecutionName(release);
    const report = (outcome: PromotionBegun['outcome']) => (result.promotions ??= []).push({ release: key, executionName, outcome });
    if (dryRun) report('dry-run');
    else if (!acted) report('observed');
    else if (ports.promotions && ports.promotionPolicy) {
      const state = newPromotion(release, ports.promotionPolicy, now);
      // recorded first: the workflow's first step reads it (and creates it if a retry lost it)
      const created = await ports.promotions.records.createPromotion(state, now.toISOString());
      const started = await startExecutionOnce(ports.aws, ports.promotions.stateMachineArn, executionName, { key });
      report(created || started.started ? 'begun' : 'already-begun');
      view = { ...view, promotions: [...view.promotions, state] };
    }
    ports.log('promotion', { release: key, executionName, outcome: result.promotions?.at(-1)?.outcome ?? 'not configured' });
  }
  const deferred = new Set<RollPlan>();
  for (const plan of rolls) {
    const verdict = startVerdictOf(plan, view);
    if (verdict.verdict === 'allowed') continue;
    const why = deferredOf(plan, verdict);
    deferred.add(plan);
    (result.deferred ??= []).push(why);
    plan.notes = [...(plan.notes ?? []), `not started now: ${verdict.reason}`];
    ports.log('rollout deferred', { ...why });
  }
  return deferred;
}

/**
 * Detection: which opted-in node groups run an image older than their channel's target.
 * 1. what triggered it: the schedule or a person (every group, or the one asked for), or an
 *    AMI event's debounce window (only the groups its images could move: screen-image-event.ts);
 * 2. in every place of the fleet (planFleet: a few places at once, each at its own API budget;
 *    a member that cannot be reached is reported, and the others go on), the inventory —
 *    clusters, managed and self-managed groups, their current images (one DescribeImages per
 *    place);
 * 3. per group: policy (tags) → identity → target (SSM public parameters, cached per
 *    invocation and fetched ten at a time; or the group's custom AMI selector) → plan (pure);
 * 4. fleet promotion (gateOnFleet): a promotion begun for each release a ring group rolls to
 *    that has none; a stale group under a freeze, of a held release, or in a ring its release's
 *    promotion has not reached (or is rolling itself) is deferred, not started;
 * 5. unless it is a dry run, one ami-rollout per stale group not deferred, named after (cluster, group,
 *    target image): detecting again starts nothing new; a group observed (the service's mode,
 *    or its rollout=observe) gets a `Rollout Observed` event instead, with the batches of the
 *    instances it runs now: no execution, no lock, no write;
 * 6. unless it is a dry run (whose plans show them), a `Node Group Configuration Problem`
 *    event for each problem of a group's tags not announced before, and one `Member Accounts
 *    Unreachable` event naming the member places it could not read.
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
    ports.log('debounced detection', { window: trigger.window, images: window.images, groups: window.groups.map((g) => [g.accountId, g.region, g.cluster, g.group].filter(Boolean).join('/')) });
    scope = { groups: window.groups };
  }

  const only = trigger.kind === 'detect' ? { ...(trigger.accountId ? { accountId: trigger.accountId } : {}), ...(trigger.region ? { region: trigger.region } : {}) } : undefined;
  const { groups, plans, unreachable } = await planFleet(ports, scope, only);
  result.plans.push(...plans);
  if (unreachable.length > 0) result.unreachable = unreachable;

  const now = ports.now();
  const rolls = result.plans.filter((p): p is RollPlan => p.action === 'roll');
  const deferred = await gateOnFleet(rolls, dryRun, now, ports, result);
  if (!dryRun) {
    for (const plan of rolls) {
      if (deferred.has(plan)) continue;
      const group = groups.find((g) => g.cluster === plan.cluster && g.name === plan.group && isOf(g, plan))!;
      if (plan.observe) {
        const instances = group.kind === 'self-managed' && group.autoScalingGroup ? await describeGroupMembers(ports.places.scopeOf(group.place), group.autoScalingGroup) : [];
        const observed = observeRollout({ group, plan, observedBy: plan.observe, trigger: kind, instances, now });
        const event = observedEvent('rollout', observed);
        await ports.publish(event.detailType, event.detail);
        (result.observed ??= []).push(event.detail);
        continue;
      }
      const executionName = rolloutExecutionName(plan.cluster, plan.group, plan.to, group.home ? undefined : group.place);
      const input: RolloutRequest = { ...rolloutInputOf(group, plan), detectedAt: now.toISOString() };
      const started = await startExecutionOnce(ports.aws, ports.amiRolloutStateMachineArn, executionName, input);
      result.started.push({ ...placeFieldsOf(group), cluster: plan.cluster, group: plan.group, executionName, alreadyRunning: !started.started });
    }
    const planOf = (g: GroupView) => result.plans.find((p) => p.cluster === g.cluster && p.group === g.name && isOf(g, p));
    const found = groups.map((group) => ({ group, problems: [...readNodeGroupConfig(group.tags).problems, ...ringProblemOf(planOf(group))] }));
    result.problemsAnnounced = await announceProblems(found, { ...ports.announce, log: ports.log });
    if (unreachable.length > 0) await ports.publish(MEMBER_UNREACHABLE, { trigger: kind, at: now.toISOString(), unreachable: unreachable.slice(0, 200) });
  }
  ports.log('detection', {
    trigger: kind,
    dryRun,
    groups: result.plans.length,
    stale: result.plans.filter((p) => p.action === 'roll').length,
    started: result.started.filter((s) => !s.alreadyRunning).length,
    observed: result.observed?.length ?? 0,
    deferred: deferred.size,
    promotions: result.promotions?.map((p) => `${p.release} ${p.outcome}`) ?? [],
    unreachable: unreachable.map((u) => placeKey(u)),
  });
  return result;
}
