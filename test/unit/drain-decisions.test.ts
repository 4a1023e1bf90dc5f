import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { V1Node, V1Pod, V1PodDisruptionBudget, V1Status } from '../../shared/kube/api-types.js';
import { isBudgetRefusal, isMultipleBudgetsError, refusingBudgetName, statusOf } from '../../shared/kube/drain/api-status.js';
import { decideBlocked, planWithinBudgets, selectorMatches } from '../../shared/kube/drain/blockers.js';
import { mapBounded, runGrouped } from '../../shared/kube/drain/bounded.js';
import { EXCLUDE_FROM_LB_LABEL, planCordon, planUncordon } from '../../shared/kube/drain/cordon-node.js';
import type { EvictionOutcome } from '../../shared/kube/drain/evict-pods.js';
import { cappedGracePeriodSeconds, resolveDrainSettings } from '../../shared/kube/drain/types.js';
import { KubeStatusError } from '../../shared/kube/rest-client.js';

const TAINT = 'eks-node-lifecycle/draining';

function node(overrides: { unschedulable?: boolean; labels?: Record<string, string>; annotations?: Record<string, string>; taints?: { key: string; effect: string; value?: string }[] } = {}): V1Node {
  return {
    metadata: { name: 'node-a', resourceVersion: '42', labels: { 'kubernetes.io/hostname': 'node-a', ...overrides.labels }, ...(overrides.annotations ? { annotations: overrides.annotations } : {}) },
    spec: { ...(overrides.unschedulable ? { unschedulable: true } : {}), ...(overrides.taints ? { taints: overrides.taints } : {}) },
  };
}

/** What a merge patch does to a node (enough of RFC 7386 for these patches). */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

