import type { GroupOutcome } from '../aws/fleet-records.js';
import type { PromotionProgressDetail } from '../events/promotion-events.js';
import { describeScope, type Freeze } from '../fleet/freeze.js';
import type { PromotionPolicy } from '../fleet/promotion-policy.js';
import { currentRing, groupKey, type Hold, type PromotionState, type RingProgress } from '../fleet/promotion-state.js';
import type { SignalResult } from '../fleet/workload-health.js';
import { DATA_API_VERSION, type FreezeItem, type JsonValue, type ReplyData, toJsonValue } from './reply-data.js';
import { duration, formatTime, lines } from './reply-format.js';
import { mention } from './mentions.js';
import type { Reply, ReplySection } from './types.js';

/**
 * What fleet promotion looks like in chat and in the CLI (pure): the freezes at the top of
 * `status`, `promotions`, `promotion status`, and each `Promotion Progress` event as a line of
 * the promotion's own thread. The numbers a hold shows are the health report's own (what it saw,
 * the baseline, the threshold), never recomputed here.
 */

/** How many of a signal's pods or nodes a line names. */
const EVIDENCE_LISTED = 5;

/**
 * A `by` the service recorded (promotion-commands.ts: the policy's name, or `<@U…>`), with its
 * Slack users as live mentions. Only ever a `by`: people's own text (a reason) stays escaped.
 */
export function personText(by: string): string {
  return by.replace(/<@([UW][A-Z0-9]+)>/g, (_whole, id: string) => mention(id));
}

/** Text that names `by` verbatim (promotion-actions.ts's detail), with that name live. */
export function liven(text: string, by: string | undefined): string {
  return by ? text.split(by).join(personText(by)) : text;
}

// ---------------------------------------------------------------------------------------
// Freezes
// ---------------------------------------------------------------------------------------

export function freezeLine(freeze: Freeze): string {
  return `:snowflake: ${describeScope(freeze.scope)} — ${freeze.reason} (by ${personText(freeze.by)}, since ${formatTime(freeze.since)})`;
}

/** The section `status` opens with while anything is frozen; nothing when nothing is. */
export function freezeSection(freezes: readonly Freeze[]): ReplySection[] {
  return freezes.length === 0 ? [] : [lines(freezes.map(freezeLine), `Frozen (${freezes.length}): nothing new starts there; running rollouts pause at their next batch boundary`)];
}

export function freezeItems(freezes: readonly Freeze[]): FreezeItem[] {
  return freezes.map((f) => ({ scope: describeScope(f.scope), kind: f.scope.kind, ...(f.scope.kind === 'ring' ? { ring: f.scope.ring } : f.scope.kind === 'cluster' ? { cluster: f.scope.cluster } : {}), reason: f.reason, by: f.by, since: f.since }));
}

/** `status`'s reply with the freezes first, in its text and its data (listed, even when empty). */
export function withFreezes(reply: Reply, freezes: readonly Freeze[]): Reply {
  const data = reply.data?.kind === 'StatusList' ? { ...reply.data, freezes: freezeItems(freezes) } : reply.data;
  return { ...reply, sections: [...freezeSection(freezes), ...reply.sections], ...(data ? { data } : {}) };
}

export function frozenReply(freeze: Freeze, replaced: boolean): Reply {
  return {
    ok: true,
    title: `:snowflake: Frozen: ${describeScope(freeze.scope)}${replaced ? ' (its earlier freeze replaced)' : ''}`,
    sections: [lines([`why: ${freeze.reason}`, `by ${personText(freeze.by)}, since ${formatTime(freeze.since)}`, 'nothing new starts there (no rollout, no promotion moves); running rollouts pause at their next batch boundary', `\`unfreeze ${describeScope(freeze.scope)}\` lifts it`])],
  };
}

export function unfrozenReply(lifted: Freeze, by: string): Reply {
  return { ok: true, title: `:sunny: Unfrozen: ${describeScope(lifted.scope)}`, sections: [lines([`by ${personText(by)}; it was frozen by ${personText(lifted.by)} since ${formatTime(lifted.since)}: ${lifted.reason}`, 'rollouts and promotions it stopped go on'])] };
}

// ---------------------------------------------------------------------------------------
// Promotions
// ---------------------------------------------------------------------------------------

/** `rolling since …`, `passed (soaked) …`: where a ring stands, in a few words. */
export function ringStatusText(progress: RingProgress): string {
  switch (progress.status) {
    case 'waiting':
      return 'waiting';
    case 'awaiting-approval':
      return `awaiting approval since ${formatTime(progress.since)}`;
    case 'rolling':
      return `rolling since ${formatTime(progress.since)}`;
    case 'soaking':
      return `soaking since ${formatTime(progress.since)}`;
    case 'passed':
      return `passed (${progress.how}${progress.by ? ` by ${personText(progress.by)}` : ''}) ${formatTime(progress.at)}`;
  }
}

