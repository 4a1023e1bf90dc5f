import { describeImage } from '../ami/image-provenance.js';
import { DRAIN_FINISHED } from '../drain/finish-drain.js';
import { DRAIN_BLOCKED } from '../drain/report-blocked.js';
import { OBSERVED_EVENTS } from '../events/observed.js';
import { ROLLOUT_EVENTS, type RolloutEventName } from '../rollout/rollout-events.js';
import { principalMention } from './mentions.js';
import type { Reply, ReplyAction, ReplySection } from './types.js';

/**
 * The service's own events (source `eks-node-lifecycle`) as chat messages: one reply per
 * rollout phase and per finished drain, for the SRE watching the channel. Everything shown
 * is read from the event's detail; a field that is missing is left out, never guessed.
 * Details are read defensively (any JSON may arrive): a malformed event still renders.
 */

type Detail = Record<string, unknown>;

const PHASE_OF: ReadonlyMap<string, RolloutEventName> = new Map(Object.entries(ROLLOUT_EVENTS).map(([phase, detailType]) => [detailType, phase as RolloutEventName]));

/** How many pods a blocker line names before `+N more`. */
const PODS_LISTED = 5;

/**
 * The reply for one of our events, or null for a detail-type chat does not show. Never
 * throws, whatever the detail holds.
 */
export function replyForEvent(detailType: string, detail: Record<string, unknown>): Reply | null {
  const d = rec(detail) ?? {};
  const phase = PHASE_OF.get(detailType);
  if (phase) return rolloutReply(phase, d);
  if (detailType === DRAIN_FINISHED) return drainReply(d);
  if (detailType === DRAIN_BLOCKED) return drainBlockedReply(d);
  if (OBSERVED.has(detailType)) return observedReply(d);
  if (detailType === ALARM_STATE_CHANGE) return alarmReply(d);
  return null;
}

/** CloudWatch's event for an alarm changing state (the stack's alarms: scripts/deploy/monitoring.cjs). */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

/**
 * An alarm of the stack going into ALARM, or back to OK
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html):
 * what fired, why (CloudWatch's reason) and what to look at (the alarm's description). A
 * change to or from INSUFFICIENT_DATA says nothing an operator acts on.
 */
function alarmReply(d: Detail): Reply | null {
  const name = str(d['alarmName']) ?? 'an alarm';
  const state = str(rec(d['state'])?.['value']);
  const previous = str(rec(d['previousState'])?.['value']);
  if (state === 'ALARM') {
    return {
      ok: false,
      title: `:rotating_light: ALARM: ${name}`,
      sections: [lines([str(rec(d['configuration'])?.['description']) ?? '', str(rec(d['state'])?.['reason']) ?? ''].filter((l) => l !== ''))].filter((s) => !isEmpty(s)),
    };
  }
  if (state === 'OK' && previous === 'ALARM') return { ok: true, title: `:white_check_mark: OK again: ${name}`, sections: [] };
  return null;
}

const OBSERVED: ReadonlySet<string> = new Set(Object.values(OBSERVED_EVENTS));

/** How many of an observed report's steps a message lists before `+N more`. */
const STEPS_LISTED = 12;

/** Observe mode's report (events/observed.ts): what the service would have done, step by step; nothing was changed. */
function observedReply(d: Detail): Reply {
  const steps = strings(d['wouldDo']);
  const shown = steps.length > STEPS_LISTED ? [...steps.slice(0, STEPS_LISTED), `+${steps.length - STEPS_LISTED} more`] : steps;
  return {
    ok: true,
    title: `:eyes: ${str(d['summary']) ?? 'observe mode: a report of what would have been done'}`,
    sections: [lines(shown)].filter((s) => !isEmpty(s)),
    context: d['observedBy'] === 'group' ? 'the group is tagged eks-node-lifecycle/rollout=observe: nothing was changed' : 'the service runs in observe mode (param mode=observe): nothing was changed',
  };
}

