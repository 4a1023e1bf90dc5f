import { describeImage } from '../ami/image-provenance.js';
import { executionNameOf } from '../aws/partition.js';
import type { GroupPlan } from '../detect/plan-rollouts.js';
import type { GroupView } from '../detect/inventory.js';
import type { Check } from '../doctor/checks.js';
import type { Diagnosis, GroupDiagnosis } from '../doctor/run-doctor.js';
import type { NodeGroupLockRecord } from '../rollout/node-group-lock.js';
import type { ApprovalView } from '../rollout/approvals.js';
import type { AuditEntry } from './audit-log.js';
import { principalMention } from './mentions.js';
import { type Place, placeKey } from '../aws/places.js';
import type { FleetStatus, GroupStatus, PlannedGroup, RolloutNow, RolloutPhase } from './reply-data.js';
import type { Reply } from './types.js';

/**
 * The answers of the commands, as replies (pure): what `status`, `plan`, `history` and the
 * actions say. Rendered by `render.ts` for Slack and for text, so every way in reads alike.
 */

export function refusedReply(reason: string): Reply {
  return { ok: false, title: `:no_entry: Not allowed: ${reason}`, sections: [] };
}

export function invalidReply(error: string, usage: string): Reply {
  return { ok: false, title: `:warning: ${error}`, sections: [{ kind: 'text', heading: 'Usage', lines: usage.split('\n') }], context: 'Type `help` for every command.' };
}

/** Errors that say the service could not reach what the command needed (the CLI exits 3 on them). */
const UNREACHABLE_ERRORS = new Set(['KubernetesUnavailableError']);

export function failedReply(what: string, error: unknown): Reply {
  const e = error as { name?: string; message?: string };
  return {
    ok: false,
    title: `:x: ${what} failed: ${e?.name ?? 'Error'}`,
    sections: [{ kind: 'text', lines: [String(e?.message ?? error).slice(0, 500)] }],
    context: 'Nothing further was started. Try again; if it persists, see the service logs.',
    ...(UNREACHABLE_ERRORS.has(e?.name ?? '') ? { unreachable: true } : {}),
  };
}

export function doneReply(title: string, lines: string[] = [], context?: string): Reply {
  return { ok: true, title, sections: lines.length ? [{ kind: 'text', lines }] : [], ...(context ? { context } : {}) };
}

export function notDoneReply(title: string, lines: string[] = []): Reply {
  return { ok: false, title, sections: lines.length ? [{ kind: 'text', lines }] : [] };
}

/** `roll-prod-web-…` from an execution ARN: what people recognise in the console. */
export const executionName = executionNameOf;

function imageOf(group: Pick<GroupView, 'imageId' | 'releaseVersion' | 'amiType'>): string {
  if (group.imageId) return group.imageId;
  if (group.releaseVersion) return `${group.amiType ?? 'EKS'} ${group.releaseVersion}`;
  return 'unknown';
}

function sizeOf(group: GroupView): string {
  return group.size ? `${group.size.desired} (${group.size.min}–${group.size.max})` : '?';
}

/** Pure: the rollout of a lock, people named by `nameOf`. */
export function rolloutNowOf(lock: NodeGroupLockRecord, nameOf: (id: string) => string): RolloutNow {
  const announced = [...(lock.announced ?? [])];
  const batches = announced.flatMap((a) => (a === 'canary-passed' ? [1] : /^batch-finished:(\d+)$/.test(a) ? [Number(a.slice('batch-finished:'.length))] : []));
  const phase: RolloutPhase =
    lock.control === 'abort' ? 'aborting'
    : lock.control === 'pause' ? 'paused'
    : lock.approvalId ? 'waiting for approval'
    : announced.includes('rolling-back') ? 'rolling back'
    : announced.includes('planned') ? 'rolling'
    : 'starting';
  return {
    execution: executionName(lock.owner),
    ...(lock.rollout ? { target: lock.rollout.target, startedBy: nameOf(lock.rollout.startedBy) } : {}),
    phase,
    batchesDone: Math.max(0, ...batches),
    ...(lock.control ? { controlBy: nameOf(lock.controlBy ?? 'someone') } : {}),
    ...(lock.control === 'pause' ? { pause: lock.pauses ?? 1 } : {}),
    ...(lock.approvalId ? { approvalId: lock.approvalId } : {}),
    ...(lock.blockedBy?.length ? { blockedBy: [...lock.blockedBy] } : {}),
  };
}

