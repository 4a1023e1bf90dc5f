import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decidePromotion, type GroupFact, type GroupState, type PromotionCommand, type PromotionFacts, type RingHealth } from '../../shared/fleet/decide-promotion.js';
import type { Freeze } from '../../shared/fleet/freeze.js';
import { mayStart } from '../../shared/fleet/may-start.js';
import { holdRelease, promoteTo, releaseHold } from '../../shared/fleet/promotion-actions.js';
import { parsePromotionPolicy, type PromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { groupKey, hasReached, newPromotion, type PromotionState, PromotionStateSchema } from '../../shared/fleet/promotion-state.js';
import { type Release, releaseKey } from '../../shared/fleet/release.js';
import { DEFAULT_HEALTH_CRITERIA, evaluateHealth, type HealthReport } from '../../shared/fleet/workload-health.js';

/** A release moves ring by ring, soaks, and halts the whole fleet on a regression. */
const RELEASE: Release = { source: 'eks-optimized', identity: { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }, release: '1.31.3-20241115' };
const KEY = releaseKey(RELEASE);
const LAST_GOOD: Release = { ...RELEASE, release: '1.31.3-20241101' };
const T0 = new Date('2026-12-07T09:00:00Z');
const MIN = 60_000;
const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);

const POLICY = parsePromotionPolicy(
  JSON.stringify({
    rings: [
      { name: 'dev', soak: '2h', concurrency: 2 },
      { name: 'staging', soak: '1d' },
      { name: 'prod', soak: '2d', approval: true },
    ],
  }),
);

const ref = (cluster: string, group: string) => ({ cluster, group });
const g = (ring: string | undefined, cluster: string, group: string, state: GroupState, detail?: string): GroupFact => ({ ref: ref(cluster, group), ...(ring ? { ring } : {}), state, ...(detail ? { detail } : {}) });

const report = (verdict: 'healthy' | 'regressed' | 'insufficient-data', when = T0): HealthReport => {
  const base = { nodes: [{ name: 'new-1', ready: true, pressure: [] }], joinFailures: [], pods: [], pending: [], evictionFailures: [], alarms: [] };
  if (verdict === 'healthy') return evaluateHealth(base, DEFAULT_HEALTH_CRITERIA, when);
  if (verdict === 'insufficient-data') return evaluateHealth({ ...base, nodes: [] }, DEFAULT_HEALTH_CRITERIA, when);
  return evaluateHealth({ ...base, pods: [{ namespace: 'web', name: 'api-1', node: 'new-1', restarts: 9, observedSeconds: 1800, crashLooping: true }] }, DEFAULT_HEALTH_CRITERIA, when);
};
const healthOf = (ring: string, cluster: string, verdict: 'healthy' | 'regressed' | 'insufficient-data', when?: Date): RingHealth => ({ ring, cluster, report: report(verdict, when) });

function facts(over: Partial<PromotionFacts> = {}): PromotionFacts {
  return { groups: [], health: [], approvals: [], freezes: [], unreadable: [], ...over };
}

const DEV = [g('dev', 'dev-1', 'batch', 'stale'), g('dev', 'dev-1', 'web', 'stale'), g('dev', 'dev-2', 'web', 'stale')];
const STAGING = [g('staging', 'stg-1', 'web', 'stale')];
const PROD = [g('prod', 'prod-eu', 'web', 'stale'), g('prod', 'prod-us', 'web', 'stale')];

/** The promotion with rings set as given (the rest waiting). */
function promotion(rings: Record<string, PromotionState['rings'][number]>, extra: Partial<PromotionState> = {}): PromotionState {
  const state = newPromotion(RELEASE, POLICY, T0);
  return { ...state, rings: state.rings.map((r) => rings[r.ring] ?? r), ...extra };
}
const passed = (ring: string) => ({ ring, status: 'passed' as const, at: T0.toISOString(), how: 'soaked' as const });
const rolling = (ring: string, since = T0) => ({ ring, status: 'rolling' as const, since: since.toISOString() });
const soaking = (ring: string, since = T0) => ({ ring, status: 'soaking' as const, since: since.toISOString() });

