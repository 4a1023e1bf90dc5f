import { snapshotGroup } from '../../aws/auto-scaling-groups.js';
import type { AwsScope } from '../../aws/clients.js';
import {
  describeInstanceRefresh,
  rollbackInstanceRefresh,
  cancelInstanceRefresh,
  startInstanceRefresh,
  type RefreshView,
} from '../../aws/instance-refresh.js';
import { ConfigurationError } from '../../errors.js';
import type { BoundaryVerdict } from '../../fleet/may-start.js';
import type { SignalResult } from '../../fleet/workload-health.js';
import { resolveMaxUnavailable } from '../plan-batches.js';

/**
 * `strategy=instance-refresh` for self-managed groups: Auto Scaling replaces the instances
 * (its terminate lifecycle hook runs our drain), we choose the preferences, watch progress,
 * and run the health gate at the checkpoint after the canary. While Auto Scaling replaces
 * instances, every poll also looks at the workloads of the instances already replaced
 * (health-gate.ts, as a self-managed batch does) and at the fleet (a hold of the release):
 * a regression or a hold rolls the refresh back at once. A freeze cannot pause a running
 * refresh (Auto Scaling has no pause, and a checkpoint's delay is fixed when it starts): it
 * holds a refresh that has not started yet (instance-refresh-strategy.ts).
 *
 * Decisions are pure (`refreshPreferences`, `decideRefresh`); `stepInstanceRefresh` is one
 * short, repeatable workflow step that does the I/O around them.
 */

/** Polling interval while a refresh runs: Step Functions waits, the Lambda stays short. */
export const REFRESH_POLL_SECONDS = 30;

export interface RefreshPreferenceInput {
  desired: number;
  maxUnavailable: number | `${number}%`;
  canary: number;
  warmupSeconds: number;
  checkpointDelaySeconds: number;
}

export interface InstanceRefreshPreferences {
  MinHealthyPercentage: number;
  MaxHealthyPercentage: number;
  SkipMatching: true;
  InstanceWarmup: number;
  CheckpointPercentages?: number[];
  CheckpointDelay?: number;
}

/**
 * Preferences that keep healthy capacity at or above desired − k (k = the resolved
 * max-unavailable), with a checkpoint once the canary's share of the group is replaced.
 *
 * Auto Scaling keeps ceil(desired × MinHealthyPercentage / 100) instances healthy (it rounds
 * UP). floor(100 × (desired − k) / desired) is the largest percentage that still lets k
 * instances go at once; for groups up to 100 it also never lets more than k go. Above 100
 * instances one percent is more than one instance, and that floor can let k + 1 go: we then
 * take the next percentage up (budgets fail closed) and replace fewer at a time.
 *
 * The canary checkpoint rounds DOWN: Auto Scaling reaches a checkpoint when the replaced
 * share is at least the percentage, so 1 canary of 3 (33.3 %) reaches 33 but would not
 * reach 34 before a second node was replaced. It is kept within 1..99 so it pauses before
 * the end; MaxHealthyPercentage 100 means no surge (terminate, then launch).
 */
export function refreshPreferences(input: RefreshPreferenceInput): InstanceRefreshPreferences {
  const desired = Math.max(0, Math.floor(input.desired));
  const k = resolveMaxUnavailable(input.maxUnavailable, desired);
  let min = desired === 0 ? 100 : Math.max(0, Math.floor((100 * (desired - k)) / desired));
  if (desired > 0 && minimumHealthy(desired, min) < desired - k) min += 1;
  const canary = Math.max(0, Math.floor(input.canary));
  const checkpoint = canary > 0 && desired > 0 ? Math.min(99, Math.max(1, Math.floor((100 * canary) / desired))) : undefined;
  return {
    MinHealthyPercentage: Math.min(100, min),
    MaxHealthyPercentage: 100,
    SkipMatching: true,
    InstanceWarmup: Math.max(0, Math.floor(input.warmupSeconds)),
    ...(checkpoint !== undefined ? { CheckpointPercentages: [checkpoint, 100], CheckpointDelay: Math.max(0, Math.floor(input.checkpointDelaySeconds)) } : {}),
  };
}

