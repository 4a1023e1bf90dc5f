import type { FinishRolloutInput, RolloutOutcome } from '../events/rollout.js';
import { metricsOfRolloutDuration, recordMetrics } from '../metrics/metrics.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import { placeQualified } from './rollout-place.js';
import type { RolloutNotify } from '../events/rollout-events.js';
import type { GroupOutcome } from '../aws/fleet-records.js';
import { describeDetail, endOutcome, outcomeRecord } from './fleet-outcome.js';

export interface FinishPorts {
  locks: NodeGroupLocks;
  /** the group's outcome for its release, in the fleet table */
  recordOutcome: (release: string, outcome: GroupOutcome) => Promise<void>;
  notify: RolloutNotify<'declined' | 'rollback-failed' | 'failed'>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

const SUCCESS: ReadonlySet<RolloutOutcome> = new Set(['finished', 'aborted']);

/**
 * Every way out of ami-rollout passes here: the group's lock is released (only if this
 * execution holds it — a declined second request must not free the first one's lock) and
 * the outcome is announced if nobody did yet. Idempotent.
 */
export async function finishRollout(input: FinishRolloutInput & { announced?: boolean }, ports: FinishPorts): Promise<{ outcome: RolloutOutcome; succeeded: boolean; released: boolean }> {
  // a rollout of a release: how it ended, for the promotion (before the lock goes: a retry writes it again)
  const state = input.fleet ? endOutcome(input.outcome) : undefined;
  if (input.fleet && state) await ports.recordOutcome(input.fleet.release, outcomeRecord(input, input.fleet, state, describeDetail(input.outcome, input.detail), ports.now()));
  const release = await ports.locks.release(lockKeyOf(input.cluster, input.group.name, input.place), input.executionArn);
  const released = release.released;
  // from Begin taking the lock to its release here: waits for the window and approval included
  if (release.released && release.heldSince) recordMetrics(metricsOfRolloutDuration(input.cluster, input.outcome, release.heldSince, ports.now()));
  // the roll loop announces every end it reaches; the other ways out are announced here
  if (!input.announced) {
    const event = input.outcome === 'refused' ? 'declined' : input.outcome === 'rollback-failed' ? 'rollback-failed' : 'failed';
    await ports.notify(event, { outcome: input.outcome, detail: input.detail ?? null, summary: `${placeQualified(`${input.cluster}/${input.group.name}`, input.place)}: rollout ${describeOutcome(input.outcome)}` });
  }
  ports.log('rollout over', { outcome: input.outcome, released });
  return { outcome: input.outcome, succeeded: SUCCESS.has(input.outcome), released };
}

function describeOutcome(outcome: RolloutOutcome): string {
  switch (outcome) {
    case 'preflight-failed':
      return 'stopped by its preflight checks before changing anything';
    case 'rejected':
      return 'rejected at the approval gate; nothing was changed';
    case 'approval-expired':
      return 'not approved within 24 hours; nothing was changed';
    case 'launch-template-invalid':
      return 'stopped: the new launch template version would break a rule EKS enforces; nothing was changed';
    case 'refused':
      return 'not started';
    default:
      return outcome;
  }
}
