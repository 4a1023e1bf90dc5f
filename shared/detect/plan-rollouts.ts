import { createHash } from 'node:crypto';
import type { NodeGroupPolicy } from '../config/node-group-policy.js';
import { type ObservedBy, observedBy } from '../config/observe.js';
import type { ServiceMode } from '../config/service-config.js';
import type { Place } from '../aws/places.js';
import { type GroupView, placeFieldsOf } from './inventory.js';
import { type Release, releaseKey } from '../fleet/release.js';
import type { RingMembership } from '../fleet/ring-membership.js';

/**
 * What detection decides for one node group (pure): leave it (not opted in, nothing to
 * target), it is current, or roll it from the image it runs to the target. The plan is what
 * a dry run shows, and what chat and the CLI will render.
 */
export interface TargetImage {
  imageId: string;
  imageName?: string;
  release?: string;
  /** who owns the image, as EC2 reports it: shown wherever a person decides on it */
  ownerId?: string;
  ownerAlias?: string;
}

/** What every plan carries: the group, and what its tags got wrong or were read generously for. */
interface PlanBase {
  /** the member account and region the group lives in; absent: the hub's own (placeFieldsOf) */
  accountId?: string;
  region?: string;
  cluster: string;
  group: string;
  kind: GroupView['kind'];
  /** the group's configuration problems, as shown to people (config/node-group-config.ts) */
  problems?: string[];
  /** values accepted in another spelling (`rollout=Auto` read as `auto`) */
  notes?: string[];
  /**
   * Fleet promotion: the group's ring, for a group in one (or whose ring tag is wrong) only
   * (fleet/ring-membership.ts); a group in none is planned as it always was.
   */
  ring?: Exclude<RingMembership, { kind: 'none' }>;
  /**
   * The release the group's target is (fleet/release.ts), whenever the target names one, in a
   * ring or not: its promotion decides when a ring group may start, and a hold of it stops
   * every group (fleet/may-start.ts). Absent: an image no release names (only freezes apply).
   */
  release?: Release;
}

/** Why a group is not rolled, in one word (metrics count groups by it). */
export type SkipWhy = 'off' | 'configuration' | 'no-target' | 'untrusted';

export type GroupPlan =
  /** `untrusted`: the target's owner is not one the group trusts (a refusal, not just nothing to do) */
  | (PlanBase & { action: 'skip'; reason: string; why: SkipWhy; untrusted?: { imageId: string; owner: string } })
  | (PlanBase & { action: 'current'; reason: string })
  | (PlanBase & {
      action: 'roll';
      mode: 'auto' | 'approve';
      from: { imageId?: string; release?: string };
      to: TargetImage;
      reason: string;
      /** only planned and reported (config/observe.ts): by the service's mode, or the group's rollout=observe */
      observe?: ObservedBy;
    });

export function planGroup(
  group: GroupView,
  input: {
    rollout: NodeGroupPolicy['rollout'];
    /** the service's mode (default act) */
    serviceMode?: ServiceMode;
    currentRelease?: string;
    target: { decision: 'target'; image: TargetImage; release?: Release; reason: string } | { decision: 'none'; reason: string } | { decision: 'untrusted'; image: { imageId: string; owner: string }; reason: string };
    /** the group's ring (fleet promotion); none or absent: planned as it always was */
    ring?: RingMembership;
    /** what the group's kubernetes-version policy decided, when worth saying (a new minor; a pinned group behind) */
    kubernetesNote?: string;
    /** problems in settings that govern rollouts: the group is not rolled until they are fixed */
    blockers?: string[];
    problems?: string[];
    notes?: string[];
  },
): GroupPlan {
  const base: PlanBase = {
    ...placeFieldsOf(group),
    cluster: group.cluster,
    group: group.name,
    kind: group.kind,
    ...(input.problems?.length ? { problems: input.problems } : {}),
    ...(input.notes?.length ? { notes: input.notes } : {}),
    ...(input.ring && input.ring.kind !== 'none' ? { ring: input.ring } : {}),
    ...(input.target.decision === 'target' && input.target.release ? { release: input.target.release } : {}),
  };
  if (input.rollout === 'off') return { ...base, action: 'skip', why: 'off', reason: 'rollouts are off for this group (tag eks-node-lifecycle/rollout=auto|approve to opt in, or observe to see what a rollout would do)' };
  // never a fall back to a default that may be riskier than what was meant (a mistyped soak rolling the newest image)
  if (input.blockers?.length) return { ...base, action: 'skip', why: 'configuration', reason: `not rolled until its configuration is fixed: ${input.blockers.join('; ')}` };
  if (input.target.decision === 'none') return { ...base, action: 'skip', why: 'no-target', reason: input.target.reason };
  if (input.target.decision === 'untrusted') return { ...base, action: 'skip', why: 'untrusted', reason: input.target.reason, untrusted: { imageId: input.target.image.imageId, owner: input.target.image.owner } };
  const to = input.target.image;
  // a managed group without a custom AMI is compared by release; anything else by image id
  const current = group.imageId ? group.imageId === to.imageId : input.currentRelease !== undefined && input.currentRelease === to.release;
  const note = input.kubernetesNote ? `; ${input.kubernetesNote}` : '';
  if (current) return { ...base, action: 'current', reason: `already runs ${to.release ?? to.imageId}${note}` };
  const observe = observedBy(input.serviceMode ?? 'act', input.rollout);
  return {
    ...base,
    action: 'roll',
    mode: input.rollout === 'approve' ? 'approve' : 'auto',
    ...(observe ? { observe } : {}),
    from: { ...(group.imageId ? { imageId: group.imageId } : {}), ...(input.currentRelease ? { release: input.currentRelease } : {}) },
    to,
    reason: `${input.target.reason}${note}`,
  };
}

