import { type GroupInstance, type GroupSnapshot, isLeaving } from '../aws/group-capacity.js';
import type { DrainStatus } from '../aws/drain-records.js';
import type { Cycle, SelfManagedRoll } from '../events/rollout.js';
import type { HealthVerdict, NodeFact } from './health-gate.js';

/**
 * The roll of a self-managed Auto Scaling group, as a reconciler: given the roll's state and
 * what the group, its nodes and their drains look like now, decide the next actions and the
 * next state. Pure; `executeSelfManagedStep` observes, calls this, and applies the actions.
 * Every action is idempotent and is computed from the observation, so a step that fails
 * halfway and runs again does the rest, never twice.
 *
 * A batch (a "cycle") under `surge`, like the EKS DEFAULT strategy:
 * 1. launch: desired = original + n (max raised to fit); wait for n replacements on the new
 *    template version with Ready nodes (else: rollback);
 * 2. cordon every old node at once (the first time), so evicted pods land on new nodes and
 *    move only once;
 * 3. drain the n old nodes in the replacements' Availability Zones: the roll's own steps run
 *    the drain engine's passes over the batch (budgets respected), each wait between passes
 *    a Wait state of the rollout — one loop per batch rather than a node-drain execution per
 *    node. At the drain deadline a `force` policy forces what budgets still block; otherwise
 *    → rollback;
 * 4. terminate them with TerminateInstanceInAutoScalingGroup, decrementing desired; the
 *    terminate hook finds them drained and lets them go at once;
 * 5. health gate: the replacements Ready and every pod on them Running/Ready (else: rollback);
 * 6. report the batch; stop here on abort, wait here on pause.
 * Under `minimal` (scarce capacity) a cycle cordons, drains and terminates first without
 * decrementing, so the group launches the replacements itself, then waits for them.
 *
 * Rollback: the group goes back to its previous template version; old nodes are uncordoned;
 * new instances that never joined are terminated; those that did are replaced by old-version
 * instances through one more cycle (launch first, then drain and terminate them); sizes are
 * restored. The group ends as it started.
 */
export interface RollSettings {
  readyTimeoutSeconds: number;
  /** the node group's drain policy says force at the deadline (else a drain that does not finish rolls back) */
  forceAtDeadline: boolean;
  /** once forcing, how long before giving up */
  forceGraceSeconds: number;
  /** the poll once a wait is past what it expects (a boot learned from the last batch) */
  fastPollSeconds: number;
  healthTimeoutSeconds: number;
  /** the drain policy's timeout plus a margin for the node-drain workflow to report */
  drainTimeoutSeconds: number;
  terminateTimeoutSeconds: number;
  pollSeconds: number;
  pausedPollSeconds: number;
}

export const DEFAULT_ROLL_SETTINGS: Omit<RollSettings, 'drainTimeoutSeconds' | 'forceAtDeadline'> = {
  readyTimeoutSeconds: 15 * 60,
  forceGraceSeconds: 5 * 60,
  fastPollSeconds: 5,
  healthTimeoutSeconds: 10 * 60,
  terminateTimeoutSeconds: 15 * 60,
  pollSeconds: 15,
  pausedPollSeconds: 60,
};

export interface Observation {
  /**
   * The group; null while a batch drains (await-drain): that phase needs nothing from it —
   * a retiring instance that leaves the group loses its node, and its drain ends node-gone —
   * so its polls skip DescribeAutoScalingGroups.
   */
  group: GroupSnapshot | null;
  /** nodes by instance id */
  nodes: ReadonlyMap<string, NodeFact>;
  /** drain records of the cycle's instances (await-drain only) */
  drains: ReadonlyMap<string, DrainStatus>;
  /** the health gate's verdict on the cycle's replacements (health only) */
  health: HealthVerdict | null;
  control: 'pause' | 'abort' | null;
  now: Date;
}

