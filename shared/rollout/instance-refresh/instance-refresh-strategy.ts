import { snapshotGroup } from '../../aws/auto-scaling-groups.js';
import type { AwsScope } from '../../aws/clients.js';
import { ConfigurationError } from '../../errors.js';
import type { RefreshRoll } from '../../events/rollout.js';
import type { KubeClients } from '../../kube/client.js';
import type { BoundaryVerdict } from '../../fleet/may-start.js';
import type { HealthCriteria } from '../../fleet/workload-health.js';
import type { CoreV1Api } from '../../kube/api.js';
import { checkHealth, readNodes } from '../health-gate.js';
import { type AnnouncePort, type Announcement, endOnFailure, type RollStrategy, selfManagedTarget, type StepOutcome, targetImage } from '../roll-strategy.js';
import { DEFAULT_ROLL_SETTINGS } from '../self-managed/decide-self-managed.js';
import { refreshPreferences, type RefreshHealth, type RefreshStep, stepInstanceRefresh } from './instance-refresh.js';

/** `strategy=instance-refresh`: Auto Scaling replaces a self-managed group's instances; the steps watch, and gate the canary. */
export interface InstanceRefreshStrategyPorts extends AnnouncePort {
  aws: AwsScope;
  kube: KubeClients;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
  /** the thresholds of the workload half of the health gate (the promotion policy's for the group's ring and cluster, else the defaults) */
  healthCriteria: () => Promise<HealthCriteria>;
  /** the fleet's word: before the refresh starts a freeze holds it and a hold ends it; while it runs a hold rolls it back */
  atBatchBoundary: () => Promise<BoundaryVerdict>;
  /** the group's outcome for its release in the fleet table (does nothing for a rollout of no release) */
  recordOutcome: (state: 'failed-health' | 'stopped', detail: string) => Promise<void>;
}

/** How often a refresh held by a freeze before its start looks whether it was lifted (as a frozen self-managed roll does). */
const FREEZE_POLL_SECONDS = DEFAULT_ROLL_SETTINGS.freezePollSeconds;

export const instanceRefresh: RollStrategy<RefreshRoll, InstanceRefreshStrategyPorts> = {
  kind: 'instance-refresh',

  async plan({ input }, ports) {
    const { autoScalingGroup } = selfManagedTarget(input);
    await ports.notify('planned', { strategy: 'instance-refresh', summary: `${input.cluster}/${input.group.name}: instance refresh onto ${targetImage(input)}` }, 'planned');
    return { state: { kind: 'instance-refresh', autoScalingGroup, refresh: null, end: null, reason: null }, next: 'step', wait: null, summary: 'starting an instance refresh', outcome: null };
  },

  async step(state, { input }, ports) {
    const lt = input.launchTemplate;
    if (!lt.launchTemplateId) throw new ConfigurationError('an instance refresh needs the launch template version prepared for the new image');
    if (state.refresh === null) {
      // not started yet: the fleet may still keep it from starting (nothing changed so far)
      const held = beforeStart(state, await ports.atBatchBoundary(), ports.now());
      if (held) {
        if (held.record) await ports.recordOutcome(held.record.state, held.record.detail);
        if (held.announce) await ports.notify(held.announce.event, held.announce.detail, held.announce.once);
        return held.outcome;
      }
    }
    const core = await ports.kube.core(input.cluster);
    const group = await snapshotGroup(ports.aws, state.autoScalingGroup);
    const step = await stepInstanceRefresh(
      {
        autoScalingGroup: state.autoScalingGroup,
        launchTemplate: { id: lt.launchTemplateId, version: lt.version },
        preferences: refreshPreferences({
          desired: group?.desired ?? 1,
          maxUnavailable: input.policy.maxUnavailable as number | `${number}%`,
          canary: input.policy.canary,
          warmupSeconds: 60,
          checkpointDelaySeconds: DEFAULT_ROLL_SETTINGS.healthTimeoutSeconds,
        }),
        state: state.refresh,
      },
      {
        aws: ports.aws,
        now: ports.now,
        log: ports.log,
        checkHealth: (ids, old) => gateHealth(core, input.cluster, ids, old, ports),
        watchHealth: (ids, old) => gateHealth(core, input.cluster, ids, old, ports),
        atBatchBoundary: ports.atBatchBoundary,
      },
    );
    const { outcome, announce, record } = refreshOutcome(state, step);
    if (record) await ports.recordOutcome(record.state, record.detail);
    if (announce) await ports.notify(announce.event, announce.detail, announce.once);
    return outcome;
  },

  afterFailure: (state, error, _context, ports) => endOnFailure(state, error, ports),
};

