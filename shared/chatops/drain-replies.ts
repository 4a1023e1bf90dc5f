import type { BlockerSchema } from '../events/drain.js';
import type { DrainBlocked, DrainFinished } from '../events/drain-events.js';
import { type BlockerView, blockerSections, duration, executionName, fields, forcedSection, lines, shown } from './reply-format.js';
import type { Reply } from './types.js';
import type * as z from 'zod/mini';

/** The node-drain workflow's events (events/drain-events.ts) as chat messages. */

const TRIGGERS: Record<DrainFinished['trigger'], string> = {
  'terminate-hook': 'Auto Scaling termination',
  'spot-interruption': 'Spot interruption notice',
  rebalance: 'EC2 rebalance recommendation',
  manual: 'manual request',
  rollout: 'rollout',
};

const LIFECYCLE: Record<Exclude<DrainFinished['lifecycleAction'], undefined | 'none'>, string> = {
  continued: 'continued: the instance terminates now',
  'already-closed': 'already closed',
  'left-to-default': "left to the hook's default result",
};

function nodeLabel(d: Pick<DrainFinished, 'instanceId' | 'nodeName'>): string {
  return d.nodeName ? `${d.nodeName} (${d.instanceId})` : d.instanceId;
}

/**
 * `Node Drain Finished`: a one-liner when the node drained cleanly; otherwise what is left
 * and what blocks it, by PodDisruptionBudget.
 */
export function drainReply(d: DrainFinished): Reply {
  const name = nodeLabel(d);
  const took = d.durationSeconds !== undefined ? duration(d.durationSeconds) : undefined;
  const blockers = (d.blockers ?? []).map(drainBlocker);
  const rollout = executionName(d.rolloutExecutionArn);
  const drainExecution = executionName(d.executionArn);
  const context = [`Trigger: ${TRIGGERS[d.trigger]}`, rollout ? `rollout ${rollout}` : null, drainExecution ? `drain ${drainExecution}` : null].filter((x): x is string => x !== null).join(' · ');

  const [ok, title, explanation] = ((): [boolean, string, string | undefined] => {
    switch (d.outcome) {
      case 'drained':
        return [true, `:white_check_mark: Drained ${name} on ${d.cluster}${took ? ` in ${took}` : ''}`, undefined];
      case 'forced':
        return [true, `:warning: Drain forced: ${name} on ${d.cluster}`, 'The drain deadline passed; the pods budgets still blocked were deleted (gracefully) instead of evicted.'];
      case 'failed':
        return [false, `:rotating_light: Drain failed: ${name} on ${d.cluster}`, 'The node could not be drained in time (or an error stopped the drain); it stays cordoned.'];
      case 'node-gone':
        return [true, `:ghost: Drain ended: ${name} on ${d.cluster} is gone`, undefined];
    }
  })();

  const lifecycle = d.lifecycleAction && d.lifecycleAction !== 'none' ? LIFECYCLE[d.lifecycleAction] : undefined;
  const forced = (d.forced ?? []).map((f) => `${f.pod}${f.pdb ? ` (PodDisruptionBudget ${f.pdb})` : ''}`);
  const sections =
    d.outcome === 'drained' && blockers.length === 0
      ? []
      : shown([lines([explanation]), fields([['Took', took], ['Pods left', d.remaining], ['Lifecycle action', lifecycle]]), ...blockerSections(blockers), forcedSection(forced)]);
  return { ok, title, sections, ...(context ? { context } : {}) };
}

/**
 * `Node Drain Blocked`: the deadline passed with budgets in the way, and the node is leaving
 * its group, so the drain holds it (hook kept alive) instead of letting it go with its pods.
 * What blocks it, so a person can free a budget.
 */
export function drainBlockedReply(d: DrainBlocked): Reply {
  const rollout = executionName(d.rolloutExecutionArn);
  return {
    ok: false,
    title: `:hourglass: Drain blocked past its deadline: ${nodeLabel(d)} on ${d.cluster}`,
    sections: shown([
      lines([
        'Auto Scaling is terminating this node. Its terminate hook is kept alive, and the drain goes on within the budgets until the pods can leave (or the hook reaches its global timeout).',
        'Free a budget below, or drain it with --force, to let it go sooner.',
      ]),
      fields([['Pods left', d.remaining]]),
      ...blockerSections((d.blockers ?? []).map(drainBlocker)),
    ]),
    ...(rollout ? { context: `rollout ${rollout}` } : {}),
  };
}

/** A drain's blocker: `{ pod: 'ns/name', pdb: { namespace, name, disruptionsAllowed } | null, message }`. */
function drainBlocker(b: z.infer<typeof BlockerSchema>): BlockerView {
  return { pod: b.pod, pdb: b.pdb, message: b.message };
}
