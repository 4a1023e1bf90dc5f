import { type GroupInstance, type GroupSnapshot, isLeaving } from '../../aws/auto-scaling-groups.js';
import type { DrainStatus } from '../../aws/drain-records.js';
import type { Cycle, Pause, SelfManagedRoll } from '../../events/rollout.js';
import type { RolloutNotice } from '../../events/rollout-events.js';
import { describeSeconds } from '../../config/duration.js';
import { adoptChanges, describeInterference, type GroupIntent, groupChanges, groupSettingsOf, unexplainedChanges } from '../group-interference.js';
import type { HealthVerdict, NodeFact } from '../health-gate.js';
import type { BoundaryVerdict } from '../../fleet/may-start.js';
import { type MaintenanceWindow, windowState } from '../maintenance-window.js';

/**
 * The roll of a self-managed Auto Scaling group, as a reconciler: given the roll's state and
 * what the group, its nodes and their drains look like now, decide the next actions and the
 * next state. Pure; `stepSelfManaged` observes, calls this, and applies the actions.
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
 *    a Wait state of the rollout. At the drain deadline a `force` policy forces what budgets
 *    still block; otherwise → rollback;
 * 4. terminate them with TerminateInstanceInAutoScalingGroup, decrementing desired; the
 *    terminate hook finds them drained and lets them go at once;
 * 5. health gate: the new instances of the cycle (counted by what they are: launched from the
 *    target version since the cycle began, so a reclaimed Spot replacement is simply replaced)
 *    Ready, every pod on them Running/Ready (else: rollback);
 *    and no workload regressed on them (workload-health.ts: crash loops at once, restart rates
 *    once there is enough of them; a regression rolls back at once, reported `failed-health`);
 * 6. report the batch; stop here on abort, wait here on pause or while the maintenance window
 *    is closed (the running batch always finishes). At the boundary the fleet decides too
 *    (fleet/may-start.ts atBatchBoundary): a freeze covering the group pauses it until lifted,
 *    a hold of its release stops it, rolling back what it replaced (the release is the suspect).
 * Under `minimal` (scarce capacity) a cycle cordons, drains and terminates first without
 * decrementing, so the group launches the replacements itself, then waits for them.
 *
 * Someone else changing the group (its template, desired/min/max) pauses a forward roll, naming
 * the change; resuming adopts it (group-interference.ts). A rollback or the finish adopts it.
 *
 * Rollback: the group goes back to its previous template version; old nodes are uncordoned;
 * new instances that never joined are terminated; those that did are replaced by old-version
 * instances through one more cycle (launch first, then drain and terminate them); sizes and
 * the template *setting* (`$Latest`, `$Default` or a number) are restored. The group ends as it
 * started. A rollback that cannot finish gives up tidily: sizes, template and processes
 * restored where that needs no node taken away, nothing left cordoned that is not being
 * drained, and the report lists what is left with the command that finishes it.
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
  /** the poll once paused for an hour: a long pause costs a step every few minutes, not every minute */
  pausedLongPollSeconds: number;
  /** how often a rollout paused by a freeze looks whether it was lifted (each look: a step and two Queries) */
  freezePollSeconds: number;
  /** a pause (by a person, or by someone else's change) longer than this ends the roll, tidily */
  maxPauseSeconds: number;
  /** the longest single wait for a maintenance window to open (the roll looks again after it) */
  windowPollSeconds: number;
  /** the group's maintenance window; none when it has none or the rollout was started with --now */
  window?: MaintenanceWindow;
  /** the window closed at a batch boundary: wait for it to open again, or end there */
  onWindowClose: 'wait' | 'end';
}

export const DEFAULT_ROLL_SETTINGS: Omit<RollSettings, 'drainTimeoutSeconds' | 'forceAtDeadline'> = {
  readyTimeoutSeconds: 15 * 60,
  forceGraceSeconds: 5 * 60,
  fastPollSeconds: 5,
  healthTimeoutSeconds: 10 * 60,
  terminateTimeoutSeconds: 15 * 60,
  pollSeconds: 15,
  pausedPollSeconds: 60,
  pausedLongPollSeconds: 300,
  freezePollSeconds: 180,
  maxPauseSeconds: 7 * 86_400,
  windowPollSeconds: 30 * 60,
  onWindowClose: 'wait',
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
  /**
   * Instances of this rollout's batches waiting on a terminate hook (`Terminating:Wait`) that
   * this rollout drained (their drain record says so) but whose termination its state does not
   * hold — a step that terminated them died before its state was kept: followed like the
   * instances it knows it terminated (withHookBackup)
   */
  ownDrained?: ReadonlySet<string>;
  /** the health gate's verdict on the cycle's new instances (health only) */
  health: HealthVerdict | null;
  /** the fleet's word at a batch boundary (batch-done, and paused by a freeze): go on, pause for a freeze, stop for a hold */
  boundary?: BoundaryVerdict;
  /** the group's failed launches since the cycle asked for replacements, as Auto Scaling words them (read only once the replacements are late) */
  launchFailures?: readonly string[];
  /** what could not be looked at (a give-up observes what it can) */
  unobserved?: readonly string[];
  /** what this rollout's last group-changing step was changing: its own writes, if that step died midway */
  intent?: GroupIntent;
  control: 'pause' | 'abort' | null;
  now: Date;
}

