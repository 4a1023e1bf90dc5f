import type { GroupOutcome } from '../aws/fleet-records.js';
import type { FinishDetail, RolloutFleet, RolloutOutcome } from '../events/rollout.js';
import { awayPlace } from './rollout-place.js';

/** What of a rollout its outcome record names: the group in its place, the images, the execution. */
export interface OutcomeSource {
  place?: { accountId?: string | undefined; region?: string | undefined } | undefined;
  cluster: string;
  group: { name: string };
  target: { imageId: string };
  from?: { imageId?: string | undefined; release?: string | undefined } | undefined;
  executionArn: string;
}

/** The group in its place, as the fleet table keys it (GroupRef: account and region absent for the hub's own). */
export function groupRefOf(source: Pick<OutcomeSource, 'place' | 'cluster' | 'group'>): GroupOutcome['ref'] {
  const place = awayPlace(source.place);
  return { ...(place ? { account: place.accountId, region: place.region } : {}), cluster: source.cluster, group: source.group.name };
}

/** The group's outcome for the release, as the fleet table records it (pure). */
export function outcomeRecord(source: OutcomeSource, fleet: RolloutFleet, state: GroupOutcome['state'], detail: string, at: Date): GroupOutcome {
  const executionName = source.executionArn.split(':').at(-1);
  const from = { ...(source.from?.imageId ? { imageId: source.from.imageId } : {}), ...(source.from?.release ? { release: source.from.release } : {}) };
  return {
    ref: groupRefOf(source),
    ...(fleet.ring ? { ring: fleet.ring } : {}),
    state,
    from,
    to: { imageId: source.target.imageId },
    ...(executionName ? { executionName } : {}),
    detail: detail.slice(0, 1000),
    at: at.toISOString(),
  };
}

/**
 * How a rollout's end reads for its release: finished is `current`, a finished rollback
 * `rolled-back`, any other end after the roll began `failed` (an abort too: the group is not on
 * the release). Ends before the roll began (refused, preflight, approval) record nothing: the
 * group never left its image.
 */
export function endOutcome(outcome: RolloutOutcome): GroupOutcome['state'] | undefined {
  switch (outcome) {
    case 'finished':
      return 'current';
    case 'rolled-back':
      return 'rolled-back';
    case 'failed':
    case 'rollback-failed':
    case 'aborted':
      return 'failed';
    default:
      return undefined;
  }
}

/** The detail of an end, in words. */
export function describeDetail(outcome: RolloutOutcome, detail: FinishDetail | undefined): string {
  if (typeof detail === 'string') return `${outcome}: ${detail}`;
  if (detail && 'Error' in detail) return `${outcome}: ${detail.Error ?? 'Error'}: ${detail.Cause ?? ''}`;
  return outcome;
}
