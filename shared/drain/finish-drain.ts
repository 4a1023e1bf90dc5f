import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { completeLifecycleAction } from '../aws/auto-scaling.js';
import type { DrainRecords } from '../aws/drain-records.js';
import { publishEvent } from '../aws/notifications.js';
import { LifecycleActionGoneError } from '../errors.js';
import type { FinishDrainInput } from '../events/drain.js';

export interface FinishDrainPorts {
  autoscaling: AutoScalingClient;
  eventbridge: EventBridgeClient;
  records: DrainRecords;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export const DRAIN_FINISHED = 'Node Drain Finished';

export interface DrainFinished {
  outcome: FinishDrainInput['outcome'];
  cluster: string;
  instanceId: string;
  nodeName: string | null;
  trigger: FinishDrainInput['trigger'];
  durationSeconds: number;
  remaining: number;
  blockers: FinishDrainInput['blockers'];
  lifecycleAction: 'continued' | 'already-closed' | 'left-to-default' | 'none';
  executionArn?: string;
  /** the ami-rollout this drain was part of */
  rolloutExecutionArn?: string;
}

/**
 * The end of every drain (drained, forced, failed, node gone):
 * 1. record the outcome (only the execution that owns the record may);
 * 2. unless it failed, complete the lifecycle action with CONTINUE — whichever trigger
 *    brought it — so the instance terminates now; a failed drain leaves the node cordoned
 *    and the hook to its default result;
 * 3. publish `Node Drain Finished` for chat and anyone listening.
 * Safe to repeat: a closed action is reported, the event is published again.
 */
export async function finishDrain(input: FinishDrainInput, ports: FinishDrainPorts): Promise<DrainFinished> {
  const now = ports.now();
  const record = (await ports.records.finish(input.instanceId, input.outcome, input.executionArn, now)) ?? (await ports.records.get(input.instanceId));
  let lifecycleAction: DrainFinished['lifecycleAction'] = 'none';
  if (record?.lifecycleAction) {
    if (input.outcome === 'failed') lifecycleAction = 'left-to-default';
    else {
      try {
        await completeLifecycleAction(ports.autoscaling, record.lifecycleAction, 'CONTINUE');
        lifecycleAction = 'continued';
      } catch (error) {
        if (!(error instanceof LifecycleActionGoneError)) throw error;
        lifecycleAction = 'already-closed';
      }
    }
  }
  const finished: DrainFinished = {
    outcome: input.outcome,
    cluster: input.cluster,
    instanceId: input.instanceId,
    nodeName: input.nodeName,
    trigger: input.trigger,
    durationSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(input.startedAt)) / 1000)),
    remaining: input.remaining,
    blockers: input.blockers,
    ...(input.error ? { reason: `${input.error.Error ?? 'Error'}: ${input.error.Cause ?? ''}`.slice(0, 1000) } : {}),
    lifecycleAction,
    ...(input.executionArn ? { executionArn: input.executionArn } : {}),
    ...(input.executionInput?.rolloutExecutionArn ? { rolloutExecutionArn: input.executionInput.rolloutExecutionArn } : {}),
  };
  await publishEvent(ports.eventbridge, DRAIN_FINISHED, finished, input.executionArn ? [input.executionArn] : []);
  ports.log('drain finished', { ...finished, blockers: finished.blockers.map((b) => b.pod) });
  return finished;
}
