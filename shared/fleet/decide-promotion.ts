import { describeSeconds } from '../config/duration.js';
import { type Freeze, freezeCovering } from './freeze.js';
import { atOnce, describeLimit } from './limit.js';
import type { PromotionPolicy, RingPolicy } from './promotion-policy.js';
import { currentRing, type GroupRef, groupKey, type HealthEvidence, hasReached, type Hold, type PromotionState, type RingProgress } from './promotion-state.js';
import { type Release, releaseKey } from './release.js';
import { type HealthReport, type HealthVerdict, verdictOf } from './workload-health.js';

/**
 * The promotion's decision, pure: from where it stands, what was observed just now, the policy
 * and the time, the one thing to do next and the state to record once it is done. The
 * workflow applies the command, stores the state, and decides again at `next`; each decision
 * recomputes from what it observes, so running one twice does no harm (a rollout already
 * started holds its group's lock).
 *
 * In order, the first that applies:
 * 1. a held release stays held (only a person lifts a hold);
 * 2. a recalled or deprecated release is held; its groups are offered (or given) a rollback;
 * 3. a regression in any ring reached — a health report `regressed`, or a group whose own
 *    rollout failed its health gate — holds the release fleet-wide, the regressed rings'
 *    groups roll back (or hold in place) and every running rollout of it stops;
 * 4. every ring passed: done;
 * 5. a freeze of everything, or of the current ring: paused (health is still watched, 1–3);
 * 6. the current ring: enter it (after approval when it asks for one), roll its stale groups
 *    a few at once, soak once all run the release, pass it when the soak is over and health
 *    is good.
 */

/** Where a group stands with the release, as the adapters read it (its rollout, its image). */
export type GroupState =
  /** runs an older image and may start now */
  | 'stale'
  /** runs an older image and cannot start now: its window is closed, another rollout holds its lock, its configuration or its approval stops it */
  | 'blocked'
  | 'rolling'
  | 'current'
  /** its rollout of the release ended without it, for a reason of its own (a drain timed out) */
  | 'failed'
  /** its rollout of the release failed the health gate: the release is the suspect */
  | 'failed-health';

export interface GroupFact {
  ref: GroupRef;
  /** its ring (ring-membership.ts); absent for a group in no ring, which matters only to a recall */
  ring?: string;
  state: GroupState;
  /** why it is blocked or failed, as its rollout says */
  detail?: string;
}

export interface RingHealth {
  ring: string;
  cluster: string;
  report: HealthReport;
}

export interface PromotionFacts {
  /** every group that runs the release or that detection targets at it */
  groups: readonly GroupFact[];
  /** each cluster of the rings reached, evaluated (workload-health.ts) for this decision: a cluster of the current ring without one is not known healthy */
  health: readonly RingHealth[];
  /** approvals to enter a ring, given by people */
  approvals: readonly { ring: string; by: string; at: string }[];
  freezes: readonly Freeze[];
  /** the release was recalled (the SSM recommended parameter moved back) or its image deprecated */
  recall?: { kind: 'recalled' | 'deprecated'; detail: string };
  /** clusters whose facts could not be read: nothing is concluded from what is missing */
  unreadable: readonly { cluster: string; ring?: string; reason: string }[];
  /** the newest release of the line whose promotion finished unheld: where a recall rolls back to */
  lastGood?: Release;
}

export type RollbackAction = 'rollback' | 'hold-in-place' | 'offer-rollback';

export type PromotionCommand =
  /** begin rollouts of these groups; `rolling` already run, `limit` may at once */
  | { command: 'roll'; ring: string; groups: GroupRef[]; rolling: number; limit: number; next: string; reason: string }
  | { command: 'wait'; ring: string; waitingOn: string[]; next: string; reason: string }
  | { command: 'soak'; ring: string; soakEndsAt: string; verdict: HealthVerdict; next: string; reason: string }
  /** `from` passed; `to` (absent after the last ring) is entered by the next decision, at once */
  | { command: 'promote'; from: string; how: 'soaked' | 'empty'; to?: string; next: string; reason: string }
  | { command: 'await-approval'; ring: string; reason: string }
  | { command: 'done'; reason: string }
  /** hold the release fleet-wide: `affected` groups roll back (or are offered one, or stay), `stop` rollouts end at their next batch boundary */
  | { command: 'hold'; hold: Hold; affected: { action: RollbackAction; groups: GroupRef[]; to?: string }; stop: GroupRef[]; reason: string }
  | { command: 'held'; hold: Hold; reason: string }
  | { command: 'paused'; ring: string; freeze: Freeze; next: string; reason: string };