export type RolloutEventKind = 'planned' | 'canary-passed' | 'batch-finished' | 'paused' | 'resumed' | 'rolling-back' | 'rolled-back' | 'aborted' | 'finished' | 'rollback-failed';

export type RollAction =
  | { kind: 'update-group'; desired?: number; min?: number; max?: number; launchTemplate?: { id: string; version: string } }
  | { kind: 'az-rebalance'; suspended: boolean }
  | { kind: 'cordon'; nodes: string[] }
  /** `instanceIds`: the nodes' instances, whose finished drains no longer hold (they are back in service) */
  | { kind: 'uncordon'; nodes: string[]; instanceIds: string[] }
  /** these instances' drains begin: noted in their drain records, owned by this rollout */
  | { kind: 'drain'; instanceIds: string[] }
  /** one pass of the drain engine over each node (a node no longer there: its drain ends node-gone) */
  | { kind: 'drain-pass'; nodes: { instanceId: string; nodeName: string | null }[]; mode: 'evict' | 'force' }
  | { kind: 'terminate'; instanceIds: string[]; decrement: boolean }
  | { kind: 'notify'; event: RolloutEventKind; detail: Record<string, unknown> };

export interface RollDecision {
  state: SelfManagedRoll;
  actions: RollAction[];
  next: 'step' | 'wait' | 'end';
  wait: { seconds: number; phase: 'replacements' | 'drains' | 'terminations' | 'health' | 'paused' } | null;
  summary: string;
}

const DRAINED: ReadonlySet<DrainStatus> = new Set(['drained', 'forced', 'node-gone']);

