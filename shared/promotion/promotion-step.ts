import { createHash } from 'node:crypto';
import type { FleetRecords, GroupOutcome, StoredPromotion } from '../aws/fleet-records.js';
import type { Place } from '../aws/places.js';
import type { StartedExecution } from '../aws/step-functions.js';
import type { GroupView } from '../detect/inventory.js';
import { type GroupPlan, memberPlaceOf, rolloutExecutionName, rolloutInputOf } from '../detect/plan-rollouts.js';
import { AwsTransientError, InvalidInputError } from '../errors.js';
import type { PromotionStepInput, PromotionStepResult } from '../events/promotion-step.js';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../events/promotion-events.js';
import type { RolloutRequest } from '../events/rollout.js';
import type { UnreachablePlace } from '../events/member-unreachable.js';
import { decidePromotion, type PromotionCommand, type PromotionDecision, type PromotionFacts, type RingHealth } from '../fleet/decide-promotion.js';
import { mayStart } from '../fleet/may-start.js';
import { lastGoodRelease } from '../fleet/promotion-actions.js';
import { criteriaFor, type PromotionPolicy } from '../fleet/promotion-policy.js';
import { groupKey, type GroupRef, newPromotion, type PromotionState } from '../fleet/promotion-state.js';
import { type Release, releaseKey } from '../fleet/release.js';
import type { HealthCriteria, HealthReport } from '../fleet/workload-health.js';
import { stepTaken } from '../workflow/continuation.js';
import { groupsOfRelease, type PlannedGroup } from './group-facts.js';

/**
 * One decision of a release's promotion (workflows/fleet-promotion.asl.yml calls it every
 * few minutes with `{ key }`):
 * 1. read the stored promotion (created from the input's release when missing: a re-drive),
 *    the policy, approvals, freezes, the release's outcomes and every promotion;
 * 2. gather the facts: detection's plans across the fleet (the groups that target the
 *    release or whose rollouts took it, group-facts.ts), the workload health of each cluster
 *    of the rings rolling or soaking, a recall;
 * 3. decidePromotion (pure);
 * 4. apply the command: `roll` begins the groups' rollouts (the names detection would give
 *    them: one rollout per group and image, whoever starts it), `hold` rolls the affected
 *    groups back to the image their rollout left (`fleet.rollbackOf`);
 * 5. store the state under the version read: a person's hold, release or promote written
 *    meanwhile wins, and the decision is made again from it (a few times at most);
 * 6. publish a `Promotion Progress` event per transition, for the promotion's chat thread;
 * 7. answer the workflow: the command, when to decide again, whether it is done.
 * Every part is safe to repeat: a retried decision finds its rollouts started (same names,
 * same inputs) and its state stored.
 */
export interface ClusterHealthRequest {
  /** absent: the hub's own place */
  place?: Place;
  cluster: string;
  ring: string;
  releaseImageIds: string[];
  criteria: HealthCriteria;
  now: Date;
}

export type Recall = { kind: 'recalled' | 'deprecated'; detail: string };

