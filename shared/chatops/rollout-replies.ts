import { describeImage } from '../ami/image-provenance.js';
import type { FinishDetail } from '../events/rollout.js';
import type { ManagedFailureReport, RolloutEventDetail, RolloutPhaseOf } from '../events/rollout-events.js';
import { principalMention } from './mentions.js';
import { type BlockerView, blockerSections, duration, executionName, fields, forcedSection, formatTime, lines, shown, withoutPrefix } from './reply-format.js';
import type { Reply, ReplyAction, ReplySection } from './types.js';
import * as z from 'zod/mini';

/** A rollout's events (events/rollout-events.ts) as chat messages, one per phase, for the SRE watching the channel. */

/**
 * A principal id as people read it in Slack: `slack:<team>:<user>` → a live mention (Slack
 * shows the name), `iam:<arn>` → the ARN, `detection` → automatic detection.
 */
export function mention(principalId: string): string {
  return principalMention({ id: principalId });
}

interface RolloutFacts {
  who: string;
  /** the target image in a few words: release, image name or id */
  image: string;
  /** the target image in full: release, id, name and owner */
  imageFull: string;
  groupLabel: string;
  context: string | undefined;
}

function rolloutFacts(d: RolloutEventDetail): RolloutFacts {
  const { target } = d;
  const execution = executionName(d.executionArn);
  const context = [execution ? `Execution ${execution}` : null, formatTime(d.at)].filter((x): x is string => x !== null).join(' · ');
  return {
    who: `${d.cluster}/${d.group}`,
    image: target.release || target.imageName || target.imageId || 'the new image',
    imageFull: describeImage(target),
    groupLabel: d.groupKind ? `${d.group} (${d.groupKind === 'managed' ? 'EKS managed' : d.groupKind})` : d.group,
    context: context || undefined,
  };
}

type MakeReply = (ok: boolean, title: string, sections: (ReplySection | null)[], actions?: ReplyAction[]) => Reply;

