/**
 * The service's CloudWatch metrics (namespace `EksNodeLifecycle/<stage>`, written as EMF by
 * Powertools Metrics: functions/lib/metrics.ts). Each point is published under two dimension
 * sets: `service` + its one low-cardinality dimension (what the alarms and the dashboard
 * read: `outcome`, `result`, `reason`, `command`), and the same with `cluster` added (per-cluster
 * graphs). No instance, node, pod, group or execution ever becomes a dimension: those are in
 * the events and logs. README "Metrics" lists them.
 *
 * The mappers are pure (event in, points out); `recordMetrics` hands points to the sink the
 * function's runtime installed — none in tests and tools, where it does nothing.
 */
import type { GroupPlan } from '../detect/plan-rollouts.js';

export const METRIC_NAMES = [
  /** drains that ended, by outcome (drained, forced, failed, node-gone) */
  'DrainsFinished',
  /** seconds from a drain's start to its end, by outcome */
  'DrainDuration',
  /** pods whose eviction a PodDisruptionBudget still refused when the drain ended */
  'EvictionsRefusedByBudget',
  /** pods a forced drain deleted past their budgets */
  'PodsForced',
  /** rollouts that ended, by outcome (finished, rolled-back, aborted, failed, rollback-failed, declined) */
  'RolloutsEnded',
  /** seconds from Begin taking the group's lock to the rollout's end (window and approval waits included), by outcome */
  'RolloutDuration',
  /** nodes a rollout replaced, counted when it ends */
  'NodesReplaced',
  /** seconds a rollout waited before it could roll, by reason (window, approval) */
  'RolloutWait',
  /** node groups a detection found, by reason (stale, current, off, configuration, no-target, untrusted) */
  'StaleGroups',
  /** launch lifecycle actions completed, by result (CONTINUE, ABANDON) */
  'NodeJoins',
  /** seconds from an instance's launch to its node being Ready */
  'TimeToReady',
  /** chat and CLI commands, by outcome (done, refused, invalid, failed) and command */
  'ChatCommands',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricPoint {
  name: MetricName;
  unit: 'Count' | 'Seconds';
  value: number;
  /** the cluster, when the point is about one */
  cluster?: string;
  /** the point's one low-cardinality dimension, if any */
  dimension?: { name: 'outcome' | 'result' | 'reason' | 'command'; value: string };
}

export type MetricSink = (points: readonly MetricPoint[]) => void;

let sink: MetricSink | undefined;

/** Installs where points go (once per execution environment: functions/lib/metrics.ts). */
export function installMetricSink(next: MetricSink | undefined): void {
  sink = next;
}

export function recordMetrics(points: readonly MetricPoint[]): void {
  if (points.length > 0) sink?.(points);
}

const count = (name: MetricName, value: number, cluster: string | undefined, dimension?: MetricPoint['dimension']): MetricPoint => ({ name, unit: 'Count', value, ...(cluster ? { cluster } : {}), ...(dimension ? { dimension } : {}) });
const seconds = (name: MetricName, value: number, cluster: string | undefined, dimension?: MetricPoint['dimension']): MetricPoint => ({ ...count(name, value, cluster, dimension), unit: 'Seconds' });

/** The rollout events that end a rollout, and the outcome each is counted as. */
const ROLLOUT_ENDINGS: Readonly<Record<string, string>> = {
  'Rollout Finished': 'finished',
  'Rollout Rolled Back': 'rolled-back',
  'Rollout Aborted': 'aborted',
  'Rollout Failed': 'failed',
  'Rollout Rollback Failed': 'rollback-failed',
  'Rollout Declined': 'declined',
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The points one of the service's own events stands for (published on the bus: shared/aws/notifications.ts). */
export function metricsOfEvent(detailType: string, detail: Readonly<Record<string, unknown>>): MetricPoint[] {
  const cluster = str(detail['cluster']);
  if (detailType === 'Node Drain Finished') {
    return metricsOfDrainEnd(cluster, str(detail['outcome']) ?? 'unknown', {
      durationSeconds: num(detail['durationSeconds']),
      refused: list(detail['blockers']).filter((b) => (b as { pdb?: unknown } | null)?.pdb).length,
      forced: list(detail['forced']).length,
    });
  }
  const ending = ROLLOUT_ENDINGS[detailType];
  if (ending) {
    const points = [count('RolloutsEnded', 1, cluster, { name: 'outcome', value: ending })];
    const replaced = num(detail['replaced']);
    if (replaced) points.push(count('NodesReplaced', replaced, cluster));
    return points;
  }
  if (detailType === 'Rollout Approved') {
    const waited = waitedSeconds(detail['requestedAt'], detail['at']);
    return waited === undefined ? [] : [seconds('RolloutWait', waited, cluster, { name: 'reason', value: 'approval' })];
  }
  return [];
}

/**
 * A drain that ended: node-drain's (from its Node Drain Finished event) or one a rollout ran
 * itself over its batch (shared/rollout/self-managed/drain-batch.ts, which has no start time to give).
 */
export function metricsOfDrainEnd(cluster: string | undefined, outcome: string, figures: { durationSeconds?: number | undefined; refused?: number; forced?: number } = {}): MetricPoint[] {
  const points = [count('DrainsFinished', 1, cluster, { name: 'outcome', value: outcome })];
  if (figures.durationSeconds !== undefined) points.push(seconds('DrainDuration', figures.durationSeconds, cluster, { name: 'outcome', value: outcome }));
  if (figures.refused) points.push(count('EvictionsRefusedByBudget', figures.refused, cluster));
  if (figures.forced) points.push(...metricsOfForcedPods(cluster, figures.forced));
  return points;
}

/** Pods a force pass deleted past their budgets (a rollout's batch drain counts them pass by pass). */
export function metricsOfForcedPods(cluster: string | undefined, forced: number): MetricPoint[] {
  return forced > 0 ? [count('PodsForced', forced, cluster)] : [];
}

function waitedSeconds(from: unknown, to: unknown): number | undefined {
  const start = typeof from === 'string' ? Date.parse(from) : NaN;
  const end = typeof to === 'string' ? Date.parse(to) : NaN;
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? Math.round((end - start) / 1000) : undefined;
}

/** A rollout's whole run, by its outcome (finishRollout: every way out of ami-rollout passes there). */
export function metricsOfRolloutDuration(cluster: string, outcome: string, heldSince: string, now: Date): MetricPoint[] {
  const duration = waitedSeconds(heldSince, now.toISOString());
  return duration === undefined ? [] : [seconds('RolloutDuration', duration, cluster, { name: 'outcome', value: outcome })];
}

/** A rollout that will wait for its maintenance window to open: the wait, counted when Begin decides it. */
export function metricsOfWindowWait(cluster: string, now: Date, opensAt: Date): MetricPoint[] {
  const waited = waitedSeconds(now.toISOString(), opensAt.toISOString());
  return waited ? [seconds('RolloutWait', waited, cluster, { name: 'reason', value: 'window' })] : [];
}

/** How many groups a detection found of each kind, per cluster (a gauge: read its Maximum). */
export function metricsOfDetection(plans: readonly GroupPlan[]): MetricPoint[] {
  const counts = new Map<string, { cluster: string; reason: string; n: number }>();
  for (const plan of plans) {
    const reason = plan.action === 'roll' ? 'stale' : plan.action === 'current' ? 'current' : plan.why;
    const key = `${plan.cluster}\0${reason}`;
    const entry = counts.get(key) ?? { cluster: plan.cluster, reason, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].map((c) => count('StaleGroups', c.n, c.cluster, { name: 'reason', value: c.reason }));
}

/** A launch lifecycle action completed by the node-join workflow, and how long the node took to be Ready. */
export function metricsOfNodeJoin(cluster: string | undefined, result: 'CONTINUE' | 'ABANDON', launchedAt: string | undefined, now: Date): MetricPoint[] {
  const points = [count('NodeJoins', 1, cluster, { name: 'result', value: result })];
  const ready = result === 'CONTINUE' ? waitedSeconds(launchedAt, now.toISOString()) : undefined;
  if (ready !== undefined) points.push(seconds('TimeToReady', ready, cluster));
  return points;
}

/** One chat or CLI command, by outcome (`command` is one of the grammar's dozen names, or `invalid`). */
export function metricsOfCommand(command: string, outcome: string, clusters: readonly string[]): MetricPoint[] {
  const cluster = clusters.length === 1 ? clusters[0] : undefined;
  return [count('ChatCommands', 1, cluster, { name: 'outcome', value: outcome }), count('ChatCommands', 1, cluster, { name: 'command', value: command })];
}