/** What Auto Scaling keeps healthy for a MinHealthyPercentage (documented: rounded up). */
export function minimumHealthy(desired: number, minHealthyPercentage: number): number {
  // desired × percentage is an exact integer, so the one division is the only rounding
  return Math.ceil((desired * minHealthyPercentage) / 100);
}

export interface RefreshState {
  /** null: nothing needed a refresh (every instance already on the target) */
  refreshId: string | null;
  startedAt: string;
  /** the canary health gate passed at the checkpoint */
  checkpointHealthChecked: boolean;
  /** why we asked Auto Scaling to roll back (its own RollbackReason is generic) */
  rollbackReason?: string;
  /** the rollback's cause besides an unready canary: workloads regressed, or a hold of the release */
  cause?: 'failed-health' | 'held';
  /** failed-health: the signals that regressed, with their numbers */
  signals?: SignalResult[];
}

/** The gate's verdict on the replaced instances; `regressed`: their workloads got worse (shared/fleet/workload-health.ts). */
export type RefreshHealth =
  | { verdict: 'healthy' | 'pending' | 'unhealthy'; reason?: string }
  | { verdict: 'regressed'; reason: string; signals: SignalResult[] };

export type RefreshStep =
  | { kind: 'wait'; state: RefreshState; seconds: number; phase: 'refresh-in-progress' | 'refresh-checkpoint'; percentageComplete: number; instancesToUpdate: number }
  | { kind: 'succeeded'; state: RefreshState }
  | { kind: 'failed'; state: RefreshState; reason: string }
  | { kind: 'rolled-back'; state: RefreshState; reason: string };

/** One look at the refresh; `health` once the gate has been run for this look. */
export interface RefreshObservation {
  refresh: Pick<RefreshView, 'refreshId' | 'status' | 'statusReason' | 'percentageComplete' | 'instancesToUpdate' | 'rollbackReason'> | undefined;
  /** the canary checkpoint (first CheckpointPercentages entry below 100), if any */
  checkpointPercentage?: number;
  health?: RefreshHealth;
  /** the fleet's word on the refresh (fleet/may-start.ts atBatchBoundary), looked at while it runs */
  boundary?: BoundaryVerdict;
}

export type RefreshDecision =
  | { kind: 'wait'; state: RefreshState; seconds: number; phase: 'refresh-in-progress' | 'refresh-checkpoint' }
  /** run the health gate on the instances already on the new configuration, then decide again */
  | { kind: 'check-health'; state: RefreshState }
  | { kind: 'roll-back'; state: RefreshState; reason: string }
  | { kind: 'succeeded'; state: RefreshState }
  | { kind: 'failed'; state: RefreshState; reason: string }
  | { kind: 'rolled-back'; state: RefreshState; reason: string };

/**
 * What to do after one look at the refresh. Pure.
 *
 * - At the canary checkpoint the gate runs until it says healthy (then we wait out the
 *   checkpoint) or unhealthy (roll back). It fails closed: a refresh that moved past the
 *   checkpoint before the gate passed is rolled back too.
 * - A refresh that finished without pausing (Auto Scaling skips a checkpoint a single wave
 *   overshoots) is gated before it counts as succeeded; it can no longer be rolled back by
 *   Auto Scaling, so an unhealthy verdict then fails the step.
 * - While it runs: a regressed verdict (the workloads of the instances already replaced, at
 *   the checkpoint or at any poll) or a hold of the release rolls it back, whatever the
 *   readiness gate still waits for.
 */