export function rolloutReply(d: RolloutEventDetail): Reply {
  const f = rolloutFacts(d);
  const reply: MakeReply = (ok, title, sections, actions) => ({
    ok,
    title,
    sections: shown(sections),
    ...(actions && actions.length > 0 ? { actions } : {}),
    ...(f.context ? { context: f.context } : {}),
  });

  switch (d.phase) {
    case 'planned': {
      const batches = d.batches ?? [];
      const canary = batches.filter((b) => b.canary).reduce((n, b) => n + b.nodes, 0);
      return reply(true, `:clipboard: Rollout planned: ${f.who} → ${f.image}`, [
        fields([
          ['Node group', f.groupLabel],
          ['Image', f.imageFull],
          ['Strategy', d.strategy],
          ['Nodes', d.nodes],
          ['At a time', d.maxUnavailable],
          ['Batches', batches.length > 0 ? `${batches.length}${canary > 0 ? ` (the first a canary of ${canary})` : ''}` : undefined],
        ]),
        batches.length === 0 ? lines([withoutPrefix(d.summary, f.who)]) : null,
        lines((d.problems ?? []).map((p) => `• ${p}`), 'Configuration problems'),
      ]);
    }

    case 'approval-requested':
      return approvalRequested(d, f, reply);

    case 'approved':
      return reply(true, `:white_check_mark: Rollout approved: ${f.who} → ${f.image}`, [fields([['Approved by', d.approvedBy ? mention(d.approvedBy) : undefined], ['Image', f.imageFull]])]);

    case 'canary-passed':
      return reply(true, `:large_green_circle: Canary healthy: ${f.who} on ${f.image}`, [
        batchProgress(d),
        fields([['Nodes replaced', d.replaced], ['Image', f.imageFull]]),
        forcedSection(d.forced),
        lines(['Rolling the rest.']),
      ]);

    case 'batch-finished':
      return reply(true, `:arrows_counterclockwise: ${f.who}: batch ${d.batch ?? '?'} of ${d.of ?? '?'} done → ${f.image}`, [batchProgress(d), fields([['Nodes replaced', d.replaced], ['Image', f.imageFull]]), forcedSection(d.forced)]);

    case 'paused':
      if (d.reason === 'interference') {
        return reply(false, `:double_vertical_bar: Rollout paused: ${f.who} was changed outside the rollout`, [
          lines((d.changes ?? []).map((c) => `• ${c}`), 'What changed'),
          lines(['Nothing was written back.', `Go on with \`resume ${f.who}\` (the change is kept; a launch template someone else set is replaced by the rollout's), or stop with \`abort ${f.who}\` (their changes stay).`]),
        ]);
      }
      if (d.reason === 'window') {
        return reply(true, `:hourglass_flowing_sand: Rollout waiting for its maintenance window: ${f.who}`, [
          lines(['The batch in flight finished; no new batch starts while the window is closed.', d.opensAt ? `It goes on when the window opens (${d.opensAt}).` : undefined, `Stop it with \`abort ${f.who}\`.`]),
        ]);
      }
      return reply(true, `:double_vertical_bar: Rollout paused: ${f.who}`, [
        lines([d.afterBatch !== undefined ? `Paused after batch ${d.afterBatch}; no new batch starts.` : 'Paused; no new batch starts.', `Go on with \`resume ${f.who}\`, or stop with \`abort ${f.who}\`.`]),
      ]);

    case 'resumed':
      return reply(true, `:arrow_forward: Rollout resumed: ${f.who} → ${f.image}`, [lines([d.batch !== undefined ? `Going on with batch ${d.batch}.` : undefined]), adoptedSection(d.adopted)]);

    case 'rolling-back':
      return reply(false, `:rewind: Rolling back ${f.who}`, [
        lines([d.reason ? `Why: ${d.reason}` : undefined, 'The group goes back to the launch template version and sizes it had before the rollout.']),
        fields([['Was rolling onto', f.imageFull]]),
      ]);

    case 'rolled-back':
      return reply(false, `:rewind: Rolled back: ${f.who} is as it was before the rollout`, [
        lines([d.reason ? `Why: ${d.reason}` : undefined]),
        fields([['Was rolling onto', f.imageFull], ['Nodes replaced before the rollback', d.replaced]]),
        forcedSection(d.forced),
        adoptedSection(d.adopted),
      ]);

    case 'rollback-failed':
      return reply(false, `:rotating_light: ROLLBACK FAILED: ${f.who} needs a person`, [
        lines([d.reason ? `Why: ${d.reason}` : undefined, 'The rollback could not finish. What was safe to put back was put back (template, processes, cordons); nothing is left cordoned that is not being drained.']),
        fields([['Was rolling onto', f.imageFull], ['Nodes replaced', d.replaced], ['Left on the old image', d.remainingOld]]),
        lines((d.left ?? []).map((l) => `• ${l}`), 'Left for a person, with the command that finishes each'),
        forcedSection(d.forced),
      ]);

    case 'aborted':
      return reply(true, `:octagonal_sign: Rollout ${d.reason ? 'stopped' : 'aborted'}: ${f.who}`, [
        lines([d.reason ? `Why: ${d.reason}` : 'Stopped by request after the batch in flight; the group launches its previous image again.']),
        fields([['Nodes replaced', d.replaced], ['Left on the old image', d.remainingOld], ['Was rolling onto', f.imageFull]]),
        forcedSection(d.forced),
        adoptedSection(d.adopted),
      ]);

    case 'finished': {
      const started = Date.parse(d.startedAt ?? '');
      const ended = Date.parse(d.at);
      const took = Number.isFinite(started) && ended >= started ? duration((ended - started) / 1000) : undefined;
      return reply(true, `:checkered_flag: Rollout finished: ${f.who} runs ${f.image}`, [
        fields([
          ['Image', f.imageFull],
          ['Nodes replaced', d.replaced],
          ['Batches', d.batches ?? d.of],
          ['Took', took],
          ['EKS update', d.updateId],
        ]),
        forcedSection(d.forced),
        adoptedSection(d.adopted),
      ]);
    }

    case 'failed':
      return failedReply(d, f, reply);

    case 'declined': {
      const heldBy = executionName(d.heldBy);
      const why = d.reason === 'already-rolling'
        ? `Another rollout of ${f.who} is running${heldBy ? ` (execution ${heldBy})` : ''}; one rollout per group at a time.`
        : d.reason || withoutPrefix(d.summary, f.who);
      return reply(false, `:no_entry_sign: Rollout not started: ${f.who} → ${f.image}`, [lines([why, ...causeLines(d.detail), 'Nothing was changed.'])]);
    }
  }
}