/** `ami-new ×2, ami-old ×4`: the images the group's instances run now, counted. */
export function describeImagesRunning(images: readonly { imageId: string; count: number }[]): string {
  return images.map((i) => `${i.imageId} ×${i.count}`).join(', ');
}

/** `paused #1 by Alice, rolling to ami-new (1 batch done), started by Alice · roll-…` */
function rolloutState(rollout: RolloutNow | undefined): string {
  if (!rollout) return 'idle';
  const phase =
    rollout.phase === 'paused' ? `paused #${rollout.pause ?? 1} by ${rollout.controlBy ?? 'someone'}`
    : rollout.phase === 'aborting' ? `aborting (by ${rollout.controlBy ?? 'someone'})`
    : rollout.phase === 'waiting for approval' ? `waiting for approval ${rollout.approvalId ?? ''}`.trim()
    : rollout.phase;
  const target = rollout.target ? ` to ${rollout.target.release ? `${rollout.target.release} (${rollout.target.imageId})` : rollout.target.imageId}` : '';
  const done = rollout.batchesDone > 0 ? `, ${rollout.batchesDone} batch${rollout.batchesDone === 1 ? '' : 'es'} done` : '';
  const blocked = rollout.blockedBy?.length ? `, waiting on ${rollout.blockedBy.slice(0, 2).join(', ')}${rollout.blockedBy.length > 2 ? ` and ${rollout.blockedBy.length - 2} more` : ''}` : '';
  return `${phase}${target}${done}${blocked}${rollout.startedBy ? `, started by ${rollout.startedBy}` : ''} (${rollout.execution})`;
}

/** `444455556666/eu-west-1` (or the region alone when the hub's account is not known). */
function placeText(place: Place): string {
  return place.accountId ? placeKey(place) : place.region;
}

/** `prod/web`; with its place in a deployment with member accounts: `444455556666/eu-west-1/prod/web`. */
function groupName(place: Place | undefined, cluster: string, group: string): string {
  return place ? `${placeText(place)}/${cluster}/${group}` : `${cluster}/${group}`;
}

/** The member places `status` could not ask, one line each: the rest of the fleet is still answered. */
function unreachableSection(fleet: FleetStatus | undefined): Reply['sections'] {
  if (!fleet?.unreachable.length) return [];
  return [{ kind: 'text', heading: ':warning: Could not be reached', lines: fleet.unreachable.map((u) => `• ${placeText(u.place)}: ${u.reason}`) }];
}

/**
 * `fleet`: given in a deployment with member accounts — each group is then shown with its
 * place (a PLACE column), and the places that could not be asked are listed. Without it, the
 * reply of a single-account deployment, exactly as before members existed.
 */
export function statusReply(scope: string, clusters: string[], groups: GroupStatus[], fleet?: FleetStatus): Reply {
  if (groups.length === 0) {
    return { ok: true, title: `No node groups in ${scope}`, sections: unreachableSection(fleet), context: clusters.length ? `clusters: ${clusters.join(', ')}` : 'no cluster you may read' };
  }
  const rolling = groups.filter((g) => g.rollout).length;
  const placeColumn = fleet ? ['PLACE'] : [];
  return {
    ok: true,
    title: `${scope}: ${groups.length} node group${groups.length === 1 ? '' : 's'}, ${rolling} rolling${fleet?.unreachable.length ? `, ${fleet.unreachable.length} place${fleet.unreachable.length === 1 ? '' : 's'} unreachable` : ''}`,
    sections: [
      {
        kind: 'table',
        columns: [...placeColumn, 'GROUP', 'KIND', 'NODES', 'IMAGE', 'KUBERNETES', 'ROLLOUT', 'NOW'],
        rows: groups.map((g) => [...(fleet ? [g.place ? placeText(g.place) : '-'] : []), `${g.group.cluster}/${g.group.name}`, g.group.kind, sizeOf(g.group), g.images.length > 0 ? describeImagesRunning(g.images) : imageOf(g.group), g.kubernetes, g.optIn, rolloutState(g.rollout)]),
      },
      ...unreachableSection(fleet),
      ...configurationSections(groups.map((g) => ({ name: groupName(g.place, g.group.cluster, g.group.name), problems: g.problems, notes: g.notes }))),
    ],
  };
}