export function decideRefresh(observation: RefreshObservation, state: RefreshState, _now: Date): RefreshDecision {
  const refresh = observation.refresh;
  if (!refresh) return { kind: 'failed', state, reason: `instance refresh ${state.refreshId ?? '(none)'} not found` };
  const checkpoint = observation.checkpointPercentage;
  const gated = checkpoint === undefined || state.checkpointHealthChecked;
  const wait = (phase: 'refresh-in-progress' | 'refresh-checkpoint', next = state): RefreshDecision => ({ kind: 'wait', state: next, seconds: REFRESH_POLL_SECONDS, phase });

  const running = refresh.status === 'Pending' || refresh.status === 'Baking' || refresh.status === 'InProgress';
  if (running && observation.boundary?.verdict === 'stop') return { kind: 'roll-back', state: { ...state, cause: 'held' }, reason: `stopped: ${observation.boundary.reason}` };
  if (running && observation.health?.verdict === 'regressed') return regressed(observation.health, state, 'roll-back');
  switch (refresh.status) {
    case 'Pending':
    case 'Baking':
      return wait('refresh-in-progress');
    case 'InProgress': {
      const atCheckpoint = checkpoint !== undefined && /checkpoint/i.test(refresh.statusReason ?? '') && refresh.percentageComplete >= checkpoint;
      if (!gated && atCheckpoint) return gate(observation, state, 'roll-back') ?? wait('refresh-checkpoint');
      if (!gated && refresh.percentageComplete > checkpoint!) {
        return { kind: 'roll-back', state, reason: `the refresh moved past the ${checkpoint}% canary checkpoint (now ${refresh.percentageComplete}%) before the health gate passed` };
      }
      return wait(atCheckpoint ? 'refresh-checkpoint' : 'refresh-in-progress');
    }
    case 'Successful':
      if (!gated) return gate(observation, state, 'failed') ?? wait('refresh-checkpoint');
      return { kind: 'succeeded', state };
    case 'Cancelling':
    case 'RollbackInProgress':
      return wait('refresh-in-progress');
    case 'Cancelled':
      return { kind: 'failed', state, reason: state.rollbackReason ?? `instance refresh ${refresh.refreshId} was cancelled${refresh.statusReason ? `: ${refresh.statusReason}` : ''}` };
    case 'RollbackSuccessful':
      return { kind: 'rolled-back', state, reason: state.rollbackReason ?? refresh.rollbackReason ?? refresh.statusReason ?? 'rolled back' };
    case 'RollbackFailed':
      return { kind: 'failed', state, reason: `rollback of instance refresh ${refresh.refreshId} failed: ${refresh.statusReason ?? 'no reason given'}${state.rollbackReason ? ` (rolled back because ${state.rollbackReason})` : ''}` };
    case 'Failed':
      return { kind: 'failed', state, reason: `instance refresh ${refresh.refreshId} failed: ${refresh.statusReason ?? 'no reason given'}` };
    default:
      return { kind: 'failed', state, reason: `instance refresh ${refresh.refreshId} has an unknown status ${String(refresh.status)}` };
  }
}

/** The gate's verdict as a decision; undefined = keep waiting at the checkpoint. */
function gate(observation: RefreshObservation, state: RefreshState, onUnhealthy: 'roll-back' | 'failed'): RefreshDecision | undefined {
  const health = observation.health;
  if (!health) return { kind: 'check-health', state };
  if (health.verdict === 'healthy') {
    const next = { ...state, checkpointHealthChecked: true };
    return observation.refresh?.status === 'Successful'
      ? { kind: 'succeeded', state: next }
      : { kind: 'wait', state: next, seconds: REFRESH_POLL_SECONDS, phase: 'refresh-checkpoint' };
  }
  if (health.verdict === 'pending') return undefined;
  if (health.verdict === 'regressed') return regressed(health, state, onUnhealthy);
  const reason = `canary health gate failed: ${health.reason ?? 'the new nodes are not healthy'}`;
  return { kind: onUnhealthy, state, reason };
}

function regressed(health: Extract<RefreshHealth, { verdict: 'regressed' }>, state: RefreshState, kind: 'roll-back' | 'failed'): RefreshDecision {
  return { kind, state: { ...state, cause: 'failed-health', signals: health.signals.slice(0, 8) }, reason: `health gate: ${health.reason}` };
}