function heldText(hold: Hold | undefined): string {
  return hold ? `held (${hold.kind}): ${hold.reason}` : '-';
}

export function promotionsReply(promotions: readonly PromotionState[]): Reply {
  if (promotions.length === 0) return { ok: true, title: 'No promotions', sections: [], data: promotionsData(promotions) };
  const held = promotions.filter((p) => p.hold).length;
  const sorted = sortedPromotions(promotions);
  return {
    ok: true,
    title: `${promotions.length} promotion${promotions.length === 1 ? '' : 's'}${held ? `, ${held} held` : ''}`,
    sections: [
      {
        kind: 'table',
        columns: ['RELEASE', 'RING', 'STATUS', 'HELD', 'STARTED', 'FINISHED'],
        rows: sorted.map((p) => {
          const at = currentRing(p);
          return [p.key, at?.ring ?? '-', at ? ringStatusText(at) : 'every ring passed', heldText(p.hold), formatTime(p.startedAt), p.finishedAt ? formatTime(p.finishedAt) : '-'];
        }),
      },
    ],
    data: promotionsData(sorted),
  };
}

/** The newest first: what people look for. */
function sortedPromotions(promotions: readonly PromotionState[]): PromotionState[] {
  return [...promotions].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.key.localeCompare(b.key));
}

function promotionsData(promotions: readonly PromotionState[]): ReplyData {
  return {
    apiVersion: DATA_API_VERSION,
    kind: 'PromotionList',
    scope: 'all promotions',
    items: promotions.map((p) => {
      const at = currentRing(p);
      return json({ key: p.key, release: p.release, ring: at?.ring ?? null, ringStatus: at?.status ?? 'finished', held: p.hold !== undefined, hold: p.hold ?? null, startedAt: p.startedAt, finishedAt: p.finishedAt ?? null });
    }),
  };
}

/** One ring of `promotion status`, as both its text and its data show it. */
export interface RingView {
  progress: RingProgress;
  /** the groups of the ring and how each one's rollout of the release stands (FleetRecords.outcomes) */
  groups: { group: string; state: GroupOutcome['state']; at: string; detail?: string }[];
  /** seconds of soak left (soaking only, with the policy known) */
  soakRemaining?: number;
  /** the ring waits for a person, and whether one approved (promote --to) */
  approval?: { required: boolean; by?: string };
}

/** The rings of a promotion with their groups and soak left: what `promotion status` shows. */
export function ringViews(state: PromotionState, outcomes: readonly GroupOutcome[], policy: PromotionPolicy | undefined, approvals: readonly { ring: string; by: string }[], now: Date): RingView[] {
  return state.rings.map((progress) => {
    const ringPolicy = policy?.rings.find((r) => r.name === progress.ring);
    const groups = outcomes.filter((o) => o.ring === progress.ring).map((o) => ({ group: groupKey(o.ref), state: o.state, at: o.at, ...(o.detail ? { detail: o.detail } : {}) }));
    const soakRemaining = progress.status === 'soaking' && ringPolicy ? Math.max(0, (Date.parse(progress.since) + ringPolicy.soak * 1000 - now.getTime()) / 1000) : undefined;
    const approvedBy = approvals.find((a) => a.ring === progress.ring)?.by;
    return {
      progress,
      groups,
      ...(soakRemaining !== undefined ? { soakRemaining } : {}),
      ...(ringPolicy?.approval ? { approval: { required: true, ...(approvedBy ? { by: approvedBy } : {}) } } : {}),
    };
  });
}

export function promotionStatusReply(state: PromotionState, rings: readonly RingView[], policyKnown: boolean): Reply {
  const at = currentRing(state);
  const sections: ReplySection[] = [];
  if (state.hold) sections.push(...holdSections(state.hold));
  sections.push({
    kind: 'table',
    columns: ['RING', 'STATUS', 'GROUPS', 'SOAK LEFT', 'LAST HEALTH'],
    rows: rings.map((r) => [
      r.progress.ring,
      `${ringStatusText(r.progress)}${r.approval ? (r.approval.by ? ` (approved by ${personText(r.approval.by)})` : ' (needs approval)') : ''}`,
      r.groups.length === 0 ? '-' : r.groups.map((g) => `${g.group} ${g.state}`).join(', '),
      r.soakRemaining !== undefined ? duration(r.soakRemaining) : '-',
      r.progress.status === 'soaking' && r.progress.lastEvaluation ? `${r.progress.lastEvaluation.verdict} at ${formatTime(r.progress.lastEvaluation.at)}` : '-',
    ]),
  });
  if (!policyKnown) sections.push(lines(['the promotion policy could not be read: soak left is not shown']));
  return {
    ok: true,
    title: `${state.key}: ${state.hold ? ':octagonal_sign: held' : at ? `at ring ${at.ring}, ${at.status}` : ':white_check_mark: every ring passed'}`,
    sections,
    context: `started ${formatTime(state.startedAt)}${state.finishedAt ? ` · finished ${formatTime(state.finishedAt)}` : ''}`,
    data: {
      apiVersion: DATA_API_VERSION,
      kind: 'Promotion',
      scope: state.key,
      promotion: json({ key: state.key, release: state.release, startedAt: state.startedAt, finishedAt: state.finishedAt ?? null, held: state.hold !== undefined, hold: state.hold ?? null, rings: rings.map((r) => ({ ...r.progress, groups: r.groups, soakRemainingSeconds: r.soakRemaining ?? null, approval: r.approval ?? null })) }),
    },
  };
}

