import { type SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { callAws } from '../aws/call.js';
import type { RequestApprovalInput, RolloutControlRequest } from '../events/rollout.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import type { RolloutEventName } from './rollout-events.js';

type Notify = (event: RolloutEventName, detail: Record<string, unknown>) => Promise<void>;

export interface ControlPorts {
  sfn: SFNClient;
  locks: NodeGroupLocks;
  /** the notifier of the rollout the lock names */
  notifier: (executionArn: string) => Notify;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export type ControlResult =
  | { result: 'done'; action: RolloutControlRequest['action']; executionArn: string; summary: string }
  | { result: 'no-rollout' | 'not-waiting-for-approval'; summary: string };

/**
 * The approval gate's callback task: keep the task token with the group's lock and ask for a
 * decision. The workflow then waits (up to 24 h) for SendTaskSuccess or SendTaskFailure.
 */
export async function requestApproval(input: RequestApprovalInput, ports: Pick<ControlPorts, 'locks' | 'log'> & { notify: Notify }): Promise<void> {
  await ports.locks.setApprovalToken(lockKeyOf(input.cluster, input.group.name), input.executionArn, input.taskToken);
  await ports.notify('approval-requested', {
    plan: input.plan,
    from: input.from,
    summary: `${input.cluster}/${input.group.name}: approve rolling onto ${input.target.release ?? input.target.imageName ?? input.target.imageId}? ${input.plan.summary}`,
  });
}

/**
 * What a person (chat, CLI) can do to a running rollout:
 * - approve / reject: answers the approval gate with the task token kept on the lock;
 * - pause / resume / abort: recorded on the lock; the roll loop reads it at each batch
 *   boundary (abort finishes the batch in flight and leaves the group consistent).
 */
export async function controlRollout(request: RolloutControlRequest, ports: ControlPorts): Promise<ControlResult> {
  const key = lockKeyOf(request.cluster, request.group);
  const lock = await ports.locks.get(key);
  const who = `${request.cluster}/${request.group}`;
  if (!lock) return { result: 'no-rollout', summary: `no rollout of ${who} is running` };

  switch (request.action) {
    case 'approve':
    case 'reject': {
      if (!lock.approvalToken) return { result: 'not-waiting-for-approval', summary: `the rollout of ${who} is not waiting for approval` };
      if (request.action === 'approve') {
        await callAws('states:SendTaskSuccess', () => ports.sfn.send(new SendTaskSuccessCommand({ taskToken: lock.approvalToken, output: JSON.stringify({ approvedBy: request.requestedBy }) })));
        await ports.notifier(lock.owner)('approved', { approvedBy: request.requestedBy });
      } else {
        await callAws('states:SendTaskFailure', () =>
          ports.sfn.send(new SendTaskFailureCommand({ taskToken: lock.approvalToken, error: 'RolloutRejectedError', cause: `rejected by ${request.requestedBy}${request.reason ? `: ${request.reason}` : ''}` })),
        );
      }
      await ports.locks.setApprovalToken(key, lock.owner, null);
      ports.log('rollout approval answered', { action: request.action, by: request.requestedBy, executionArn: lock.owner });
      return { result: 'done', action: request.action, executionArn: lock.owner, summary: `${request.action === 'approve' ? 'approved' : 'rejected'} the rollout of ${who}` };
    }
    case 'pause':
    case 'abort':
    case 'resume': {
      const updated = await ports.locks.setControl(key, request.action === 'resume' ? null : request.action, request.requestedBy);
      if (!updated) return { result: 'no-rollout', summary: `no rollout of ${who} is running` };
      ports.log('rollout control', { action: request.action, by: request.requestedBy, executionArn: updated.owner });
      const when = request.action === 'resume' ? 'now' : 'after the batch in flight';
      return { result: 'done', action: request.action, executionArn: updated.owner, summary: `${request.action} of the rollout of ${who} recorded; it takes effect ${when}` };
    }
  }
}