/** Every group's configuration problems, then the values read generously: where `status` and `plan` show them. */
function configurationSections(groups: readonly { name: string; problems?: string[] | undefined; notes?: string[] | undefined }[]): Reply['sections'] {
  const listed = (pick: (g: (typeof groups)[number]) => string[] | undefined) => groups.flatMap((g) => (pick(g) ?? []).map((line) => `• ${g.name}: ${line}`));
  const problems = listed((g) => g.problems);
  const notes = listed((g) => g.notes);
  return [
    ...(problems.length > 0 ? [{ kind: 'text' as const, heading: ':warning: Configuration problems', lines: problems }] : []),
    ...(notes.length > 0 ? [{ kind: 'text' as const, heading: 'Configuration notes', lines: notes }] : []),
  ];
}

function describeFrom(from: { imageId?: string; release?: string }): string {
  return from.release && from.imageId ? `${from.release} (${from.imageId})` : (from.release ?? from.imageId ?? 'unknown');
}

export function planReply(scope: string, planned: PlannedGroup[]): Reply {
  const rolls = planned.filter((p) => p.plan.action === 'roll');
  const sections: Reply['sections'] = [];
  if (rolls.length > 0) {
    sections.push({
      kind: 'table',
      heading: 'Would roll',
      columns: ['GROUP', 'FROM', 'TO', 'NODES', 'BATCHES', 'WINDOW', 'MODE'],
      rows: rolls.map((p) => {
        const plan = p.plan as Extract<GroupPlan, { action: 'roll' }>;
        return [
          groupName(p.place, plan.cluster, plan.group),
          describeFrom(plan.from),
          describeImage(plan.to),
          p.size === undefined ? '?' : String(p.size),
          p.batches === undefined ? (plan.kind === 'managed' ? 'EKS update' : '?') : `${p.batches} × ≤${p.maxUnavailable}`,
          p.window ?? 'any time',
          plan.observe ? `observe (${plan.observe === 'service' ? 'the service' : 'the group'}): reported, not rolled` : plan.mode === 'approve' ? 'needs approval' : 'automatic',
        ];
      }),
    });
  }
  const others = planned.filter((p) => p.plan.action !== 'roll');
  if (others.length > 0) {
    sections.push({ kind: 'table', heading: 'Unchanged', columns: ['GROUP', 'WHY'], rows: others.map((p) => [groupName(p.place, p.plan.cluster, p.plan.group), p.plan.reason]) });
  }
  sections.push(...configurationSections(planned.map((p) => ({ name: groupName(p.place, p.plan.cluster, p.plan.group), problems: p.plan.problems, notes: p.plan.notes }))));
  return {
    ok: true,
    title: rolls.length === 0 ? `${scope}: nothing to roll` : `${scope}: ${rolls.length} node group${rolls.length === 1 ? '' : 's'} would roll`,
    sections,
    context: 'A plan changes nothing. Start one with `rollout <cluster>/<group>`.',
  };
}

export function historyReply(scope: string, entries: AuditEntry[]): Reply {
  if (entries.length === 0) return { ok: true, title: `${scope}: no history yet`, sections: [] };
  return {
    ok: true,
    title: `${scope}: the last ${entries.length} command${entries.length === 1 ? '' : 's'}`,
    sections: [
      {
        kind: 'table',
        columns: ['WHEN (UTC)', 'WHO', 'VIA', 'COMMAND', 'RESULT'],
        rows: entries.map((e) => [e.at.replace('T', ' ').slice(0, 19), principalMention(e.principal), e.principal.via, e.command ?? e.text, `${e.result}: ${e.summary}`.slice(0, 120)]),
        wide: { columns: ['CLUSTERS', 'REQUEST'], rows: entries.map((e) => [e.clusters.join(',') || '-', e.requestId]) },
      },
    ],
  };
}

const STATUS_LABEL: Record<Check['status'], string> = { ok: ':white_check_mark: ok', warning: ':warning: warning', problem: ':x: problem' };

