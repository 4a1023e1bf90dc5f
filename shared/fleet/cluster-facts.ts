import type { V1Node, V1Pod } from '../kube/api-types.js';
import { newImageFacts, podSignalOf, restartCountOf } from './kube-signals.js';
import type { HealthCriteria, HealthFacts, JoinFailure } from './workload-health.js';

/**
 * One cluster's workload facts for a release (pure): its nodes and pods as the API lists them,
 * split by the image their EC2 instance runs, and the restart counts an earlier evaluation
 * kept. What the promotion's soak judges with `evaluateHealth`; the adapter reads (one LIST of
 * nodes, one of pods, one DescribeInstances) and stores the samples this returns.
 */

/** A cluster node and the EC2 instance behind it (its providerID), if it has one (Fargate nodes have none). */
export interface ListedNode {
  node: V1Node;
  instanceId?: string;
}

/** A live instance (pending or running) of the place that runs one of the release's images. */
export interface ReleaseInstance {
  instanceId: string;
  /** ISO 8601 */
  launchTime?: string;
  /** the clusters its tags name (`kubernetes.io/cluster/<name>`, `eks:cluster-name`) */
  clusters: readonly string[];
}

/**
 * The restart counts of the cluster's pods at one moment, kept between evaluations (the fleet
 * table): only the pods that had restarted, by uid, so that the item stays small — a pod that
 * existed then and is absent had none.
 */
export interface RestartSample {
  /** ISO 8601 */
  at: string;
  restarts: Record<string, number>;
}

/** A sample with more restarted pods is not kept (a DynamoDB item holds 400 KB): restart rates then cover the pods' whole lives. */
export const MAX_SAMPLED_PODS = 4000;
/** Samples kept per cluster: one at least a window old, and the younger ones that will replace it. */
const MAX_SAMPLES = 3;

export interface ClusterFactsInput {
  cluster: string;
  nodes: readonly ListedNode[];
  /** the cluster's pods not finished (Succeeded and Failed are a Job's business) */
  pods: readonly V1Pod[];
  releaseInstances: readonly ReleaseInstance[];
  /** what earlier evaluations kept, oldest first */
  samples: readonly RestartSample[];
  criteria: Pick<HealthCriteria, 'notReadyGraceSeconds' | 'restarts'>;
  now: Date;
}

export interface ClusterFacts {
  facts: Omit<HealthFacts, 'alarms'>;
  /** what to keep for the next evaluations; undefined: keep what is stored */
  samples?: RestartSample[];
  /** how the restarts were counted, for the record */
  restartWindow: string;
}

/**
 * New-image nodes are those whose instance runs a release image; the others with an instance
 * are the previous image's, whose pods are the restart baseline (`old-image-nodes`). Restarts
 * count from the newest sample at least a restart window old — the rate of the last window
 * (or a little more), old and new pods alike — and over each pod's whole life while no sample
 * is that old yet (a pod on a new node has lived on the new image only). Join failures: the
 * cluster's release instances launched longer than `notReadyGraceSeconds` ago that have no
 * Node. Pending: pods bound to a new node that have not started.
 */
export function clusterFacts(input: ClusterFactsInput): ClusterFacts {
  const { now, criteria } = input;
  const release = new Set(input.releaseInstances.map((i) => i.instanceId));
  const fresh = input.nodes.filter((n) => n.instanceId && release.has(n.instanceId));
  const old = input.nodes.filter((n) => n.instanceId && !release.has(n.instanceId));
  const names = (nodes: readonly ListedNode[]) => new Set(nodes.map((n) => n.node.metadata?.name ?? ''));
  const window = windowStart(input.samples, criteria.restarts.windowSeconds, now);
  const joined = new Set(input.nodes.map((n) => n.instanceId).filter(Boolean));
  const joinFailures: JoinFailure[] = input.releaseInstances
    .filter((i) => i.clusters.includes(input.cluster) && !joined.has(i.instanceId) && secondsSince(i.launchTime, now) >= criteria.notReadyGraceSeconds)
    .map((i) => ({ instanceId: i.instanceId, reason: `no Node ${Math.round(secondsSince(i.launchTime, now) / 60)} min after launch` }));
  const facts: Omit<HealthFacts, 'alarms'> = {
    ...newImageFacts({ nodes: input.nodes.map((n) => n.node), fresh: names(fresh), old: names(old), pods: input.pods, now, signal: (p) => podSignalOf(p, now, window && earlierOf(p, window)) }),
    joinFailures,
    evictionFailures: [],
  };
  const restartWindow = window ? `restarts since ${window.at} (a sample)` : 'restarts over each pod\'s life (no sample a window old yet)';
  const samples = nextSamples(input.samples, sampleOf(input.pods, now), criteria.restarts.windowSeconds, now);
  return { facts, restartWindow, ...(samples ? { samples } : {}) };
}

/** The restart counts of every pod that has restarted, or undefined when too many have to keep. */
export function sampleOf(pods: readonly V1Pod[], now: Date): RestartSample | undefined {
  const restarts: Record<string, number> = {};
  let count = 0;
  for (const pod of pods) {
    const n = restartCountOf(pod);
    const uid = pod.metadata?.uid;
    if (n === 0 || !uid) continue;
    if (++count > MAX_SAMPLED_PODS) return undefined;
    restarts[uid] = n;
  }
  return { at: now.toISOString(), restarts };
}

/** The newest sample at least a window old: where the window's restarts count from. */
export function windowStart(samples: readonly RestartSample[], windowSeconds: number, now: Date): RestartSample | undefined {
  return [...samples].reverse().find((s) => secondsSince(s.at, now) >= windowSeconds);
}

/**
 * What to keep after this evaluation: a new sample when the newest kept is half a window old
 * (or none is kept), so that one is always between one and one and a half windows old once
 * the cluster has been watched that long; samples older than the window's start are dropped.
 * Undefined when nothing changes (no write).
 */
export function nextSamples(kept: readonly RestartSample[], current: RestartSample | undefined, windowSeconds: number, now: Date): RestartSample[] | undefined {
  const newest = kept.at(-1);
  if (!current || (newest && secondsSince(newest.at, now) < windowSeconds / 2)) return undefined;
  const start = windowStart(kept, windowSeconds, now);
  const from = start ? kept.indexOf(start) : 0;
  return [...kept.slice(from), current].slice(-MAX_SAMPLES);
}

function earlierOf(pod: V1Pod, sample: RestartSample): { at: Date; restarts: number } {
  // absent from the sample: it had not restarted then (or did not exist: podSignalOf counts from its start)
  return { at: new Date(sample.at), restarts: sample.restarts[pod.metadata?.uid ?? ''] ?? 0 };
}

function secondsSince(iso: string | undefined, now: Date): number {
  const at = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(at) ? 0 : (now.getTime() - at) / 1000;
}
