import { completeLifecycleAction, describeLifecycleHook, recordLifecycleActionHeartbeat } from '../aws/lifecycle-actions.js';
import type { AwsScope } from '../aws/clients.js';
import type { DrainRecord, DrainRecords, DrainStatus, NotedLifecycleAction } from '../aws/drain-records.js';
import { AwsTransientError, LifecycleActionGoneError } from '../errors.js';
import { heartbeatEverySeconds } from './decide-pass.js';
import { leaseRenewalDue, leaseUntil } from './drain-owner.js';
import { earliestHeartbeat, nextHeartbeatAt, openActions, withActions } from './lifecycle-actions.js';

/**
 * What the owner of an instance's drain does with its record and its lifecycle actions —
 * the same whether the owner is a node-drain execution (drainStep, finishDrain) or an
 * ami-rollout draining its batch (drain-batch.ts): keep every open action alive while the
 * drain runs, and complete each once when it ends.
 */
export interface OwnDrainPorts {
  aws: AwsScope;
  records: DrainRecords;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export interface KeptAlive {
  record: DrainRecord;
  /**
   * what this pass did for the hooks: a heartbeat sent, none due, one deferred (Auto Scaling
   * throttled it: the next pass sends it), no open action, or one found closed under the drain
   */
  heartbeat: 'sent' | 'not-due' | 'deferred' | 'no-hook' | 'expired';
  /** the earliest heartbeat due among the open actions, and the shortest interval of theirs */
  next?: { at: Date; everySeconds: number };
}

/** Attempts of a read-decide-write before giving up (retryably) on a record that keeps changing. */
const MAX_ATTEMPTS = 5;

function keepsChanging(instanceId: string): AwsTransientError {
  return new AwsTransientError('dynamodb:UpdateItem', { cause: new Error(`the drain record of ${instanceId} kept changing under the write`) });
}

/** Whether `executionArn` owns the record (a record of the old shape without an owner is anyone's). */
export function ownedBy(record: DrainRecord | undefined, executionArn: string): record is DrainRecord {
  return record !== undefined && (record.executionArn === undefined || record.executionArn === executionArn);
}

/**
 * The owner's part of every pass, before any Kubernetes call (a pass that then fails has
 * still kept the hooks alive):
 * 1. each open lifecycle action whose heartbeat is due — half its hook's heartbeat timeout,
 *    read once with DescribeLifecycleHooks and kept on the record — gets one; one Auto Scaling
 *    no longer knows is marked closed; a throttled one waits for the next pass;
 * 2. the lease is renewed when half of it is gone;
 * 3. both written, conditionally on the record as read (read again and redone if it changed:
 *    a trigger may have noted another action meanwhile).
 * Undefined when the drain is not `executionArn`'s (any more).
 */
export async function keepDrainAlive(instanceId: string, executionArn: string, ports: OwnDrainPorts, seen?: DrainRecord): Promise<KeptAlive | undefined> {
  let record = seen ?? (await ports.records.get(instanceId));
  // what was done in an attempt whose write lost a race is not done again
  const done = new Map<string, NotedLifecycleAction>();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!ownedBy(record, executionArn)) return undefined;
    const now = ports.now();
    const open = openActions(record);
    const outcomes = new Set<KeptAlive['heartbeat']>();
    const updated: NotedLifecycleAction[] = [];
    for (const action of open) {
      const before = done.get(action.lifecycleActionToken) ?? action;
      const after = await keepActionAlive(before, now, ports, outcomes);
      done.set(action.lifecycleActionToken, after);
      if (after !== action) updated.push(after);
    }
    const heartbeat = (['expired', 'deferred', 'sent'] as const).find((o) => outcomes.has(o)) ?? (open.length > 0 ? 'not-due' : 'no-hook');
    if (updated.length === 0 && !leaseRenewalDue(record, now)) return { record, heartbeat, ...nextOf(record) };
    const written = await ports.records.write(instanceId, record, { leaseUntil: leaseUntil(now), ...(updated.length > 0 ? { lifecycleActions: withActions(record.lifecycleActions, updated) } : {}) }, now);
    if (written) return { record: written, heartbeat, ...nextOf(written) };
    record = await ports.records.get(instanceId);
  }
  throw keepsChanging(instanceId);
}

function nextOf(record: DrainRecord): Pick<KeptAlive, 'next'> {
  const next = earliestHeartbeat(record.lifecycleActions);
  return next ? { next } : {};
}