/** What the rollout adopted from others' changes: said wherever it happened. */
function adoptedSection(adopted: readonly string[] | undefined): ReplySection | null {
  return adopted && adopted.length > 0 ? lines(adopted.map((c) => `• ${c}`), 'Changed by others during the rollout, and kept') : null;
}

/**
 * An approval request: what would change, who asked (they may not approve it themselves),
 * until when, and buttons that carry the approval id only — never the task token.
 */
function approvalRequested(d: RolloutPhaseOf<'approval-requested'>, f: RolloutFacts, reply: MakeReply): Reply {
  const id = buttonApprovalId(d.approvalId);
  const { requestedBy, expiresAt } = d;
  const fromLabel = d.from.release || d.from.imageId;
  const plan = withoutPrefix(d.plan.summary, f.who);
  const rule = requestedBy === 'detection'
    ? undefined
    : `${requestedBy ? mention(requestedBy) : 'Whoever'} requested this rollout and cannot approve it; another approver must.`;
  const actions: ReplyAction[] = id
    ? [
        { label: 'Approve', actionId: 'approve', value: id, style: 'primary', command: `approve ${id}` },
        { label: 'Deny', actionId: 'deny', value: id, style: 'danger', command: `deny ${id}` },
      ]
    : [];
  return reply(
    true,
    `:raised_hand: Approval needed: roll ${f.who} onto ${f.image}`,
    [
      lines([plan]),
      fields([
        ['From', fromLabel],
        ['To', f.imageFull],
        ['Requested by', requestedBy ? mention(requestedBy) : undefined],
        ['Approve by', expiresAt ? formatTime(expiresAt) : undefined],
      ]),
      lines([
        rule,
        expiresAt ? 'Unanswered by then, the rollout ends and nothing is changed.' : 'Unanswered within 24 hours, the rollout ends and nothing is changed.',
        id ? undefined : `Approve with \`approve ${f.who}\`, or deny with \`deny ${f.who}\`.`,
      ]),
    ],
    actions,
  );
}

/** `Rollout Failed`: why, in the words each way of failing has. */
function failedReply(d: RolloutPhaseOf<'failed'>, f: RolloutFacts, reply: MakeReply): Reply {
  const { outcome, detail } = d;
  switch (outcome) {
    case 'approval-expired':
      return reply(false, `:hourglass: Approval expired: ${f.who} — nothing was changed`, [
        lines([`Nobody approved the rollout onto ${f.image} in time, so it ended without changing anything.`, 'The next detection asks again only for a newer image; start the rollout by hand to retry.']),
      ]);
    case 'rejected': {
      const denial = parseDenial(detail);
      return reply(false, `:no_entry: Rollout rejected: ${f.who} — nothing was changed`, [
        denial ? fields([['Rejected by', mention(denial.by)], ['Reason', denial.reason]]) : lines(causeLines(detail)),
        lines([`The rollout onto ${f.image} ended at the approval gate.`]),
      ]);
    }
    case 'preflight-failed': {
      const report = detail && typeof detail === 'object' && 'checks' in detail ? detail : undefined;
      const failed = (report?.checks ?? []).filter((c) => !c.ok);
      return reply(false, `:x: Preflight failed: ${f.who} — nothing was changed`, [
        lines([withoutPrefix(report?.summary || undefined, f.who) ?? `The checks before rolling onto ${f.image} failed.`]),
        failed.length > 0
          ? lines(
              failed.flatMap((c) => [`• ${c.name || 'check'}: ${c.detail || 'failed'}`, ...(c.fix ? [`   Fix: ${c.fix}`] : [])]),
              'Failed checks',
            )
          : null,
      ]);
    }
    case 'launch-template-invalid':
      return reply(false, `:x: Launch template invalid: ${f.who} — nothing was changed`, [
        lines(causeLines(detail)),
        lines([`The new launch template version for ${f.image} would break a rule EKS enforces.`]),
      ]);
  }
  // the roll loop's failures (`reason`, or an EKS managed update's `report`) and the others FinishRollout reports
  const { report, reason } = d;
  return reply(false, `:x: Rollout failed: ${f.who} → ${f.image}`, [
    lines([report ? report.summary : (reason || (causeLines(detail).length === 0 ? withoutPrefix(d.summary, f.who) : undefined)), ...(report || reason ? [] : causeLines(detail))]),
    report ? lines(report.reasons.map((r) => (r ? `• ${r}` : undefined)), 'Likely causes') : null,
    report ? lines(report.errors.map((e) => `• ${e.code || 'error'}: ${e.message}`), 'EKS errors') : null,
    ...(report ? blockerSections((report.blockers ?? []).map(managedBlocker)) : []),
    fields([['Outcome', outcome && outcome !== 'failed' ? outcome : undefined]]),
  ]);
}