/** Whether a detail-type is one of observe mode's reports, which go to the cluster's history too. */
export function isObservedEvent(detailType: string): boolean {
  return OBSERVED.has(detailType);
}

/**
 * The rollout execution a message belongs to, so one Slack thread holds a whole rollout:
 * the rollout's own `executionArn`, or for a drain a rollout asked for, its
 * `rolloutExecutionArn`. A drain's `executionArn` is the node-drain execution, not a
 * rollout, so it does not thread; null when the event belongs to no rollout.
 */
export function threadKeyOf(detailType: string, detail: Record<string, unknown>): string | null {
  const d = rec(detail) ?? {};
  if (PHASE_OF.has(detailType)) return str(d['executionArn']) ?? null;
  if (detailType === DRAIN_FINISHED || detailType === DRAIN_BLOCKED) return str(d['rolloutExecutionArn']) ?? null;
  return null;
}

/** The cluster an event is about, to route it to that cluster's channel. */
export function clusterOf(detail: Record<string, unknown>): string | undefined {
  return str(rec(detail)?.['cluster']);
}

/**
 * A principal id as people read it in Slack: `slack:<team>:<user>` → a live mention (Slack
 * shows the name), `iam:<arn>` → the ARN, `detection` → automatic detection.
 */
export function mention(principalId: string): string {
  return principalMention({ id: principalId });
}

// ---------------------------------------------------------------------------------------
// Rollouts
// ---------------------------------------------------------------------------------------

interface RolloutFacts {
  who: string;
  /** the target image in a few words: release, image name or id */
  image: string;
  /** the target image in full: release, id, name and owner */
  imageFull: string;
  groupLabel: string;
  context: string | undefined;
}

function rolloutFacts(d: Detail): RolloutFacts {
  const cluster = str(d['cluster']) ?? '?';
  const group = str(d['group']) ?? '?';
  const kind = str(d['groupKind']);
  const target = rec(d['target']) ?? {};
  const name = str(target['release']) ?? str(target['imageName']);
  const id = str(target['imageId']);
  const execution = executionName(d['executionArn']);
  const at = str(d['at']);
  const context = [execution ? `Execution ${execution}` : null, at ? formatTime(at) : null].filter((x): x is string => x !== null).join(' · ');
  return {
    who: `${cluster}/${group}`,
    image: name ?? id ?? 'the new image',
    imageFull: describeImage({ imageId: id, imageName: str(target['imageName']), release: str(target['release']), ownerId: str(target['ownerId']), ownerAlias: str(target['ownerAlias']) }),
    groupLabel: kind ? `${group} (${kind === 'managed' ? 'EKS managed' : kind})` : group,
    context: context || undefined,
  };
}