export interface PromotionStepPorts {
  records: Pick<FleetRecords, 'promotion' | 'promotions' | 'createPromotion' | 'savePromotion' | 'ringApprovals' | 'freezes' | 'outcomes'>;
  policy: () => Promise<PromotionPolicy | undefined>;
  /** detection's plans across the fleet (planFleet), with this policy */
  plan: (policy: PromotionPolicy) => Promise<{ groups: GroupView[]; plans: GroupPlan[]; unreachable: UnreachablePlace[] }>;
  /** who holds a group's lock (an execution ARN), if anyone */
  lockOwner: (ref: GroupRef) => Promise<string | undefined>;
  /** one cluster's workload health for the release (F: gatherClusterHealth); a throw marks the cluster unreadable */
  health: (request: ClusterHealthRequest) => Promise<HealthReport>;
  /** whether the release was recalled or its image deprecated (F: checkRecall), asked in the places its groups rolled to it, with its images there (none yet: the hub's own) */
  recall: (release: Release, places: readonly { place?: Place; imageIds: readonly string[] }[]) => Promise<Recall | undefined>;
  /** StartExecution of ami-rollout, once per name */
  startRollout: (name: string, input: RolloutRequest) => Promise<StartedExecution>;
  publish: (detailType: string, detail: object) => Promise<void>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** Decisions made again after a person's write came first, before the step gives up (the workflow retries it). */
export const DECISIONS_PER_STEP = 3;

/** Clusters evaluated at once: each reads its Kubernetes API and alarms. */
const CLUSTERS_AT_ONCE = 4;


export async function runPromotionStep(input: PromotionStepInput, ports: PromotionStepPorts): Promise<PromotionStepResult> {
  const policy = await ports.policy();
  if (!policy) throw new InvalidInputError([{ path: 'promotionPolicy', message: `no promotion policy is configured: the promotion of ${input.key} cannot decide (set the stage param promotionPolicyParameter)` }]);
  for (let attempt = 0; attempt < DECISIONS_PER_STEP; attempt++) {
    const now = ports.now();
    const stored = await storedPromotion(input, policy, ports, now);
    const gathered = await gather(stored.state, policy, ports, now);
    const decision = decidePromotion(stored.state, gathered.facts, policy, now);
    const applied = await apply(decision, gathered, policy, ports);
    const version = await ports.records.savePromotion(decision.state, stored.version, now.toISOString());
    if (version === undefined) {
      ports.log('promotion written meanwhile: deciding again', { key: input.key, read: stored.version, attempt });
      continue;
    }
    for (const event of decision.events) {
      const detail: PromotionProgressDetail = { key: decision.state.key, release: decision.state.release, kind: event.kind, ...(event.ring ? { ring: event.ring } : {}), at: event.at, detail: event.detail.slice(0, 4000), rings: decision.state.rings, ...(decision.state.hold ? { hold: decision.state.hold } : {}) };
      await ports.publish(PROMOTION_PROGRESS, detail);
    }
    ports.log('promotion decided', { key: input.key, command: decision.command.command, reason: decision.command.reason, version, started: applied.started.length, groups: gathered.facts.groups.length });
    const done = decision.command.command === 'done';
    return {
      command: decision.command.command,
      next: nextOf(decision.command, policy, now),
      done,
      here: stepTaken(input.decision?.here, !done),
      reason: decision.command.reason.slice(0, 500),
      ...(applied.started.length > 0 ? { started: applied.started.slice(0, 100) } : {}),
      ...(applied.skipped.length > 0 ? { skipped: applied.skipped.slice(0, 100).map((s) => s.slice(0, 300)) } : {}),
    };
  }
  // people kept writing it: the workflow retries the step a little later
  throw new AwsTransientError('fleet table promotion write', { cause: new Error(`the promotion of ${input.key} was written by someone else ${DECISIONS_PER_STEP} times while deciding`) });
}

async function storedPromotion(input: PromotionStepInput, policy: PromotionPolicy, ports: PromotionStepPorts, now: Date): Promise<StoredPromotion> {
  const found = await ports.records.promotion(input.key);
  if (found) return found;
  if (!input.release) throw new InvalidInputError([{ path: 'key', message: `no promotion of ${input.key} is recorded in the fleet table, and the input carries no release to begin one from` }]);
  const state = newPromotion(input.release, policy, now);
  if (state.key !== input.key) throw new InvalidInputError([{ path: 'release', message: `is release ${state.key}, not ${input.key}` }]);
  // created here, or by detection a moment ago: either way it is read back
  await ports.records.createPromotion(state, now.toISOString());
  const created = await ports.records.promotion(input.key);
  if (!created) throw new InvalidInputError([{ path: 'key', message: `the promotion of ${input.key} could not be created` }]);
  return created;
}

interface Gathered {
  facts: PromotionFacts;
  groups: PlannedGroup[];
  outcomes: GroupOutcome[];
  promotions: PromotionState[];
}

/** When a decision cannot change what the facts say, they are not read (a held release is re-read only for a recall). */
async function gather(state: PromotionState, policy: PromotionPolicy, ports: PromotionStepPorts, now: Date): Promise<Gathered> {
  const [approvals, freezes, outcomes, promotions] = await Promise.all([ports.records.ringApprovals(state.key), ports.records.freezes(), ports.records.outcomes(state.key), ports.records.promotions()]);
  const all = promotions.map((p) => p.state);
  const lastGood = lastGoodRelease(all, state.release);
  const base = { approvals, freezes, ...(lastGood ? { lastGood } : {}) };
  const recalledAlready = state.hold?.kind === 'recalled' || state.hold?.kind === 'deprecated';
  const recall = recalledAlready ? undefined : await ports.recall(state.release, recallPlaces(outcomes));
  // a held release decides `held` whatever the groups do, unless a recall reaches it now
  if (state.hold && !recall) return { facts: { ...base, groups: [], health: [], unreadable: [] }, groups: [], outcomes, promotions: all };

  const { groups: views, plans, unreachable } = await ports.plan(policy);
  const owners = new Map<string, string | undefined>();
  // an outcome from before its ring (re)started (a hold released since) no longer speaks for the group
  const since = new Map(state.rings.flatMap((r) => (r.status === 'rolling' || r.status === 'soaking' ? [[r.ring, r.since] as const] : [])));
  const fresh = outcomes.filter((o) => !(o.ring !== undefined && since.has(o.ring) && Date.parse(o.at) < Date.parse(since.get(o.ring)!) && o.state !== 'rolling'));
  const candidates = groupsOfRelease(state.key, views, plans, fresh, () => undefined);
  await Promise.all(candidates.map(async (g) => owners.set(groupKey(g.ref), await ports.lockOwner(g.ref))));
  const groups = groupsOfRelease(state.key, views, plans, fresh, (ref) => owners.get(groupKey(ref)));
  // a rollback returns a group to the image its rollout left, whenever that outcome was written
  for (const g of groups) g.outcome ??= outcomes.find((o) => groupKey(o.ref) === groupKey(g.ref));

  // a place that cannot be read may hold any ring's groups: nothing is concluded without it
  const unreadable: PromotionFacts['unreadable'][number][] = unreachable.map((u) => ({ cluster: `${u.accountId}/${u.region}`, reason: u.reason }));
  const health = state.hold ? [] : await clusterHealth(state, policy, groups, outcomes, ports, now, unreadable);
  return { facts: { ...base, groups: groups.map((g) => g.fact), health, unreadable, ...(recall ? { recall } : {}) }, groups, outcomes, promotions: all };
}

/** The places the release's groups rolled in, each with the release's images there (the outcomes' `to`); none yet: the hub's own, where the recommended parameter still says whether AWS took it back. */
function recallPlaces(outcomes: readonly GroupOutcome[]): { place?: Place; imageIds: string[] }[] {
  const byPlace = new Map<string, { place?: Place; imageIds: string[] }>();
  for (const o of outcomes) {
    const place = o.ref.account && o.ref.region ? { accountId: o.ref.account, region: o.ref.region } : undefined;
    const key = place ? `${place.accountId}/${place.region}` : '';
    const entry = byPlace.get(key) ?? { ...(place ? { place } : {}), imageIds: [] };
    if (!entry.imageIds.includes(o.to.imageId)) entry.imageIds.push(o.to.imageId);
    byPlace.set(key, entry);
  }
  return byPlace.size > 0 ? [...byPlace.values()] : [{ imageIds: [] }];
}

/** Each cluster of the rings rolling or soaking, evaluated against the release's images; a cluster that cannot be read is `unreadable`. */
async function clusterHealth(state: PromotionState, policy: PromotionPolicy, groups: readonly PlannedGroup[], outcomes: readonly GroupOutcome[], ports: PromotionStepPorts, now: Date, unreadable: PromotionFacts['unreadable'][number][]): Promise<RingHealth[]> {
  const watched = new Set(state.rings.filter((r) => r.status === 'rolling' || r.status === 'soaking').map((r) => r.ring));
  const releaseImageIds = [...new Set([
    ...groups.flatMap((g) => (g.plan?.action === 'roll' && g.fact.state !== 'blocked' ? [g.plan.to.imageId] : g.plan?.action === 'current' && g.view?.imageId ? [g.view.imageId] : [])),
    ...outcomes.map((o) => o.to.imageId),
  ])].sort();
  const clusters = new Map<string, { ring: string; cluster: string; place?: Place }>();
  for (const g of groups) {
    const ring = g.fact.ring;
    if (ring === undefined || !watched.has(ring)) continue;
    const place = g.ref.account && g.ref.region ? { accountId: g.ref.account, region: g.ref.region } : undefined;
    clusters.set(`${ring}|${g.ref.account ?? ''}|${g.ref.region ?? ''}|${g.ref.cluster}`, { ring, cluster: g.ref.cluster, ...(place ? { place } : {}) });
  }
  const reports: RingHealth[] = [];
  const queue = [...clusters.values()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { ring, cluster, place } = next;
      try {
        const report = await ports.health({ ...(place ? { place } : {}), cluster, ring, releaseImageIds, criteria: criteriaFor(policy, ring, cluster), now });
        reports.push({ ring, cluster, report });
      } catch (error) {
        ports.log('cluster health unreadable', { cluster, ring, error: (error as Error).message });
        unreadable.push({ cluster, ring, reason: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 300) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CLUSTERS_AT_ONCE, queue.length) }, worker));
  return reports.sort((a, b) => (a.ring + a.cluster < b.ring + b.cluster ? -1 : 1));
}

