import type { DrainRecord } from '../aws/drain-records.js';
import type { DrainTriggerKind } from '../events/drain.js';

/**
 * What a drain trigger should do, given the instance's drain record. Pure.
 *
 * Several triggers may name one instance (a spot warning, then the terminate hook; the same
 * hook delivered three times): they make one drain. A trigger that arrives after the node
 * was drained and brings a lifecycle action gets it completed at once.
 */
export type RequestDecision =
  | { action: 'start'; generation: number }
  | { action: 'join'; reason: string }
  | { action: 'complete-now'; reason: string }
  | { action: 'ignore'; reason: string };

export function decideDrainRequest(input: {
  record: DrainRecord | undefined;
  trigger: DrainTriggerKind;
  bringsLifecycleAction: boolean;
  onRebalance: 'drain' | 'ignore';
}): RequestDecision {
  const { record, trigger, bringsLifecycleAction } = input;
  if (trigger === 'rebalance' && input.onRebalance === 'ignore') return { action: 'ignore', reason: 'the group\'s policy ignores rebalance recommendations' };
  const status = record?.status ?? 'none';
  switch (status) {
    case 'none':
      return { action: 'start', generation: record?.generation ?? 0 };
    case 'running':
      return { action: 'join', reason: 'a drain of this instance is already running; it will complete the lifecycle action' };
    case 'failed':
      // the node is still cordoned; a new trigger tries again
      return { action: 'start', generation: (record?.generation ?? 0) + 1 };
    case 'drained':
    case 'forced':
      // a rollout is about to terminate the node: an old drain proves nothing (the node may
      // have been uncordoned by a rollback and filled again), so drain it afresh
      if (trigger === 'rollout') return { action: 'start', generation: (record?.generation ?? 0) + 1 };
      break;
  }
  return bringsLifecycleAction
    ? { action: 'complete-now', reason: `the node was already drained (${status})` }
    : { action: 'ignore', reason: `the node was already drained (${status})` };
}

export function drainExecutionName(instanceId: string, generation: number): string {
  return `drain-${instanceId}-${generation}`;
}

/** The spot notice is two minutes; finish a little before the instance goes. */
export const SPOT_NOTICE_SECONDS = 120;
const SPOT_MARGIN_SECONDS = 15;

export function drainDeadline(input: { trigger: DrainTriggerKind; now: Date; eventTime?: Date; drainTimeoutSeconds: number }): Date {
  const byPolicy = input.now.getTime() + input.drainTimeoutSeconds * 1000;
  if (input.trigger !== 'spot-interruption') return new Date(byPolicy);
  const noticeEnds = (input.eventTime ?? input.now).getTime() + (SPOT_NOTICE_SECONDS - SPOT_MARGIN_SECONDS) * 1000;
  return new Date(Math.min(byPolicy, noticeEnds));
}