export function decideSelfManaged(state: SelfManagedRoll, obs: Observation, settings: RollSettings): RollDecision {
  const view = groupView(state, obs);
  const at = (seconds: number) => new Date(obs.now.getTime() + seconds * 1000).toISOString();
  const step = (next: SelfManagedRoll, actions: RollAction[], summary: string): RollDecision => ({ state: next, actions, next: 'step', wait: null, summary });
  const wait = (next: SelfManagedRoll, phase: NonNullable<RollDecision['wait']>['phase'], summary: string, seconds = settings.pollSeconds, actions: RollAction[] = []): RollDecision => ({
    state: next,
    actions,
    next: 'wait',
    wait: { seconds, phase },
    summary,
  });
  const rollback = (reason: string): RollDecision => step({ ...state, phase: 'rollback', rollback: { reason, attempts: state.rollback?.attempts ?? 0 } }, [], `rolling back: ${reason}`);
  const cycle = state.cycle;
  const batchLabel = `batch ${state.batchIndex + 1} of ${Math.max(state.batches.length, state.batchIndex + 1)}${state.batches[state.batchIndex]?.canary ? ' (canary)' : ''}`;

  switch (state.phase) {
    case 'start': {
      const actions: RollAction[] = [
        { kind: 'update-group', launchTemplate: { id: state.target.launchTemplateId, version: state.target.version } },
        ...(state.original.suspendedAZRebalance ? [{ kind: 'az-rebalance', suspended: true } as const] : []),
        {
          kind: 'notify',
          event: 'planned',
          detail: { batches: state.batches.map((b) => ({ canary: b.canary, nodes: b.instanceIds.length })), maxUnavailable: state.maxUnavailable, strategy: state.strategy, nodes: view.old.length },
        },
      ];
      return step(beginBatch(state, view, obs, settings), actions, `planned ${view.old.length} nodes in ${state.batches.length} batches, ${state.maxUnavailable} at a time (${state.strategy})`);
    }

    case 'launch': {
      const c = cycle!;
      // absolute, from the cycle's start, so a retried step never adds twice; never past the
      // surge budget, even when the group held an extra instance at the cycle's start (Auto
      // Scaling replacing an unhealthy one launches before it terminates)
      const desired = Math.min(c.known.length + c.expect, state.original.desired + state.maxUnavailable);
      return step(
        { ...state, phase: 'await-replacements', cycle: { ...c, deadline: at(settings.readyTimeoutSeconds), launchedAt: obs.now.toISOString() } },
        [{ kind: 'update-group', desired, max: Math.max(state.original.max, desired) }],
        `${c.kind === 'rollback' ? 'rollback' : batchLabel}: launching ${c.expect} replacement${c.expect === 1 ? '' : 's'}`,
      );
    }

    case 'await-replacements': {
      const c = cycle!;
      const version = c.kind === 'batch' ? state.target.version : state.original.launchTemplate.version;
      const fresh = view.present.filter((i) => !c.known.includes(i.instanceId) && i.launchTemplateVersion === version);
      const ready = fresh.filter((i) => obs.nodes.get(i.instanceId)?.ready);
      const launched = c.kind === 'batch' ? union(state.launched, fresh.map((i) => i.instanceId)) : state.launched;
      if (ready.length >= c.expect) {
        const replacements = ready.slice(0, Math.max(c.expect, 0)).map((i) => i.instanceId);
        const bootSeconds = c.launchedAt ? Math.max(0, (obs.now.getTime() - Date.parse(c.launchedAt)) / 1000) : state.bootSeconds;
        const next: SelfManagedRoll = { ...state, launched, cycle: { ...c, replacements }, ...(bootSeconds !== undefined ? { bootSeconds } : {}) };
        if (c.kind === 'rollback') return step({ ...next, phase: 'drain' }, [], `rollback: ${replacements.length} old-version replacements Ready`);
        if (state.strategy === 'minimal') return step({ ...next, phase: 'health', cycle: { ...c, replacements, deadline: at(settings.healthTimeoutSeconds) } }, [], `${batchLabel}: replacements Ready`);
        return step({ ...next, phase: state.cordonedAll ? 'drain' : 'cordon' }, [], `${batchLabel}: ${replacements.length} replacements Ready`);
      }
      if (obs.now.toISOString() > c.deadline) {
        const missing = fresh.filter((i) => !obs.nodes.get(i.instanceId)?.ready).map((i) => i.instanceId);
        // with nothing launched, the group's failed scaling activities say why (most often no capacity for the type)
        const noLaunch = `no instance launched: Auto Scaling could not launch any (InsufficientInstanceCapacity for the instance type, an instance quota, …); see aws autoscaling describe-scaling-activities --auto-scaling-group-name ${state.autoScalingGroup}`;
        const reason = `replacement nodes not Ready within ${minutes(settings.readyTimeoutSeconds)}: ${missing.length > 0 ? `${missing.join(', ')} launched but never became Ready nodes` : noLaunch}`;
        if (c.kind === 'rollback') return end({ ...state, launched }, 'rollback-failed', `rollback could not bring back old-version nodes: ${reason}`);
        return step({ ...state, launched, phase: 'rollback', rollback: { reason, attempts: 0 } }, [], `rolling back: ${reason}`);
      }
      return wait({ ...state, launched }, 'replacements', `${c.kind === 'rollback' ? 'rollback' : batchLabel}: ${ready.length} of ${c.expect} replacements Ready`, replacementPoll(state, c, obs.now, settings));
    }

    case 'cordon': {
      const nodes = view.old.map((i) => obs.nodes.get(i.instanceId)).filter((n): n is NodeFact => n !== undefined && !n.unschedulable);
      return step({ ...state, phase: 'drain', cordonedAll: true }, nodes.length > 0 ? [{ kind: 'cordon', nodes: nodes.map((n) => n.name) }] : [], `cordoned ${nodes.length} old nodes, so pods move only once`);
    }

    case 'drain': {
      const c = cycle!;
      const retire =
        c.kind === 'batch' && state.strategy === 'surge'
          ? pairByZone(c.retire, c.replacements.map((id) => view.zoneOf(id)), view.old)
          : c.retire.filter((id) => view.isPresent(id));
      return step(
        { ...state, phase: 'await-drain', cycle: { ...c, retire, deadline: at(settings.drainTimeoutSeconds) } },
        retire.length > 0 ? [{ kind: 'drain', instanceIds: retire }] : [],
        `${c.kind === 'rollback' ? 'rollback' : batchLabel}: draining ${retire.join(', ')}`,
      );
    }

    case 'await-drain': {
      const c = cycle!;
      const pending = c.retire.filter((id) => view.isPresent(id) && !DRAINED.has(obs.drains.get(id) ?? ('running' as DrainStatus)));
      const failed = pending.filter((id) => obs.drains.get(id) === 'failed');
      const label = c.kind === 'rollback' ? 'rollback' : batchLabel;
      if (failed.length === 0 && pending.length === 0) return step({ ...state, phase: 'terminate', cycle: { ...c, blockers: [] } }, [], `${label}: drained`);
      const pastDeadline = obs.now.toISOString() > c.deadline;
      // the policy's force: the deadline passed, budgets still block; delete (gracefully) what is left, for a while
      if (pastDeadline && failed.length === 0 && settings.forceAtDeadline && !c.forcing) {
        return step({ ...state, cycle: { ...c, forcing: true, deadline: at(settings.forceGraceSeconds) } }, [], `${label}: drain deadline passed, forcing (the node group's policy)`);
      }
      if (failed.length > 0 || pastDeadline) {
        const blockers = c.blockers && c.blockers.length > 0 ? `; still blocked: ${c.blockers.slice(0, 5).join(', ')}` : '';
        const reason =
          failed.length > 0
            ? `the drain of ${failed.join(', ')} failed (see its Node Drain Finished event for the blocking pods)`
            : `the drain of ${pending.join(', ')} did not finish within ${minutes(settings.drainTimeoutSeconds + (c.forcing ? settings.forceGraceSeconds : 0))}${blockers}`;
        if (c.kind === 'rollback') return end(state, 'rollback-failed', `rollback could not drain the new nodes: ${reason}`);
        return rollback(reason);
      }
      const nodes = pending.map((id) => ({ instanceId: id, nodeName: obs.nodes.get(id)?.name ?? null }));
      // the seconds are the poll's; the pass that runs now says how long its pods take to leave (see roll-self-managed)
      return wait(state, 'drains', `${label}: draining ${pending.length} node${pending.length === 1 ? '' : 's'}`, settings.pollSeconds, [
        { kind: 'drain-pass', nodes, mode: c.forcing ? 'force' : 'evict' },
      ]);
    }

    case 'terminate': {
      const c = cycle!;
      const present = c.retire.filter((id) => view.isPresent(id));
      const decrement = c.kind === 'rollback' || state.strategy === 'surge';
      return step(
        { ...state, phase: 'await-terminated', cycle: { ...c, deadline: at(settings.terminateTimeoutSeconds) } },
        present.length > 0 ? [{ kind: 'terminate', instanceIds: present, decrement }] : [],
        `${c.kind === 'rollback' ? 'rollback' : batchLabel}: terminating ${present.join(', ') || 'nothing'}`,
      );
    }

    case 'await-terminated': {
      const c = cycle!;
      const remaining = c.retire.filter((id) => view.isPresent(id));
      if (remaining.length > 0) {
        if (obs.now.toISOString() > c.deadline) {
          const reason = `${remaining.join(', ')} still in the group ${minutes(settings.terminateTimeoutSeconds)} after termination was asked`;
          return c.kind === 'rollback' ? end(state, 'rollback-failed', reason) : rollback(reason);
        }
        return wait(state, 'terminations', `waiting for ${remaining.length} instance${remaining.length === 1 ? '' : 's'} to leave the group`);
      }
      // a rollback replaces the new nodes a batch at a time: back to see what is left
      if (c.kind === 'rollback') return step({ ...state, phase: 'rollback', cycle: null }, [], `rollback: ${c.retire.length} new nodes gone`);
      const replaced = state.replaced + c.retire.length;
      if (state.strategy === 'minimal') {
        return step({ ...state, replaced, phase: 'await-replacements', cycle: { ...c, deadline: at(settings.readyTimeoutSeconds) } }, [], `${batchLabel}: waiting for the group to launch replacements`);
      }
      return step({ ...state, replaced, phase: 'health', cycle: { ...c, deadline: at(settings.healthTimeoutSeconds) } }, [], `${batchLabel}: old nodes gone, checking the new ones`);
    }

    case 'health': {
      const c = cycle!;
      const verdict = obs.health ?? { verdict: 'pending', reason: 'not checked' };
      if (verdict.verdict === 'healthy') return step({ ...state, phase: 'batch-done' }, [], `${batchLabel}: healthy (${verdict.nodes} nodes, ${verdict.pods} pods Running and Ready)`);
      if (obs.now.toISOString() > c.deadline) return rollback(`health gate after ${batchLabel}: ${verdict.reason} after ${minutes(settings.healthTimeoutSeconds)}`);
      return wait(state, 'health', `${batchLabel}: ${verdict.reason}`);
    }

    case 'batch-done': {
      const batch = state.batches[state.batchIndex];
      const total = state.batches.length;
      const event: RollAction = batch?.canary
        ? { kind: 'notify', event: 'canary-passed', detail: { batch: state.batchIndex + 1, of: total, replaced: state.replaced } }
        : { kind: 'notify', event: 'batch-finished', detail: { batch: state.batchIndex + 1, of: total, replaced: state.replaced } };
      const next: SelfManagedRoll = { ...state, batchIndex: state.batchIndex + 1, cycle: null };
      if (view.old.length > 0 && obs.control === 'abort') return step({ ...next, phase: 'finish', end: 'aborted' }, [event], `aborted after ${batchLabel} by request`);
      if (view.old.length > 0 && obs.control === 'pause') return step({ ...next, phase: 'paused' }, [event, { kind: 'notify', event: 'paused', detail: { afterBatch: state.batchIndex + 1 } }], `paused after ${batchLabel}`);
      return step(beginBatch(next, view, obs, settings), [event], `${batchLabel} done`);
    }

    case 'paused': {
      if (obs.control === 'abort') return step({ ...state, phase: 'finish', end: 'aborted' }, [], 'aborted while paused');
      if (obs.control === 'pause') return wait(state, 'paused', `paused before batch ${state.batchIndex + 1}; resume or abort`, settings.pausedPollSeconds);
      return step(beginBatch(state, view, obs, settings), [{ kind: 'notify', event: 'resumed', detail: { batch: state.batchIndex + 1 } }], 'resumed');
    }

    case 'rollback': {
      const attempts = state.rollback?.attempts ?? 0;
      const reason = state.rollback?.reason ?? 'rollback requested';
      const actions: RollAction[] = [{ kind: 'update-group', launchTemplate: state.original.launchTemplate }];
      // announced once, not again after each rollback cycle
      if (!state.rollback?.announced) actions.push({ kind: 'notify', event: 'rolling-back', detail: { reason } });
      const cordoned = cordonedOld(view, obs);
      if (cordoned.length > 0) actions.push(uncordon(cordoned));
      const unjoined = view.fresh.filter((i) => !obs.nodes.get(i.instanceId)?.ready).map((i) => i.instanceId);
      const joined = view.fresh.filter((i) => obs.nodes.get(i.instanceId)?.ready).map((i) => i.instanceId);
      // never-joined instances carry no pods: out at once, shrinking the group while it is
      // above its original size (a minimal-strategy group gets an old-version instance back)
      let size = view.present.length;
      for (const id of unjoined) {
        const decrement = size > state.original.desired;
        actions.push({ kind: 'terminate', instanceIds: [id], decrement });
        if (decrement) size--;
      }
      const base = { ...state, rollback: { reason, attempts, announced: true }, cordonedAll: false };
      if (joined.length === 0) {
        if (unjoined.length === 0) return step({ ...base, phase: 'finish', end: 'rolled-back', cycle: null }, actions, `rolled back: ${reason}`);
        return step({ ...base, phase: 'await-terminated', cycle: { kind: 'rollback', retire: unjoined, known: [], replacements: [], expect: 0, deadline: at(settings.terminateTimeoutSeconds) } }, actions, `rolling back: ${reason}`);
      }
      // joined new nodes go max-unavailable at a time, each batch replaced first by as many
      // old-version instances as the group lacks, so the group never grows past its budget
      const retire = joined.slice(0, state.maxUnavailable);
      const present = view.present.map((i) => i.instanceId).filter((id) => !unjoined.includes(id));
      const missing = Math.max(0, state.original.desired - (present.length - retire.length));
      const c: Cycle = {
        kind: 'rollback',
        retire,
        known: present,
        replacements: [],
        expect: Math.min(retire.length, missing),
        deadline: at(settings.readyTimeoutSeconds),
      };
      return step({ ...base, phase: 'launch', cycle: c }, actions, `rolling back: ${reason}; replacing ${retire.length} of ${joined.length} new nodes with old-version ones`);
    }

    case 'finish': {
      const endState = state.end ?? 'finished';
      const sizes = { desired: state.original.desired, min: state.original.min, max: state.original.max };
      // a roll that did not finish leaves the template where it was, so the group launches what it did before
      const actions: RollAction[] = [{ kind: 'update-group', ...sizes, ...(endState === 'finished' ? {} : { launchTemplate: state.original.launchTemplate }) }];
      if (endState !== 'finished') {
        const cordoned = cordonedOld(view, obs);
        if (cordoned.length > 0) actions.push(uncordon(cordoned));
      }
      if (state.original.suspendedAZRebalance) actions.push({ kind: 'az-rebalance', suspended: false });
      const summary =
        endState === 'finished'
          ? `finished: ${state.replaced} nodes replaced, every node runs the new image`
          : endState === 'aborted'
            ? `aborted: ${state.replaced} nodes replaced, ${view.old.length} left on the old image, template back on version ${state.original.launchTemplate.version}`
            : `rolled back: ${state.rollback?.reason ?? ''}; the group is back on version ${state.original.launchTemplate.version} with its original sizes`;
      actions.push({ kind: 'notify', event: endState, detail: { replaced: state.replaced, remainingOld: view.old.length, ...(state.rollback ? { reason: state.rollback.reason } : {}) } });
      return { state: { ...state, phase: 'ended', end: endState }, actions, next: 'end', wait: null, summary };
    }

    case 'ended':
      return { state, actions: [], next: 'end', wait: null, summary: `ended: ${state.end}` };
  }
}

