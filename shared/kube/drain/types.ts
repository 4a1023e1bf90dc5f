import type { V1Pod } from '../api-types.js';
import type { CoreV1Api, PolicyV1Api } from '../api.js';
import { ConfigurationError } from '../../errors.js';

/**
 * The drain engine's vocabulary. A drain is a Step Functions loop of short passes; what a
 * pass reports (`DrainProgress`) is plain JSON the workflow carries to the next pass and to
 * `nextPassDelaySeconds`.
 */

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface DrainSettings {
  /** cap for a pod's terminationGracePeriodSeconds (eviction/delete gracePeriodSeconds = min(pod's, cap)) */
  maxGracePeriodSeconds: number;
  /** evictions (or deletes) in flight at once in one pass */
  concurrency: number;
  /** our NoSchedule taint key; the node annotation of the same key records what cordonNode added */
  taintKey: string;
}

export const DEFAULT_DRAIN_SETTINGS: DrainSettings = Object.freeze({
  maxGracePeriodSeconds: 600,
  concurrency: 16,
  taintKey: 'eks-node-lifecycle/draining',
});

export interface Blocker {
  pod: PodRef;
  pdb: { namespace: string; name: string; disruptionsAllowed: number } | null;
  message: string;
}

export interface ForcedPod {
  pod: PodRef;
  pdb: { namespace: string; name: string } | null;
}

export type SkipReason = 'daemonset' | 'mirror' | 'finished';

export interface DrainProgress {
  node: string;
  /** drained: nothing left to evict or wait for; node-gone: the Node object does not exist */
  phase: 'draining' | 'drained' | 'node-gone';
  /** pods that still have to leave (including those already terminating) */
  remaining: PodRef[];
  /** evictions (or, when forcing, deletions) accepted in this pass */
  evicted: PodRef[];
  /** pods with a deletionTimestamp, waiting out their grace period */
  terminating: PodRef[];
  /**
   * pods whose eviction was refused with 429, and the PodDisruptionBudget that refused it;
   * also pods not asked for in this pass because a budget covering them had just refused
   * (the message says so): a request certain to be refused is not sent
   */
  blocked: Blocker[];
  /** pods left alone, and why */
  skipped: { pod: PodRef; reason: SkipReason }[];
  /** a force pass: the pods it deleted past their budgets, with the budget that covers each (null: none, or it could not be listed) */
  forced?: ForcedPod[];
  /** Kubernetes API requests this pass made (for the benchmark: requests per evicted pod) */
  requests: number;
  /** when the pass looked (ISO 8601), the reference for `nextTerminationAt` */
  checkedAt: string;
  /**
   * the earliest moment a leaving pod's grace period ends: a terminating pod's
   * deletionTimestamp, or for a pod evicted in this pass, now + the grace period sent
   */
  nextTerminationAt: string | null;
}

export interface DrainPorts {
  core: CoreV1Api;
  policy: PolicyV1Api;
  /** the cluster's name, for errors */
  cluster: string;
  /** the clock; the service's (shared/clock.ts) by default */
  now?: () => Date;
}

/** Defaults filled in and checked, so a typo in a policy fails loudly instead of draining oddly. */
export function resolveDrainSettings(overrides: Partial<DrainSettings> = {}): DrainSettings {
  const known = new Set(Object.keys(DEFAULT_DRAIN_SETTINGS));
  const unknown = Object.keys(overrides).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new ConfigurationError(`unknown drain settings: ${unknown.join(', ')}`);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const settings: DrainSettings = { ...DEFAULT_DRAIN_SETTINGS, ...defined };
  if (!Number.isInteger(settings.maxGracePeriodSeconds) || settings.maxGracePeriodSeconds < 0) {
    throw new ConfigurationError(`maxGracePeriodSeconds must be a whole number of seconds ≥ 0, not ${settings.maxGracePeriodSeconds}`);
  }
  if (!Number.isInteger(settings.concurrency) || settings.concurrency < 1 || settings.concurrency > 256) {
    throw new ConfigurationError(`concurrency must be a whole number from 1 to 256, not ${settings.concurrency}`);
  }
  // a qualified name, as Kubernetes accepts for taint keys and annotation keys
  if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(settings.taintKey) || settings.taintKey.length > 316) {
    throw new ConfigurationError(`taintKey is not a valid Kubernetes key: ${JSON.stringify(settings.taintKey)}`);
  }
  return settings;
}

export function podRef(pod: V1Pod): PodRef {
  return { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}

/** What a pod's eviction or deletion asks for: its own grace period, never more than the cap. */
export function cappedGracePeriodSeconds(pod: V1Pod, settings: Pick<DrainSettings, 'maxGracePeriodSeconds'>): number {
  const own = pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, Math.min(own, settings.maxGracePeriodSeconds));
}