function rolloutReply(phase: RolloutEventName, d: Detail): Reply {
  const f = rolloutFacts(d);
  const reply: MakeReply = (ok, title, sections, actions) => ({
    ok,
    title,
    sections: sections.filter((s): s is ReplySection => !isEmpty(s)),
    ...(actions && actions.length > 0 ? { actions } : {}),
    ...(f.context ? { context: f.context } : {}),
  });
  const reason = str(d['reason']);
  const replaced = count(d['replaced']);
  // what a forced drain deleted past its budget, and what the rollout adopted from others: said wherever they happened
  const forced = forcedSection(d['forced']);
  const adopted = strings(d['adopted']);
  const adoptedSection = adopted.length > 0 ? lines(adopted.map((c) => `• ${c}`), 'Changed by others during the rollout, and kept') : null;

  switch (phase) {
    case 'planned': {
      const batches = list(d['batches']).map(rec).filter((b): b is Detail => b !== undefined);
      const canary = batches.filter((b) => b['canary'] === true).reduce((n, b) => n + (count(b['nodes']) ?? 0), 0);
      return reply(true, `:clipboard: Rollout planned: ${f.who} → ${f.image}`, [
        fields([
          ['Node group', f.groupLabel],
          ['Image', f.imageFull],
          ['Strategy', str(d['strategy'])],
          ['Nodes', count(d['nodes'])],
          ['At a time', count(d['maxUnavailable'])],
          ['Batches', batches.length > 0 ? `${batches.length}${canary > 0 ? ` (the first a canary of ${canary})` : ''}` : undefined],
        ]),
        batches.length === 0 ? lines([withoutPrefix(str(d['summary']), f.who)]) : null,
        lines(strings(d['problems']).map((p) => `• ${p}`), 'Configuration problems'),
      ]);
    }

    case 'approval-requested':
      return approvalRequested(d, f, reply);

    case 'approved': {
      const by = str(d['approvedBy']);
      return reply(true, `:white_check_mark: Rollout approved: ${f.who} → ${f.image}`, [fields([['Approved by', by ? mention(by) : undefined], ['Image', f.imageFull]])]);
    }

    case 'canary-passed':
      return reply(true, `:large_green_circle: Canary healthy: ${f.who} on ${f.image}`, [
        batchProgress(d),
        fields([['Nodes replaced', replaced], ['Image', f.imageFull]]),
        forced,
        lines(['Rolling the rest.']),
      ]);

    case 'batch-finished': {
      const batch = count(d['batch']);
      const of = count(d['of']);
      return reply(true, `:arrows_counterclockwise: ${f.who}: batch ${batch ?? '?'} of ${of ?? '?'} done → ${f.image}`, [batchProgress(d), fields([['Nodes replaced', replaced], ['Image', f.imageFull]]), forced]);
    }

    case 'paused': {
      const after = count(d['afterBatch']);
      if (reason === 'interference') {
        return reply(false, `:double_vertical_bar: Rollout paused: ${f.who} was changed outside the rollout`, [
          lines(strings(d['changes']).map((c) => `• ${c}`), 'What changed'),
          lines(['Nothing was written back.', `Go on with \`resume ${f.who}\` (the change is kept; a launch template someone else set is replaced by the rollout's), or stop with \`abort ${f.who}\` (their changes stay).`]),
        ]);
      }
      if (reason === 'window') {
        const opens = str(d['opensAt']);
        return reply(true, `:hourglass_flowing_sand: Rollout waiting for its maintenance window: ${f.who}`, [
          lines(['The batch in flight finished; no new batch starts while the window is closed.', opens ? `It goes on when the window opens (${opens}).` : undefined, `Stop it with \`abort ${f.who}\`.`]),
        ]);
      }
      return reply(true, `:double_vertical_bar: Rollout paused: ${f.who}`, [
        lines([after !== undefined ? `Paused after batch ${after}; no new batch starts.` : 'Paused; no new batch starts.', `Go on with \`resume ${f.who}\`, or stop with \`abort ${f.who}\`.`]),
      ]);
    }

    case 'resumed': {
      const batch = count(d['batch']);
      return reply(true, `:arrow_forward: Rollout resumed: ${f.who} → ${f.image}`, [lines([batch !== undefined ? `Going on with batch ${batch}.` : undefined]), adoptedSection]);
    }

    case 'rolling-back':
      return reply(false, `:rewind: Rolling back ${f.who}`, [
        lines([reason ? `Why: ${reason}` : undefined, 'The group goes back to the launch template version and sizes it had before the rollout.']),
        fields([['Was rolling onto', f.imageFull]]),
      ]);

    case 'rolled-back':
      return reply(false, `:rewind: Rolled back: ${f.who} is as it was before the rollout`, [
        lines([reason ? `Why: ${reason}` : undefined]),
        fields([['Was rolling onto', f.imageFull], ['Nodes replaced before the rollback', replaced]]),
        forced,
        adoptedSection,
      ]);

    case 'rollback-failed':
      return reply(false, `:rotating_light: ROLLBACK FAILED: ${f.who} needs a person`, [
        lines([reason ? `Why: ${reason}` : undefined, 'The rollback could not finish. What was safe to put back was put back (template, processes, cordons); nothing is left cordoned that is not being drained.']),
        fields([['Was rolling onto', f.imageFull], ['Nodes replaced', replaced], ['Left on the old image', count(d['remainingOld'])]]),
        lines(strings(d['left']).map((l) => `• ${l}`), 'Left for a person, with the command that finishes each'),
        forced,
      ]);

    case 'aborted':
      return reply(true, `:octagonal_sign: Rollout ${reason ? 'stopped' : 'aborted'}: ${f.who}`, [
        lines([reason ? `Why: ${reason}` : 'Stopped by request after the batch in flight; the group launches its previous image again.']),
        fields([['Nodes replaced', replaced], ['Left on the old image', count(d['remainingOld'])], ['Was rolling onto', f.imageFull]]),
        forced,
        adoptedSection,
      ]);

    case 'finished': {
      const started = Date.parse(str(d['startedAt']) ?? '');
      const ended = Date.parse(str(d['at']) ?? '');
      const took = Number.isFinite(started) && Number.isFinite(ended) && ended >= started ? duration((ended - started) / 1000) : undefined;
      return reply(true, `:checkered_flag: Rollout finished: ${f.who} runs ${f.image}`, [
        fields([
          ['Image', f.imageFull],
          ['Nodes replaced', replaced],
          ['Batches', count(d['batches']) ?? count(d['of'])],
          ['Took', took],
          ['EKS update', str(d['updateId'])],
        ]),
        forced,
        adoptedSection,
      ]);
    }

    case 'failed':
      return failedReply(d, f, reply);

    case 'declined': {
      const heldBy = executionName(d['heldBy']);
      const why = reason === 'already-rolling'
        ? `Another rollout of ${f.who} is running${heldBy ? ` (execution ${heldBy})` : ''}; one rollout per group at a time.`
        : reason ?? withoutPrefix(str(d['summary']), f.who);
      return reply(false, `:no_entry_sign: Rollout not started: ${f.who} → ${f.image}`, [lines([why, ...causeLines(d['detail']), 'Nothing was changed.'])]);
    }
  }
}