interface Applied {
  started: string[];
  skipped: string[];
}

/** `roll` and `hold` act on groups; every other command is the state and the wait alone. */
async function apply(decision: PromotionDecision, gathered: Gathered, policy: PromotionPolicy, ports: PromotionStepPorts): Promise<Applied> {
  const { command } = decision;
  const applied: Applied = { started: [], skipped: [] };
  const find = (ref: GroupRef) => gathered.groups.find((g) => groupKey(g.ref) === groupKey(ref));
  if (command.command === 'roll') {
    // the decided state: the ring is rolling now, which is what mayStart asks of a promotion's own start
    const fleet = { promotions: [...gathered.promotions.filter((p) => p.key !== decision.state.key), decision.state], freezes: gathered.facts.freezes };
    for (const ref of command.groups) {
      const group = find(ref);
      if (!group?.view || group.plan?.action !== 'roll' || !group.plan.ring) {
        applied.skipped.push(`${groupKey(ref)}: not planned to roll`);
        continue;
      }
      const verdict = mayStart({ ref, membership: group.plan.ring }, decision.state.key, fleet, 'promotion');
      if (verdict.verdict !== 'allowed') {
        applied.skipped.push(`${groupKey(ref)}: ${verdict.reason}`);
        continue;
      }
      const ring = group.fact.ring;
      const name = rollName(rolloutExecutionName(group.plan.cluster, group.plan.group, group.plan.to, memberPlaceOf(group.plan)), group.outcome, decision.state.rings.find((r) => r.ring === ring));
      const request: RolloutRequest = { ...rolloutInputOf(group.view, group.plan), fleet: { release: decision.state.key, ...(ring ? { ring } : {}) } };
      const started = await ports.startRollout(name, request);
      applied.started.push(name);
      if (!started.started) ports.log('rollout already started', { group: groupKey(ref), execution: name });
    }
  } else if (command.command === 'hold' && command.affected.action === 'rollback') {
    for (const ref of command.affected.groups) {
      const group = find(ref);
      const from = group?.outcome?.from;
      if (!group?.view || !from?.imageId) {
        applied.skipped.push(`${groupKey(ref)}: no previous image recorded to roll back to`);
        continue;
      }
      const name = rollbackExecutionName(decision.state.key, ref, from.imageId);
      const plan: Extract<GroupPlan, { action: 'roll' }> = { ...(group.view.home ? {} : { accountId: group.view.place.accountId, region: group.view.place.region }), cluster: ref.cluster, group: ref.group, kind: group.view.kind, action: 'roll', mode: 'auto', from: { imageId: group.outcome!.to.imageId }, to: { imageId: from.imageId, ...(from.release ? { release: from.release } : {}) }, reason: `rollback off ${decision.state.key}` };
      // the rollback rolls to the previous release: its boundaries ask about that one, never the held one it leaves
      const request: RolloutRequest = { ...rolloutInputOf(group.view, plan), fleet: { release: previousReleaseKey(decision.state.release, from), ...(group.fact.ring ? { ring: group.fact.ring } : {}), rollbackOf: decision.state.key } };
      await ports.startRollout(name, request);
      applied.started.push(name);
    }
  } else if (command.command === 'hold') {
    for (const ref of command.affected.groups) applied.skipped.push(`${groupKey(ref)}: ${command.affected.action}${command.affected.to ? ` to ${command.affected.to}` : ''} (policy ${command.affected.action === 'offer-rollback' ? `onRecall ${policy.onRecall}` : `onRegression ${policy.onRegression}`})`);
  }
  return applied;
}