const ROLLBACK_ATTEMPTS = 3;
const TRANSIENT_ROLLBACK_ATTEMPTS = 10;
const TRANSIENT_FAILURE = /^(AwsTransientError|KubernetesUnavailableError|Lambda\.|Sandbox\.Timedout)/;

/**
 * A failed step (the workflow's Catch) sends the roll into rollback; a failure during the
 * rollback starts it over (every action is recomputed), up to three times.
 */
export function afterFailure(state: SelfManagedRoll, error: string): SelfManagedRoll {
  if (state.phase === 'ended') return state;
  const attempts = (state.rollback?.attempts ?? 0) + 1;
  // a step that failed only because AWS or the cluster's API kept refusing (throttling, an
  // outage) already went through its own retries; a storm that outlasts them must not use up
  // the rollback's few attempts, so those get more (each is minutes of retries)
  const limit = TRANSIENT_FAILURE.test(error) ? TRANSIENT_ROLLBACK_ATTEMPTS : ROLLBACK_ATTEMPTS;
  const giveUp = (reason: string): SelfManagedRoll => ({ ...state, phase: 'ended', end: 'rollback-failed', rollback: { reason, attempts } });
  if (state.phase === 'finish') {
    // the work is done; only the tidy-up failed: try it again
    if (attempts >= limit) return giveUp(`the group could not be restored (sizes, template, cordons) after ${attempts} tries, last: ${error}`);
    return { ...state, rollback: { reason: state.rollback?.reason ?? error, attempts } };
  }
  const inRollback = state.phase === 'rollback' || state.cycle?.kind === 'rollback';
  if (!inRollback) return { ...state, phase: 'rollback', rollback: { reason: `a step failed: ${error}`, attempts: 0 } };
  if (attempts >= limit) return giveUp(`${state.rollback?.reason ?? ''}; the rollback failed ${attempts} times, last: ${error}`);
  return { ...state, phase: 'rollback', cycle: null, rollback: { reason: state.rollback?.reason ?? error, attempts } };
}

