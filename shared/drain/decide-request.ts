import type { DrainRecord, DrainRecordChange, NotedLifecycleAction } from '../aws/drain-records.js';
import type { InstanceView } from '../aws/instances.js';
import type { Place } from '../aws/places.js';
import type { NodeGroupPolicy } from '../config/node-group-policy.js';
import type { DrainPolicy, DrainTriggerKind } from '../events/drain.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import type { TerminationHandlerSighting } from '../kube/neighbours.js';
import { leaseHolds } from './drain-owner.js';
import { noteLifecycleAction } from './lifecycle-actions.js';

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

/** A drain trigger, whatever its source: the instance (or node) it names and what it brings. */
export interface DrainRequest {
  kind: DrainTriggerKind;
  instanceId?: string;
  nodeName?: string;
  cluster?: string;
  groupName?: string;
  lifecycleAction?: LifecycleAction;
  eventTime?: Date;
  force?: boolean;
  rolloutExecutionArn?: string;
}

/**
 * Whose the trigger's instance is, looked up once per request: not the service's (not found,
 * another owner, another tool's hook), named with the wrong cluster, or ours — with its group's
 * policy and, for a spot or rebalance warning, the Node Termination Handler seen on its node.
 */
export type RequestScope =
  | { scope: 'not-ours'; instanceId?: string; reason: string }
  | { scope: 'wrong-cluster'; instanceId: string; cluster: string; asked: string }
  | { scope: 'ours'; instanceId: string; cluster: string; instance: InstanceView; policy: Pick<NodeGroupPolicy, 'drain' | 'onRebalance'>; terminationHandler?: TerminationHandlerSighting };

/** What one round of a drain request saw. */
export interface DrainRequestFacts {
  request: DrainRequest;
  scope: RequestScope;
  /** observe mode: the trigger is decided as for an instance never drained, and reported */
  observeOnly: boolean;
  now: Date;
  /** the drain record as read this round and what was checked of it (lookupsFor); not read when the scope or the mode makes it moot */
  drain?: { record: DrainRecord | undefined; ownerRunning?: boolean; node?: RequestFacts['node'] };
}

/** What starting a node-drain writes and starts (start-node-drain.ts). */
export interface NodeDrainStart {
  cluster: string;
  instanceId: string;
  trigger: DrainTriggerKind;
  generation: number;
  policy: DrainPolicy;
  /** when the trigger happened (a spot warning's two minutes count from it) */
  eventTime?: Date;
  /** the ami-rollout the drain belongs to, if one asked or handed it over */
  rolloutExecutionArn?: string;
  /** the record's lifecycle actions as they are to be written (with the trigger's own), when they change */
  lifecycleActions?: readonly NotedLifecycleAction[];
}

/**
 * Everything one round of requestDrain does, decided once. `join` and `complete-now` write
 * `note` and `start` writes the new owner, each conditionally on the record as read (a lost
 * race is a new round); `reject` is an input error.
 */
export type DrainRequestPlan =
  | { action: 'ignore'; reason: string }
  | { action: 'reject'; path: 'cluster'; message: string }
  | { action: 'observe'; policy: DrainPolicy }
  | { action: 'join' | 'complete-now'; reason: string; note: DrainRecordChange }
  | { action: 'start'; reason: string; start: NodeDrainStart; afresh: boolean };

/** Pure: the round's plan, from one decideDrainRequest over what was seen. */
export function planDrainRequest(facts: DrainRequestFacts): DrainRequestPlan {
  const { request, scope, now } = facts;
  if (scope.scope === 'not-ours') return { action: 'ignore', reason: scope.reason };
  if (scope.scope === 'wrong-cluster') return { action: 'reject', path: 'cluster', message: `instance ${scope.instanceId} belongs to cluster ${scope.cluster}, not ${scope.asked}` };
  const record = facts.drain?.record;
  const decision = decideDrainRequest({
    record,
    trigger: request.kind,
    bringsLifecycleAction: request.lifecycleAction !== undefined,
    onRebalance: scope.policy.onRebalance,
    now,
    ...(scope.terminationHandler ? { terminationHandler: scope.terminationHandler } : {}),
    ...(facts.drain?.ownerRunning !== undefined ? { ownerRunning: facts.drain.ownerRunning } : {}),
    ...(facts.drain?.node ? { node: facts.drain.node } : {}),
  });
  const policy = request.force ? { ...scope.policy.drain, onDrainTimeout: 'force' as const } : scope.policy.drain;
  if (decision.action === 'ignore') return decision;
  if (facts.observeOnly) return { action: 'observe', policy };
  const lifecycleActions = request.lifecycleAction ? noteLifecycleAction(record?.lifecycleActions ?? [], request.lifecycleAction, request.eventTime ?? now) : undefined;
  if (decision.action !== 'start') {
    return { action: decision.action, reason: decision.reason, note: { cluster: scope.cluster, trigger: request.kind, ...(lifecycleActions ? { lifecycleActions } : {}) } };
  }
  const start: NodeDrainStart = {
    cluster: scope.cluster,
    instanceId: scope.instanceId,
    trigger: request.kind,
    generation: decision.generation,
    policy,
    ...(request.eventTime ? { eventTime: request.eventTime } : {}),
    ...(request.rolloutExecutionArn ? { rolloutExecutionArn: request.rolloutExecutionArn } : {}),
    ...(lifecycleActions ? { lifecycleActions } : {}),
  };
  return { action: 'start', reason: decision.reason, start, afresh: record !== undefined };
}

/**
 * `drain-<instance>-<generation>` in the hub's own place (as before: a drain under way keeps
 * its name); `drain-<account>-<region>-<instance>-<generation>` in a member's — at most 6 +
 * 12 + 15 + 20 + 11 = 64 characters of Step Functions' 80, letters, digits and hyphens.
 */
export function drainExecutionName(instanceId: string, generation: number, place?: Place): string {
  return place ? `drain-${place.accountId}-${place.region}-${instanceId}-${generation}` : `drain-${instanceId}-${generation}`;
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
