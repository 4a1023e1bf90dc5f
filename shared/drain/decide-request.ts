import type { DrainRecord } from '../aws/drain-records.js';
import type { DrainTriggerKind } from '../events/drain.js';
import type { TerminationHandlerSighting } from '../kube/neighbours.js';
import { leaseHolds } from './drain-owner.js';

/**
 * What a drain trigger should do, given what was observed of the instance's drain. Pure.
 *
 * Several triggers may name one instance (a spot warning, then the terminate hooks; the same
 * hook delivered three times): they make one drain. A record is believed only as far as it
 * can be checked:
 * - `running`: while its owner's lease holds; past it, while Step Functions says the owner's
 *   execution runs — otherwise the drain is taken over (a new generation, a new node-drain). A
 *   trigger bringing a lifecycle action asks Step Functions even within the lease: a hook
 *   trusted to a stopped owner would be left to expire;
 * - `drained`/`forced`/`node-gone`: while the node is still cordoned by us with nothing to
 *   evict (or is gone) — a node a person uncordoned, that filled again, is drained afresh.
 *   Then a trigger bringing a lifecycle action gets it completed at once, any other is told
 *   the node is drained;
 * - `failed`: never (the node is still cordoned; a new trigger tries again).
 */
export type RequestDecision =
  | { action: 'start'; generation: number; reason: string }
  | { action: 'join'; reason: string }
  | { action: 'complete-now'; reason: string }
  | { action: 'ignore'; reason: string };

export interface RequestFacts {
  record: DrainRecord | undefined;
  trigger: DrainTriggerKind;
  bringsLifecycleAction: boolean;
  onRebalance: 'drain' | 'ignore';
  now: Date;
  /** a running record past its lease (or joined by a lifecycle action): whether its owner still drains (see ownerAlive) */
  ownerRunning?: boolean;
  /** a finished record: the node as it is now (a node or instance that is gone counts as drained) */
  node?: { drained: true } | { drained: false; reason: string };
  /** a spot or rebalance warning: the AWS Node Termination Handler seen on this node, and what it drains on (kube/neighbours.ts) */
  terminationHandler?: TerminationHandlerSighting;
}

/** What must be looked up, beyond the record, before deciding. Pure. */
export function lookupsFor(record: DrainRecord | undefined, now: Date, bringsLifecycleAction: boolean): { owner: boolean; node: boolean } {
  const status = record?.status;
  return {
    owner: status === 'running' && (bringsLifecycleAction || !leaseHolds(record!, now)),
    node: status === 'drained' || status === 'forced' || status === 'node-gone',
  };
}

export function decideDrainRequest(facts: RequestFacts): RequestDecision {
  const { record, trigger, bringsLifecycleAction } = facts;
  if (trigger === 'rebalance' && facts.onRebalance === 'ignore') return { action: 'ignore', reason: 'the group\'s policy ignores rebalance recommendations' };
  // two drains of one node race for its pods; the handler acts on the same warning, so it is left to it
  // (a terminate hook is still ours to answer: the handler never completes the service's hooks)
  const handler = facts.terminationHandler;
  if (handler && ((trigger === 'spot-interruption' && handler.drains.spotInterruption) || (trigger === 'rebalance' && handler.drains.rebalance))) {
    return { action: 'ignore', reason: `left to the AWS Node Termination Handler (${handler.mode === 'imds' ? 'IMDS mode' : 'queue-processor mode'}: ${handler.evidence}), which drains this node on the same warning` };
  }
  const next = (record?.generation ?? 0) + 1;
  switch (record?.status ?? 'none') {
    case 'running':
      if (facts.ownerRunning === false || (facts.ownerRunning === undefined && !leaseHolds(record!, facts.now))) {
        return { action: 'start', generation: next, reason: `the drain's owner ${record!.executionArn ?? '(none)'} no longer runs: taking the drain over` };
      }
      return { action: 'join', reason: 'a drain of this instance is already running; it will keep the lifecycle actions alive and complete them' };
    case 'failed':
      // the node is still cordoned; a new trigger tries again
      return { action: 'start', generation: next, reason: 'the last drain failed: trying again' };
    case 'drained':
    case 'forced':
    case 'node-gone': {
      // a rollout is about to terminate the node: an old drain proves nothing
      if (trigger === 'rollout') return { action: 'start', generation: next, reason: 'a rollout drains afresh before it terminates' };
      const node = facts.node ?? { drained: false, reason: 'the node was not checked' };
      if (!node.drained) return { action: 'start', generation: next, reason: `the node was drained (${record!.status}) but is back in service: ${node.reason}` };
      const reason = `the node is still drained (${record!.status})`;
      return bringsLifecycleAction ? { action: 'complete-now', reason } : { action: 'ignore', reason };
    }
    default:
      return { action: 'start', generation: record?.generation ?? 0, reason: 'the first drain of this instance' };
  }
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
