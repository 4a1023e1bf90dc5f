import type { AwsScope } from '../aws/clients.js';
import { publishEvent } from '../aws/notifications.js';

/**
 * The notifications a rollout publishes on the default bus (source `eks-node-lifecycle`),
 * one detail-type per phase so a rule can pick what it cares about: the chat-ops renderer
 * shows them all; an alarm might want only `Rollout Rolled Back` and `Rollout Failed`.
 * Every detail names the cluster, group, execution and target, and carries a `summary` for
 * people.
 */
export const ROLLOUT_EVENTS = {
  planned: 'Rollout Planned',
  'approval-requested': 'Rollout Approval Requested',
  approved: 'Rollout Approved',
  'canary-passed': 'Rollout Canary Passed',
  'batch-finished': 'Rollout Batch Finished',
  paused: 'Rollout Paused',
  resumed: 'Rollout Resumed',
  'rolling-back': 'Rollout Rolling Back',
  'rolled-back': 'Rollout Rolled Back',
  aborted: 'Rollout Aborted',
  finished: 'Rollout Finished',
  'rollback-failed': 'Rollout Rollback Failed',
  failed: 'Rollout Failed',
  declined: 'Rollout Declined',
} as const;

export type RolloutEventName = keyof typeof ROLLOUT_EVENTS;

export interface RolloutContext {
  cluster: string;
  group: { kind: string; name: string };
  target: { imageId: string; imageName?: string | undefined; release?: string | undefined; ownerId?: string | undefined; ownerAlias?: string | undefined };
  executionArn: string;
}

export function rolloutNotifier(aws: AwsScope, context: RolloutContext, now: () => Date) {
  return async (event: RolloutEventName, detail: Record<string, unknown> & { summary?: string }): Promise<void> => {
    await publishEvent(aws, ROLLOUT_EVENTS[event], {
      cluster: context.cluster,
      group: context.group.name,
      groupKind: context.group.kind,
      target: context.target,
      executionArn: context.executionArn,
      phase: event,
      at: now().toISOString(),
      ...detail,
      summary: detail.summary ?? describe(event, context, detail),
    });
  };
}

function describe(event: RolloutEventName, context: RolloutContext, detail: Record<string, unknown>): string {
  const who = `${context.cluster}/${context.group.name}`;
  const image = context.target.release ?? context.target.imageName ?? context.target.imageId;
  switch (event) {
    case 'planned':
      return `${who}: rolling ${detail['nodes'] === undefined ? 'the group' : `${String(detail['nodes'])} nodes`} onto ${image}`;
    case 'canary-passed':
      return `${who}: canary healthy on ${image}; rolling the rest`;
    case 'batch-finished':
      return `${who}: batch ${String(detail['batch'])} of ${String(detail['of'])} done (${String(detail['replaced'])} nodes replaced)`;
    case 'paused':
      return `${who}: rollout paused${typeof detail['message'] === 'string' ? `: ${detail['message']}` : ''}`;
    case 'resumed':
      return `${who}: rollout resumed`;
    case 'rolling-back':
      return `${who}: rolling back: ${String(detail['reason'] ?? '')}`;
    case 'rolled-back':
      return `${who}: rolled back; the group is as it was before the rollout`;
    case 'aborted':
      return `${who}: rollout ${typeof detail['reason'] === 'string' ? detail['reason'] : 'aborted'}; ${String(detail['replaced'] ?? 0)} nodes replaced, ${String(detail['remainingOld'] ?? 0)} left on the old image`;
    case 'finished':
      return `${who}: every node runs ${image}`;
    case 'rollback-failed': {
      const left = Array.isArray(detail['left']) ? detail['left'].filter((l): l is string => typeof l === 'string') : [];
      return `${who}: ROLLBACK FAILED, needs a person: ${String(detail['reason'] ?? '')}${left.length > 0 ? `; left: ${left.join('; ')}` : ''}`;
    }
    default:
      return `${who}: ${ROLLOUT_EVENTS[event]}`;
  }
}