function freeze(scope: Freeze['scope']): Freeze {
  return { scope, reason: 'peak sales', by: 'slack:T1:U1', since: T0.toISOString() };
}

describe('Fleet: the promotion decision', () => {
  describe('ring by ring', () => {
    it('enters the first ring and starts as many of its stale groups as it may roll at once, in a stable order', () => {
      const d = decidePromotion(newPromotion(RELEASE, POLICY, T0), facts({ groups: [...DEV, ...STAGING] }), POLICY, T0);
      assert.deepEqual(d.command, {
        command: 'roll',
        ring: 'dev',
        groups: [ref('dev-1', 'batch'), ref('dev-1', 'web')],
        rolling: 0,
        limit: 2,
        next: at(5).toISOString(),
        reason: 'ring dev: starting 2 of 3 stale groups (0 rolling, 2 → 2 at once)',
      });
      assert.deepEqual(d.state.rings[0], rolling('dev'));
      assert.deepEqual(d.events.map((e) => e.kind), ['ring-entered']);
    });

    it('starts the next group when a slot frees, and waits while none is free', () => {
      const state = promotion({ dev: rolling('dev') });
      const one = decidePromotion(state, facts({ groups: [g('dev', 'dev-1', 'batch', 'current'), g('dev', 'dev-1', 'web', 'rolling'), DEV[2]!] }), POLICY, at(10));
      assert.equal(one.command.command, 'roll');
      assert.deepEqual((one.command as Extract<PromotionCommand, { command: 'roll' }>).groups, [ref('dev-2', 'web')]);
      const full = decidePromotion(state, facts({ groups: [g('dev', 'dev-1', 'batch', 'rolling'), g('dev', 'dev-1', 'web', 'rolling'), DEV[2]!] }), POLICY, at(10));
      assert.deepEqual(full.command, {
        command: 'wait',
        ring: 'dev',
        waitingOn: ['dev-1/batch rolling', 'dev-1/web rolling', 'dev-2/web waits for a slot (2 at once)'],
        next: at(15).toISOString(),
        reason: `ring dev: 0 of 3 groups run ${KEY}`,
      });
    });

    it('waits on groups that cannot start (a closed window) or whose rollout failed for a reason of its own, and says why', () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: [g('dev', 'dev-1', 'batch', 'blocked', 'window opens Sat 02:00'), g('dev', 'dev-1', 'web', 'failed', 'drain timed out'), g('dev', 'dev-2', 'web', 'current')] }), POLICY, at(10));
      assert.equal(d.command.command, 'wait');
      assert.deepEqual((d.command as Extract<PromotionCommand, { command: 'wait' }>).waitingOn, ['dev-1/batch blocked: window opens Sat 02:00', 'dev-1/web failed: drain timed out']);
    });

    it('soaks once every group of the ring runs the release', () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: DEV.map((x) => ({ ...x, state: 'current' as const })) }), POLICY, at(30));
      assert.equal(d.command.command, 'soak');
      assert.deepEqual(d.state.rings[0], soaking('dev', at(30)));
      assert.deepEqual(d.events.map((e) => [e.kind, e.ring]), [['soak-started', 'dev']]);
    });

    const current = DEV.map((x) => ({ ...x, state: 'current' as const }));
    const devHealth = (verdict: 'healthy' | 'regressed' | 'insufficient-data', when: Date) => [healthOf('dev', 'dev-1', verdict, when), healthOf('dev', 'dev-2', verdict, when)];

    it('keeps soaking until the soak is over, evaluating every few minutes and at its end', () => {
      const d = decidePromotion(promotion({ dev: soaking('dev') }), facts({ groups: current, health: devHealth('healthy', at(60)) }), POLICY, at(60));
      assert.deepEqual(d.command, { command: 'soak', ring: 'dev', soakEndsAt: at(120).toISOString(), verdict: 'healthy', next: at(65).toISOString(), reason: `ring dev soaking until ${at(120).toISOString()}: dev-1 healthy (1 nodes, 0 pods), dev-2 healthy (1 nodes, 0 pods)` });
      assert.deepEqual(d.state.rings[0], { ...soaking('dev'), lastEvaluation: { at: at(60).toISOString(), verdict: 'healthy' } });
      const nearEnd = decidePromotion(promotion({ dev: soaking('dev') }), facts({ groups: current, health: devHealth('healthy', at(118)) }), POLICY, at(118));
      assert.equal((nearEnd.command as Extract<PromotionCommand, { command: 'soak' }>).next, at(120).toISOString(), 'the last evaluation falls on the end of the soak');
    });

    it('promotes to the next ring when the soak is over and health is good', () => {
      const d = decidePromotion(promotion({ dev: soaking('dev') }), facts({ groups: [...current, ...STAGING], health: devHealth('healthy', at(120)) }), POLICY, at(120));
      assert.deepEqual(d.command, { command: 'promote', from: 'dev', how: 'soaked', to: 'staging', next: at(120).toISOString(), reason: `ring dev passed its 2h soak with ${KEY} healthy; next: ring staging` });
      assert.deepEqual(d.state.rings.map((r) => r.status), ['passed', 'waiting', 'waiting'], 'the next decision enters it');
      const next = decidePromotion(d.state, facts({ groups: [...current, ...STAGING] }), POLICY, at(120));
      assert.deepEqual([next.command.command, next.state.rings[1]!.status], ['roll', 'rolling']);
    });

    it('does not promote while health cannot be judged: no data, or a cluster of the ring not evaluated', () => {
      for (const health of [devHealth('insufficient-data', at(130)), [healthOf('dev', 'dev-1', 'healthy', at(130))]]) {
        const d = decidePromotion(promotion({ dev: soaking('dev') }), facts({ groups: current, health }), POLICY, at(130));
        assert.deepEqual([d.command.command, (d.command as Extract<PromotionCommand, { command: 'soak' }>).verdict], ['soak', 'insufficient-data']);
        assert.match(d.command.command === 'soak' ? d.command.reason : '', /soak is over, but health cannot be judged yet/);
      }
    });

    it('asks a person before entering a ring that wants approval, then enters it once approved', () => {
      const state = promotion({ dev: passed('dev'), staging: passed('staging') });
      const ask = decidePromotion(state, facts({ groups: PROD }), POLICY, at(10));
      assert.deepEqual(ask.command, { command: 'await-approval', ring: 'prod', reason: `ring prod asks for a person's approval before ${KEY} enters it` });
      assert.deepEqual(ask.state.rings[2], { ring: 'prod', status: 'awaiting-approval', since: at(10).toISOString() });
      const again = decidePromotion(ask.state, facts({ groups: PROD }), POLICY, at(15));
      assert.deepEqual([again.command.command, again.events], ['await-approval', []], 'asked once');
      const approved = decidePromotion(ask.state, facts({ groups: PROD, approvals: [{ ring: 'prod', by: 'slack:T1:U9', at: at(20).toISOString() }] }), POLICY, at(20));
      assert.deepEqual([approved.command.command, approved.state.rings[2]!.status], ['roll', 'rolling']);
      assert.match(approved.events[0]!.detail, /approved by slack:T1:U9/);
    });

    it('passes a ring none of whose groups takes the release', () => {
      const d = decidePromotion(promotion({ dev: passed('dev') }), facts({ groups: PROD }), POLICY, at(10));
      assert.deepEqual(d.command, { command: 'promote', from: 'staging', how: 'empty', to: 'prod', next: at(10).toISOString(), reason: `ring staging passed: none of its groups takes ${KEY}; next: ring prod` });
    });

    it('is done when the last ring passes its soak', () => {
      const prodCurrent = PROD.map((x) => ({ ...x, state: 'current' as const }));
      const d = decidePromotion(promotion({ dev: passed('dev'), staging: passed('staging'), prod: soaking('prod') }), facts({ groups: prodCurrent, health: [healthOf('prod', 'prod-eu', 'healthy', at(2880)), healthOf('prod', 'prod-us', 'healthy', at(2880))] }), POLICY, at(2880));
      assert.deepEqual(d.command, { command: 'done', reason: `${KEY} passed every ring` });
      assert.equal(d.state.finishedAt, at(2880).toISOString());
      assert.deepEqual(d.events.map((e) => e.kind), ['ring-passed', 'done']);
      assert.deepEqual(decidePromotion(d.state, facts(), POLICY, at(3000)).events, [], 'done once');
    });

    it('concludes nothing from a cluster it cannot read', () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: [], unreadable: [{ cluster: 'dev-3', ring: 'dev', reason: 'AccessDenied' }] }), POLICY, at(5));
      assert.deepEqual([d.command.command, d.state.rings[0]!.status], ['wait', 'rolling'], 'an unreadable ring is not an empty one');
    });

    it('follows the policy when rings change mid-promotion: a new ring waits, a removed one is dropped', () => {
      const wider = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'canary', soak: '1h' }, ...POLICY.rings.slice(1).map((r) => ({ name: r.name, soak: '1h' }))] }));
      const d = decidePromotion(promotion({ dev: passed('dev'), staging: rolling('staging') }), facts({ groups: [g('canary', 'can-1', 'web', 'stale')] }), wider, at(5));
      assert.deepEqual(d.state.rings.map((r) => [r.ring, r.status]), [['canary', 'rolling'], ['staging', 'rolling'], ['prod', 'waiting']]);
    });
  });

  describe('the circuit breaker', () => {
    const devOn = [g('dev', 'dev-1', 'batch', 'current'), g('dev', 'dev-1', 'web', 'rolling'), g('dev', 'dev-2', 'web', 'stale')];
    const regressed = [healthOf('dev', 'dev-1', 'regressed', at(40))];

    it('a regression in a ring holds the release fleet-wide, rolls back the ring\'s groups on it, stops running rollouts, and records the numbers', () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: [...devOn, g(undefined, 'tools', 'ci', 'rolling')], health: regressed }), POLICY, at(40));
      assert.equal(d.command.command, 'hold');
      const hold = d.command.command === 'hold' ? d.command : assert.fail();
      assert.deepEqual(hold.affected, { action: 'rollback', groups: [ref('dev-1', 'batch'), ref('dev-1', 'web')] });
      assert.deepEqual(hold.stop, [ref('dev-1', 'web'), ref('tools', 'ci')]);
      assert.equal(hold.hold.kind, 'regression');
      assert.match(hold.hold.reason, /ring dev, cluster dev-1: crash-loops 1 pods in CrashLoopBackOff \(at most 0 pass: 0 of 1 pods\)/);
      assert.deepEqual(hold.hold.evidence, [{ ring: 'dev', cluster: 'dev-1', report: regressed[0]!.report }]);
      assert.deepEqual(d.state.hold, hold.hold);
      assert.deepEqual(PromotionStateSchema.parse(JSON.parse(JSON.stringify(d.state))), d.state, 'the held state, evidence and all, is workflow data');
    });

    it('holds in place when the policy says so', () => {
      const inPlace = { ...POLICY, onRegression: 'hold-in-place' as const };
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: devOn, health: regressed }), inPlace, at(40));
      assert.equal(d.command.command === 'hold' && d.command.affected.action, 'hold-in-place');
    });

    it("a rollout that failed its own health gate is a regression too", () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: [g('dev', 'dev-1', 'web', 'failed-health', 'new nodes never Ready')] }), POLICY, at(40));
      assert.equal(d.command.command, 'hold');
      assert.match(d.command.command === 'hold' ? d.command.reason : '', /dev-1\/web: its rollout failed the health gate \(new nodes never Ready\)/);
    });

    it('a regression seen in a ring that passed still holds; a ring not reached is not watched', () => {
      const state = promotion({ dev: passed('dev'), staging: soaking('staging') });
      assert.equal(decidePromotion(state, facts({ health: regressed }), POLICY, at(40)).command.command, 'hold');
      assert.notEqual(decidePromotion(state, facts({ health: [healthOf('prod', 'prod-eu', 'regressed')] }), POLICY, at(40)).command.command, 'hold');
    });

    it('a freeze never stops a hold', () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: devOn, health: regressed, freezes: [freeze({ kind: 'all' })] }), POLICY, at(40));
      assert.equal(d.command.command, 'hold');
    });

    it('a recalled release is held; every group on it, in a ring or not, is offered the rollback to the last good release', () => {
      const d = decidePromotion(promotion({ dev: passed('dev'), staging: soaking('staging') }), facts({ groups: [g('dev', 'dev-1', 'web', 'current'), g('staging', 'stg-1', 'web', 'current'), g(undefined, 'tools', 'ci', 'current'), g('prod', 'prod-eu', 'web', 'stale')], recall: { kind: 'recalled', detail: 'the recommended parameter moved back to 1.31.3-20241101' }, lastGood: LAST_GOOD }), POLICY, at(40));
      assert.deepEqual(d.command.command === 'hold' && d.command.affected, { action: 'offer-rollback', groups: [ref('dev-1', 'web'), ref('stg-1', 'web'), ref('tools', 'ci')], to: releaseKey(LAST_GOOD) });
      assert.equal(d.state.hold?.kind, 'recalled');
      const given = decidePromotion(promotion({}), facts({ recall: { kind: 'deprecated', detail: 'image deprecated' } }), { ...POLICY, onRecall: 'rollback' }, at(40));
      assert.equal(given.command.command === 'hold' && given.command.affected.action, 'rollback');
    });

    it('a held release stays held, whatever is observed, until a person releases it; a recall still reaches it', () => {
      const manual = holdRelease(promotion({ dev: rolling('dev') }), { reason: 'looks odd', by: 'slack:T1:U1' }, at(1));
      assert.ok(manual.ok);
      const d = decidePromotion(manual.state, facts({ groups: DEV, health: [healthOf('dev', 'dev-1', 'healthy')] }), POLICY, at(500));
      assert.deepEqual([d.command.command, d.state], ['held', manual.state]);
      const recalled = decidePromotion(manual.state, facts({ groups: [g('dev', 'dev-1', 'web', 'current')], recall: { kind: 'recalled', detail: 'moved back' } }), POLICY, at(501));
      assert.deepEqual([recalled.command.command, recalled.state.hold?.kind], ['hold', 'recalled']);
      assert.equal(decidePromotion(recalled.state, facts({ recall: { kind: 'recalled', detail: 'moved back' } }), POLICY, at(502)).command.command, 'held', 'offered once');
    });
  });

  describe('freezes', () => {
    it('a freeze of everything, or of the current ring, pauses the promotion', () => {
      for (const f of [freeze({ kind: 'all' }), freeze({ kind: 'ring', ring: 'dev' })]) {
        const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: DEV, freezes: [f] }), POLICY, at(5));
        assert.deepEqual(d.command, { command: 'paused', ring: 'dev', freeze: f, next: at(10).toISOString(), reason: 'frozen (peak sales, by slack:T1:U1)' });
      }
    });

    it('a freeze of another ring does not; a frozen cluster\'s groups wait while the others roll', () => {
      const d = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: DEV, freezes: [freeze({ kind: 'ring', ring: 'prod' }), freeze({ kind: 'cluster', cluster: 'dev-1' })] }), POLICY, at(5));
      assert.deepEqual(d.command.command === 'roll' && d.command.groups, [ref('dev-2', 'web')]);
      const stuck = decidePromotion(promotion({ dev: rolling('dev') }), facts({ groups: [...DEV.slice(0, 2), g('dev', 'dev-2', 'web', 'current')], freezes: [freeze({ kind: 'cluster', cluster: 'dev-1' })] }), POLICY, at(5));
      assert.equal(stuck.command.command, 'paused', 'only frozen groups are left');
    });

    it('a soak that ends under a freeze does not promote until it is lifted', () => {
      const current = DEV.map((x) => ({ ...x, state: 'current' as const }));
      const health = [healthOf('dev', 'dev-1', 'healthy', at(200)), healthOf('dev', 'dev-2', 'healthy', at(200))];
      const frozen = decidePromotion(promotion({ dev: soaking('dev') }), facts({ groups: current, health, freezes: [freeze({ kind: 'all' })] }), POLICY, at(200));
      assert.equal(frozen.command.command, 'paused');
      assert.equal(decidePromotion(frozen.state, facts({ groups: current, health }), POLICY, at(200)).command.command, 'promote');
    });
  });

  describe("people's actions", () => {
    it('release lifts a hold; the ring rolls and soaks again from the start', () => {
      const held = { ...promotion({ dev: soaking('dev') }), hold: { kind: 'regression' as const, since: at(30).toISOString(), reason: 'crash loops', evidence: [] } };
      const released = releaseHold(held, { by: 'slack:T1:U2' }, at(90));
      assert.ok(released.ok);
      assert.equal(released.state.hold, undefined);
      assert.deepEqual(released.state.rings[0], rolling('dev', at(90)));
      assert.deepEqual(releaseHold(released.state, { by: 'x' }, at(91)), { ok: false, reason: `${KEY} is not held` });
    });

    it('promote --to passes the rings before, as promoted by the person, and enters that ring', () => {
      const r = promoteTo(promotion({ dev: soaking('dev') }), POLICY, { ring: 'prod', by: 'slack:T1:U3' }, at(10));
      assert.ok(r.ok);
      assert.deepEqual(r.state.rings, [
        { ring: 'dev', status: 'passed', at: at(10).toISOString(), how: 'promoted', by: 'slack:T1:U3' },
        { ring: 'staging', status: 'passed', at: at(10).toISOString(), how: 'promoted', by: 'slack:T1:U3' },
        rolling('prod', at(10)),
      ]);
      assert.equal(promoteTo(r.state, POLICY, { ring: 'staging', by: 'x' }, at(11)).ok, false, 'a ring already reached');
      assert.equal(promoteTo(r.state, POLICY, { ring: 'qa', by: 'x' }, at(11)).ok, false, 'not a ring');
      const held = holdRelease(r.state, { reason: 'r', by: 'x' }, at(12));
      assert.ok(held.ok);
      assert.equal(promoteTo(held.state, POLICY, { ring: 'prod', by: 'x' }, at(13)).ok, false, 'held: release it first');
    });
  });
});