/**
 * The health gate over the replaced instances' nodes (health-gate.ts, as a self-managed batch):
 * one LIST of nodes and one of pods. Readiness short of healthy is pending here: Auto Scaling's
 * own warm-up and the checkpoint's delay bound it, and the refresh fails closed past the checkpoint.
 */
async function gateHealth(core: CoreV1Api, cluster: string, ids: string[], old: string[], ports: Pick<InstanceRefreshStrategyPorts, 'healthCriteria' | 'now'>): Promise<RefreshHealth> {
  const verdict = await checkHealth(core, cluster, ids, await readNodes(core, cluster), { criteria: await ports.healthCriteria(), oldInstanceIds: old, now: ports.now() });
  if (verdict.verdict === 'regressed') return { verdict: 'regressed', reason: verdict.reason, signals: verdict.report.signals.filter((s) => s.status === 'regressed') };
  return verdict.verdict === 'healthy' ? { verdict: 'healthy' } : { verdict: 'pending', reason: verdict.reason };
}

/** What the fleet does to a refresh not started yet (pure): a freeze holds it, a hold of its release ends it before it changes anything. */
export function beforeStart(previous: RefreshRoll, boundary: BoundaryVerdict, now: Date): { outcome: StepOutcome; announce?: Announcement; record?: { state: 'stopped'; detail: string } } | undefined {
  if (boundary.verdict === 'continue') return undefined;
  if (boundary.verdict === 'stop') {
    const reason = `stopped before the instance refresh started: ${boundary.reason}`;
    return {
      outcome: { state: { ...previous, end: 'refused', reason }, next: 'end', wait: null, summary: reason, outcome: 'refused' },
      announce: { event: 'aborted', detail: { reason, cause: 'held' }, once: 'end' },
      record: { state: 'stopped', detail: reason.slice(0, 1000) },
    };
  }
  const since = previous.frozenSince ?? now.toISOString();
  return {
    outcome: { state: { ...previous, frozenSince: since }, next: 'wait', wait: { seconds: FREEZE_POLL_SECONDS, phase: 'paused' }, summary: `paused: ${boundary.reason}; the refresh starts when unfrozen`, outcome: null },
    announce: { event: 'paused', detail: { reason: 'freeze', message: `${boundary.reason}; the instance refresh starts when unfrozen` }, once: `paused:${since}` },
  };
}

/** What a step of the refresh means for the roll, what it announces, and the group's outcome for its release when a rollback has just been asked for. Pure. */
export function refreshOutcome(previous: RefreshRoll, step: RefreshStep): { outcome: StepOutcome; announce?: Announcement; record?: { state: 'failed-health' | 'stopped'; detail: string } } {
  const cause = step.state.cause;
  const why = { ...(cause ? { cause } : {}), ...(step.state.signals?.length ? { signals: step.state.signals } : {}) };
  // the rollback asked for in this step: recorded and announced once, with the signals that regressed
  const fresh = cause && step.state.rollbackReason && !previous.refresh?.rollbackReason ? step.state.rollbackReason : undefined;
  const record = fresh ? { record: { state: cause === 'held' ? ('stopped' as const) : ('failed-health' as const), detail: fresh.slice(0, 1000) } } : {};
  const { frozenSince: _lifted, ...base } = previous;
  if (step.kind === 'wait') {
    return {
      outcome: { state: { ...base, refresh: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'instance-refresh' }, summary: `${step.phase}: ${step.percentageComplete}% complete, ${step.instancesToUpdate} to update`, outcome: null },
      ...(fresh ? { announce: { event: 'rolling-back', detail: { reason: fresh, ...why }, once: 'rolling-back' } } : {}),
      ...record,
    };
  }
  const outcome = step.kind === 'succeeded' ? 'finished' : step.kind;
  const reason = step.kind === 'succeeded' ? null : step.reason;
  return {
    outcome: { state: { ...base, refresh: step.state, end: outcome, reason }, next: 'end', wait: null, summary: reason ?? 'instance refresh succeeded: every node runs the new image', outcome },
    announce: { event: outcome, detail: { ...(reason ? { reason } : {}), ...(outcome === 'finished' ? {} : why) }, once: 'end' },
    ...record,
  };
}
