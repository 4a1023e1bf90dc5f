import type { AwsScope } from '../../shared/aws/clients.js';
import { invokeFunction } from '../../shared/aws/functions.js';
import { AuditLog } from '../../shared/chatops/audit-log.js';
import { RequestGuards } from '../../shared/chatops/request-guards.js';
import type { CommandPorts } from '../../shared/chatops/run-command.js';
import { now, sleep } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import type { RequestDrainOutcome } from '../../shared/drain/request-drain.js';
import type { UncordonOutcome } from '../../shared/drain/uncordon-node.js';
import type { ManualDrainRequest, ManualUncordonRequest } from '../../shared/events/drain.js';
import type { ClusterProbe } from '../../shared/doctor/probe-cluster.js';
import { PlaceScopes, type Place } from '../../shared/aws/places.js';
import { fleetPlaces } from '../../shared/config/member-accounts.js';
import { accessPolicySource } from './access-policy-source.js';
import { logInfo } from './handler.js';
import { approvalsOf, rolloutPorts } from './rollout-ports.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import { publishEvent } from '../../shared/aws/notifications.js';
import type { PromotionPorts } from '../../shared/chatops/promotion-commands.js';
import { PROMOTION_PROGRESS } from '../../shared/events/promotion-events.js';
import { promotionPolicySource } from './promotion-policy-source.js';

/**
 * The fleet the commands see: every place (fleetPlaces: the hub first) and a scope per place
 * (a member's from AssumeRole of this function's member role, cached). Only the hub's place
 * when no member is configured: the commands then answer exactly as a single-account deployment.
 */
function fleetOf(config: ServiceConfig, aws: AwsScope): Pick<CommandPorts, 'fleet'> {
  const scopes = new PlaceScopes(config.fleet.hubAccountId && !aws.accountId ? { ...aws, accountId: config.fleet.hubAccountId } : aws, config.fleet.roles);
  return { fleet: { places: fleetPlaces(config.fleet, config.region, config.managedClusters), scopeOf: (place) => scopes.scopeOf(place) } };
}

/**
 * Fleet promotion's commands: the fleet table, the promotion policy (SSM, re-read every five
 * minutes; none while the parameter does not exist) and the thread's events. Absent without a
 * fleet table: those commands say fleet promotion is not set up.
 */
function promotionsOf(config: ServiceConfig, aws: AwsScope): Pick<CommandPorts, 'promotions' | 'rolloutGate'> {
  if (!config.fleetTable) return {};
  const records = new FleetRecords(aws, config.fleetTable);
  const policy = promotionPolicySource(aws, config.promotionPolicyParameter);
  const promotions: PromotionPorts = { records, policy, publish: (detail) => publishEvent(aws, PROMOTION_PROGRESS, detail) };
  // a person's rollout asks what detection asks: the rings (the policy), holds and freezes (the fleet table)
  return { promotions, rolloutGate: { policy, fleetView: () => records.fleetView() } };
}

/** What the chat commands need (chatWorker, chatInvoke, chatApi), built once per cold start. */
export function chatPorts(config: ServiceConfig, aws: AwsScope): CommandPorts {
  const rollouts = rolloutPorts(config, aws);
  const chatopsTable = requireSetting(config.chatopsTable, 'CHATOPS_TABLE');
  const requestDrainFunction = requireSetting(config.chat.requestDrainFunction, 'REQUEST_DRAIN_FUNCTION');
  const doctorProbeFunction = requireSetting(config.chat.doctorProbeFunction, 'DOCTOR_PROBE_FUNCTION');
  return {
    policy: accessPolicySource(aws, requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER')),
    auditLog: new AuditLog(aws, chatopsTable),
    guards: new RequestGuards(aws, chatopsTable),
    approvals: approvalsOf(config, aws),
    locks: rollouts.locks,
    aws,
    amiRolloutStateMachineArn: requireSetting(config.amiRolloutStateMachineArn, 'AMI_ROLLOUT_STATE_MACHINE_ARN'),
    inventory: { aws, managedClusters: config.managedClusters, mode: config.mode, now, log: logInfo },
    requestDrain: (request: ManualDrainRequest) => invokeFunction<RequestDrainOutcome>(aws, requestDrainFunction, request),
    uncordon: (request: ManualUncordonRequest) => invokeFunction<UncordonOutcome>(aws, requestDrainFunction, request),
    doctorProbe: (cluster: string, place?: Place) => invokeFunction<ClusterProbe>(aws, doctorProbeFunction, { cluster, ...(place ? { accountId: place.accountId, region: place.region } : {}) }),
    ...fleetOf(config, aws),
    ...promotionsOf(config, aws),
    notifier: rollouts.approvalNotifier,
    now,
    sleep,
    log: logInfo,
  };
}
