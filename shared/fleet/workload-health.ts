import * as z from 'zod/mini';
import { describeSeconds } from '../config/duration.js';
import { describeLimit, type Limit, tolerated } from './limit.js';

/**
 * Is the image under judgement hurting workloads? A pure evaluation over facts an adapter
 * gathered for one cluster: the nodes running the image (a ring's new-image nodes during a
 * soak, or one batch's new nodes in a rollout's health gate), the pods on them, and a
 * baseline — the same cluster's pods on the previous image, read from its old-image nodes or
 * recorded before the rollout began (after a ring has rolled no old-image node may be left).
 *
 * Each signal is judged against its threshold and says what it saw, so every decision built
 * on a report records the numbers. The report is `regressed` when any signal is, else
 * `insufficient-data` when any signal cannot be judged (nothing runs the image yet, an alarm
 * cannot be read), else `healthy`.
 */

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

export interface NodeSignal {
  name: string;
  ready: boolean;
  /** ISO 8601: when the Ready condition last became other than True (its lastTransitionTime); absent: unknown, counted as long ago */
  notReadySince?: string;
  /** the pressure conditions that are True */
  pressure: readonly PressureCondition[];
}

/** An instance launched on the image that never became a Ready node within the join timeout (node-join records). */
export interface JoinFailure {
  instanceId: string;
  reason: string;
}

export interface PodSignal {
  namespace: string;
  name: string;
  node: string;
  /** `<namespace>/<kind>/<name>` of the controller owning the pod, when it has one */
  workload?: string;
  /** container restarts within the evaluation window */
  restarts: number;
  /** seconds of the window the pod existed */
  observedSeconds: number;
  /** a container waits with reason CrashLoopBackOff */
  crashLooping: boolean;
}

/** The previous image's pods, summed (see `baselineOf`). */
export interface PodBaseline {
  source: 'old-image-nodes' | 'before-rollout';
  pods: number;
  restarts: number;
  podSeconds: number;
  /** workloads crash-looping on the previous image too: their crash loops are not the new image's doing */
  crashLoopingWorkloads: readonly string[];
}

/** A pod Pending because of the new nodes: bound to one and not starting, or unschedulable while only new nodes have room. */
export interface PendingPod {
  namespace: string;
  name: string;
  /** ISO 8601: since when it is Pending */
  since: string;
  node?: string;
  reason: string;
}

/** An eviction from a node on the image that failed outright: an API error, not a PodDisruptionBudget's passing 429. */
export interface EvictionFailure {
  node: string;
  pod: string;
  reason: string;
}

export interface AlarmSignal {
  name: string;
  /** CloudWatch's states, and MISSING when DescribeAlarms does not know the name */
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';
  reason?: string;
}

export interface HealthFacts {
  nodes: readonly NodeSignal[];
  joinFailures: readonly JoinFailure[];
  pods: readonly PodSignal[];
  baseline?: PodBaseline;
  pending: readonly PendingPod[];
  evictionFailures: readonly EvictionFailure[];
  alarms: readonly AlarmSignal[];
}

/** The thresholds (promotion-policy.ts reads them, over these defaults). */
export interface HealthCriteria {
  /** a new node NotReady for longer counts (Cluster API's nodeStartupTimeout is 10 min; Windows boots in ~5) */
  notReadyGraceSeconds: number;
  /** of the nodes on the image */
  maxNodesNotReady: Limit;
  /** of the nodes on the image */
  maxNodesUnderPressure: Limit;
  maxJoinFailures: number;
  /** of the pods on the image's nodes; a workload crash-looping on the previous image too is not counted */
  maxCrashLoopingPods: Limit;
  restarts: RestartCriteria;
  pendingGraceSeconds: number;
  /** of the pods on the image's nodes and those Pending */
  maxPendingPods: Limit;
  maxEvictionFailures: number;
  /** CloudWatch alarms (the ring's and the cluster's) that must not be in ALARM */
  alarms: readonly string[];
}

