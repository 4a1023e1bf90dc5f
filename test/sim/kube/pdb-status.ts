import { labelSelectorFromObject, matchesLabels } from './selectors.js';
import {
  controllerOf,
  isPodReady,
  isTerminating,
  type Condition,
  type IntOrPercent,
  type OwnerReference,
  type Pod,
  type PodDisruptionBudget,
  type PodDisruptionBudgetStatus,
} from './types.js';

/**
 * The disruption controller's arithmetic (pkg/controller/disruption), as a pure function:
 * which pods a budget covers, how many must stay healthy, and how many may be disrupted now.
 */

/** How long an eviction's entry in status.disruptedPods holds a pod out of the healthy count. */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

/** The scale of a pod's controller: a Deployment's or a bare ReplicaSet's replicas. */
export type ScaleLookup = (controller: OwnerReference, namespace: string) => { uid: string; replicas: number } | undefined;

export type PdbComputation =
  | { ok: true; status: PodDisruptionBudgetStatus; matched: Pod[]; recheckAt?: number }
  | { ok: false; message: string };

/** intstr.GetScaledValueFromIntOrPercent with roundUp = true, as the controller calls it for both fields. */
export function scaledValue(value: IntOrPercent, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) throw new Error(`invalid value for IntOrString: invalid value "${value}": must be an integer or percentage (e.g '5%')`);
  return Math.ceil((Number(match[1]) * total) / 100);
}

export function podsCoveredBy(pdb: PodDisruptionBudget, pods: readonly Pod[]): Pod[] {
  const namespace = pdb.metadata.namespace;
  const selector = labelSelectorFromObject(pdb.spec.selector);
  return pods.filter((pod) => pod.metadata.namespace === namespace && matchesLabels(selector, pod.metadata.labels));
}

/**
 * getExpectedScale: the sum of the replicas of the distinct controllers of the pods. Pods
 * without a controller are ignored (counted healthy, not expected); a controller with no
 * scale (a DaemonSet, say) is an error, and the budget then fails safe.
 */
function expectedScale(pods: readonly Pod[], scaleOf: ScaleLookup): number {
  const seen = new Map<string, number>();
  for (const pod of pods) {
    const controller = controllerOf(pod);
    if (!controller) continue;
    const scale = scaleOf(controller, pod.metadata.namespace ?? '');
    if (!scale) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
    seen.set(scale.uid, scale.replicas);
  }
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

function expectedAndDesired(pdb: PodDisruptionBudget, pods: readonly Pod[], scaleOf: ScaleLookup): { expected: number; desired: number } {
  const { minAvailable, maxUnavailable } = pdb.spec;
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const expected = expectedScale(pods, scaleOf);
    return { expected, desired: Math.max(0, expected - scaledValue(maxUnavailable, expected)) };
  }
  if (typeof minAvailable === 'number') return { expected: pods.length, desired: minAvailable };
  if (typeof minAvailable === 'string') {
    const expected = expectedScale(pods, scaleOf);
    return { expected, desired: scaledValue(minAvailable, expected) };
  }
  return { expected: 0, desired: 0 };
}

export function computePdbStatus(pdb: PodDisruptionBudget, pods: readonly Pod[], scaleOf: ScaleLookup, now: number): PdbComputation {
  const matched = podsCoveredBy(pdb, pods);
  let counts: { expected: number; desired: number };
  try {
    counts = expectedAndDesired(pdb, matched, scaleOf);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }

  // buildDisruptedPodMap: an eviction's entry lasts until the pod is deleted or starts
  // terminating, or until it times out (the eviction then evidently did not happen)
  const disruptedPods: Record<string, string> = {};
  let recheckAt: number | undefined;
  for (const [name, time] of Object.entries(pdb.status?.disruptedPods ?? {})) {
    const pod = matched.find((p) => p.metadata.name === name);
    if (!pod || isTerminating(pod)) continue;
    const expiry = Date.parse(time) + DISRUPTED_POD_TIMEOUT_MS;
    if (expiry < now) continue;
    disruptedPods[name] = time;
    recheckAt = recheckAt === undefined ? expiry : Math.min(recheckAt, expiry);
  }

  const currentHealthy = matched.filter(
    (pod) => !isTerminating(pod) && !Object.hasOwn(disruptedPods, pod.metadata.name ?? '') && pod.status?.phase === 'Running' && isPodReady(pod),
  ).length;
  let disruptionsAllowed = currentHealthy - counts.desired;
  if (counts.expected <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;

  const status: PodDisruptionBudgetStatus = {
    observedGeneration: pdb.metadata.generation ?? 1,
    disruptionsAllowed,
    currentHealthy,
    desiredHealthy: counts.desired,
    expectedPods: counts.expected,
  };
  if (Object.keys(disruptedPods).length > 0) status.disruptedPods = disruptedPods;
  const result: PdbComputation = { ok: true, status, matched };
  if (recheckAt !== undefined) result.recheckAt = recheckAt;
  return result;
}

/**
 * apimeta.SetStatusCondition for the DisruptionAllowed condition: the transition time moves
 * only when the status flips.
 */
export function disruptionAllowedCondition(
  previous: readonly Condition[] | undefined,
  allowed: boolean,
  reason: 'SufficientPods' | 'InsufficientPods' | 'SyncFailed',
  message: string,
  observedGeneration: number,
  nowIso: string,
): Condition[] {
  const old = previous?.find((c) => c.type === 'DisruptionAllowed');
  const status = allowed ? 'True' : 'False';
  const condition: Condition = {
    type: 'DisruptionAllowed',
    status,
    reason,
    message,
    observedGeneration,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : nowIso,
  };
  return [...(previous ?? []).filter((c) => c.type !== 'DisruptionAllowed'), condition];
}