/** The next batch's cycle (or the finish when no old node is left). */
function beginBatch(state: SelfManagedRoll, view: GroupView, obs: Observation, settings: RollSettings): SelfManagedRoll {
  const oldIds = new Set(view.old.map((i) => i.instanceId));
  if (oldIds.size === 0) return { ...state, phase: 'finish', end: 'finished', cycle: null };
  let batches = state.batches;
  // an old instance the plan did not know (or left for the end by zone pairing) gets a batch of its own
  if (state.batchIndex >= batches.length) {
    const rest = view.old.slice(0, state.maxUnavailable);
    batches = [...batches, { canary: false, instanceIds: rest.map((i) => i.instanceId), zones: rest.map((i) => i.availabilityZone) }];
  }
  const batch = batches[state.batchIndex]!;
  const planned = batch.instanceIds.filter((id) => oldIds.has(id));
  // zone pairing may have taken some of this batch's nodes early: fill it up from the next
  // old nodes in plan order, so every batch but the canary replaces max-unavailable nodes
  const size = batch.canary ? batch.instanceIds.length : state.maxUnavailable;
  const fill = view.old.map((i) => i.instanceId).filter((id) => !planned.includes(id));
  const retire = [...planned, ...fill].slice(0, size);
  if (retire.length === 0) return beginBatch({ ...state, batches, batchIndex: state.batchIndex + 1 }, view, obs, settings);
  // what the group held before this batch: old instances and the replacements this rollout
  // already counted. An instance on the target version it has not counted is a replacement
  // already on its way (a step that launched it crashed before its state was kept): it
  // counts for this batch, and desired is not raised for it again
  const launched = new Set(state.launched);
  const cycle: Cycle = {
    kind: 'batch',
    retire,
    known: view.present.filter((i) => i.launchTemplateVersion !== state.target.version || launched.has(i.instanceId)).map((i) => i.instanceId),
    replacements: [],
    expect: retire.length,
    deadline: new Date(obs.now.getTime() + settings.readyTimeoutSeconds * 1000).toISOString(),
  };
  // minimal cordons only the batch (its drain does): with capacity scarce, evicted pods need the other old nodes
  return { ...state, batches, phase: state.strategy === 'surge' ? 'launch' : 'drain', cycle };
}