/** What a self-managed roll announces (events/rollout-events.ts); approvals and the other ends are announced elsewhere. */
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
  /**
   * these drained instances wait on a terminate hook nobody completed (the hook's event lost,
   * or every try of requestDrain failed): the rollout that drained them completes it
   */
  | { kind: 'complete-hooks'; instanceIds: string[] }
  /** the template's default version becomes this one (a `$Default` group rolled onto it) */
  | { kind: 'set-default-version'; launchTemplateId: string; version: string }
  /** this rollout's version is deleted if it is still the template's latest (a `$Latest` group back on its old version) */
  | { kind: 'drop-version'; launchTemplateId: string; version: string }
  /** the roll paused itself (someone changed the group): the lock says so, and `resume` goes on */
  | { kind: 'pause-lock'; reason: string }
  /** the group's outcome for its release, in the fleet table (only a rollout of a release records it) */
  | { kind: 'outcome'; state: 'failed-health' | 'stopped'; detail: string }
  /** `once`: a key that makes the announcement happen once per rollout, however often the step runs */
  | ({ kind: 'notify'; once?: string } & Extract<RolloutNotice, { event: RolloutEventKind }>);

export interface RollDecision {
  state: SelfManagedRoll;
  actions: RollAction[];
  next: 'step' | 'wait' | 'end';
  wait: { seconds: number; phase: 'replacements' | 'drains' | 'terminations' | 'health' | 'paused' | 'window' } | null;
  summary: string;
  /** the actions are a tidy-up: each is tried whatever the others do, and what fails is reported, not thrown */
  tidy?: boolean;
}

export const DRAINED: ReadonlySet<DrainStatus> = new Set(['drained', 'forced', 'node-gone']);
const FORWARD: ReadonlySet<SelfManagedRoll['phase']> = new Set(['start', 'launch', 'await-replacements', 'cordon', 'drain', 'await-drain', 'terminate', 'await-terminated', 'health', 'batch-done']);

/**
 * 1. Someone else's change to the group: pause (forward) or adopt (rollback, end);
 * 2. the phase's own decision;
 * 3. the terminate hooks of the instances it terminated, if nobody completed them (withHookBackup);
 * 4. what the group will look like after the decision's actions becomes what the next step expects.
 */
export function decideSelfManaged(state: SelfManagedRoll, obs: Observation, settings: RollSettings): RollDecision {
  const noticed = noticeInterference(state, obs, settings);
  const decision = noticed.decision ?? decidePhase(noticed.state, obs, settings);
  return withExpected(withHookBackup(noticed.state, decision, obs, settings), obs);
}

function withExpected(decision: RollDecision, obs: Observation): RollDecision {
  if (!obs.group) return decision;
  // paused by someone else's change: keep what we expected, so resuming knows what they changed
  if (decision.state.phase === 'paused' && decision.state.pause?.kind === 'interference') return decision;
  return { ...decision, state: { ...decision.state, expected: groupSettingsOf(afterOwnActions(obs.group, decision.actions)) } };
}

function noticeInterference(state: SelfManagedRoll, obs: Observation, settings: RollSettings): { state: SelfManagedRoll; decision?: RollDecision } {
  if (!obs.group || !state.expected || state.phase === 'ended' || state.phase === 'give-up') return { state };
  const observed = groupSettingsOf(obs.group);
  // what the rollout's own step wrote before it died (its state lost with it) is no one else's change
  const changes = unexplainedChanges(groupChanges(state.expected, observed), observed, obs.intent);
  if (changes.length === 0) return { state };
  // already paused for a change: resuming adopts whatever the group is by then
  if (state.phase === 'paused' && state.pause?.kind === 'interference') return { state };
  const forward = FORWARD.has(state.phase) && state.cycle?.kind !== 'rollback';
  const templateChanged = changes.some((c) => c.field === 'launchTemplate');
  const reason = describeInterference(changes);
  if (forward && obs.control === 'abort') return { state: { ...adoptChanges(state, observed, changes), phase: 'finish', end: 'aborted', endReason: `aborted by request; ${reason}` } };
  // a template changed under a pause would make the roll launch someone else's version when it goes on
  if (forward || (state.phase === 'paused' && templateChanged)) {
    const since = obs.now.toISOString();
    const pause: Pause = { kind: 'interference', since, resume: state.phase === 'paused' ? (state.pause?.resume ?? 'next-batch') : (state.phase as Pause['resume']), changes: changes.map((c) => c.text) };
    return {
      state,
      decision: {
        state: { ...state, phase: 'paused', pause },
        actions: [
          { kind: 'pause-lock', reason },
          { kind: 'notify', event: 'paused', detail: { reason: 'interference', changes: pause.changes, message: `${reason}; resume to go on from there (the change is kept), or abort` }, once: `paused:${since}` },
        ],
        next: 'wait',
        wait: { seconds: settings.pausedPollSeconds, phase: 'paused' },
        summary: `paused: ${reason}`,
      },
    };
  }
  return { state: adoptChanges(state, observed, changes) };
}