/**
 * The restart rate is restarts per pod-hour over the window: the pods' restarts in the window
 * divided by the hours they existed in it. It regresses only when all hold: at least
 * `minRestarts` restarts, a rate above `floorPerPodHour`, and above `ratio` × the baseline's
 * rate (without a baseline the floor alone judges). So 0 restarts against 1 is no regression.
 * Fewer than `minPodHours` of pods on the image is too little to judge a rate on.
 */
export interface RestartCriteria {
  windowSeconds: number;
  ratio: number;
  floorPerPodHour: number;
  minRestarts: number;
  minPodHours: number;
}

export const DEFAULT_HEALTH_CRITERIA: HealthCriteria = Object.freeze({
  notReadyGraceSeconds: 600,
  maxNodesNotReady: { count: 0 },
  maxNodesUnderPressure: { count: 0 },
  maxJoinFailures: 0,
  maxCrashLoopingPods: { count: 0 },
  restarts: { windowSeconds: 1800, ratio: 2, floorPerPodHour: 0.5, minRestarts: 3, minPodHours: 1 },
  pendingGraceSeconds: 600,
  maxPendingPods: { count: 0 },
  maxEvictionFailures: 0,
  alarms: [],
});

export const SIGNALS = ['nodes-not-ready', 'node-pressure', 'join-failures', 'crash-loops', 'restart-rate', 'pending-pods', 'eviction-failures', 'alarms'] as const;
export type SignalName = (typeof SIGNALS)[number];

const VERDICTS = ['healthy', 'regressed', 'insufficient-data'] as const;

export const SignalResultSchema = z.object({
  signal: z.enum(SIGNALS),
  status: z.enum(['ok', 'regressed', 'insufficient-data']),
  /** a count, or for restart-rate restarts per pod-hour */
  seen: z.number(),
  /** the most that passes */
  threshold: z.number(),
  /** the previous image's number, where the signal compares with one */
  baseline: z.optional(z.number()),
  /** which nodes, pods, alarms: the first few */
  evidence: z.array(z.string()),
  detail: z.string(),
});
export type SignalResult = z.infer<typeof SignalResultSchema>;