/**
 * Which old nodes a batch's replacements take the place of: for each replacement, a planned
 * node in its zone, else any old node in its zone (oldest first), else a planned node
 * elsewhere — so the group's spread across zones stays as it was.
 */
export function pairByZone(planned: readonly string[], replacementZones: readonly string[], old: readonly Pick<GroupInstance, 'instanceId' | 'availabilityZone'>[]): string[] {
  const zoneOf = new Map(old.map((i) => [i.instanceId, i.availabilityZone]));
  const plannedLeft = planned.filter((id) => zoneOf.has(id));
  const chosen: string[] = [];
  const take = (id: string) => {
    chosen.push(id);
    const k = plannedLeft.indexOf(id);
    if (k >= 0) plannedLeft.splice(k, 1);
  };
  const unmatched: string[] = [];
  for (const zone of replacementZones) {
    const match = plannedLeft.find((id) => zoneOf.get(id) === zone) ?? old.find((i) => i.availabilityZone === zone && !chosen.includes(i.instanceId))?.instanceId;
    if (match) take(match);
    else unmatched.push(zone);
  }
  for (const _ of unmatched) {
    const next = plannedLeft[0] ?? old.find((i) => !chosen.includes(i.instanceId))?.instanceId;
    if (next) take(next);
  }
  return chosen;
}