type MakeReply = (ok: boolean, title: string, sections: (ReplySection | null)[], actions?: ReplyAction[]) => Reply;

/**
 * An approval request: what would change, who asked (they may not approve it themselves),
 * until when, and buttons that carry the approval id only — never the task token.
 */
function approvalRequested(d: Detail, f: RolloutFacts, reply: MakeReply): Reply {
  const id = approvalIdOf(d['approvalId']);
  const requestedBy = str(d['requestedBy']);
  const expiresAt = str(d['expiresAt']);
  const from = rec(d['from']) ?? {};
  const fromLabel = str(from['release']) ?? str(from['imageId']);
  const plan = withoutPrefix(str(rec(d['plan'])?.['summary']), f.who);
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
function failedReply(d: Detail, f: RolloutFacts, reply: MakeReply): Reply {
  const outcome = str(d['outcome']);
  const detail = d['detail'];
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
      const checks = list(rec(detail)?.['checks']).map(rec).filter((c): c is Detail => c !== undefined && c['ok'] === false);
      return reply(false, `:x: Preflight failed: ${f.who} — nothing was changed`, [
        lines([withoutPrefix(str(rec(detail)?.['summary']), f.who) ?? `The checks before rolling onto ${f.image} failed.`]),
        checks.length > 0
          ? lines(
              checks.flatMap((c) => {
                const fix = str(c['fix']);
                return [`• ${str(c['name']) ?? 'check'}: ${str(c['detail']) ?? 'failed'}`, ...(fix ? [`   Fix: ${fix}`] : [])];
              }),
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
  const report = rec(d['report']);
  const reason = str(d['reason']);
  return reply(false, `:x: Rollout failed: ${f.who} → ${f.image}`, [
    lines([report ? str(report['summary']) : (reason ?? (causeLines(detail).length === 0 ? withoutPrefix(str(d['summary']), f.who) : undefined)), ...(report || reason ? [] : causeLines(detail))]),
    report ? lines(list(report['reasons']).map((r) => (str(r) ? `• ${str(r)}` : undefined)), 'Likely causes') : null,
    report
      ? lines(
          list(report['errors']).map((e) => {
            const error = rec(e);
            return error ? `• ${str(error['code']) ?? 'error'}: ${str(error['message']) ?? ''}` : undefined;
          }),
          'EKS errors',
        )
      : null,
    ...(report ? blockerSections(list(report['blockers']).map(managedBlocker)) : []),
    fields([['Outcome', outcome && outcome !== 'failed' ? outcome : undefined]]),
  ]);
}

function batchProgress(d: Detail): ReplySection | null {
  const batch = count(d['batch']);
  const of = count(d['of']);
  return batch !== undefined && of !== undefined ? { kind: 'progress', label: of === 1 ? 'batch' : 'batches', done: batch, total: of } : null;
}

/** `apr-…` ids only: anything else (a token by mistake) is not put on a button. */
function approvalIdOf(value: unknown): string | undefined {
  const id = str(value);
  return id && /^apr-[A-Za-z0-9_-]{1,128}$/.test(id) ? id : undefined;
}

/** SendTaskFailure's cause: `denied by <principal>[: reason]` (`rejected by` before). */
function parseDenial(detail: unknown): { by: string; reason: string | undefined } | undefined {
  const cause = str(rec(detail)?.['Cause']);
  const match = cause ? /^(?:denied|rejected) by (\S+?)(?:: ([\s\S]*))?$/.exec(cause.trim()) : null;
  return match ? { by: match[1]!, reason: match[2]?.trim() || undefined } : undefined;
}

/**
 * A Step Functions error (`{ Error, Cause }`, where a Lambda's Cause is JSON with its
 * errorMessage), or a plain string, as lines.
 */
function causeLines(detail: unknown): string[] {
  if (typeof detail === 'string') return detail.trim() ? [detail] : [];
  const error = rec(detail);
  if (!error) return [];
  const name = str(error['Error']);
  let cause = str(error['Cause']);
  if (cause?.startsWith('{')) {
    try {
      const parsed = rec(JSON.parse(cause));
      cause = str(parsed?.['errorMessage']) ?? cause;
    } catch {
      // not JSON after all: shown as it is
    }
  }
  if (!name && !cause) return [];
  return [[name, cause].filter(Boolean).join(': ')];
}

// ---------------------------------------------------------------------------------------
// Drains
// ---------------------------------------------------------------------------------------

const TRIGGERS: Record<string, string> = {
  'terminate-hook': 'Auto Scaling termination',
  'spot-interruption': 'Spot interruption notice',
  rebalance: 'EC2 rebalance recommendation',
  manual: 'manual request',
  rollout: 'rollout',
};

const LIFECYCLE: Record<string, string> = {
  continued: 'continued: the instance terminates now',
  'already-closed': 'already closed',
  'left-to-default': "left to the hook's default result",
};

/**
 * `Node Drain Finished`: a one-liner when the node drained cleanly; otherwise what is left
 * and what blocks it, by PodDisruptionBudget.
 */
function drainReply(d: Detail): Reply {
  const cluster = str(d['cluster']) ?? '?';
  const instance = str(d['instanceId']);
  const node = str(d['nodeName']);
  const name = node && instance ? `${node} (${instance})` : (node ?? instance ?? 'a node');
  const outcome = str(d['outcome']);
  const seconds = num(d['durationSeconds']);
  const took = seconds !== undefined && seconds >= 0 ? duration(seconds) : undefined;
  const trigger = str(d['trigger']);
  const blockers = list(d['blockers']).map(drainBlocker);
  const remaining = count(d['remaining']);
  const lifecycle = str(d['lifecycleAction']);
  const rollout = executionName(d['rolloutExecutionArn']);
  const drainExecution = executionName(d['executionArn']);
  const context = [
    trigger ? `Trigger: ${TRIGGERS[trigger] ?? trigger}` : null,
    rollout ? `rollout ${rollout}` : null,
    drainExecution ? `drain ${drainExecution}` : null,
  ].filter((x): x is string => x !== null).join(' · ');

  const [ok, title, explanation] = ((): [boolean, string, string | undefined] => {
    switch (outcome) {
      case 'drained':
        return [true, `:white_check_mark: Drained ${name} on ${cluster}${took ? ` in ${took}` : ''}`, undefined];
      case 'forced':
        return [true, `:warning: Drain forced: ${name} on ${cluster}`, 'The drain deadline passed; the pods budgets still blocked were deleted (gracefully) instead of evicted.'];
      case 'failed':
        return [false, `:rotating_light: Drain failed: ${name} on ${cluster}`, 'The node could not be drained in time (or an error stopped the drain); it stays cordoned.'];
      case 'node-gone':
        return [true, `:ghost: Drain ended: ${name} on ${cluster} is gone`, undefined];
      default:
        return [outcome !== undefined, `Drain ended (${outcome ?? 'unknown outcome'}): ${name} on ${cluster}`, undefined];
    }
  })();

  const sections: ReplySection[] = [];
  if (!(outcome === 'drained' && blockers.length === 0)) {
    sections.push(
      ...[
        lines([explanation]),
        fields([
          ['Took', took],
          ['Pods left', remaining],
          ['Lifecycle action', lifecycle && lifecycle !== 'none' ? (LIFECYCLE[lifecycle] ?? lifecycle) : undefined],
        ]),
        ...blockerSections(blockers),
        forcedSection(d['forced']),
      ].filter((s): s is ReplySection => s !== null && !isEmpty(s)),
    );
  }
  return { ok, title, sections, ...(context ? { context } : {}) };
}

/**
 * `Node Drain Blocked`: the deadline passed with budgets in the way, and the node is leaving
 * its group, so the drain holds it (hook kept alive) instead of letting it go with its pods.
 * What blocks it, so a person can free a budget.
 */
function drainBlockedReply(d: Detail): Reply {
  const cluster = str(d['cluster']) ?? '?';
  const instance = str(d['instanceId']);
  const node = str(d['nodeName']);
  const name = node && instance ? `${node} (${instance})` : (node ?? instance ?? 'a node');
  const rollout = executionName(d['rolloutExecutionArn']);
  return {
    ok: false,
    title: `:hourglass: Drain blocked past its deadline: ${name} on ${cluster}`,
    sections: [
      lines([
        'Auto Scaling is terminating this node. Its terminate hook is kept alive, and the drain goes on within the budgets until the pods can leave (or the hook reaches its global timeout).',
        'Free a budget below, or drain it with --force, to let it go sooner.',
      ]),
      fields([['Pods left', count(d['remaining'])]]),
      ...blockerSections(list(d['blockers']).map(drainBlocker)),
    ].filter((s) => !isEmpty(s)),
    ...(rollout ? { context: `rollout ${rollout}` } : {}),
  };
}

/** Pods a forced drain deleted past their budget: `{ pod, pdb }` of the drain events, or the rollout's `ns/pod (PodDisruptionBudget ns/name)` strings. */
function forcedSection(value: unknown): ReplySection | null {
  const pods = list(value).map((f) => {
    if (typeof f === 'string') return f;
    const r = rec(f);
    const pod = str(r?.['pod']);
    const pdb = str(r?.['pdb']);
    return pod ? `${pod}${pdb ? ` (PodDisruptionBudget ${pdb})` : ''}` : undefined;
  });
  const named = pods.filter((p): p is string => p !== undefined);
  return named.length > 0 ? lines(named.map((p) => `• ${p}`), 'Deleted past their PodDisruptionBudget (the drain deadline passed; the policy says force)') : null;
}

interface BlockerView {
  pod: string;
  /** namespace/name of the budget, or null when no budget is the reason */
  pdb: { namespace: string | undefined; name: string; disruptionsAllowed: number | undefined } | null;
  message: string | undefined;
}

/** A drain's blocker: `{ pod: 'ns/name', pdb: { namespace, name, disruptionsAllowed } | null, message }`. */
function drainBlocker(value: unknown): BlockerView {
  const b = rec(value) ?? {};
  const pdb = rec(b['pdb']);
  return {
    pod: podName(b['pod']),
    pdb: pdb ? { namespace: str(pdb['namespace']), name: str(pdb['name']) ?? '?', disruptionsAllowed: num(pdb['disruptionsAllowed']) } : null,
    message: str(b['message']),
  };
}

/** An EKS managed update's blocker: `{ pod: 'ns/name', pdb: 'ns/name', disruptionsAllowed }`. */
function managedBlocker(value: unknown): BlockerView {
  const b = rec(value) ?? {};
  const pdb = str(b['pdb']);
  const slash = pdb?.indexOf('/') ?? -1;
  return {
    pod: podName(b['pod']),
    pdb: pdb ? { namespace: slash > 0 ? pdb.slice(0, slash) : undefined, name: slash > 0 ? pdb.slice(slash + 1) : pdb, disruptionsAllowed: num(b['disruptionsAllowed']) } : null,
    message: undefined,
  };
}

/**
 * Blocked pods grouped by the budget that holds them (`ns/name (0 disruptions allowed):
 * pod-a, pod-b, +3 more`), the largest group first; pods blocked for another reason
 * (several budgets, throttling) apart, grouped by that reason.
 */
function blockerSections(blockers: readonly BlockerView[]): ReplySection[] {
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
      const reason = b.message ?? 'no reason given';
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

function podName(value: unknown): string {
  const s = str(value);
  if (s) return s;
  // the kube layer's PodRef, should one arrive unflattened
  const ref = rec(value);
  const name = str(ref?.['name']);
  return name ? (str(ref?.['namespace']) ? `${str(ref?.['namespace'])}/${name}` : name) : '?';
}

function listSome(items: readonly string[]): string {
  return items.length <= PODS_LISTED ? items.join(', ') : `${items.slice(0, PODS_LISTED).join(', ')}, +${items.length - PODS_LISTED} more`;
}

// ---------------------------------------------------------------------------------------
// Small readers and builders
// ---------------------------------------------------------------------------------------

function rec(value: unknown): Detail | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Detail) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A whole, non-negative count, or undefined. */
function count(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && n >= 0 && Number.isInteger(n) ? n : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): string[] {
  return list(value).map(str).filter((s): s is string => s !== undefined);
}

/** The last segment of an execution ARN: its name, what the Step Functions console lists. */
function executionName(value: unknown): string | undefined {
  const arn = str(value);
  return arn ? (arn.split(':').at(-1) || arn) : undefined;
}

/** Summaries start with `cluster/group: `, which the title already says. */
function withoutPrefix(text: string | undefined, who: string): string | undefined {
  return text?.startsWith(`${who}: `) ? text.slice(who.length + 2) : text;
}

/** ISO time as `2025-01-15 12:00 UTC`; anything else as it came. */
function formatTime(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `45 s`, `2 min 5 s`, `1 h 3 min`. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

function lines(items: readonly (string | undefined | null)[], heading?: string): ReplySection {
  return { kind: 'text', ...(heading ? { heading } : {}), lines: items.filter((l): l is string => typeof l === 'string' && l !== '') };
}

function fields(items: readonly [string, string | number | undefined][]): ReplySection {
  return { kind: 'fields', fields: items.filter((i): i is [string, string | number] => i[1] !== undefined).map(([label, value]) => [label, String(value)]) };
}

function isEmpty(section: ReplySection | null): boolean {
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