/**
 * One execution per (place, cluster, group, target image): detection that runs again — on a
 * schedule, or on the next AMI event — finds the name taken and starts nothing new.
 *
 * `place`: the member place the group lives in; absent for the hub's own, whose names are
 * what they were before member accounts (an execution in flight during an upgrade keeps its
 * name). A member's name starts `roll-<8 hex of its place>-` and its final 12-hex hash covers
 * the place too: `prod/ng` in two places are two names, and neither is the hub's. Names keep
 * to Step Functions' rules (≤ 80 characters of
 * `[A-Za-z0-9_-]`, https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-name).
 */
export function rolloutExecutionName(cluster: string, group: string, target: TargetImage, place?: Place): string {
  const slug = (s: string, n: number) => s.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, n);
  const digest = (text: string, n: number) => createHash('sha256').update(text).digest('hex').slice(0, n);
  if (!place) return `roll-${slug(cluster, 20)}-${slug(group, 24)}-${slug(target.imageId, 21)}-${digest(`${cluster}\n${group}\n${target.imageId}`, 12)}`.slice(0, 80);
  const where = `${place.accountId}/${place.region}`;
  // roll- (5) + place (9) + cluster (12) + - + group (18) + - + ami-… (21) + - + hash (12) = 80: the slugs give way to the place
  return `roll-${digest(where, 8)}-${slug(cluster, 12)}-${slug(group, 18)}-${slug(target.imageId, 21)}-${digest(`${where}\n${cluster}\n${group}\n${target.imageId}`, 12)}`.slice(0, 80);
}

/** The place a rollout request names (its placeFields), for rolloutExecutionName: undefined for the hub's own. */
export function memberPlaceOf(request: { accountId?: string | undefined; region?: string | undefined }): Place | undefined {
  return request.accountId && request.region ? { accountId: request.accountId, region: request.region } : undefined;
}

/**
 * The ami-rollout input for a group's plan to roll: what detection starts, and what a
 * person's `rollout` starts with their name, choices and overrides on top. A target that names
 * a release carries it (and the group's ring): the rollout asks at each batch boundary whether
 * the release is held or a freeze covers the group, and records its outcome for the promotion.
 */
export function rolloutInputOf(
  group: Pick<GroupView, 'kind' | 'name' | 'autoScalingGroup' | 'launchTemplate' | 'place' | 'home'>,
  plan: Extract<GroupPlan, { action: 'roll' }>,
): {
  accountId?: string;
  region?: string;
  cluster: string;
  group: { kind: GroupView['kind']; name: string; autoScalingGroup?: string; launchTemplate?: { id: string; version: number } };
  target: TargetImage;
  from: { imageId?: string; release?: string };
  mode: 'auto' | 'approve';
  fleet?: { release: string; ring?: string };
} {
  return {
    // a member's place; nothing for the hub's own, whose inputs stay byte for byte what they were
    ...placeFieldsOf(group),
    cluster: plan.cluster,
    group: {
      kind: group.kind,
      name: group.name,
      ...(group.autoScalingGroup ? { autoScalingGroup: group.autoScalingGroup } : {}),
      ...(group.launchTemplate ? { launchTemplate: group.launchTemplate } : {}),
    },
    target: plan.to,
    from: plan.from,
    mode: plan.mode,
    ...(plan.release ? { fleet: { release: releaseKey(plan.release), ...(plan.ring?.kind === 'ring' ? { ring: plan.ring.ring } : {}) } } : {}),
  };
}