/** A hold: why, since when, by whom, and per ring and cluster the signals that regressed with their numbers. */
export function holdSections(hold: Hold): ReplySection[] {
  return [lines([`${hold.kind}: ${hold.reason}`, `since ${formatTime(hold.since)}${hold.by ? ` by ${personText(hold.by)}` : ''}`, ...evidenceLines(hold)], ':octagonal_sign: Held')];
}

/** `ring canary, cluster dev: crash-loops 4 (baseline 0, threshold 0): pods a, b — detail` for each regressed signal. */
export function evidenceLines(hold: Pick<Hold, 'evidence'>): string[] {
  return hold.evidence.flatMap((e) => e.report.signals.filter((s) => s.status === 'regressed').map((s) => `• ring ${e.ring}, cluster ${e.cluster}: ${signalText(s)}`));
}

function signalText(s: SignalResult): string {
  const numbers = `${round(s.seen)}${s.baseline !== undefined ? ` against a baseline of ${round(s.baseline)}` : ''}, threshold ${round(s.threshold)}`;
  const named = s.evidence.length === 0 ? '' : `: ${s.evidence.slice(0, EVIDENCE_LISTED).join(', ')}${s.evidence.length > EVIDENCE_LISTED ? `, +${s.evidence.length - EVIDENCE_LISTED} more` : ''}`;
  return `${s.signal} ${numbers}${named}${s.detail ? ` — ${s.detail}` : ''}`;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function json(value: unknown): { [key: string]: JsonValue } {
  return toJsonValue(value) as { [key: string]: JsonValue };
}

// ---------------------------------------------------------------------------------------
// The promotion's thread
// ---------------------------------------------------------------------------------------

const EVENT_ICONS: Record<PromotionProgressDetail['kind'], string> = {
  'ring-entered': ':arrow_forward:',
  'awaiting-approval': ':raised_hand:',
  'soak-started': ':hourglass_flowing_sand:',
  'ring-passed': ':white_check_mark:',
  held: ':octagonal_sign:',
  done: ':checkered_flag:',
  released: ':arrow_forward:',
  promoted: ':fast_forward:',
  'rolled-back': ':rewind:',
};

const EVENT_WORDS: Record<PromotionProgressDetail['kind'], string> = {
  'ring-entered': 'ring entered',
  'awaiting-approval': 'awaiting approval',
  'soak-started': 'soak started',
  'ring-passed': 'ring passed',
  held: 'held',
  done: 'every ring passed',
  released: 'released',
  promoted: 'promoted',
  'rolled-back': 'rolled back',
};

/**
 * One `Promotion Progress` event as a message of the promotion's thread: the first (`opens`)
 * says which promotion the thread follows; each one a line — what happened, in which ring, by
 * whom — and a hold its evidence.
 */
export function promotionEventReply(detail: PromotionProgressDetail, opens: boolean): Reply {
  const what = `${EVENT_ICONS[detail.kind]} ${EVENT_WORDS[detail.kind]}${detail.ring ? `: ring ${detail.ring}` : ''}${detail.by ? ` by ${personText(detail.by)}` : ''}`;
  const sections: ReplySection[] = [];
  if (detail.detail) sections.push(lines([liven(detail.detail, detail.by)]));
  if (detail.kind === 'held' && detail.hold) {
    const evidence = evidenceLines(detail.hold);
    if (evidence.length) sections.push(lines(evidence, 'Evidence'));
    sections.push(lines([`\`promotion status ${detail.key}\` shows every ring; \`release ${detail.key}\` lifts the hold`]));
  }
  if (detail.kind === 'awaiting-approval' && detail.ring) sections.push(lines([`\`promote ${detail.key} --to ${detail.ring}\` (approve access on *) lets it in`]));
  return {
    ok: detail.kind !== 'held',
    title: opens ? `:ship: Promotion of ${detail.key} — ${what}` : what,
    sections,
    context: detail.rings.map((r) => `${r.ring}: ${r.status}`).join(' · '),
  };
}
