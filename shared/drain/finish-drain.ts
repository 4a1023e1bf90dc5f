import type { DrainRecord, DrainRecords } from '../aws/drain-records.js';
import type { AwsScope } from '../aws/clients.js';
import { publishEvent } from '../aws/notifications.js';
import type { FinishDrainInput } from '../events/drain.js';
import { DRAIN_FINISHED, type DrainFinished } from '../events/drain-events.js';
import { type CompletedAction, endDrain } from './own-drain.js';

export interface FinishDrainPorts {
  /** the instance's place (its lifecycle actions) */
  aws: AwsScope;
  /** the hub's scope (the event bus) */
  hub: AwsScope;
  records: DrainRecords;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/**
 * The end of every drain (drained, forced, failed, node gone):
 * 1. record the outcome — only the execution that owns the record may: a drain another
 *    execution took over records nothing and completes nothing;
 * 2. unless it failed, complete every open lifecycle action of the instance with CONTINUE —
 *    whichever trigger brought each — so the instance terminates now; a failed drain leaves
 *    the node cordoned and the actions to Auto Scaling;
 * 3. publish `Node Drain Finished` for chat and anyone listening.
 * Safe to repeat: a completed action is not completed again, the event is published again.
 */
export async function finishDrain(input: FinishDrainInput, ports: FinishDrainPorts) {
  const now = ports.now();
  const ended = input.executionArn
    ? await endDrain(input.instanceId, input.executionArn, input.outcome, ports)
    : { owned: false, record: await ports.records.get(input.instanceId), actions: [] };
  if (!ended.owned) ports.log('the drain record is owned by another execution: nothing recorded or completed', { instanceId: input.instanceId, owner: ended.record?.executionArn });
  const actions = actionsOfThisDrain(ended.record, input.startedAt);
  const finished = {
    ...(ports.records.place ? { accountId: ports.records.place.accountId, region: ports.records.place.region } : {}),
    outcome: input.outcome,
    cluster: input.cluster,
    instanceId: input.instanceId,
    nodeName: input.nodeName,
    trigger: input.trigger,
    durationSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(input.startedAt)) / 1000)),
    remaining: input.remaining,
    blockers: input.blockers,
    forced: input.forced,
    ...(input.error ? { reason: `${input.error.Error ?? 'Error'}: ${input.error.Cause ?? ''}`.slice(0, 1000) } : {}),
    lifecycleAction: summary(actions, ended.actions),
    lifecycleActions: actions.map((a) => ({ hook: a.lifecycleHookName, state: a.state })),
    ...(input.executionArn ? { executionArn: input.executionArn } : {}),
    ...(input.executionInput?.rolloutExecutionArn ? { rolloutExecutionArn: input.executionInput.rolloutExecutionArn } : {}),
  } satisfies DrainFinished;
  await publishEvent(ports.hub, DRAIN_FINISHED, finished, input.executionArn ? [input.executionArn] : []);
  ports.log('drain finished', { ...finished, blockers: finished.blockers.map((b) => b.pod), forced: finished.forced.map((f) => f.pod) });
  return finished;
}

/** The actions this drain dealt with: open ones, and those that ended since it started. */
function actionsOfThisDrain(record: DrainRecord | undefined, startedAt: string): DrainRecord['lifecycleActions'] {
  return (record?.lifecycleActions ?? []).filter((a) => a.state === 'open' || Date.parse(a.endedAt ?? a.openedAt) >= Date.parse(startedAt));
}

function summary(actions: DrainRecord['lifecycleActions'], completedNow: readonly CompletedAction[]): NonNullable<DrainFinished['lifecycleAction']> {
  if (actions.length === 0) return 'none';
  if (actions.some((a) => a.state === 'open')) return 'left-to-default';
  if (actions.some((a) => a.state === 'completed') || completedNow.some((c) => c.result === 'continued')) return 'continued';
  return 'already-closed';
}