describe('Drain: cordon plans', () => {
  it('cordons a fresh node with all three marks, records what it added, and names the resourceVersion', () => {
    assert.deepEqual(planCordon(node(), TAINT), {
      metadata: { labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' }, annotations: { [TAINT]: 'exclude-from-external-load-balancers,unschedulable' }, resourceVersion: '42' },
      spec: { unschedulable: true, taints: [{ key: TAINT, effect: 'NoSchedule' }] },
    });
  });

  it('writes nothing to a node that carries all three marks', () => {
    assert.equal(planCordon(node({ unschedulable: true, labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' }, taints: [{ key: TAINT, effect: 'NoSchedule' }] }), TAINT), undefined);
  });

  it('keeps the taints already there, and records only what it added', () => {
    const patch = planCordon(node({ unschedulable: true, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), TAINT)!;
    assert.deepEqual(patch['spec'], { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: TAINT, effect: 'NoSchedule' }] });
    assert.deepEqual((patch['metadata'] as Record<string, unknown>)['annotations'], { [TAINT]: 'exclude-from-external-load-balancers' });
  });

  it('uncordon after cordon gives back the node as it was, whatever marks someone else had set', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.option(fc.constantFrom('true', 'maintenance')), fc.boolean(), (unschedulable, label, tainted) => {
        const before = node({
          unschedulable,
          ...(label !== null ? { labels: { [EXCLUDE_FROM_LB_LABEL]: label } } : {}),
          ...(tainted ? { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } : {}),
        });
        const cordoned = applyMergePatch(before, planCordon(before, TAINT) ?? {}) as V1Node;
        assert.equal(planCordon(cordoned, TAINT), undefined, 'cordoning twice changes nothing');
        const uncordoned = applyMergePatch(cordoned, planUncordon(cordoned, TAINT) ?? {}) as V1Node;
        assert.equal(planUncordon(uncordoned, TAINT), undefined, 'uncordoning twice changes nothing');
        // as the API server stores them: no resourceVersion to compare, empty lists and maps omitted
        const strip = (n: V1Node) => ({
          metadata: { ...n.metadata, resourceVersion: undefined, annotations: Object.keys(n.metadata?.annotations ?? {}).length ? n.metadata?.annotations : undefined },
          spec: { ...n.spec, taints: n.spec?.taints?.length ? n.spec.taints : undefined },
        });
        assert.deepEqual(strip(uncordoned), strip(before));
      }),
      { numRuns: 200 },
    );
  });
});

const labelsArb = fc.dictionary(fc.constantFrom('app', 'tier', 'team'), fc.constantFrom('web', 'api', 'a', 'b'), { maxKeys: 3 });

describe('Drain: budgets', () => {
  it('matches label selectors as Kubernetes does', () => {
    assert.equal(selectorMatches({}, { app: 'web' }), true, 'an empty selector selects everything');
    assert.equal(selectorMatches(undefined, { app: 'web' }), false, 'no selector selects nothing');
    assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, { app: 'web', tier: 'a' }), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, { app: 'api' }), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, { tier: 'b' }), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, {}), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, {}), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, { app: 'x' }), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, { tier: '2' }), false, 'unknown operators fail closed');
  });

  it('matchLabels agrees with the equivalent In expressions', () => {
    fc.assert(
      fc.property(labelsArb, labelsArb, (wanted, have) => {
        const asExpressions = { matchExpressions: Object.entries(wanted).map(([key, value]) => ({ key, operator: 'In', values: [value] })) };
        assert.equal(selectorMatches({ matchLabels: wanted }, have), selectorMatches(asExpressions, have));
      }),
    );
  });

  const ready = (name: string, labels: Record<string, string>, isReady = true): V1Pod => ({
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels },
    spec: { containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] },
  });
  const pdb = (name: string, app: string, disruptionsAllowed: number): V1PodDisruptionBudget => ({
    metadata: { name, namespace: 'shop' },
    spec: { selector: { matchLabels: { app } } },
    status: { disruptionsAllowed, currentHealthy: 3, desiredHealthy: 3 - disruptionsAllowed, expectedPods: 3 },
  });

  it('asks only as many pods as each budget allows; unready pods are always asked', () => {
    const pods = [ready('web-1', { app: 'web' }), ready('web-2', { app: 'web' }), ready('web-3', { app: 'web' }, false), ready('api-1', { app: 'api' }), ready('free', { app: 'free' })];
    const plan = planWithinBudgets(pods, [pdb('web', 'web', 1), pdb('api', 'api', 0)]);
    assert.deepEqual(plan.ask.map((p) => p.metadata?.name), ['web-1', 'web-3', 'free']);
    assert.deepEqual(plan.blocked.map((b) => [b.pod.name, b.pdb?.name, b.pdb?.disruptionsAllowed]), [['web-2', 'web', 1], ['api-1', 'api', 0]]);
  });

  it('blocks pods under two budgets without asking', () => {
    const plan = planWithinBudgets([ready('web-1', { app: 'web' })], [pdb('a', 'web', 5), pdb('b', 'web', 5)]);
    assert.deepEqual(plan.ask, []);
    assert.equal(plan.blocked[0]!.pdb, null);
    assert.match(plan.blocked[0]!.message, /more than one PodDisruptionBudget \(a, b\)/);
  });

  it('holds back the pods a refusing budget covers, and asks again for those it does not', () => {
    const refused: Extract<EvictionOutcome, { outcome: 'refused' }> = { outcome: 'refused', pod: ready('web-1', { app: 'web' }), budget: 'web', message: 'Cannot evict pod', throttled: false };
    const decision = decideBlocked([refused], [ready('web-2', { app: 'web' }), ready('web-3', { app: 'web', canary: 'yes' }), ready('odd', { app: 'other' })], [pdb('web', 'web', 0)]);
    assert.deepEqual(decision.blocked.map((b) => [b.pod.name, b.pdb?.name]), [['web-1', 'web'], ['web-2', 'web'], ['web-3', 'web']]);
    assert.deepEqual(decision.askAgain.map((p) => p.metadata?.name), ['odd']);
  });

  it('reports a refusal by a budget it could not list with disruptionsAllowed 0', () => {
    const refused: Extract<EvictionOutcome, { outcome: 'refused' }> = { outcome: 'refused', pod: ready('web-1', { app: 'web' }), budget: 'gone-pdb', message: 'm', throttled: false };
    assert.deepEqual(decideBlocked([refused], [], []).blocked[0]!.pdb, { namespace: 'shop', name: 'gone-pdb', disruptionsAllowed: 0 });
  });
});