function decidePhase(state: SelfManagedRoll, obs: Observation, settings: RollSettings): RollDecision {
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
  const giveUp = (reason: string): RollDecision => step({ ...state, phase: 'give-up', rollback: { reason, attempts: state.rollback?.attempts ?? 0, announced: state.rollback?.announced ?? false } }, [], `rollback failed: ${reason}`);
  const cycle = state.cycle;
  const batchLabel = `batch ${state.batchIndex + 1} of ${Math.max(state.batches.length, state.batchIndex + 1)}${state.batches[state.batchIndex]?.canary ? ' (canary)' : ''}`;
  /** the window closed at a batch boundary: wait for it to open (or end there), by policy */
  const windowClosed = (base: SelfManagedRoll, resume: Pause['resume'], actions: RollAction[]): RollDecision | undefined => {
    if (!settings.window) return undefined;
    const w = windowState(settings.window, obs.now);
    if (w.open) return undefined;
    const reason = `the maintenance window "${settings.window.text}" is closed; it opens at ${w.opensAt.toISOString()}`;
    if (settings.onWindowClose === 'end') return step({ ...base, phase: 'finish', end: 'aborted', cycle: null, endReason: `stopped: ${reason} (on-window-close=end); the next detection in a window goes on` }, actions, `stopped: ${reason}`);
    const since = obs.now.toISOString();
    const pause: Pause = { kind: 'window', since, resume, opensAt: w.opensAt.toISOString() };
    return wait(
      { ...base, phase: 'paused', pause },
      'window',
      `waiting: ${reason}`,
      windowWait(w.opensAt, obs.now, settings),
      [...actions, { kind: 'notify', event: 'paused', detail: { reason: 'window', opensAt: pause.opensAt, message: reason }, once: `paused:${since}` }],
    );
  };

  switch (state.phase) {
    case 'start': {
      const closed = windowClosed(state, 'start', []);
      if (closed) return closed;
      const actions: RollAction[] = [
        { kind: 'update-group', launchTemplate: { id: state.target.launchTemplateId, version: state.target.version } },
        ...(state.original.suspendedAZRebalance ? [{ kind: 'az-rebalance', suspended: true } as const] : []),
        {
          kind: 'notify',
          event: 'planned',
          detail: { batches: state.batches.map((b) => ({ canary: b.canary, nodes: b.instanceIds.length })), maxUnavailable: state.maxUnavailable, strategy: state.strategy, nodes: view.old.length },
          once: 'planned',
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
        const reason = `replacement nodes not Ready within ${minutes(settings.readyTimeoutSeconds)}: ${whyNoReplacements(state, fresh, obs)}`;
        if (c.kind === 'rollback') return giveUp(`rollback could not bring back old-version nodes: ${reason}`);
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
        if (c.kind === 'rollback') return giveUp(`rollback could not drain the new nodes: ${reason}`);
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
          return c.kind === 'rollback' ? giveUp(reason) : rollback(reason);
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
      if (verdict.verdict === 'regressed') {
        const reason = `health gate after ${batchLabel}: ${verdict.reason}`;
        const signals = verdict.report.signals.filter((s) => s.status === 'regressed').slice(0, 8);
        return step({ ...state, phase: 'rollback', rollback: { reason, attempts: 0, cause: 'failed-health', signals } }, [{ kind: 'outcome', state: 'failed-health', detail: reason.slice(0, 1000) }], `rolling back: ${reason}`);
      }
      if (verdict.verdict === 'healthy') return step({ ...state, phase: 'batch-done' }, [], `${batchLabel}: healthy (${verdict.nodes} nodes, ${verdict.pods} pods Running and Ready)`);
      if (obs.now.toISOString() > c.deadline) return rollback(`health gate after ${batchLabel}: ${verdict.reason} after ${minutes(settings.healthTimeoutSeconds)}`);
      return wait(state, 'health', `${batchLabel}: ${verdict.reason}`);
    }

    case 'batch-done': {
      const batch = state.batches[state.batchIndex];
      const total = state.batches.length;
      const forced = cycle?.forced?.length ? { forced: cycle.forced } : {};
      const event: RollAction = batch?.canary
        ? { kind: 'notify', event: 'canary-passed', detail: { batch: state.batchIndex + 1, of: total, replaced: state.replaced, ...forced }, once: 'canary-passed' }
        : { kind: 'notify', event: 'batch-finished', detail: { batch: state.batchIndex + 1, of: total, replaced: state.replaced, ...forced }, once: `batch-finished:${state.batchIndex + 1}` };
      // every new instance in the group now is the rollout's own, including one Auto Scaling
      // launched in place of a replacement it lost (a reclaimed Spot instance): none of them is
      // a replacement on its way for the next batch
      const next: SelfManagedRoll = { ...state, batchIndex: state.batchIndex + 1, cycle: null, launched: union(state.launched, view.fresh.map((i) => i.instanceId)) };
      if (view.old.length > 0 && obs.control === 'abort') return step({ ...next, phase: 'finish', end: 'aborted' }, [event], `aborted after ${batchLabel} by request`);
      // the release is held: no new batch, and what this rollout replaced goes back
      if (view.old.length > 0 && obs.boundary?.verdict === 'stop') return heldStop(next, obs.boundary.reason, [event]);
      if (view.old.length > 0 && obs.control === 'pause') {
        const pause: Pause = { kind: 'person', since: obs.now.toISOString(), resume: 'next-batch' };
        return step({ ...next, phase: 'paused', pause }, [event, { kind: 'notify', event: 'paused', detail: { afterBatch: state.batchIndex + 1 }, once: `paused:${pause.since}` }], `paused after ${batchLabel}`);
      }
      if (view.old.length > 0 && obs.boundary?.verdict === 'pause') return frozen(next, obs.boundary.reason, obs, settings, [event]);
      // no new batch once the window has closed: this one is done, the rest waits for it to open
      const closed = view.old.length > 0 ? windowClosed(next, 'next-batch', [event]) : undefined;
      if (closed) return closed;
      return step(beginBatch(next, view, obs, settings), [event], `${batchLabel} done`);
    }

    case 'paused':
      return decidePaused(state, obs, settings, view);

    case 'rollback': {
      const attempts = state.rollback?.attempts ?? 0;
      const reason = state.rollback?.reason ?? 'rollback requested';
      const actions: RollAction[] = state.foreignTemplate ? [] : [{ kind: 'update-group', launchTemplate: state.original.launchTemplate }];
      // announced once, not again after each rollback cycle, nor when a failed step runs again
      if (!state.rollback?.announced) actions.push({ kind: 'notify', event: 'rolling-back', detail: { reason, ...causeOf(state) }, once: 'rolling-back' });
      // the old nodes back in service, and the drains of the abandoned batch let go: a node whose
      // terminate hook is open (a scale-in chose it) is handed to a drain of its own instead
      const cordoned = cordonedOld(view, obs);
      const abandoned = state.cycle?.kind === 'batch' ? state.cycle.retire : [];
      if (cordoned.length > 0 || abandoned.length > 0) actions.push(uncordon(cordoned, abandoned));
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
      const base = { ...state, rollback: { ...state.rollback, reason, attempts, announced: true }, cordonedAll: false };
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
      // a roll that did not finish leaves the template as it was set, so the group launches what it did before
      const { before, launchTemplate } = restoreTemplate(state, endState === 'finished');
      const actions: RollAction[] = [...before, { kind: 'update-group', ...sizes, ...(launchTemplate ? { launchTemplate } : {}) }];
      if (endState !== 'finished') {
        const cordoned = cordonedOld(view, obs);
        const abandoned = state.cycle?.kind === 'batch' ? state.cycle.retire : [];
        if (cordoned.length > 0 || abandoned.length > 0) actions.push(uncordon(cordoned, abandoned));
      }
      if (state.original.suspendedAZRebalance) actions.push({ kind: 'az-rebalance', suspended: false });
      const template = describeSetting(state, endState === 'finished');
      const summary =
        endState === 'finished'
          ? `finished: ${state.replaced} nodes replaced, every node runs the new image`
          : endState === 'aborted'
            ? `${state.endReason ?? 'aborted'}: ${state.replaced} nodes replaced, ${view.old.length} left on the old image, template ${template}`
            : `rolled back: ${state.rollback?.reason ?? ''}; the group is back on ${template} with its original sizes`;
      actions.push({
        kind: 'notify',
        event: endState,
        detail: {
          replaced: state.replaced,
          remainingOld: view.old.length,
          ...(state.rollback ? { reason: state.rollback.reason, ...causeOf(state) } : {}),
          ...(state.endReason ? { reason: state.endReason } : {}),
          ...(state.forced?.length ? { forced: state.forced } : {}),
          ...(state.adopted?.length ? { adopted: state.adopted } : {}),
        },
        once: 'end',
      });
      return { state: { ...state, phase: 'ended', end: endState }, actions, next: 'end', wait: null, summary };
    }

    case 'give-up':
      return decideGiveUp(state, obs, view);

    case 'ended':
      return { state, actions: [], next: 'end', wait: null, summary: `ended: ${state.end}` };
  }
}

/**
 * Paused: by a person (at a batch boundary), by someone else's change (anywhere), or by the
 * maintenance window. Abort ends the roll; a pause longer than the limit ends it too; resuming
 * adopts what others changed meanwhile and goes on where the roll stopped.
 */
function decidePaused(state: SelfManagedRoll, obs: Observation, settings: RollSettings, view: GroupView): RollDecision {
  const pause: Pause = state.pause ?? { kind: 'person', since: obs.now.toISOString(), resume: 'next-batch' };
  const adopted = pause.kind === 'interference' && obs.group && state.expected ? adoptChanges(state, groupSettingsOf(obs.group), groupChanges(state.expected, groupSettingsOf(obs.group))) : state;
  const end = (endReason?: string): RollDecision => ({
    state: { ...adopted, phase: 'finish', end: 'aborted', pause: undefined, cycle: adopted.cycle, ...(endReason ? { endReason } : {}) },
    actions: [],
    next: 'step',
    wait: null,
    summary: endReason ?? 'aborted while paused',
  });
  if (obs.control === 'abort') return end();
  const pausedFor = (obs.now.getTime() - Date.parse(pause.since)) / 1000;
  if (pause.kind === 'freeze') {
    // a hold set during the freeze stops it as it would at a boundary; a freeze lasts as long as people keep it
    if (obs.boundary?.verdict === 'stop') return heldStop({ ...state, pause: undefined }, obs.boundary.reason, []);
    if (obs.boundary?.verdict === 'pause' || obs.boundary === undefined) {
      const reason = obs.boundary?.reason ?? pause.reason ?? 'frozen';
      return { state: { ...state, pause: { ...pause, reason: reason.slice(0, 500) } }, actions: [], next: 'wait', wait: { seconds: settings.freezePollSeconds, phase: 'paused' }, summary: `paused: ${reason}` };
    }
  }
  if (pause.kind !== 'window' && pause.kind !== 'freeze' && pausedFor > settings.maxPauseSeconds) {
    return end(`ended: paused for more than ${describeSeconds(settings.maxPauseSeconds)}, the group's max-pause (since ${pause.since})`);
  }
  if (pause.kind === 'window' && settings.window) {
    const w = windowState(settings.window, obs.now);
    if (!w.open) return { state: { ...state, pause: { ...pause, opensAt: w.opensAt.toISOString() } }, actions: [], next: 'wait', wait: { seconds: windowWait(w.opensAt, obs.now, settings), phase: 'window' }, summary: `waiting for the maintenance window to open at ${w.opensAt.toISOString()}` };
  }
  if (obs.control === 'pause') {
    const kept: Pause = pause.kind === 'window' ? { ...pause, kind: 'person' } : pause;
    return { state: { ...state, pause: kept }, actions: [], next: 'wait', wait: { seconds: pausedPollSeconds(pausedFor, settings), phase: 'paused' }, summary: `paused (${kept.kind === 'interference' ? kept.changes?.join('; ') : 'by request'}); resume or abort` };
  }
  // resumed: a template someone else set is replaced by the rollout's own only now, on a person's word
  const actions: RollAction[] = [{ kind: 'notify', event: 'resumed', detail: { batch: state.batchIndex + 1, ...(pause.kind === 'interference' ? { adopted: pause.changes } : {}) }, once: `resumed:${pause.since}` }];
  let next: SelfManagedRoll = { ...adopted, pause: undefined };
  if (next.foreignTemplate && pause.kind === 'interference') {
    actions.unshift({ kind: 'update-group', launchTemplate: { id: state.target.launchTemplateId, version: state.target.version } });
    next = { ...next, foreignTemplate: undefined };
  }
  return { state: resumeAt(next, pause.resume, view, obs, settings), actions, next: 'step', wait: null, summary: `resumed${pause.kind === 'interference' ? `, adopting: ${pause.changes?.join('; ')}` : ''}` };
}

/** The release is held: the batch under way is done, no new one starts, and what the rollout replaced is rolled back (reported `stopped`). */
function heldStop(state: SelfManagedRoll, reason: string, actions: RollAction[]): RollDecision {
  const why = `stopped: ${reason}`;
  return {
    state: { ...state, phase: 'rollback', cycle: null, rollback: { reason: why, attempts: 0, cause: 'held' } },
    actions: [...actions, { kind: 'outcome', state: 'stopped', detail: why.slice(0, 1000) }],
    next: 'step',
    wait: null,
    summary: `rolling back: ${why}`,
  };
}

/** A freeze covers the group: it waits at the boundary, looking every few minutes whether it was lifted. */
function frozen(state: SelfManagedRoll, reason: string, obs: Observation, settings: RollSettings, actions: RollAction[]): RollDecision {
  const since = obs.now.toISOString();
  const pause: Pause = { kind: 'freeze', since, resume: 'next-batch', reason: reason.slice(0, 500) };
  return {
    state: { ...state, phase: 'paused', pause },
    actions: [...actions, { kind: 'notify', event: 'paused', detail: { reason: 'freeze', afterBatch: state.batchIndex, message: `${reason}; it goes on when unfrozen` }, once: `paused:${since}` }],
    next: 'wait',
    wait: { seconds: settings.freezePollSeconds, phase: 'paused' },
    summary: `paused: ${reason}`,
  };
}

/** What the events say of a rollback's cause: the hold, or the health signals that regressed with their numbers. */
function causeOf(state: SelfManagedRoll): { cause?: 'failed-health' | 'held'; signals?: NonNullable<SelfManagedRoll['rollback']>['signals'] } {
  const r = state.rollback;
  return { ...(r?.cause ? { cause: r.cause } : {}), ...(r?.signals?.length ? { signals: r.signals } : {}) };
}

/**
 * How long a paused roll waits before it looks at the lock again: a minute for the first
 * hour (a person who paused to look usually resumes soon), then five, never past the end of
 * the pause's limit. A resume is seen within that poll.
 */
export function pausedPollSeconds(pausedForSeconds: number, settings: Pick<RollSettings, 'pausedPollSeconds' | 'pausedLongPollSeconds' | 'maxPauseSeconds'>): number {
  const poll = pausedForSeconds < 3600 ? settings.pausedPollSeconds : settings.pausedLongPollSeconds;
  return Math.max(1, Math.min(poll, Math.ceil(settings.maxPauseSeconds - pausedForSeconds) + 1));
}

/**
 * How long after asking for a drained instance's termination the rollout completes its
 * terminate hook itself, if nobody has: requestDrain answers a hook within seconds, and is
 * retried by Lambda for about three minutes more; this is the backup when none of that
 * happened (the event lost, every try failed).
 */
export const HOOK_BACKUP_SECONDS = 120;

/**
 * The instances this rollout drained and asked to terminate are followed until they leave the
 * group; one still waiting on a terminate hook (`Terminating:Wait`) {@link HOOK_BACKUP_SECONDS}
 * after it was asked gets its hooks completed by the rollout (`complete-hooks`). Pure.
 */
function withHookBackup(previous: SelfManagedRoll, decision: RollDecision, obs: Observation, settings: RollSettings): RollDecision {
  const now = obs.now.toISOString();
  const asked = decision.actions.flatMap((a) => (a.kind === 'terminate' ? a.instanceIds.map((instanceId) => ({ instanceId, at: now })) : []));
  const recorded = [...(decision.state.terminated ?? []), ...asked];
  const recovered = [...(obs.ownDrained ?? [])].filter((id) => !recorded.some((t) => t.instanceId === id)).map((instanceId) => ({ instanceId, at: now }));
  const known = [...recorded, ...recovered];
  if (known.length === 0) return decision;
  const stateOf = (id: string) => obs.group?.instances.find((i) => i.instanceId === id)?.lifecycleState;
  const since = (t: { at: string }) => obs.now.getTime() - Date.parse(t.at);
  // without the group (a drain's poll) nothing can be told: the list waits for the next look
  const followed = obs.group ? known.filter((t) => t.at === now || stateOf(t.instanceId)?.startsWith('Terminating')) : known;
  const waiting = obs.group && !decision.tidy ? followed.filter((t) => stateOf(t.instanceId) === 'Terminating:Wait') : [];
  const due = waiting.filter((t) => since(t) >= HOOK_BACKUP_SECONDS * 1000).map((t) => t.instanceId);
  const backup: RollAction[] = due.length > 0 ? [{ kind: 'complete-hooks', instanceIds: due }] : [];
  // the roll does not end with a hook of its own making still open: it waits for the backup
  const pending = waiting.filter((t) => since(t) < settings.terminateTimeoutSeconds * 1000);
  if (decision.state.phase === 'finish' && previous.phase !== 'finish' && pending.length > 0) {
    const until = Math.min(...pending.map((t) => Math.max(1, Math.ceil(HOOK_BACKUP_SECONDS - since(t) / 1000))));
    return {
      state: { ...previous, terminated: followed },
      actions: backup,
      next: 'wait',
      wait: { seconds: Math.min(settings.pollSeconds, until), phase: 'terminations' },
      summary: `waiting for the terminate hook${pending.length === 1 ? '' : 's'} of ${pending.map((t) => t.instanceId).join(', ')} before finishing`,
    };
  }
  const { terminated: _terminated, ...rest } = decision.state;
  return { ...decision, state: followed.length > 0 ? { ...rest, terminated: followed } : rest, actions: [...decision.actions, ...backup] };
}

/** Where a paused roll goes on: the next batch, or the phase it stopped in with its deadline counted from now. */
function resumeAt(state: SelfManagedRoll, resume: Pause['resume'], view: GroupView, obs: Observation, settings: RollSettings): SelfManagedRoll {
  if (resume === 'start') return { ...state, phase: 'start' };
  if (resume === 'next-batch' || !state.cycle) return beginBatch(state, view, obs, settings);
  const timeout =
    resume === 'await-replacements'
      ? settings.readyTimeoutSeconds
      : resume === 'await-drain'
        ? settings.drainTimeoutSeconds
        : resume === 'await-terminated'
          ? settings.terminateTimeoutSeconds
          : settings.healthTimeoutSeconds;
  return { ...state, phase: resume, cycle: { ...state.cycle, deadline: new Date(obs.now.getTime() + timeout * 1000).toISOString() } };
}

/**
 * A rollback that cannot finish. What is safe is put back — the template as it was set, the
 * processes resumed, nothing left cordoned that is not being drained (a node whose terminate
 * hook is open is handed to a drain of its own), desired lowered back only as far as no node
 * must go for it — and everything else is listed with the command that finishes it.
 */
function decideGiveUp(state: SelfManagedRoll, obs: Observation, view: GroupView): RollDecision {
  const reason = state.rollback?.reason ?? 'the rollback failed';
  const group = state.autoScalingGroup;
  const actions: RollAction[] = [];
  const left: string[] = [...(obs.unobserved ?? []).map((what) => `${what} could not be read, so it was left as it was`)];
  const o = state.original;
  if (obs.group) {
    const present = view.present;
    // never below the original, never above what the group asks for now, and no lower than the
    // instances it holds: Auto Scaling would pick one to take away, drained or not
    const desired = Math.max(o.desired, Math.min(present.length, obs.group.desired));
    const [min, max] = [Math.min(o.min, desired), Math.max(o.max, desired)];
    const { before, launchTemplate } = restoreTemplate(state, false);
    actions.push(...before, { kind: 'update-group', desired, min, max, ...(launchTemplate ? { launchTemplate } : {}) });
    if (desired > o.desired || max > o.max) {
      left.push(
        `desired capacity left at ${desired} (${o.desired} before the rollout) so that no node is taken away undrained: ` +
          `once the cause is fixed, start the rollout again (it finishes the job), or lower it and let the terminate hooks drain what Auto Scaling picks: ` +
          `aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${group} --desired-capacity ${o.desired} --min-size ${o.min} --max-size ${o.max}`,
      );
    }
    if (view.fresh.length > 0) left.push(`${view.fresh.length} instance${view.fresh.length === 1 ? '' : 's'} still run${view.fresh.length === 1 ? 's' : ''} the new image: ${list(view.fresh.map((i) => i.instanceId))}`);
    if (state.foreignTemplate) left.push(`the launch template was set outside this rollout (${state.foreignTemplate.id} ${state.foreignTemplate.version}) and left so`);
    // ours to take back: our cordons on the group's nodes, and the drains this rollout still owns
    const ours = present.flatMap((i) => {
      const node = obs.nodes.get(i.instanceId);
      return node?.unschedulable && node.ourCordon ? [{ instanceId: i.instanceId, node }] : [];
    });
    const owned = union(ours.map((c) => c.instanceId), state.cycle?.retire ?? []);
    if (owned.length > 0) actions.push({ kind: 'uncordon', nodes: ours.map((c) => c.node.name), instanceIds: owned });
  } else {
    left.push(`the group could not be read: restore it by hand: aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${group} --desired-capacity ${o.desired} --min-size ${o.min} --max-size ${o.max} --launch-template LaunchTemplateId=${o.launchTemplate.id},Version=${o.launchTemplateSetting ?? o.launchTemplate.version}`);
  }
  if (o.suspendedAZRebalance) actions.push({ kind: 'az-rebalance', suspended: false });
  actions.push({ kind: 'notify', event: 'rollback-failed', detail: { reason, left, replaced: state.replaced, ...(state.forced?.length ? { forced: state.forced } : {}) }, once: 'end' });
  return {
    state: { ...state, phase: 'ended', end: 'rollback-failed', left },
    actions,
    next: 'end',
    wait: null,
    summary: `rollback failed: ${reason}${left.length > 0 ? `; left: ${left.join('; ')}` : ''}`,
    tidy: true,
  };
}

/**
 * The template as the group had it: `$Latest` and `$Default` come back as such (a finished
 * `$Default` roll makes its version the default; an unfinished `$Latest` one first drops its
 * version, so that `$Latest` is the old one again); a number comes back as that number, or
 * stays the target's when the roll finished. A template set by someone else is left alone.
 */
export function restoreTemplate(state: SelfManagedRoll, finished: boolean): { before: RollAction[]; launchTemplate?: { id: string; version: string } } {
  if (state.foreignTemplate) return { before: [] };
  const id = state.original.launchTemplate.id;
  const setting = state.original.launchTemplateSetting;
  const target = { launchTemplateId: state.target.launchTemplateId, version: state.target.version };
  if (finished) {
    if (setting === '$Latest') return { before: [], launchTemplate: { id, version: '$Latest' } };
    if (setting === '$Default') return { before: [{ kind: 'set-default-version', ...target }], launchTemplate: { id, version: '$Default' } };
    return { before: [] };
  }
  if (setting === '$Latest') return { before: [{ kind: 'drop-version', ...target }], launchTemplate: { id, version: '$Latest' } };
  if (setting === '$Default') return { before: [], launchTemplate: { id, version: '$Default' } };
  return { before: [], launchTemplate: state.original.launchTemplate };
}

function describeSetting(state: SelfManagedRoll, finished: boolean): string {
  if (state.foreignTemplate) return `as set outside the rollout (${state.foreignTemplate.version})`;
  const setting = state.original.launchTemplateSetting;
  if (setting) return setting === '$Latest' && !finished ? `$Latest (version ${state.original.launchTemplate.version})` : setting;
  return `version ${finished ? state.target.version : state.original.launchTemplate.version}`;
}

/** Why no replacement became a Ready node: the ones that launched and never joined, or what Auto Scaling says of its launches — never a guess. */
function whyNoReplacements(state: SelfManagedRoll, fresh: readonly GroupInstance[], obs: Observation): string {
  const missing = fresh.filter((i) => !obs.nodes.get(i.instanceId)?.ready).map((i) => i.instanceId);
  if (missing.length > 0) return `${missing.join(', ')} launched but never became Ready nodes`;
  const activities = `aws autoscaling describe-scaling-activities --auto-scaling-group-name ${state.autoScalingGroup}`;
  const failures = obs.launchFailures ?? [];
  if (failures.length > 0) return `no instance launched: Auto Scaling reports ${failures.slice(0, 2).join(' | ')}${failures.length > 2 ? ` (and ${failures.length - 2} more)` : ''}; see ${activities}`;
  const group = obs.group;
  return `no instance launched, and Auto Scaling reports no failed launch${group ? ` (desired ${group.desired}, ${group.instances.filter((i) => !isLeaving(i)).length} instances)` : ''}; see ${activities}`;
}

/** How long to wait for a window: until it opens, but never longer than one poll. */
function windowWait(opensAt: Date, now: Date, settings: RollSettings): number {
  return Math.max(1, Math.min(settings.windowPollSeconds, Math.ceil((opensAt.getTime() - now.getTime()) / 1000)));
}

/**
 * The instances the health gate judges: the cycle's replacements still in the group, and any
 * instance launched from the target version since the cycle began (one that took the place of
 * a replacement Auto Scaling lost, a reclaimed Spot instance say). Pure.
 */
export function healthTargets(state: SelfManagedRoll, group: GroupSnapshot): string[] {
  const c = state.cycle;
  if (!c) return [];
  const known = new Set(c.known);
  return group.instances
    .filter((i) => !isLeaving(i) && (c.replacements.includes(i.instanceId) || (!known.has(i.instanceId) && i.launchTemplateVersion === state.target.version)))
    .map((i) => i.instanceId);
}

/**
 * The group after a decision's own calls, as their answers say: sizes and template as set,
 * AZRebalance as suspended or resumed, the instances asked to terminate now Terminating (a
 * TerminateInstanceInAutoScalingGroup that returns has started the termination). Instances
 * the group launches appear only at the next step's DescribeAutoScalingGroups, and every
 * decision waits for them then. Pure.
 */
export function afterOwnActions(group: GroupSnapshot, actions: readonly RollAction[]): GroupSnapshot {
  let next = group;
  for (const action of actions) {
    switch (action.kind) {
      case 'update-group':
        next = {
          ...next,
          ...(action.desired !== undefined ? { desired: action.desired } : {}),
          ...(action.min !== undefined ? { min: action.min } : {}),
          ...(action.max !== undefined ? { max: action.max } : {}),
          ...(action.launchTemplate ? { launchTemplate: action.launchTemplate } : {}),
        };
        break;
      case 'az-rebalance': {
        const others = next.suspendedProcesses.filter((p) => p !== 'AZRebalance');
        next = { ...next, suspendedProcesses: action.suspended ? [...others, 'AZRebalance'] : others };
        break;
      }
      case 'terminate': {
        const ids = new Set(action.instanceIds);
        const leaving = next.instances.filter((i) => ids.has(i.instanceId) && !isLeaving(i)).length;
        next = {
          ...next,
          desired: action.decrement ? next.desired - leaving : next.desired,
          instances: next.instances.map((i) => (ids.has(i.instanceId) && !isLeaving(i) ? { ...i, lifecycleState: 'Terminating' } : i)),
        };
        break;
      }
      default:
        break;
    }
  }
  return next;
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
  // the tidy-up itself failed (it catches its own failures, so this is a crash): try it again
  if (state.phase === 'give-up') return state;
  const attempts = (state.rollback?.attempts ?? 0) + 1;
  // a step that failed only because AWS or the cluster's API kept refusing (throttling, an
  // outage) already went through its own retries; a storm that outlasts them must not use up
  // the rollback's few attempts, so those get more (each is minutes of retries)
  const limit = TRANSIENT_FAILURE.test(error) ? TRANSIENT_ROLLBACK_ATTEMPTS : ROLLBACK_ATTEMPTS;
  const giveUp = (reason: string): SelfManagedRoll => ({ ...state, phase: 'give-up', rollback: { reason, attempts, announced: state.rollback?.announced ?? false } });
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

/** the old instances whose nodes are cordoned (by this rollout: it cordons every old node once) */
function cordonedOld(view: GroupView, obs: Observation): { instanceId: string; node: NodeFact }[] {
  return view.old.flatMap((i) => {
    const node = obs.nodes.get(i.instanceId);
    return node?.unschedulable ? [{ instanceId: i.instanceId, node }] : [];
  });
}

/** Uncordons the nodes, and lets go of the drains of their instances and of `drained` (instances whose drains the roll abandons). */
function uncordon(cordoned: readonly { instanceId: string; node: NodeFact }[], drained: readonly string[] = []): RollAction {
  return { kind: 'uncordon', nodes: cordoned.map((c) => c.node.name), instanceIds: union(cordoned.map((c) => c.instanceId), drained) };
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

function list(items: readonly string[]): string {
  return items.length <= 10 ? items.join(', ') : `${items.slice(0, 10).join(', ')} and ${items.length - 10} more`;
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