// ---- properties: a fleet simulated decision after decision ----

/** mulberry32: the simulation's own randomness, from a seed fast-check chooses (and shrinks). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimGroup extends GroupFact {
  state: GroupState;
}

const fleetArb = fc.record({
  rings: fc.array(fc.record({ soakMinutes: fc.integer({ min: 0, max: 3000 }), approval: fc.boolean(), concurrency: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom('50%', '34%', '100%')) }), { minLength: 1, maxLength: 4 }),
  groups: fc.array(fc.array(fc.record({ cluster: fc.integer({ min: 0, max: 2 }) }), { maxLength: 4 }), { minLength: 4, maxLength: 4 }),
  ringless: fc.integer({ min: 0, max: 2 }),
  bad: fc.boolean(),
  seed: fc.integer(),
  steps: fc.integer({ min: 5, max: 80 }),
  /** no freezes, no closed windows, health always known, approvals at once */
  quiet: fc.constant<boolean>(false),
});

type Fleet = typeof fleetArb extends fc.Arbitrary<infer T> ? T : never;

interface Observed {
  state: PromotionState;
  facts: PromotionFacts;
  decision: ReturnType<typeof decidePromotion>;
  now: Date;
  policy: PromotionPolicy;
  groups: SimGroup[];
}

/** Runs a promotion over a simulated fleet, calling `check` after every decision. */
function simulate(fleet: Fleet, check: (o: Observed, history: Observed[]) => void): void {
  const rnd = random(fleet.seed);
  const policy = parsePromotionPolicy(JSON.stringify({ rings: fleet.rings.map((r, i) => ({ name: `r${i}`, soak: `${r.soakMinutes}m`, approval: r.approval, concurrency: r.concurrency })), evaluateEvery: '5m' }));
  const groups: SimGroup[] = [
    ...fleet.rings.flatMap((_, i) => fleet.groups[i]!.map((x, j) => ({ ref: ref(`r${i}-c${x.cluster}`, `g${j}`), ring: `r${i}`, state: 'stale' as GroupState }))),
    ...Array.from({ length: fleet.ringless }, (_, j) => ({ ref: ref('solo', `g${j}`), state: 'stale' as GroupState })),
  ];
  let state = newPromotion(RELEASE, policy, T0);
  let now = T0;
  let freezes: Freeze[] = [];
  const approvals: PromotionFacts['approvals'][number][] = [];
  const history: Observed[] = [];
  for (let step = 0; step < fleet.steps; step++) {
    // the world moves: rollouts finish (a bad release fails some health gates), windows close and open, people act
    for (const x of groups) {
      if (x.state === 'rolling' && rnd() < 0.6) x.state = fleet.bad && rnd() < 0.15 ? 'failed-health' : 'current';
      else if (x.state === 'stale' && !fleet.quiet && rnd() < 0.1) x.state = 'blocked';
      else if (x.state === 'blocked' && rnd() < 0.5) x.state = 'stale';
    }
    if (!fleet.quiet && rnd() < 0.08) freezes = freezes.length ? [] : [freeze(rnd() < 0.4 ? { kind: 'all' } : rnd() < 0.5 ? { kind: 'ring', ring: `r${Math.floor(rnd() * fleet.rings.length)}` } : { kind: 'cluster', cluster: `r0-c${Math.floor(rnd() * 3)}` })];
    const awaiting = state.rings.find((r) => r.status === 'awaiting-approval');
    if (awaiting && (fleet.quiet || rnd() < 0.3)) approvals.push({ ring: awaiting.ring, by: 'slack:T1:U1', at: now.toISOString() });
    const reached = state.rings.filter(hasReached).map((r) => r.ring);
    const health: RingHealth[] = groups
      .filter((x) => x.ring && reached.includes(x.ring) && (fleet.quiet || rnd() < 0.9))
      .map((x) => healthOf(x.ring!, x.ref.cluster, fleet.bad && rnd() < 0.1 ? 'regressed' : !fleet.quiet && rnd() < 0.1 ? 'insufficient-data' : 'healthy', now));
    const observed = { groups: groups.map((x) => ({ ...x })), health, approvals: [...approvals], freezes, unreadable: [] };
    const decision = decidePromotion(state, observed, policy, now);
    const o = { state, facts: observed, decision, now, policy, groups: observed.groups };
    check(o, history);
    history.push(o);
    // the workflow applies the command
    const c = decision.command;
    if (c.command === 'roll') for (const r of c.groups) groups.find((x) => groupKey(x.ref) === groupKey(r))!.state = 'rolling';
    if (c.command === 'hold') for (const r of c.affected.action === 'rollback' ? c.affected.groups : []) groups.find((x) => groupKey(x.ref) === groupKey(r))!.state = 'stale';
    state = decision.state;
    const next = 'next' in c ? Date.parse(c.next) : now.getTime() + 5 * MIN;
    now = new Date(Math.max(next, now.getTime()) + (rnd() < 0.2 ? Math.floor(rnd() * 600 * MIN) : 0));
  }
}

