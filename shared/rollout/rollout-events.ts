import type { AwsScope } from '../aws/clients.js';
import type { Place } from '../aws/places.js';
import { publishEvent } from '../aws/notifications.js';
import { ROLLOUT_EVENTS } from '../events/rollout-event-names.js';
import type { RolloutAbout, RolloutNotice, RolloutNotify } from '../events/rollout-events.js';
import { placeFieldsOf, placeQualified } from './rollout-place.js';

/**
 * A rollout's notifications on the hub's default bus (events/rollout-events.ts) — a member's
 * rollout too: chat reads one bus. Every detail names the cluster (with its account and region
 * when it is not the hub's own), group, execution and target, and carries a `summary` for
 * people; chat shows them all, an alarm might want only `Rollout Rolled Back` and `Rollout Failed`.
 */
export interface RolloutContext {
  /** the cluster's place: its events name the account and region unless it is the hub's own (rollout-place.ts) */
  place?: Partial<Place> | undefined;
  cluster: string;
  group: { kind: string; name: string };
  target: { imageId: string; imageName?: string | undefined; release?: string | undefined; ownerId?: string | undefined; ownerAlias?: string | undefined };
  executionArn: string;
}

export function rolloutNotifier(aws: AwsScope, context: RolloutContext, now: () => Date): RolloutNotify {
  return async (event, detail) => {
    const about = {
      ...placeFieldsOf(context.place),
      cluster: context.cluster,
      group: context.group.name,
      groupKind: context.group.kind,
      target: context.target,
      executionArn: context.executionArn,
      at: now().toISOString(),
    } satisfies RolloutAbout;
    const summary = detail.summary ?? describe({ event, detail } as RolloutNotice, context);
    await publishEvent(aws, ROLLOUT_EVENTS[event], { ...about, phase: event, ...detail, summary });
  };
}

function describe(notice: RolloutNotice, context: RolloutContext): string {
  const who = placeQualified(`${context.cluster}/${context.group.name}`, context.place);
  const image = context.target.release ?? context.target.imageName ?? context.target.imageId;
  switch (notice.event) {
    case 'planned':
      return `${who}: rolling ${notice.detail.nodes === undefined ? 'the group' : `${notice.detail.nodes} nodes`} onto ${image}`;
    case 'canary-passed':
      return `${who}: canary healthy on ${image}; rolling the rest`;
    case 'batch-finished':
      return `${who}: batch ${String(notice.detail.batch)} of ${String(notice.detail.of)} done (${String(notice.detail.replaced)} nodes replaced)`;
    case 'paused':
      return `${who}: rollout paused${notice.detail.message !== undefined ? `: ${notice.detail.message}` : ''}`;
    case 'resumed':
      return `${who}: rollout resumed`;
    case 'rolling-back':
      return `${who}: rolling back: ${notice.detail.reason}`;
    case 'rolled-back':
      return `${who}: rolled back; the group is as it was before the rollout`;
    case 'aborted':
      return `${who}: rollout ${notice.detail.reason ?? 'aborted'}; ${notice.detail.replaced ?? 0} nodes replaced, ${notice.detail.remainingOld ?? 0} left on the old image`;
    case 'finished':
      return `${who}: every node runs ${image}`;
    case 'rollback-failed': {
      const left = notice.detail.left ?? [];
      return `${who}: ROLLBACK FAILED, needs a person: ${notice.detail.reason ?? ''}${left.length > 0 ? `; left: ${left.join('; ')}` : ''}`;
    }
    default:
      return `${who}: ${ROLLOUT_EVENTS[notice.event]}`;
  }
}