export interface RefreshInput {
  autoScalingGroup: string;
  launchTemplate: { id: string; version: number };
  preferences: InstanceRefreshPreferences;
  state: RefreshState | null;
}

export interface RefreshPorts {
  aws: AwsScope;
  now: () => Date;
  log: (m: string, a?: Record<string, unknown>) => void;
  /**
   * the health gate: new instances' nodes Ready and their pods Running/Ready, and their
   * workloads not regressed against the old instances' (`oldInstanceIds`, the baseline)
   */
  checkHealth: (instanceIds: string[], oldInstanceIds: string[]) => Promise<RefreshHealth>;
  /** at every poll of a running refresh past its gate, the same check for a regression alone (absent: not watched) */
  watchHealth?: (instanceIds: string[], oldInstanceIds: string[]) => Promise<RefreshHealth>;
  /** the fleet at a poll of a running refresh: a hold of its release rolls it back (absent: not looked at) */
  atBatchBoundary?: () => Promise<BoundaryVerdict>;
}

/**
 * One step of an instance refresh rollout; call again after `seconds` while it says wait.
 *
 * First call (state null):
 * 1. refuse an EKS managed node group's ASG (tag `eks:nodegroup-name`): EKS owns its
 *    rollouts, and an instance refresh there fights EKS;
 * 2. nothing to do when every instance and the group already use the target version;
 * 3. start the refresh, or adopt ours if a retry finds it running.
 * Later calls: describe it; at the checkpoint run the health gate on the instances already on
 * the new version; roll back (or cancel, when Auto Scaling cannot roll back) on a failed gate.
 */
export async function stepInstanceRefresh(input: RefreshInput, ports: RefreshPorts): Promise<RefreshStep> {
  const { aws, log } = ports;
  const name = input.autoScalingGroup;
  const target = { launchTemplateId: input.launchTemplate.id, version: input.launchTemplate.version };
  const now = ports.now();

  if (input.state === null) {
    const group = await snapshotGroup(aws, name);
    if (!group) throw new ConfigurationError(`Auto Scaling group ${name} not found`);
    if (group.tags['eks:nodegroup-name'] !== undefined) {
      throw new ConfigurationError(`Auto Scaling group ${name} belongs to EKS managed node group ${group.tags['eks:nodegroup-name']}: never instance-refresh it, update the node group instead`);
    }
    const onTarget = (i: { launchTemplateId?: string; launchTemplateVersion?: string }) => i.launchTemplateId === target.launchTemplateId && i.launchTemplateVersion === String(target.version);
    if (group.launchTemplate && onTarget({ launchTemplateId: group.launchTemplate.id, launchTemplateVersion: group.launchTemplate.version }) && group.instances.every(onTarget)) {
      log('instance refresh: nothing to do, every instance already runs the target version', { group: name, ...target });
      return { kind: 'succeeded', state: { refreshId: null, startedAt: now.toISOString(), checkpointHealthChecked: false } };
    }
    const { refreshId, adopted } = await startInstanceRefresh(aws, name, target, input.preferences);
    log(adopted ? 'instance refresh: adopted the running refresh' : 'instance refresh: started', { group: name, refreshId, ...target, preferences: input.preferences });
    return { kind: 'wait', state: { refreshId, startedAt: now.toISOString(), checkpointHealthChecked: false }, seconds: REFRESH_POLL_SECONDS, phase: 'refresh-in-progress', percentageComplete: 0, instancesToUpdate: group.instances.filter((i) => !onTarget(i)).length };
  }

  const state = input.state;
  if (state.refreshId === null) return { kind: 'succeeded', state };
  const refresh = await describeInstanceRefresh(aws, name, state.refreshId);
  const checkpointPercentage = input.preferences.CheckpointPercentages?.find((p) => p < 100);
  const running = refresh?.status === 'Pending' || refresh?.status === 'Baking' || refresh?.status === 'InProgress';
  const boundary = running && ports.atBatchBoundary ? await ports.atBatchBoundary() : undefined;
  if (boundary?.verdict === 'pause') log('instance refresh: a freeze covers the group, but a running refresh cannot be paused; it goes on', { group: name, refreshId: state.refreshId, reason: boundary.reason });
  const observation: RefreshObservation = { refresh, ...(checkpointPercentage !== undefined ? { checkpointPercentage } : {}), ...(boundary ? { boundary } : {}) };
  let decision = decideRefresh(observation, state, now);
  const gating = decision.kind === 'check-health';
  // the gate at the checkpoint; and at every poll of a running refresh, the replaced instances' workloads
  const watch = !gating && decision.kind === 'wait' && refresh?.status === 'InProgress' ? ports.watchHealth : undefined;
  if (gating || watch) {
    const { fresh, old } = await instancesByVersion(aws, name, target);
    const health: RefreshHealth = fresh.length > 0 ? await (watch ?? ports.checkHealth)(fresh, old) : { verdict: 'pending', reason: 'no instance on the new version yet' };
    if (gating || health.verdict === 'regressed') {
      log('instance refresh: health gate', { group: name, refreshId: state.refreshId, instances: fresh, ...health });
      decision = decideRefresh({ ...observation, health }, state, now);
    }
  }
  const progress = { percentageComplete: refresh?.percentageComplete ?? 0, instancesToUpdate: refresh?.instancesToUpdate ?? 0 };

  switch (decision.kind) {
    case 'wait':
      return { ...decision, ...progress };
    case 'roll-back':
      return rollBack(input, ports, decision.state, decision.reason, progress);
    case 'check-health': // decided twice with a verdict: cannot happen; fail closed
      return { kind: 'failed', state: decision.state, reason: 'the health gate gave no verdict' };
    case 'succeeded':
      log('instance refresh: succeeded', { group: name, refreshId: state.refreshId });
      return decision;
    default:
      log(`instance refresh: ${decision.kind}`, { group: name, refreshId: state.refreshId, reason: decision.reason });
      return decision;
  }
}

