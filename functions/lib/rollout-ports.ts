import type { AwsScope } from '../../shared/aws/clients.js';
import { now } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import { Approvals, type ApprovalView } from '../../shared/rollout/approvals.js';
import { NodeGroupLocks } from '../../shared/rollout/node-group-lock.js';
import { type RolloutContext, rolloutNotifier } from '../../shared/rollout/rollout-events.js';

/** What every ami-rollout step shares: the group locks and the notifications. Built once per cold start. */
export function rolloutPorts(config: ServiceConfig, aws: AwsScope) {
  return {
    locks: new NodeGroupLocks(aws, requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE')),
    /** the notifier of one rollout: its events name the cluster, group, target and execution */
    notifier: (context: RolloutContext) => rolloutNotifier(aws, context, now),
    /** the notifier of the rollout an approval belongs to (approve/deny come with the approval, not the whole rollout) */
    approvalNotifier: (approval: Pick<ApprovalView, 'cluster' | 'group' | 'target' | 'executionArn'>) =>
      rolloutNotifier(aws, { cluster: approval.cluster, group: { kind: 'node group', name: approval.group }, target: { imageId: approval.target }, executionArn: approval.executionArn }, now),
  };
}

/** The approvals (task tokens stay here): only the functions that ask or answer have CHATOPS_TABLE, and only they bundle the store. */
export function approvalsOf(config: ServiceConfig, aws: AwsScope): Approvals {
  return new Approvals(aws, requireSetting(config.chatopsTable, 'CHATOPS_TABLE'));
}
