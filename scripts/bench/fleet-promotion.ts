/**
 * Benchmark (issue 21): the fleet scenario of `npm run fleet` (test/scenarios/fleet-promotion-scenario.ts)
 * — six clusters in three rings across three accounts; a good release, a bad one, a frozen one —
 * measured:
 * - the bad release: virtual time from its first new node to the fleet-wide hold, set against
 *   the health-evaluation interval (target: within one interval after the threshold is crossed:
 *   the threshold — one crash-looping pod — is crossed within the kubelet's first back-off of the
 *   first new node's pods, so the target reads as ≤ one interval plus the time to roll a batch);
 * - groups that ever ran the bad release outside ring 0 (target 0);
 * - the good release's end-to-end promotion time against the sum of its ring soaks (≤ 1.10);
 * - state transitions and Lambda invocations of the promotion workflows per group promoted.
 */
import { fileURLToPath } from 'node:url';
import { runFleetScenario } from '../../test/scenarios/fleet-promotion-scenario.js';

export interface FleetPromotionFigures {
  evaluateSeconds: number;
  soakSeconds: number;
  goodPromotionSeconds?: number;
  overhead?: number;
  goodRingsPassed: number;
  badHeld: boolean;
  detectionDelaySeconds?: number;
  thresholdToHoldSeconds?: number;
  outsideRing0: number;
  badRolledBack: number;
  frozenTransitions?: number;
  transitions: number;
  invocations: number;
  groupsPromoted: number;
  wallMs: number;
  virtualHours: number;
  invariants: string;
}

export async function benchFleetPromotion(): Promise<FleetPromotionFigures> {
  const started = performance.now();
  const evaluateMinutes = 10;
  const result = await runFleetScenario({ evaluateMinutes });
  try {
    const good = result.releases.find((r) => r.kind === 'good')!;
    const bad = result.releases.find((r) => r.kind === 'bad')!;
    const frozen = result.releases.find((r) => r.kind === 'freeze');
    let invariants = 'held';
    try {
      await result.monitor.assertHeld({ groups: result.sites.map((s) => ({ name: s.group, place: s.place, floor: 1 })) });
    } catch (error) {
      invariants = (error as Error).message.split('\n').slice(0, 4).join(' | ');
    }
    return {
      evaluateSeconds: evaluateMinutes * 60,
      soakSeconds: good.soakSeconds,
      ...(good.promotionSeconds !== undefined ? { goodPromotionSeconds: good.promotionSeconds, overhead: good.promotionSeconds / good.soakSeconds } : {}),
      goodRingsPassed: good.ringsPassed.length,
      badHeld: bad.held,
      ...(bad.detectionDelaySeconds !== undefined ? { detectionDelaySeconds: bad.detectionDelaySeconds } : {}),
      ...(bad.thresholdToHoldSeconds !== undefined ? { thresholdToHoldSeconds: bad.thresholdToHoldSeconds } : {}),
      outsideRing0: bad.outsideRing0,
      badRolledBack: bad.groupsRolledBack,
      ...(frozen?.transitionsWhileFrozen !== undefined ? { frozenTransitions: frozen.transitionsWhileFrozen } : {}),
      transitions: result.transitions,
      invocations: result.invocations,
      groupsPromoted: result.groupsPromoted,
      wallMs: performance.now() - started,
      virtualHours: (result.world.clock.now() - Date.parse('2026-11-21T09:00:00Z')) / 3_600_000,
      invariants,
    };
  } finally {
    await result.world.stop();
  }
}

export function renderFleetPromotion(f: FleetPromotionFigures): string {
  const fmt = (n: number | undefined, digits = 2) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const per = (n: number) => n / Math.max(1, f.groupsPromoted);
  return `
## Fleet promotion: 6 clusters in 3 rings across 3 accounts (\`npm run fleet\`)

A good release promoted ring by ring (soaks ${fmt(f.soakSeconds / 3600, 0)} h in all, health every
${f.evaluateSeconds / 60} min), a bad release whose pods crash-loop on its nodes, and a release
frozen mid-promotion — the deployed handlers and workflows, IAM on every call, member roles
through AssumeRole, virtual time.

| figure | measured | target |
|---|---|---|
| bad release: first pod crash-looping (the threshold crossed) → fleet-wide hold (virtual) | **${fmt(f.thresholdToHoldSeconds, 0)} s** (one health evaluation is ${f.evaluateSeconds} s) | ≤ one evaluation |
| bad release: first new node → fleet-wide hold (virtual) | ${fmt(f.detectionDelaySeconds, 0)} s | |
| groups that ever ran the bad release outside ring 0 | **${f.outsideRing0}** (held: ${f.badHeld}; ring 0 groups rolled back: ${f.badRolledBack}) | 0 |
| good release: end-to-end promotion ÷ sum of the ring soaks | **${fmt(f.overhead, 3)}** (${fmt((f.goodPromotionSeconds ?? NaN) / 3600, 2)} h for ${fmt(f.soakSeconds / 3600, 0)} h of soaks; ${f.goodRingsPassed} of 3 rings) | ≤ 1.10 |
| promotion state transitions per group promoted | ${fmt(per(f.transitions), 1)} (${f.transitions} for ${f.groupsPromoted} groups) | |
| promotion-step Lambda invocations per group promoted | ${fmt(per(f.invocations), 1)} (${f.invocations}) | |
| frozen release: promotion transitions and rollouts started while frozen | ${f.frozenTransitions ?? 'n/a'} | 0 |
| invariants (budgets, terminations, hooks, groups, locks) | ${f.invariants} | held |
| wall time | ${fmt(f.wallMs / 1000, 0)} s real, ${fmt(f.virtualHours, 1)} h virtual | |

Why the bad release is held before its rollouts' own gate fails them: its pods crash-loop as soon as a
drained pod lands on a new node, so the PodDisruptionBudget (maxUnavailable 1) blocks the next
eviction; the promotion's next health evaluation sees the crash loop and holds the release
fleet-wide, and the blocked drains time out into the rollouts' rollback. Transitions and
invocations count every decision of the three promotions (a held one is read again every
evaluation, for as long as it stays held: 3 transitions and one invocation per 10 minutes).
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchFleetPromotion();
  console.log(renderFleetPromotion(figures));
  console.log(JSON.stringify(figures));
}