export const HealthReportSchema = z.object({
  verdict: z.enum(VERDICTS),
  /** ISO 8601: when it was evaluated */
  at: z.string(),
  nodes: z.int(),
  pods: z.int(),
  signals: z.array(SignalResultSchema),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;
export type HealthVerdict = HealthReport['verdict'];

/** The previous image's pods, summed: what a baseline is when its pods are read now. */
export function baselineOf(pods: readonly PodSignal[], source: PodBaseline['source'] = 'old-image-nodes'): PodBaseline {
  return {
    source,
    pods: pods.length,
    restarts: sum(pods.map((p) => p.restarts)),
    podSeconds: sum(pods.map((p) => p.observedSeconds)),
    crashLoopingWorkloads: [...new Set(pods.filter((p) => p.crashLooping && p.workload).map((p) => p.workload!))].sort(),
  };
}

export function evaluateHealth(facts: HealthFacts, criteria: HealthCriteria, now: Date): HealthReport {
  const signals = [
    nodesNotReady(facts, criteria, now),
    nodePressure(facts, criteria),
    joinFailures(facts, criteria),
    crashLoops(facts, criteria),
    restartRate(facts, criteria.restarts),
    pendingPods(facts, criteria, now),
    evictionFailures(facts, criteria),
    alarms(facts, criteria),
  ];
  return { verdict: verdictOf(signals), at: now.toISOString(), nodes: facts.nodes.length, pods: facts.pods.length, signals };
}

/** Regressed beats insufficient data beats healthy: across signals, clusters or rings. */
export function verdictOf(parts: readonly { status?: SignalResult['status']; verdict?: HealthVerdict }[]): HealthVerdict {
  const verdicts = parts.map((p) => p.verdict ?? (p.status === 'ok' ? 'healthy' : p.status!));
  if (verdicts.includes('regressed')) return 'regressed';
  return verdicts.includes('insufficient-data') ? 'insufficient-data' : 'healthy';
}

const EVIDENCE = 10;

function evidence(items: readonly string[]): string[] {
  return items.length <= EVIDENCE ? [...items] : [...items.slice(0, EVIDENCE), `and ${items.length - EVIDENCE} more`];
}

/** A count judged against a tolerance; `nothing` says why there is nothing to judge (then it is insufficient data unless already over). */
function counted(signal: SignalName, found: readonly string[], allowed: number, what: string, limit: string, nothing?: string): SignalResult {
  const over = found.length > allowed;
  const status = over ? 'regressed' : nothing ? 'insufficient-data' : 'ok';
  const detail = nothing && !over ? nothing : `${found.length} ${what} (at most ${allowed} pass: ${limit})`;
  return { signal, status, seen: found.length, threshold: allowed, evidence: evidence(found), detail };
}

const NO_NODES = 'no node runs the image yet';

function sinceSeconds(iso: string | undefined, now: Date): number {
  const at = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(at) ? Number.POSITIVE_INFINITY : (now.getTime() - at) / 1000; // unknown or unreadable: long ago
}

function nodesNotReady(facts: HealthFacts, criteria: HealthCriteria, now: Date): SignalResult {
  const found = facts.nodes
    .filter((n) => !n.ready && sinceSeconds(n.notReadySince, now) >= criteria.notReadyGraceSeconds)
    .map((n) => `${n.name} (NotReady${n.notReadySince ? ` since ${n.notReadySince}` : ''})`);
  const limit = `${describeLimit(criteria.maxNodesNotReady)} of ${facts.nodes.length} nodes, after ${describeSeconds(criteria.notReadyGraceSeconds)}`;
  return counted('nodes-not-ready', found, tolerated(criteria.maxNodesNotReady, facts.nodes.length), 'nodes NotReady', limit, facts.nodes.length === 0 ? NO_NODES : undefined);
}

function nodePressure(facts: HealthFacts, criteria: HealthCriteria): SignalResult {
  const found = facts.nodes.filter((n) => n.pressure.length > 0).map((n) => `${n.name} (${n.pressure.join(', ')})`);
  const limit = `${describeLimit(criteria.maxNodesUnderPressure)} of ${facts.nodes.length} nodes`;
  return counted('node-pressure', found, tolerated(criteria.maxNodesUnderPressure, facts.nodes.length), 'nodes under pressure', limit, facts.nodes.length === 0 ? NO_NODES : undefined);
}

function joinFailures(facts: HealthFacts, criteria: HealthCriteria): SignalResult {
  const found = facts.joinFailures.map((f) => `${f.instanceId} (${f.reason})`);
  // instances that never joined are evidence even when no node runs the image
  return counted('join-failures', found, criteria.maxJoinFailures, 'instances never joined', String(criteria.maxJoinFailures));
}

function crashLoops(facts: HealthFacts, criteria: HealthCriteria): SignalResult {
  const everywhere = new Set(facts.baseline?.crashLoopingWorkloads ?? []);
  const looping = facts.pods.filter((p) => p.crashLooping);
  const found = looping.filter((p) => !(p.workload && everywhere.has(p.workload))).map((p) => `${p.namespace}/${p.name} on ${p.node}`);
  const limit = `${describeLimit(criteria.maxCrashLoopingPods)} of ${facts.pods.length} pods`;
  const result = counted('crash-loops', found, tolerated(criteria.maxCrashLoopingPods, facts.pods.length), 'pods in CrashLoopBackOff', limit, facts.nodes.length === 0 ? NO_NODES : undefined);
  const excused = looping.length - found.length;
  return excused > 0 ? { ...result, detail: `${result.detail}; ${excused} more crash-loop on the previous image too` } : result;
}

/** Restarts per pod-hour. */
function perPodHour(restarts: number, podSeconds: number): number {
  return podSeconds > 0 ? (restarts * 3600) / podSeconds : 0;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function restartRate(facts: HealthFacts, criteria: RestartCriteria): SignalResult {
  const restarts = sum(facts.pods.map((p) => Math.max(0, p.restarts)));
  const podSeconds = sum(facts.pods.map((p) => Math.max(0, p.observedSeconds)));
  const rate = perPodHour(restarts, podSeconds);
  const base = facts.baseline && facts.baseline.podSeconds >= criteria.minPodHours * 3600 ? facts.baseline : undefined;
  const baseRate = base ? perPodHour(base.restarts, base.podSeconds) : undefined;
  const limit = Math.max(criteria.floorPerPodHour, baseRate === undefined ? 0 : criteria.ratio * baseRate);
  const podHours = podSeconds / 3600;
  const seen = `${restarts} restarts in ${round(podHours)} pod-hours (${round(rate)}/pod-hour)`;
  const against = baseRate === undefined ? `no baseline (${facts.baseline ? 'too few pod-hours' : 'none read'}): the floor ${criteria.floorPerPodHour}/pod-hour alone` : `baseline ${round(baseRate)}/pod-hour (${base!.source}) × ${criteria.ratio}, at least ${criteria.floorPerPodHour}`;
  const pods = facts.pods
    .filter((p) => p.restarts > 0)
    .sort((a, b) => b.restarts - a.restarts)
    .map((p) => `${p.namespace}/${p.name} on ${p.node}: ${p.restarts} restarts`);
  // the record keeps the numbers judged; the text rounds them
  const result = { signal: 'restart-rate' as const, seen: rate, threshold: limit, ...(baseRate === undefined ? {} : { baseline: baseRate }), evidence: evidence(pods) };
  const over = restarts >= criteria.minRestarts && rate > limit;
  if (!over) return { ...result, status: 'ok', detail: `${seen}; limit ${round(limit)}/pod-hour: ${against}` };
  if (podHours < criteria.minPodHours) return { ...result, status: 'insufficient-data', detail: `${seen}: fewer than ${criteria.minPodHours} pod-hours to judge a rate on` };
  return { ...result, status: 'regressed', detail: `${seen} above ${round(limit)}/pod-hour: ${against}` };
}

function pendingPods(facts: HealthFacts, criteria: HealthCriteria, now: Date): SignalResult {
  const found = facts.pending
    .filter((p) => sinceSeconds(p.since, now) >= criteria.pendingGraceSeconds)
    .map((p) => `${p.namespace}/${p.name}${p.node ? ` on ${p.node}` : ''} (${p.reason})`);
  const population = facts.pods.length + facts.pending.length;
  const limit = `${describeLimit(criteria.maxPendingPods)} of ${population} pods, after ${describeSeconds(criteria.pendingGraceSeconds)}`;
  return counted('pending-pods', found, tolerated(criteria.maxPendingPods, population), 'pods stuck Pending', limit);
}

function evictionFailures(facts: HealthFacts, criteria: HealthCriteria): SignalResult {
  const found = facts.evictionFailures.map((f) => `${f.pod} from ${f.node} (${f.reason})`);
  return counted('eviction-failures', found, criteria.maxEvictionFailures, 'evictions failed', String(criteria.maxEvictionFailures));
}

function alarms(facts: HealthFacts, criteria: HealthCriteria): SignalResult {
  const states = new Map(facts.alarms.map((a) => [a.name, a]));
  const firing: string[] = [];
  const unknown: string[] = [];
  for (const name of criteria.alarms) {
    const alarm = states.get(name);
    if (alarm?.state === 'ALARM') firing.push(`${name}${alarm.reason ? ` (${alarm.reason})` : ''}`);
    else if (alarm?.state !== 'OK') unknown.push(`${name} (${alarm === undefined ? 'not read' : alarm.state === 'MISSING' ? 'no such alarm' : 'INSUFFICIENT_DATA'})`);
  }
  const watched = `of ${criteria.alarms.length} named`;
  if (firing.length > 0) return { signal: 'alarms', status: 'regressed', seen: firing.length, threshold: 0, evidence: evidence(firing), detail: `${firing.length} alarms in ALARM ${watched}` };
  if (unknown.length > 0) return { signal: 'alarms', status: 'insufficient-data', seen: 0, threshold: 0, evidence: evidence(unknown), detail: `${unknown.length} alarms ${watched} cannot be judged` };
  return { signal: 'alarms', status: 'ok', seen: 0, threshold: 0, evidence: [], detail: criteria.alarms.length ? `no alarm in ALARM ${watched}` : 'no alarm named' };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