function batchProgress(d: { batch?: number | undefined; of?: number | undefined }): ReplySection | null {
  return d.batch !== undefined && d.of !== undefined ? { kind: 'progress', label: d.of === 1 ? 'batch' : 'batches', done: d.batch, total: d.of } : null;
}

/** `apr-…` ids only: anything else (a token by mistake) is not put on a button. */
function buttonApprovalId(id: string | undefined): string | undefined {
  return id && /^apr-[A-Za-z0-9_-]{1,128}$/.test(id) ? id : undefined;
}

/** A step's error (`{ Error, Cause }`), as opposed to a preflight report or the roll's summary. */
function stepError(detail: FinishDetail | undefined): { Error?: string | undefined; Cause?: string | undefined } | undefined {
  return detail && typeof detail === 'object' && !('checks' in detail) ? detail : undefined;
}

/** SendTaskFailure's cause: `denied by <principal>[: reason]` (`rejected by` before). */
function parseDenial(detail: FinishDetail | undefined): { by: string; reason: string | undefined } | undefined {
  const cause = stepError(detail)?.Cause;
  const match = cause ? /^(?:denied|rejected) by (\S+?)(?:: ([\s\S]*))?$/.exec(cause.trim()) : null;
  return match ? { by: match[1]!, reason: match[2]?.trim() || undefined } : undefined;
}

/** A Lambda error's Cause is JSON naming its message. */
const LambdaCauseSchema = z.object({ errorMessage: z.string().check(z.minLength(1)) });

/**
 * A Step Functions error (`{ Error, Cause }`, where a Lambda's Cause is JSON with its
 * errorMessage), or a plain string, as lines.
 */
function causeLines(detail: FinishDetail | undefined): string[] {
  if (typeof detail === 'string') return detail.trim() ? [detail] : [];
  const error = stepError(detail);
  if (!error) return [];
  const name = error.Error;
  let cause = error.Cause;
  if (cause?.startsWith('{')) {
    try {
      const parsed = z.safeParse(LambdaCauseSchema, JSON.parse(cause));
      if (parsed.success) cause = parsed.data.errorMessage;
    } catch {
      // not JSON after all: shown as it is
    }
  }
  if (!name && !cause) return [];
  return [[name, cause].filter(Boolean).join(': ')];
}

/** An EKS managed update's blocker: `{ pod: 'ns/name', pdb: 'ns/name', disruptionsAllowed }`. */
function managedBlocker(b: NonNullable<ManagedFailureReport['blockers']>[number]): BlockerView {
  const slash = b.pdb.indexOf('/');
  return {
    pod: b.pod,
    pdb: b.pdb ? { namespace: slash > 0 ? b.pdb.slice(0, slash) : undefined, name: slash > 0 ? b.pdb.slice(slash + 1) : b.pdb, disruptionsAllowed: b.disruptionsAllowed } : null,
    message: undefined,
  };
}