interface GroupView {
  present: GroupInstance[];
  /** instances on the old template version, oldest plan order first */
  old: GroupInstance[];
  /** instances on the target version or launched by this rollout */
  fresh: GroupInstance[];
  isPresent: (id: string) => boolean;
  zoneOf: (id: string) => string;
}

/** While draining, the group is not described: every retiring instance counts as present. */
const DRAINING_VIEW: GroupView = {
  get present(): GroupInstance[] {
    throw new Error('the group is not described while a batch drains');
  },
  get old(): GroupInstance[] {
    throw new Error('the group is not described while a batch drains');
  },
  get fresh(): GroupInstance[] {
    throw new Error('the group is not described while a batch drains');
  },
  isPresent: () => true,
  zoneOf: () => {
    throw new Error('the group is not described while a batch drains');
  },
};

function groupView(state: SelfManagedRoll, obs: Observation): GroupView {
  if (!obs.group) return DRAINING_VIEW;
  const present = obs.group.instances.filter((i) => !isLeaving(i));
  const launched = new Set(state.launched);
  const isFresh = (i: GroupInstance) => launched.has(i.instanceId) || i.launchTemplateVersion === state.target.version;
  const order = new Map(state.batches.flatMap((b) => b.instanceIds).map((id, k) => [id, k]));
  const old = present.filter((i) => !isFresh(i)).sort((a, b) => (order.get(a.instanceId) ?? 1e9) - (order.get(b.instanceId) ?? 1e9));
  const ids = new Set(present.map((i) => i.instanceId));
  const zones = new Map(obs.group.instances.map((i) => [i.instanceId, i.availabilityZone]));
  return { present, old, fresh: present.filter(isFresh), isPresent: (id) => ids.has(id), zoneOf: (id) => zones.get(id) ?? '' };
}

