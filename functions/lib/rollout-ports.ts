import type { AwsScope } from '../../shared/aws/clients.js';
import { now } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import { Approvals, type ApprovalView } from '../../shared/rollout/approvals.js';
import { NodeGroupLocks } from '../../shared/rollout/node-group-lock.js';
import { type RolloutContext, rolloutNotifier } from '../../shared/rollout/rollout-events.js';
import { awayPlace, type RolloutPlace, rolloutPlaceOf } from '../../shared/rollout/rollout-place.js';
import { placeScopesOf } from './places.js';

/**
 * Where a rollout's steps act. The group is rolled in its place — EKS, EC2, Auto Scaling,
 * IAM and the cluster's API in its account and region, with the member role's credentials
 * there — while what the service keeps (the locks, approvals and drain tables, Step
 * Functions, the event bus) stays in the hub's scope. Built once per cold start; a place's
 * scope is built on its first rollout and kept (kube-places.ts: its cluster API clients).
 */
export function rolloutPlaces(config: Pick<ServiceConfig, 'region' | 'fleet'>) {
  const scopes = placeScopesOf(config);
  return {
    scopes,
    /** the hub's own scope: the tables, Step Functions, the event bus */
    hub: scopes.home,
    /** a step's place (`{}`: the hub's own) and the scope the group is acted on in */
    at(given: { accountId?: string | undefined; region?: string | undefined } | undefined): { place: RolloutPlace; aws: AwsScope } {
      const place = rolloutPlaceOf(scopes, given);
      return { place, aws: scopes.scopeOf(awayPlace(place)) };
    },
  };
}
export type RolloutPlaces = ReturnType<typeof rolloutPlaces>;

/** What every ami-rollout step shares: the group locks and the notifications, in the hub. Built once per cold start. */
export function rolloutPorts(config: ServiceConfig, hub: AwsScope) {
  return {
    locks: new NodeGroupLocks(hub, requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE')),
    /** the notifier of one rollout: its events name the cluster (and its place, when not the hub's own), group, target and execution */
    notifier: (context: RolloutContext) => rolloutNotifier(hub, context, now),
    /** the notifier of the rollout an approval belongs to (approve/deny come with the approval, not the whole rollout) */
    approvalNotifier: (approval: Pick<ApprovalView, 'cluster' | 'group' | 'target' | 'executionArn' | 'accountId' | 'region'>) =>
      rolloutNotifier(hub, { place: approval, cluster: approval.cluster, group: { kind: 'node group', name: approval.group }, target: { imageId: approval.target }, executionArn: approval.executionArn }, now),
  };
}

/** The approvals (task tokens stay here): only the functions that ask or answer have CHATOPS_TABLE, and only they bundle the store. */
export function approvalsOf(config: ServiceConfig, hub: AwsScope): Approvals {
  return new Approvals(hub, requireSetting(config.chatopsTable, 'CHATOPS_TABLE'));
}
