import type { AwsScope } from '../aws/clients.js';
import type { Place } from '../aws/places.js';
import { describeProblem, readNodeGroupConfig, rolloutBlockers } from '../config/node-group-config.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import { observedBy, observeLabel } from '../config/observe.js';
import type { ServiceMode } from '../config/service-config.js';
import type { RolloutInput, RolloutPolicyInput } from '../events/rollout.js';
import type { RolloutPhaseDetail } from '../events/rollout-events.js';
import { metricsOfWindowWait, recordMetrics } from '../metrics/metrics.js';
import { APPROVAL_TIMEOUT_SECONDS } from './approvals.js';
import { decideStart } from './maintenance-window.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import { resolveMaxUnavailable } from './plan-batches.js';
import { readGroup } from './read-group.js';
import { placeQualified } from './rollout-place.js';
import { readRolloutPolicy } from './rollout-policy.js';

export type BeginResult =
  | { decision: 'already-rolling'; heldBy: string; expiresAt: string; summary: string }
  | { decision: 'refused'; reason: string; summary: string }
  | { decision: 'proceed'; startAt: string | null; policy: RolloutPolicyInput; surge: number; groupSize: number; problems: string[]; summary: string };

export interface BeginPorts {
  aws: AwsScope;
  locks: NodeGroupLocks;
  /** whether the access policy says the cluster's rollouts wait for a person (`requireApproval`) */
  requiresApproval: (cluster: string) => Promise<boolean>;
  /** Begin announces only a rollout it does not start */
  notify: (event: 'declined', detail: RolloutPhaseDetail<'declined'>) => Promise<void>;
  /** the service's mode: in observe mode no rollout runs, however it was started */
  mode?: ServiceMode;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** How long the lock is held before the roll starts renewing it: the wait for the window and for a person, plus a margin. */
const LEASE_MARGIN_SECONDS = 2 * 3600;

/**
 * The first step of a rollout; it changes nothing in the group.
 * 1. the group's tags → rollout policy (batches, canary, strategy, window, approval) and drain
 *    policy; approval is required when the tag (`rollout=approve`) or the cluster's access
 *    policy (`requireApproval`) says so, whatever started the rollout — the input's `mode` can
 *    only add a gate, never lift one;
 * 2. observe mode (the service's, or the group's rollout=observe): refused — detection and chat
 *    start none, this stops one started by other means (StartExecution by hand);
 *    the maintenance window: now, wait until it opens (detection), or refuse (a person
 *    outside it without --now; or any automatic start while a setting that governs rollouts
 *    is malformed — the tags may have changed since detection — e.g. a window someone meant
 *    to set but mistyped must not mean "any time");
 * 3. the group's lock: taken for this execution, or the execution holding it is the answer;
 * 4. the decision, recorded (`begin#<execution>` in the rollouts table) for the person who
 *    started the rollout: their reply says what happens, not merely that it was asked for.
 */
export async function beginRollout(input: RolloutInput & { executionArn: string; place?: Partial<Place> }, ports: BeginPorts): Promise<BeginResult> {
  const who = placeQualified(`${input.cluster}/${input.group.name}`, input.place);
  const { tags, size, zones } = await readGroup(input, ports);
  const read = readRolloutPolicy(tags);
  const { problems } = read;
  // a person may ask for another batch size for this rollout (chat --max-unavailable)
  const policy = input.overrides.maxUnavailable === undefined ? read.policy : { ...read.policy, maxUnavailable: input.overrides.maxUnavailable };
  const drain = readNodeGroupPolicy(tags);
  const approval = policy.approval || input.mode === 'approve' || (await ports.requiresApproval(input.cluster));
  const allProblems = [...problems, ...drain.problems];
  if (allProblems.length > 0) ports.log('node group policy problems', { problems: allProblems });
  const now = ports.now();

  const blockers = rolloutBlockers(readNodeGroupConfig(tags)).map(describeProblem);
  const automatic = input.startedBy.kind === 'detection' && !input.startedBy.startNow;
  const observe = observedBy(ports.mode ?? 'act', drain.policy.rollout);
  const start = observe
    ? { decision: 'refuse' as const, reason: `${observeLabel(observe)}: rollouts are planned and reported, never run` }
    : automatic && blockers.length > 0
    ? { decision: 'refuse' as const, reason: `not rolled until its configuration is fixed: ${blockers.join('; ')}` }
    : decideStart({ ...(policy.window ? { window: policy.window } : {}), now, startedBy: input.startedBy.kind, startNow: input.startedBy.startNow });
  if (start.decision === 'refuse') {
    await ports.locks.recordBeginDecision(input.executionArn, { decision: 'refused', reason: start.reason }, now);
    await ports.notify('declined', { reason: start.reason, summary: `${who}: rollout not started: ${start.reason}` });
    return { decision: 'refused', reason: start.reason, summary: `not started: ${start.reason}` };
  }

  const startAt = start.decision === 'wait-until' ? start.at : null;
  const waitSeconds = startAt ? Math.max(0, (startAt.getTime() - now.getTime()) / 1000) : 0;
  const lease = waitSeconds + (approval ? APPROVAL_TIMEOUT_SECONDS : 0) + LEASE_MARGIN_SECONDS;
  const about = { target: { imageId: input.target.imageId, ...(input.target.release ? { release: input.target.release } : {}) }, startedBy: input.startedBy.kind === 'person' ? (input.startedBy.who ?? 'a person') : 'detection' };
  const lock = await ports.locks.acquire(lockKeyOf(input.cluster, input.group.name, input.place), input.executionArn, lease, now, about);
  if (!lock.acquired) {
    const summary = `${who} is already being rolled by ${lock.heldBy}`;
    await ports.locks.recordBeginDecision(input.executionArn, { decision: 'already-rolling', heldBy: lock.heldBy }, now);
    await ports.notify('declined', { reason: 'already-rolling', heldBy: lock.heldBy, summary });
    return { decision: 'already-rolling', heldBy: lock.heldBy, expiresAt: lock.expiresAt, summary };
  }
  if (startAt) recordMetrics(metricsOfWindowWait(input.cluster, now, startAt));

  const k = resolveMaxUnavailable(policy.maxUnavailable, size);
  // the extra instances at the peak: EKS surges max(2 × zones, maxUnavailable); our batches surge k
  const surge = input.group.kind === 'managed' ? Math.max(2 * zones, k) : policy.selfManagedStrategy === 'instance-refresh' || policy.strategy === 'minimal' ? 0 : k;
  const result: BeginResult = {
    decision: 'proceed',
    startAt: startAt ? startAt.toISOString() : null,
    policy: {
      maxUnavailable: policy.maxUnavailable,
      canary: policy.canary,
      strategy: policy.strategy,
      approval,
      selfManagedStrategy: policy.selfManagedStrategy,
      ...(policy.window ? { window: policy.window.text } : {}),
      onWindowClose: policy.onWindowClose,
      maxPauseSeconds: policy.maxPauseSeconds,
      ...(allProblems.length > 0 ? { problems: allProblems.slice(0, 20).map((p) => p.slice(0, 500)) } : {}),
      drain: drain.policy.drain,
    },
    surge,
    groupSize: size,
    problems: allProblems,
    summary: `${who}: ${size} nodes, ${k} at a time${policy.canary > 0 ? `, canary ${Math.min(policy.canary, k)}` : ''} (${input.group.kind === 'managed' ? 'EKS managed update' : policy.selfManagedStrategy === 'instance-refresh' ? 'instance refresh' : policy.strategy})${startAt ? `, waiting for the window at ${startAt.toISOString()}` : ''}`,
  };
  await ports.locks.recordBeginDecision(input.executionArn, { decision: 'proceed', approval, startAt: result.startAt }, now);
  ports.log('rollout begins', { summary: result.summary, startAt: result.startAt });
  return result;
}