/** A transition of the state, for the promotion's chat thread (a line per ring). */
export interface PromotionEvent {
  kind: 'ring-entered' | 'awaiting-approval' | 'soak-started' | 'ring-passed' | 'held' | 'done';
  ring?: string;
  at: string;
  detail: string;
}

export interface PromotionDecision {
  command: PromotionCommand;
  state: PromotionState;
  events: PromotionEvent[];
}

export function decidePromotion(stored: PromotionState, facts: PromotionFacts, policy: PromotionPolicy, now: Date): PromotionDecision {
  const state = withPolicyRings(stored, policy);
  const at = now.toISOString();
  // a recall reaches a release held for another reason too: its groups are offered the rollback
  const recalled = state.hold?.kind === 'recalled' || state.hold?.kind === 'deprecated';
  if (state.hold && facts.recall && !recalled) return recallHold(state, facts, policy, at)!;
  if (state.hold) return { command: { command: 'held', hold: state.hold, reason: `${state.key} is held: ${state.hold.reason}` }, state, events: [] };

  const hold = recallHold(state, facts, policy, at) ?? regressionHold(state, facts, policy, at);
  if (hold) return hold;

  const progress = currentRing(state);
  if (!progress) {
    const finished = { ...state, finishedAt: state.finishedAt ?? at };
    return { command: { command: 'done', reason: `${state.key} passed every ring` }, state: finished, events: state.finishedAt ? [] : [{ kind: 'done', at, detail: `${state.key} passed every ring` }] };
  }
  const ring = policy.rings.find((r) => r.name === progress.ring)!;
  const freeze = facts.freezes.find((f) => f.scope.kind === 'all') ?? facts.freezes.find((f) => f.scope.kind === 'ring' && f.scope.ring === ring.name);
  if (freeze) return { command: { command: 'paused', ring: ring.name, freeze, next: later(now, policy.evaluateEvery), reason: `frozen (${freeze.reason}, by ${freeze.by})` }, state, events: [] };

  const step = { state, facts, policy, ring, now, at };
  switch (progress.status) {
    case 'waiting':
    case 'awaiting-approval':
      return enter(step, progress);
    case 'rolling':
      return roll(step, []);
    case 'soaking':
      return soak(step, progress);
    case 'passed':
      throw new Error('unreachable: the current ring is never passed');
  }
}

interface Step {
  state: PromotionState;
  facts: PromotionFacts;
  policy: PromotionPolicy;
  ring: RingPolicy;
  now: Date;
  at: string;
}

/** The state's rings in the policy's order: a ring added since the promotion began is waiting, a ring removed is dropped. */
function withPolicyRings(state: PromotionState, policy: PromotionPolicy): PromotionState {
  const rings = policy.rings.map((r): RingProgress => state.rings.find((p) => p.ring === r.name) ?? { ring: r.name, status: 'waiting' });
  return { ...state, rings };
}

function setRing(state: PromotionState, progress: RingProgress): PromotionState {
  return { ...state, rings: state.rings.map((r) => (r.ring === progress.ring ? progress : r)) };
}