/**
 * The name of a ring's rollout of a group: detection's (one per group and image), unless a
 * rollout of that name already ended for this release — stopped by a hold since released, or
 * failed — whose name stays taken (Step Functions keeps a closed execution's name for 90 days,
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html): the
 * ring's new start (`since`) then names it, the same for every retry of the decision.
 */
export function rollName(base: string, outcome: { state: string; executionName?: string } | undefined, progress: { status: string; since?: string } | undefined): string {
  if (!outcome || outcome.state === 'rolling' || outcome.state === 'current' || outcome.executionName === undefined) return base;
  const since = progress && 'since' in progress ? progress.since : undefined;
  if (since === undefined) return base;
  const digest = createHash('sha256').update(`${outcome.executionName}\n${since}`).digest('hex').slice(0, 9);
  return outcome.executionName === base || outcome.executionName.startsWith(base.slice(0, 70)) ? `${base.slice(0, 70)}-${digest}` : base;
}

/** The key of the release a group ran before: of the same line (its version as the group's rollout recorded it), or its image. */
function previousReleaseKey(release: Release, from: { imageId?: string; release?: string }): string {
  const previous: Release = release.source === 'eks-optimized' && from.release ? { ...release, release: from.release } : { source: 'custom', release: from.release ?? from.imageId ?? 'unknown' };
  return releaseKey(previous);
}

/**
 * A rollback's execution name: one per (release, place, group, image), never a name detection
 * or a person's rollout to that image took before (a closed execution's name stays taken).
 */
export function rollbackExecutionName(key: string, ref: GroupRef, imageId: string): string {
  const slug = (s: string, n: number) => s.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, n);
  const digest = createHash('sha256').update([key, groupKey(ref), imageId].join('\n')).digest('hex').slice(0, 16);
  return `back-${slug(ref.cluster, 20)}-${slug(ref.group, 24)}-${slug(imageId, 12)}-${digest}`.slice(0, 80);
}

/** When to decide again: the command's own time, else (a person's approval, a hold's release) the policy's evaluation interval. */
function nextOf(command: PromotionCommand, policy: PromotionPolicy, now: Date): string {
  if ('next' in command) return command.next;
  return new Date(now.getTime() + (command.command === 'done' ? 0 : policy.evaluateEvery * 1000)).toISOString();
}