function checksTable(heading: string, checks: readonly Check[]): Reply['sections'][number] {
  return { kind: 'table', heading, columns: ['CHECK', 'STATUS', 'WHY', 'TO DO'], rows: checks.map((c) => [c.name, STATUS_LABEL[c.status], c.reason, c.todo ?? '']) };
}

function sourceOf(group: GroupDiagnosis, source: GroupDiagnosis['settings'][number]['source']): string {
  const tag = group.kind === 'managed' ? 'EKS node group tag' : 'Auto Scaling group tag';
  switch (source) {
    case 'tag':
      return tag;
    case 'default':
      return 'service default';
    case 'rejected':
      return `service default (the ${tag} is rejected: see problems)`;
  }
}

/** doctor's answer: per cluster its checks, per group its settings and where they came from, its checks, its problems. */
export function doctorReply(scope: string, diagnosis: Diagnosis): Reply {
  const all = diagnosis.clusters.flatMap((c) => [...c.checks, ...c.groups.flatMap((g) => g.checks)]);
  const count = (status: Check['status']) => all.filter((c) => c.status === status).length;
  const problems = count('problem');
  const warnings = count('warning');
  const sections: Reply['sections'] = [];
  for (const cluster of diagnosis.clusters) {
    sections.push(checksTable(`Cluster ${cluster.cluster}`, cluster.checks));
    for (const group of cluster.groups) {
      const name = `${group.cluster}/${group.group}`;
      sections.push({ kind: 'table', heading: `${name} (${group.kind}): settings`, columns: ['SETTING', 'VALUE', 'FROM'], rows: group.settings.map((s) => [s.key, s.source === 'rejected' ? `${s.value} (tag: ${s.tag ?? ''})` : s.value, sourceOf(group, s.source)]) });
      sections.push(checksTable(`${name}: checks`, group.checks));
      if (group.problems.length > 0) sections.push({ kind: 'text', heading: `:warning: ${name}: configuration problems`, lines: group.problems.map((p) => `• ${p}`) });
      if (group.notes.length > 0) sections.push({ kind: 'text', heading: `${name}: configuration notes`, lines: group.notes.map((n) => `• ${n}`) });
    }
    if (cluster.groups.length === 0 && cluster.checks.every((c) => c.status !== 'problem')) sections.push({ kind: 'text', lines: [`No node group${scope.includes('/') ? ` ${scope}` : ''} in ${cluster.cluster}`] });
  }
  const verdict = problems > 0 ? `${problems} problem${problems === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}` : warnings > 0 ? `no problem, ${warnings} warning${warnings === 1 ? '' : 's'}` : 'every check is ok';
  return {
    ok: true,
    title: `${problems > 0 ? ':x:' : warnings > 0 ? ':warning:' : ':white_check_mark:'} doctor ${scope}: ${verdict}`,
    sections,
    context: problems > 0 ? 'A problem blocks something (rollouts, drains or the service\'s access): the CLI exits 1. Doctor changes nothing.' : 'Doctor changes nothing.',
    ...(diagnosis.blocking ? { blocking: true } : {}),
  };
}

/** The approvals waiting: who asked for what, until when, and the id to answer with. */
export function approvalsReply(scope: string, approvals: readonly ApprovalView[]): Reply {
  if (approvals.length === 0) return { ok: true, title: `${scope}: no approval is waiting`, sections: [] };
  return {
    ok: true,
    title: `${scope}: ${approvals.length} approval${approvals.length === 1 ? '' : 's'} waiting`,
    sections: [
      {
        kind: 'table',
        columns: ['GROUP', 'TARGET', 'REQUESTED BY', 'REQUESTED AT', 'EXPIRES AT', 'APPROVAL'],
        rows: approvals.map((a) => [`${a.cluster}/${a.group}`, a.target, principalMention({ id: a.requestedBy }), utcMinute(a.requestedAt), utcMinute(a.expiresAtIso), a.id]),
        wide: { columns: ['PLAN', 'EXECUTION'], rows: approvals.map((a) => [a.plan, executionName(a.executionArn)]) },
      },
    ],
    context: 'Answer with `approve <approval>` or `deny <approval> --reason …`; nobody may answer their own request.',
  };
}

/** `2026-12-07 08:12 UTC` from an ISO time. */
function utcMinute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