function later(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

function earliest(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

function groupsOf(facts: PromotionFacts, ring: string): GroupFact[] {
  return facts.groups.filter((g) => g.ring === ring).sort((a, b) => (groupKey(a.ref) < groupKey(b.ref) ? -1 : 1));
}

const ON_RELEASE: readonly GroupState[] = ['current', 'rolling', 'failed-health'];

function recallHold(state: PromotionState, facts: PromotionFacts, policy: PromotionPolicy, at: string): PromotionDecision | undefined {
  if (!facts.recall) return undefined;
  const hold: Hold = { kind: facts.recall.kind, since: at, reason: `${state.key} was ${facts.recall.kind}: ${facts.recall.detail}`, evidence: [] };
  const on = facts.groups.filter((g) => ON_RELEASE.includes(g.state));
  const to = facts.lastGood ? releaseKey(facts.lastGood) : undefined;
  const affected = { action: (policy.onRecall === 'rollback' ? 'rollback' : 'offer-rollback') as RollbackAction, groups: on.map((g) => g.ref), ...(to ? { to } : {}) };
  return held(state, hold, affected, facts);
}

function regressionHold(state: PromotionState, facts: PromotionFacts, policy: PromotionPolicy, at: string): PromotionDecision | undefined {
  const reached = new Set(state.rings.filter(hasReached).map((r) => r.ring));
  const reports = facts.health.filter((h) => reached.has(h.ring) && h.report.verdict === 'regressed');
  const gates = facts.groups.filter((g) => g.state === 'failed-health' && g.ring !== undefined && reached.has(g.ring));
  if (reports.length === 0 && gates.length === 0) return undefined;
  const reasons = [
    ...reports.map((h) => `ring ${h.ring}, cluster ${h.cluster}: ${h.report.signals.filter((s) => s.status === 'regressed').map((s) => `${s.signal} ${s.detail}`).join('; ')}`),
    ...gates.map((g) => `ring ${g.ring}, ${groupKey(g.ref)}: its rollout failed the health gate${g.detail ? ` (${g.detail})` : ''}`),
  ];
  const evidence: HealthEvidence[] = reports.slice(0, 20).map((h) => ({ ring: h.ring, cluster: h.cluster, report: h.report }));
  const hold: Hold = { kind: 'regression', since: at, reason: `${state.key} regressed: ${reasons.join(' | ')}`.slice(0, 2000), evidence };
  const rings = new Set([...reports.map((h) => h.ring), ...gates.map((g) => g.ring!)]);
  const affected = { action: policy.onRegression as RollbackAction, groups: facts.groups.filter((g) => g.ring !== undefined && rings.has(g.ring) && ON_RELEASE.includes(g.state)).map((g) => g.ref) };
  return held(state, hold, affected, facts);
}

function held(state: PromotionState, hold: Hold, affected: Extract<PromotionCommand, { command: 'hold' }>['affected'], facts: PromotionFacts): PromotionDecision {
  const stop = facts.groups.filter((g) => g.state === 'rolling').map((g) => g.ref);
  return {
    command: { command: 'hold', hold, affected, stop, reason: hold.reason },
    state: { ...state, hold },
    events: [{ kind: 'held', at: hold.since, detail: hold.reason }],
  };
}

/** Enter the current ring: after a person's approval when it asks for one; then roll at once. */
function enter(step: Step, progress: Extract<RingProgress, { status: 'waiting' | 'awaiting-approval' }>): PromotionDecision {
  const { ring, facts, at } = step;
  const approval = facts.approvals.find((a) => a.ring === ring.name);
  if (ring.approval && !approval) {
    const reason = `ring ${ring.name} asks for a person's approval before ${step.state.key} enters it`;
    if (progress.status === 'awaiting-approval') return { command: { command: 'await-approval', ring: ring.name, reason }, state: step.state, events: [] };
    const state = setRing(step.state, { ring: ring.name, status: 'awaiting-approval', since: at });
    return { command: { command: 'await-approval', ring: ring.name, reason }, state, events: [{ kind: 'awaiting-approval', ring: ring.name, at, detail: reason }] };
  }
  const state = setRing(step.state, { ring: ring.name, status: 'rolling', since: at });
  return roll({ ...step, state }, [{ kind: 'ring-entered', ring: ring.name, at, detail: `${step.state.key} entered ring ${ring.name}${approval ? ` (approved by ${approval.by})` : ''}` }]);
}

/** Roll the ring's stale groups, at most `concurrency` at once; soak once all run the release. */
function roll(step: Step, events: PromotionEvent[]): PromotionDecision {
  const { state, facts, policy, ring, now, at } = step;
  const next = later(now, policy.evaluateEvery);
  const unreadable = facts.unreadable.filter((u) => u.ring === ring.name || u.ring === undefined);
  const groups = groupsOf(facts, ring.name);
  if (unreadable.length > 0) {
    const waitingOn = unreadable.map((u) => `cluster ${u.cluster} cannot be read (${u.reason})`);
    return { command: { command: 'wait', ring: ring.name, waitingOn, next, reason: 'waiting to read every cluster of the ring' }, state, events };
  }
  if (groups.length === 0) return pass(step, 'empty', events);

  const rolling = groups.filter((g) => g.state === 'rolling');
  const limit = atOnce(ring.concurrency, groups.length);
  const stale = groups.filter((g) => g.state === 'stale');
  const frozen = stale.map((g) => ({ g, freeze: freezeCovering(facts.freezes, { cluster: g.ref.cluster, ring: ring.name }) }));
  const startable = frozen.filter((s) => !s.freeze).map((s) => s.g);
  const slots = limit - rolling.length;
  if (slots > 0 && startable.length > 0) {
    const start = startable.slice(0, slots);
    const reason = `ring ${ring.name}: starting ${start.length} of ${stale.length} stale groups (${rolling.length} rolling, ${describeLimit(ring.concurrency)} → ${limit} at once)`;
    return { command: { command: 'roll', ring: ring.name, groups: start.map((g) => g.ref), rolling: rolling.length, limit, next, reason }, state, events };
  }
  if (groups.every((g) => g.state === 'current')) {
    const soaking = setRing(state, { ring: ring.name, status: 'soaking', since: at });
    const soakEndsAt = later(now, ring.soak);
    const detail = `every group of ring ${ring.name} runs ${state.key}; soaking until ${soakEndsAt}`;
    const command: PromotionCommand = { command: 'soak', ring: ring.name, soakEndsAt, verdict: 'insufficient-data', next: earliest(soakEndsAt, next), reason: detail };
    return { command, state: soaking, events: [...events, { kind: 'soak-started', ring: ring.name, at, detail }] };
  }
  const stuck = frozen.find((s) => s.freeze);
  if (rolling.length === 0 && stuck && groups.every((g) => g.state === 'current' || (g.state === 'stale' && frozen.find((s) => s.g === g)!.freeze))) {
    const freeze = stuck.freeze!;
    return { command: { command: 'paused', ring: ring.name, freeze, next, reason: `the ring's remaining groups are frozen (${freeze.reason}, by ${freeze.by})` }, state, events };
  }
  const waitingOn = groups
    .filter((g) => g.state !== 'current')
    .map((g) => {
      const freeze = frozen.find((s) => s.g === g)?.freeze;
      const why = g.state === 'stale' ? (freeze ? `frozen: ${freeze.reason}` : `waits for a slot (${limit} at once)`) : g.state;
      return `${groupKey(g.ref)} ${why}${g.detail ? `: ${g.detail}` : ''}`;
    });
  return { command: { command: 'wait', ring: ring.name, waitingOn, next, reason: `ring ${ring.name}: ${groups.length - waitingOn.length} of ${groups.length} groups run ${state.key}` }, state, events };
}

/** Watch health until the soak is over; pass the ring when it is, and health is good. */
function soak(step: Step, progress: Extract<RingProgress, { status: 'soaking' }>): PromotionDecision {
  const { state, facts, policy, ring, now, at } = step;
  const endsAt = Date.parse(progress.since) + ring.soak * 1000;
  // an unreadable start never ends a soak
  const soakEndsAt = Number.isNaN(endsAt) ? 'never (its start cannot be read)' : new Date(endsAt).toISOString();
  const clusters = [...new Set(groupsOf(facts, ring.name).map((g) => g.ref.cluster))].sort();
  const reports = facts.health.filter((h) => h.ring === ring.name);
  const missing = clusters.filter((c) => !reports.some((h) => h.cluster === c) || facts.unreadable.some((u) => u.cluster === c));
  const verdict = verdictOf([...reports.map((h) => h.report), ...missing.map(() => ({ verdict: 'insufficient-data' as const }))]);
  const evaluated = setRing(state, { ...progress, lastEvaluation: { at, verdict } });
  const next = later(now, policy.evaluateEvery);
  const numbers = healthLine(reports, missing);
  if (Number.isNaN(endsAt) || now.getTime() < endsAt) {
    return { command: { command: 'soak', ring: ring.name, soakEndsAt, verdict, next: Number.isNaN(endsAt) ? next : earliest(soakEndsAt, next), reason: `ring ${ring.name} soaking until ${soakEndsAt}: ${numbers}` }, state: evaluated, events: [] };
  }
  if (verdict === 'healthy') return pass({ ...step, state: evaluated }, 'soaked', []);
  return { command: { command: 'soak', ring: ring.name, soakEndsAt, verdict, next, reason: `ring ${ring.name}'s soak is over, but health cannot be judged yet: ${numbers}` }, state: evaluated, events: [] };
}

function healthLine(reports: readonly RingHealth[], missing: readonly string[]): string {
  const parts = reports.map((h) => `${h.cluster} ${h.report.verdict} (${h.report.nodes} nodes, ${h.report.pods} pods${h.report.verdict === 'insufficient-data' ? `; ${h.report.signals.filter((s) => s.status === 'insufficient-data').map((s) => s.detail).join('; ')}` : ''})`);
  return [...parts, ...missing.map((c) => `${c} not evaluated`)].join(', ') || 'no cluster to evaluate';
}

function pass(step: Step, how: 'soaked' | 'empty', events: PromotionEvent[]): PromotionDecision {
  const { state, policy, ring, now, at } = step;
  const passed = setRing(state, { ring: ring.name, status: 'passed', at, how });
  const following = policy.rings[policy.rings.findIndex((r) => r.name === ring.name) + 1];
  const detail = how === 'empty' ? `ring ${ring.name} passed: none of its groups takes ${state.key}` : `ring ${ring.name} passed its ${ring.soak > 0 ? describeSeconds(ring.soak) : 'zero'} soak with ${state.key} healthy`;
  const all = [...events, { kind: 'ring-passed' as const, ring: ring.name, at, detail }];
  if (!following) {
    const finished = { ...passed, finishedAt: at };
    return { command: { command: 'done', reason: `${state.key} passed every ring` }, state: finished, events: [...all, { kind: 'done', at, detail: `${state.key} passed every ring` }] };
  }
  return { command: { command: 'promote', from: ring.name, how, to: following.name, next: now.toISOString(), reason: `${detail}; next: ring ${following.name}` }, state: passed, events: all };
}