function end(state: SelfManagedRoll, outcome: 'rollback-failed', reason: string): RollDecision {
  return {
    state: { ...state, phase: 'ended', end: outcome, rollback: { reason, attempts: state.rollback?.attempts ?? 0 } },
    actions: [{ kind: 'notify', event: 'rollback-failed', detail: { reason } }],
    next: 'end',
    wait: null,
    summary: `rollback failed: ${reason}`,
  };
}

/** the old instances whose nodes are cordoned (by this rollout: it cordons every old node once) */
function cordonedOld(view: GroupView, obs: Observation): { instanceId: string; node: NodeFact }[] {
  return view.old.flatMap((i) => {
    const node = obs.nodes.get(i.instanceId);
    return node?.unschedulable ? [{ instanceId: i.instanceId, node }] : [];
  });
}

function uncordon(cordoned: readonly { instanceId: string; node: NodeFact }[]): RollAction {
  return { kind: 'uncordon', nodes: cordoned.map((c) => c.node.name), instanceIds: cordoned.map((c) => c.instanceId) };
}

/**
 * How long to wait for replacements: a boot learned from the last batch says when to look
 * first (and then often); without one, the ordinary poll.
 */
function replacementPoll(state: SelfManagedRoll, c: Cycle, now: Date, settings: RollSettings): number {
  if (state.bootSeconds === undefined || !c.launchedAt) return settings.pollSeconds;
  // a little before the expected moment, then often: the estimate (measured at a poll) tightens batch by batch
  const expectedIn = Math.ceil(Date.parse(c.launchedAt) / 1000 + state.bootSeconds - now.getTime() / 1000) - settings.fastPollSeconds;
  return Math.max(settings.fastPollSeconds, expectedIn);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
