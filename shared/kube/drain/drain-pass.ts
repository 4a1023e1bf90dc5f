import type { V1Pod, V1PodDisruptionBudget } from '../api-types.js';
import { decideBlocked, planWithinBudgets } from './blockers.js';
import { evictPods, type EvictionOutcome } from './evict-pods.js';
import { beginPass, listBudgets } from './node-pods.js';
import { progressReport } from './report.js';
import { podRef, type Blocker, type DrainPorts, type DrainProgress, type DrainSettings } from './types.js';

type Refusal = Extract<EvictionOutcome, { outcome: 'refused' }>;

/**
 * One pass of a drain, with `kubectl drain` semantics, safe to repeat at any moment (after a
 * crash midway, or twice at once): it takes seconds, never sleeps, and the workflow waits
 * `nextPassDelaySeconds` before the next.
 * 1. cordon (idempotent: a GET, and a PATCH only the first time); a node that is gone ends
 *    the drain here, without listing pods;
 * 2. list the node's pods: one request (fieldSelector spec.nodeName);
 * 3. select: DaemonSet, mirror and finished pods stay; terminating pods are waited for,
 *    never evicted again;
 * 4. evict the rest through pods/eviction, `concurrency` at a time, grace periods capped.
 *    Each controller's pods probe before they rush, so a budget is asked about one pod more
 *    than it allows, not about every pod. A node that was already cordoned and still has
 *    pods to evict was left so by an earlier pass, and a pass evicts all that budgets allow:
 *    budgets held them back. Then the budgets are listed first, and only as many pods as
 *    each allows now are asked;
 * 5. only if something was refused: one list of the budgets (unless step 4 has it), for
 *    their disruptionsAllowed, and to ask once for held-back pods no refusing budget covers;
 * 6. report.
 */
export async function drainPass(
  ports: DrainPorts,
  nodeName: string,
  overrides: Partial<DrainSettings> = {},
): Promise<DrainProgress> {
  // 1.–3.
  const start = await beginPass(ports, nodeName, overrides);
  if (!('selection' in start)) return start;
  const { settings, calls, now, cordonChanged, selection } = start;
  // 4.
  let budgets: V1PodDisruptionBudget[] | undefined;
  let ask = selection.evict;
  const blocked: Blocker[] = [];
  if (!cordonChanged && ask.length > 0) {
    budgets = await listBudgets(ports, calls, ask);
    const plan = planWithinBudgets(ask, budgets);
    ask = plan.ask;
    blocked.push(...plan.blocked);
  }
  const first = await evictPods(ports, calls, ask, settings);
  const outcomes = first.done.map((d) => d.result);
  // 5.
  const refusals = refusalsOf(outcomes);
  if (refusals.length > 0 || first.untried.length > 0) {
    const throttled = refusals.some((r) => r.throttled);
    if (!throttled) budgets ??= await listBudgets(ports, calls, [...refusals.map((r) => r.pod), ...first.untried]);
    const decision = decideBlocked(refusals, first.untried, throttled ? undefined : budgets);
    blocked.push(...decision.blocked);
    if (decision.askAgain.length > 0) {
      const second = await evictPods(ports, calls, decision.askAgain, settings);
      const secondOutcomes = second.done.map((d) => d.result);
      outcomes.push(...secondOutcomes);
      const again = decideBlocked(refusalsOf(secondOutcomes), second.untried, budgets);
      blocked.push(...again.blocked);
      // held back twice: blocked for this pass, whatever covers them; the next pass asks again
      for (const pod of again.askAgain) blocked.push({ pod: podRef(pod), pdb: null, message: 'not asked: another pod of the same owner was just refused' });
    }
  }
  // 6.
  return progressReport({
    node: nodeName,
    checkedAt: now(),
    selection,
    accepted: outcomes.flatMap((o) => (o.outcome === 'evicted' ? [{ pod: o.pod, gracePeriodSeconds: o.gracePeriodSeconds }] : [])),
    gone: outcomes.flatMap((o) => (o.outcome === 'gone' ? [o.pod] : [])),
    blocked,
    requests: calls.requests,
  });
}

function refusalsOf(outcomes: readonly EvictionOutcome[]): Refusal[] {
  return outcomes.filter((o): o is Refusal => o.outcome === 'refused');
}
