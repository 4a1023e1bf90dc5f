import type { ReplySection } from './types.js';

/**
 * How the replies to the service's events (rollout-replies.ts, drain-replies.ts) lay out what
 * they read: sections, times, durations, and the pods a drain could not move.
 */

/** Lines of text; blank ones are left out. */
export function lines(items: readonly (string | undefined | null)[], heading?: string): ReplySection {
  return { kind: 'text', ...(heading ? { heading } : {}), lines: items.filter((l): l is string => typeof l === 'string' && l !== '') };
}

/** Label and value pairs; a value that is missing or blank is left out, never guessed. */
export function fields(items: readonly [string, string | number | undefined][]): ReplySection {
  return {
    kind: 'fields',
    fields: items.filter((i): i is [string, string | number] => i[1] !== undefined && String(i[1]).trim() !== '').map(([label, value]) => [label, String(value)]),
  };
}

export function isEmpty(section: ReplySection | null): boolean {
  if (!section) return true;
  switch (section.kind) {
    case 'text':
      return section.lines.length === 0;
    case 'fields':
      return section.fields.length === 0;
    case 'table':
      return section.rows.length === 0;
    case 'progress':
      return false;
  }
}

/** The sections that say something. */
export function shown(sections: readonly (ReplySection | null)[]): ReplySection[] {
  return sections.filter((s): s is ReplySection => !isEmpty(s));
}

/** The last segment of an execution ARN: its name, what the Step Functions console lists. */
export function executionName(arn: string | undefined): string | undefined {
  return arn ? (arn.split(':').at(-1) || arn) : undefined;
}

/** Summaries start with `cluster/group: `, which the title already says. */
export function withoutPrefix(text: string | undefined, who: string): string | undefined {
  return text?.startsWith(`${who}: `) ? text.slice(who.length + 2) : text;
}

/** ISO time as `2025-01-15 12:00 UTC`. */
export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `45 s`, `2 min 5 s`, `1 h 3 min`. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

/** How many pods a blocker line names before `+N more`. */
const PODS_LISTED = 5;

function listSome(items: readonly string[]): string {
  return items.length <= PODS_LISTED ? items.join(', ') : `${items.slice(0, PODS_LISTED).join(', ')}, +${items.length - PODS_LISTED} more`;
}

/** A pod a drain or an EKS managed update could not evict, and the budget in its way. */
export interface BlockerView {
  /** `namespace/name` */
  pod: string;
  /** the budget, or null when no budget is the reason */
  pdb: { namespace: string | undefined; name: string; disruptionsAllowed: number | undefined } | null;
  message: string | undefined;
}

/**
 * Blocked pods grouped by the budget that holds them (`ns/name (0 disruptions allowed):
 * pod-a, pod-b, +3 more`), the largest group first; pods blocked for another reason
 * (several budgets, throttling) apart, grouped by that reason.
 */
export function blockerSections(blockers: readonly BlockerView[]): ReplySection[] {
  const byBudget = new Map<string, { allowed: number | undefined; pods: string[] }>();
  const byReason = new Map<string, { pods: string[] }>();
  for (const b of blockers) {
    if (b.pdb) {
      const { namespace, name, disruptionsAllowed } = b.pdb;
      const key = namespace ? `${namespace}/${name}` : name;
      const group = byBudget.get(key) ?? { allowed: disruptionsAllowed, pods: [] };
      // a budget only covers pods of its own namespace: the pod's is implied
      group.pods.push(namespace && b.pod.startsWith(`${namespace}/`) ? b.pod.slice(namespace.length + 1) : b.pod);
      byBudget.set(key, group);
    } else {
      const reason = b.message || 'no reason given';
      const group = byReason.get(reason) ?? { pods: [] };
      group.pods.push(b.pod);
      byReason.set(reason, group);
    }
  }
  const budgetLines = largestFirst(byBudget).map(([key, g]) => `${key} (${g.allowed ?? '?'} ${g.allowed === 1 ? 'disruption' : 'disruptions'} allowed): ${listSome(g.pods)}`);
  const reasonLines = largestFirst(byReason).map(([reason, g]) => `${listSome(g.pods)} — ${reason}`);
  return [
    ...(budgetLines.length > 0 ? [lines(budgetLines, 'Blocked by PodDisruptionBudgets')] : []),
    ...(reasonLines.length > 0 ? [lines(reasonLines, 'Blocked without a PodDisruptionBudget')] : []),
  ];
}

/** Groups with the most pods first, then by name: the same order every time. */
function largestFirst<T extends { pods: readonly string[] }>(groups: ReadonlyMap<string, T>): [string, T][] {
  return [...groups].sort(([ka, a], [kb, b]) => b.pods.length - a.pods.length || (ka < kb ? -1 : ka > kb ? 1 : 0));
}

/** Pods a forced drain deleted past their budget, each as `ns/pod (PodDisruptionBudget ns/name)`. */
export function forcedSection(pods: readonly string[] | undefined): ReplySection | null {
  const named = (pods ?? []).filter((p) => p !== '');
  return named.length > 0 ? lines(named.map((p) => `• ${p}`), 'Deleted past their PodDisruptionBudget (the drain deadline passed; the policy says force)') : null;
}