const RUNS = { numRuns: 400 };

describe('Fleet: promotion properties', () => {
  it('a release never reaches ring N+1 before ring N has passed', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) =>
        simulate(fleet, ({ decision }) => {
          const rings = decision.state.rings;
          rings.forEach((r, j) => {
            if (hasReached(r) || r.status === 'awaiting-approval') for (const earlier of rings.slice(0, j)) assert.equal(earlier.status, 'passed', `${r.ring} reached before ${earlier.ring} passed`);
          });
        }),
      ),
      RUNS,
    );
  });

  it('a ring passes its soak only after soaking its whole soak time, healthy at the end; it passes empty only without groups', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) =>
        simulate(fleet, ({ state, decision, now, policy, facts: f }) => {
          for (const after of decision.state.rings) {
            const before = state.rings.find((r) => r.ring === after.ring)!;
            if (after.status !== 'passed' || before.status === 'passed') continue;
            if (after.how === 'soaked') {
              assert.equal(before.status, 'soaking');
              const soak = policy.rings.find((r) => r.name === after.ring)!.soak;
              assert.ok(now.getTime() >= Date.parse(before.status === 'soaking' ? before.since : '') + soak * 1000, `${after.ring} passed before its soak was over`);
              assert.ok(f.health.filter((h) => h.ring === after.ring).every((h) => h.report.verdict === 'healthy'));
            }
            if (after.how === 'empty') assert.equal(f.groups.filter((x) => x.ring === after.ring).length, 0);
          }
        }),
      ),
      RUNS,
    );
  });

  it('a hold is terminal until released: nothing rolls, nothing is promoted', () => {
    fc.assert(
      fc.property(fleetArb.map((f) => ({ ...f, bad: true })), (fleet) =>
        simulate(fleet, ({ state, decision }) => {
          if (!state.hold) return;
          assert.ok(decision.state.hold, 'still held');
          assert.ok(['held', 'hold'].includes(decision.command.command), decision.command.command);
          assert.deepEqual(decision.state.rings, state.rings, 'no ring moves');
        }),
      ),
      RUNS,
    );
  });

  it('never rolls more groups of a ring at once than its concurrency allows, nor a frozen or unreached group', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) =>
        simulate(fleet, ({ decision, facts: f, policy }) => {
          const c = decision.command;
          if (c.command !== 'roll') return;
          const ring = policy.rings.find((r) => r.name === c.ring)!;
          const inRing = f.groups.filter((x) => x.ring === c.ring);
          assert.ok(c.groups.length + inRing.filter((x) => x.state === 'rolling').length <= Math.max(1, c.limit));
          assert.equal(c.limit, 'count' in ring.concurrency ? ring.concurrency.count : Math.max(1, Math.floor((ring.concurrency.percent * inRing.length) / 100)));
          assert.ok(!f.freezes.some((x) => x.scope.kind === 'all'), 'nothing rolls under a freeze of everything');
          for (const r of c.groups) {
            const x = inRing.find((y) => groupKey(y.ref) === groupKey(r));
            assert.equal(x?.state, 'stale', 'only stale groups of the ring');
            assert.ok(!f.freezes.some((fr) => (fr.scope.kind === 'cluster' && fr.scope.cluster === r.cluster) || (fr.scope.kind === 'ring' && fr.scope.ring === c.ring)));
          }
          assert.equal(hasReached(decision.state.rings.find((r) => r.ring === c.ring)!), true);
        }),
      ),
      RUNS,
    );
  });

  it('a ring that asks for approval is entered only once a person approved it', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) =>
        simulate(fleet, ({ state, decision, facts: f, policy }) => {
          for (const after of decision.state.rings) {
            const before = state.rings.find((r) => r.ring === after.ring)!;
            if (hasReached(after) && !hasReached(before) && policy.rings.find((r) => r.name === after.ring)!.approval) assert.ok(f.approvals.some((a) => a.ring === after.ring));
          }
        }),
      ),
      RUNS,
    );
  });

  it('no group outside the rings a promotion has reached may start it, and no group at all once it is held', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) =>
        simulate(fleet, ({ decision, facts: f, policy }) => {
          const promotions = [decision.state];
          for (const x of f.groups) {
            const membership = x.ring ? { kind: 'ring' as const, ring: x.ring, index: policy.rings.findIndex((r) => r.name === x.ring), from: 'group' as const } : { kind: 'none' as const };
            for (const asker of ['detection', 'promotion'] as const) {
              const verdict = mayStart({ ref: x.ref, membership }, RELEASE, { promotions, freezes: f.freezes }, asker).verdict;
              const progress = decision.state.rings.find((r) => r.ring === x.ring);
              if (progress && !hasReached(progress)) assert.notEqual(verdict, 'allowed', `${groupKey(x.ref)} in ${x.ring} (${progress.status})`);
              if (decision.state.hold) assert.notEqual(verdict, 'allowed');
            }
          }
        }),
      ),
      RUNS,
    );
  });

  it('every state it records is valid workflow data', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) => simulate(fleet, ({ decision }) => assert.deepEqual(PromotionStateSchema.parse(JSON.parse(JSON.stringify(decision.state))), decision.state))),
      { numRuns: 100 },
    );
  });

  it('a good release in a quiet fleet passes every ring, each soaked or empty, and is done', () => {
    const quiet = fleetArb.map((f) => ({ ...f, bad: false, quiet: true, rings: f.rings.map((r) => ({ ...r, soakMinutes: r.soakMinutes % 30 })), steps: 200 }));
    fc.assert(
      fc.property(quiet, (fleet) => {
        let last: Observed | undefined;
        simulate(fleet, (o) => {
          last = o;
        });
        assert.equal(last!.decision.command.command, 'done');
        assert.ok(last!.decision.state.rings.every((r) => r.status === 'passed' && r.how !== 'promoted'));
      }),
      { numRuns: 100 },
    );
  });
});