describe('Drain: API statuses', () => {
  const exception = (code: number, status: V1Status) => new KubeStatusError(code, status, 'POST /api/v1/namespaces/shop/pods/web-1/eviction');

  it('reads the budget that refused an eviction from the Status the API server sends', () => {
    const status = statusOf(
      exception(429, {
        kind: 'Status',
        code: 429,
        reason: 'TooManyRequests',
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
        details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web-pdb needs 19 healthy pods and has 19 currently' }] },
      }),
    );
    assert.equal(refusingBudgetName(status), 'web-pdb');
    assert.equal(isBudgetRefusal(status), true);
    assert.equal(refusingBudgetName({ details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web.v2 is still being processed by the server.' }] } }), 'web.v2');
  });

  it('tells the API server’s throttling from a budget', () => {
    const status = statusOf(exception(429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' }));
    assert.equal(refusingBudgetName(status), undefined);
    assert.equal(isBudgetRefusal(status), false);
  });

  // a body that is not JSON becomes a Status in the client: test/unit/kube-rest-client.test.ts
  it('recognises the 500 for a pod under two budgets, and has no Status for a failure that is not an API answer', () => {
    assert.equal(isMultipleBudgetsError(statusOf(exception(500, { message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' }))), true);
    assert.equal(statusOf(new Error('socket hang up')), undefined);
  });
});

describe('Drain: bounded concurrency', () => {
  it('mapBounded keeps at most `limit` calls in flight and returns results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(results, [10, 20, 30, 40, 50, 60, 70]);
    assert.equal(most, 3);
  });

  it('mapBounded starts nothing new after a failure and rethrows it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapBounded([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(started, [1, 2]);
  });

  /** A group whose budget allows `allowance` evictions; the rest are refused. */
  async function probe(sizes: Record<string, { size: number; allowance: number }>, limit = 16) {
    const items = Object.entries(sizes).flatMap(([group, { size }]) => Array.from({ length: size }, (_, i) => ({ group, i })));
    const left = new Map(Object.entries(sizes).map(([group, { allowance }]) => [group, allowance]));
    let inFlight = 0;
    let most = 0;
    const run = await runGrouped(items, { limit, groupOf: (item) => item.group, verdict: (ok: boolean) => (ok ? 'accepted' : 'refused') }, async (item) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      const allowance = left.get(item.group)!;
      left.set(item.group, allowance - 1);
      return allowance > 0;
    });
    const asked = (group: string) => run.done.filter((d) => d.item.group === group).length;
    const refused = (group: string) => run.done.filter((d) => d.item.group === group && !d.result).length;
    return { run, asked, refused, most };
  }

  it('runGrouped asks a budget that allows one about one more pod, not about all of them', async () => {
    const { run, asked, refused } = await probe({ web: { size: 20, allowance: 1 }, free: { size: 30, allowance: Infinity } });
    assert.equal(asked('web'), 2);
    assert.equal(refused('web'), 1);
    assert.equal(asked('free'), 30);
    assert.equal(run.untried.length, 18);
  });

  it('runGrouped wastes few requests whatever the budget, and never exceeds the limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 16 }), async (size, allowance, limit) => {
        const { asked, refused, most } = await probe({ g: { size, allowance } }, limit);
        assert.ok(most <= limit);
        assert.equal(asked('g') - refused('g'), Math.min(size, allowance), 'every allowed eviction is made');
        // at most as many refusals as requests were in flight when the budget ran out
        assert.ok(refused('g') <= Math.max(1, Math.min(limit, allowance)), `${refused('g')} refused`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Drain: settings', () => {
  it('fills in defaults and refuses nonsense loudly', () => {
    assert.deepEqual(resolveDrainSettings({ concurrency: 4 }), { maxGracePeriodSeconds: 600, concurrency: 4, taintKey: TAINT });
    assert.throws(() => resolveDrainSettings({ concurrency: 0 }), { name: 'ConfigurationError' });
    assert.throws(() => resolveDrainSettings({ maxGracePeriodSeconds: -1 }), { name: 'ConfigurationError' });
    assert.throws(() => resolveDrainSettings({ taintKey: 'not a key' }), { name: 'ConfigurationError' });
    assert.throws(() => resolveDrainSettings({ concurrancy: 4 } as never), /unknown drain settings: concurrancy/);
  });

  it('caps a pod’s grace period, and keeps a shorter one', () => {
    const pod = (seconds?: number): V1Pod => ({ spec: { containers: [], ...(seconds !== undefined ? { terminationGracePeriodSeconds: seconds } : {}) } });
    assert.equal(cappedGracePeriodSeconds(pod(3600), { maxGracePeriodSeconds: 120 }), 120);
    assert.equal(cappedGracePeriodSeconds(pod(10), { maxGracePeriodSeconds: 120 }), 10);
    assert.equal(cappedGracePeriodSeconds(pod(), { maxGracePeriodSeconds: 120 }), 30);
  });
});
