import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget } from '../api-types.js';
import type { EvictionOutcome } from './evict-pods.js';
import { podRef, type Blocker } from './types.js';

/**
 * What blocks a drain, decided from the refusals of a pass and one list of the budgets.
 * Pure.
 */

type Refusal = Extract<EvictionOutcome, { outcome: 'refused' }>;

/** metav1.LabelSelectorAsSelector: an empty selector matches everything, a missing one nothing. */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const requirement of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, requirement.key);
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!present || !values.includes(have[requirement.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[requirement.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false; // an operator we do not know: fail closed
    }
  }
  return true;
}

export function budgetCovers(pdb: V1PodDisruptionBudget, pod: V1Pod): boolean {
  return (pdb.metadata?.namespace ?? 'default') === (pod.metadata?.namespace ?? 'default') && selectorMatches(pdb.spec?.selector, pod.metadata?.labels);
}

function budgetKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function describeBudget(pdb: V1PodDisruptionBudget): NonNullable<Blocker['pdb']> {
  return { namespace: pdb.metadata?.namespace ?? 'default', name: pdb.metadata?.name ?? '', disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0 };
}

/**
 * A pod the eviction API lets go whatever its budget's disruptionsAllowed: one still
 * Pending, or one not Ready (under the default unhealthyPodEvictionPolicy, when its budget
 * is met). For these only the API server can say, so they are always asked.
 */
export function budgetMayNotApply(pod: V1Pod): boolean {
  if (pod.status?.phase === 'Pending') return true;
  return pod.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True';
}

export interface BudgetPlan {
  /** pods to ask to evict */
  ask: V1Pod[];
  /** pods whose budget, as listed, allows no (further) disruption: not asked */
  blocked: Blocker[];
}

/**
 * With the budgets listed before evicting (an earlier pass left pods behind), a pass asks only
 * as many of a budget's pods as it allows now, and none under two budgets: no request
 * certain to be refused is sent. The API server still decides each eviction it is asked.
 */
export function planWithinBudgets(pods: readonly V1Pod[], budgets: readonly V1PodDisruptionBudget[]): BudgetPlan {
  const allowance = new Map(budgets.map((pdb) => [budgetKey(pdb.metadata?.namespace ?? 'default', pdb.metadata?.name ?? ''), pdb.status?.disruptionsAllowed ?? 0]));
  const plan: BudgetPlan = { ask: [], blocked: [] };
  for (const pod of pods) {
    const covering = budgets.filter((pdb) => budgetCovers(pdb, pod));
    if (covering.length > 1) {
      plan.blocked.push(multipleBudgets(pod, covering));
      continue;
    }
    const only = covering[0];
    if (!only || budgetMayNotApply(pod)) {
      plan.ask.push(pod);
      continue;
    }
    const described = describeBudget(only);
    const key = budgetKey(described.namespace, described.name);
    const left = allowance.get(key) ?? 0;
    if (left > 0) {
      allowance.set(key, left - 1);
      plan.ask.push(pod);
    } else {
      plan.blocked.push(notAsked(pod, only));
    }
  }
  return plan;
}

function multipleBudgets(pod: V1Pod, covering: readonly V1PodDisruptionBudget[]): Blocker {
  const names = covering.map((pdb) => pdb.metadata?.name).join(', ');
  return { pod: podRef(pod), pdb: null, message: `not asked: the pod has more than one PodDisruptionBudget (${names}), which the eviction API does not support` };
}

function notAsked(pod: V1Pod, pdb: V1PodDisruptionBudget): Blocker {
  const described = describeBudget(pdb);
  const health = pdb.status ? `: it needs ${pdb.status.desiredHealthy} healthy pods and has ${pdb.status.currentHealthy} currently` : '';
  return { pod: podRef(pod), pdb: described, message: `not asked: the disruption budget ${described.name} allows no disruption now${health}` };
}

export interface BlockedDecision {
  blocked: Blocker[];
  /** pods not asked yet whose refused neighbours say nothing about them: worth asking in this pass */
  askAgain: V1Pod[];
}

/**
 * Blockers for the refused pods (their budget's disruptionsAllowed as listed now; 0 if it
 * was not listed, which is what the refusal meant), and for the pods held back after a
 * refusal: those a budget that refused, or that allows nothing now, covers are blocked
 * without a request (unless the budget may not apply to them: see budgetMayNotApply); so
 * are pods under two budgets (the eviction API refuses them all); the rest may be asked. Without a budget list (`budgets` undefined: the API was
 * throttling) every held-back pod is blocked.
 */
export function decideBlocked(refusals: readonly Refusal[], heldBack: readonly V1Pod[], budgets: readonly V1PodDisruptionBudget[] | undefined): BlockedDecision {
  const listed = new Map((budgets ?? []).map((pdb) => [budgetKey(pdb.metadata?.namespace ?? 'default', pdb.metadata?.name ?? ''), pdb]));
  const blocked: Blocker[] = refusals.map((refusal) => {
    const namespace = refusal.pod.metadata?.namespace ?? 'default';
    const pdb = refusal.budget === null ? null : listed.get(budgetKey(namespace, refusal.budget));
    return {
      pod: podRef(refusal.pod),
      pdb: refusal.budget === null ? null : pdb ? describeBudget(pdb) : { namespace, name: refusal.budget, disruptionsAllowed: 0 },
      message: refusal.message,
    };
  });

  const refusedBy = new Set(refusals.flatMap((r) => (r.budget === null ? [] : [budgetKey(r.pod.metadata?.namespace ?? 'default', r.budget)])));
  const askAgain: V1Pod[] = [];
  for (const pod of heldBack) {
    if (!budgets) {
      blocked.push({ pod: podRef(pod), pdb: null, message: 'not asked: the API server is throttling requests' });
      continue;
    }
    const covering = budgets.filter((pdb) => budgetCovers(pdb, pod));
    if (covering.length > 1) {
      blocked.push(multipleBudgets(pod, covering));
      continue;
    }
    const only = covering[0];
    if (only && !budgetMayNotApply(pod)) {
      const described = describeBudget(only);
      if (refusedBy.has(budgetKey(described.namespace, described.name)) || described.disruptionsAllowed <= 0) {
        blocked.push(notAsked(pod, only));
        continue;
      }
    }
    askAgain.push(pod);
  }
  return { blocked, askAgain };
}

/** The namespace to list budgets in, when every pod concerned shares one; undefined for all namespaces. */
export function singleNamespace(pods: readonly V1Pod[]): string | undefined {
  const namespaces = new Set(pods.map((pod) => pod.metadata?.namespace ?? 'default'));
  return namespaces.size === 1 ? [...namespaces][0] : undefined;
}