async function keepActionAlive(action: NotedLifecycleAction, now: Date, ports: OwnDrainPorts, outcomes: Set<KeptAlive['heartbeat']>): Promise<NotedLifecycleAction> {
  let kept = action;
  if (kept.heartbeatEverySeconds === undefined) {
    const hook = await describeLifecycleHook(ports.aws, kept.autoScalingGroupName, kept.lifecycleHookName);
    kept = { ...kept, heartbeatEverySeconds: heartbeatEverySeconds(hook?.heartbeatTimeoutSeconds ?? 3600) };
  }
  if (kept.state !== 'open' || now.getTime() < nextHeartbeatAt(kept).getTime()) return kept;
  try {
    await recordLifecycleActionHeartbeat(ports.aws, kept);
    outcomes.add('sent');
    return { ...kept, lastHeartbeatAt: now.toISOString() };
  } catch (error) {
    if (error instanceof AwsTransientError) {
      outcomes.add('deferred');
      ports.log('lifecycle heartbeat deferred', { instanceId: kept.instanceId, hook: kept.lifecycleHookName, error: error.message });
      return kept;
    }
    if (error instanceof LifecycleActionGoneError) {
      outcomes.add('expired');
      ports.log('lifecycle action closed under the drain', { instanceId: kept.instanceId, hook: kept.lifecycleHookName });
      return { ...kept, state: 'closed', endedAt: now.toISOString() };
    }
    throw error;
  }
}

export interface CompletedAction {
  hook: string;
  result: 'continued' | 'already-closed';
}

/**
 * Completes every open lifecycle action of the record with CONTINUE — the node is drained
 * (or gone), so each may let the instance go — and marks each completed (or closed, when Auto
 * Scaling no longer had it open), once. Safe to repeat: a completed action is not sent again.
 */
export async function completeOpenActions(record: DrainRecord, ports: OwnDrainPorts): Promise<{ record: DrainRecord; completed: CompletedAction[] }> {
  const open = openActions(record);
  if (open.length === 0) return { record, completed: [] };
  const now = ports.now();
  const ended: NotedLifecycleAction[] = [];
  for (const action of open) {
    try {
      await completeLifecycleAction(ports.aws, action, 'CONTINUE');
      ended.push({ ...action, state: 'completed', endedAt: now.toISOString() });
    } catch (error) {
      if (!(error instanceof LifecycleActionGoneError)) throw error;
      ended.push({ ...action, state: 'closed', endedAt: now.toISOString() });
    }
  }
  ports.log('lifecycle actions completed', { instanceId: record.instanceId, actions: ended.map((a) => `${a.lifecycleHookName}: ${a.state}`) });
  const completed = ended.map((a): CompletedAction => ({ hook: a.lifecycleHookName, result: a.state === 'completed' ? 'continued' : 'already-closed' }));
  let seen: DrainRecord | undefined = record;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && seen; attempt++) {
    const written = await ports.records.write(record.instanceId, seen, { lifecycleActions: withActions(seen.lifecycleActions, ended) }, now);
    if (written) return { record: written, completed };
    seen = await ports.records.get(record.instanceId);
  }
  if (!seen) return { record, completed };
  throw keepsChanging(record.instanceId);
}

export interface EndedDrain {
  /** false when another execution owns the drain now: nothing was written or completed */
  owned: boolean;
  record: DrainRecord | undefined;
  actions: CompletedAction[];
}

/**
 * The end of a drain, by its owner: 1. record how it ended; 2. unless it failed, complete every
 * open lifecycle action (a failed drain leaves them: the node still holds pods). An action a
 * trigger notes after step 1 finds the drain over and is answered by that trigger itself.
 */
export async function endDrain(instanceId: string, executionArn: string, status: Exclude<DrainStatus, 'running'>, ports: OwnDrainPorts): Promise<EndedDrain> {
  let seen = await ports.records.get(instanceId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!seen) return { owned: true, record: undefined, actions: [] };
    if (!ownedBy(seen, executionArn)) return { owned: false, record: seen, actions: [] };
    const written = await ports.records.write(instanceId, seen, { status }, ports.now());
    if (!written) {
      seen = await ports.records.get(instanceId);
      continue;
    }
    if (status === 'failed') return { owned: true, record: written, actions: [] };
    const { record, completed } = await completeOpenActions(written, ports);
    return { owned: true, record, actions: completed };
  }
  throw keepsChanging(instanceId);
}