/** Auto Scaling's rollback when it can; otherwise cancel, and the step fails with the reason. */
async function rollBack(input: RefreshInput, ports: RefreshPorts, state: RefreshState, reason: string, progress: { percentageComplete: number; instancesToUpdate: number }): Promise<RefreshStep> {
  const name = input.autoScalingGroup;
  const next = { ...state, rollbackReason: reason };
  const result = await rollbackInstanceRefresh(ports.aws, name);
  ports.log('instance refresh: rolling back', { group: name, refreshId: state.refreshId, reason, result: result.kind });
  if (result.kind === 'rolling-back') return { kind: 'wait', state: next, seconds: REFRESH_POLL_SECONDS, phase: 'refresh-in-progress', ...progress };
  if (result.kind === 'irreversible') {
    await cancelInstanceRefresh(ports.aws, name);
    return { kind: 'failed', state: next, reason: `${reason}; Auto Scaling cannot roll this refresh back (${result.reason}), so it was cancelled: the instances already replaced stay on the new version` };
  }
  return { kind: 'failed', state: next, reason: `${reason}; the refresh had already ended, nothing to roll back` };
}

/** InService instances already on the target version (the ones the gate looks at), and the others (the restart baseline). */
async function instancesByVersion(aws: AwsScope, name: string, target: { launchTemplateId: string; version: number }): Promise<{ fresh: string[]; old: string[] }> {
  const group = await snapshotGroup(aws, name);
  const inService = (group?.instances ?? []).filter((i) => i.lifecycleState === 'InService');
  const onTarget = (i: (typeof inService)[number]) => i.launchTemplateId === target.launchTemplateId && i.launchTemplateVersion === String(target.version);
  return { fresh: inService.filter(onTarget).map((i) => i.instanceId).sort(), old: inService.filter((i) => !onTarget(i)).map((i) => i.instanceId).sort() };
}
