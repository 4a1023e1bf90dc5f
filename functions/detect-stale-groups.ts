import { publishEvent } from '../shared/aws/notifications.js';
import { now } from '../shared/clock.js';
import { fleetPlaces } from '../shared/config/member-accounts.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { ANNOUNCEMENT_TTL_SECONDS } from '../shared/detect/announce-problems.js';
import { DETECTIONS_AT_ONCE, detectStaleGroups } from '../shared/detect/detect.js';
import { metricsOfDetection, recordMetrics } from '../shared/metrics/metrics.js';
import { DetectionWindows } from '../shared/detect/detection-windows.js';
import { NodeGroupLocks } from '../shared/rollout/node-group-lock.js';
import { DetectionTriggerSchema } from '../shared/events/detection.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { budgetedPlaceScopesOf } from './lib/budgeted-places.js';
import { promotionPolicySource } from './lib/promotion-policy-source.js';
import { FleetRecords } from '../shared/aws/fleet-records.js';

/**
 * Schedule, an AMI event's debounce window (the ami-detection workflow), or on demand
 * (`{kind:'detect', dryRun}`), across every place of the fleet: the hub's, then each member
 * account's regions (scopes and their budgets built once per cold start). Fleet promotion: the
 * promotion policy (SSM, re-read at most every five minutes) is read once per detection; the
 * fleet table (promotions, freezes) and the promotion workflow are the hub's.
 */
const config = loadServiceConfig();
const places = budgetedPlaceScopesOf(config, DETECTIONS_AT_ONCE);
const aws = places.home;
const announcements = new NodeGroupLocks(aws, requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE'));
const windows = new DetectionWindows(aws, requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE'));
const ports = {
  aws,
  places,
  fleet: fleetPlaces(config.fleet, config.region, config.managedClusters),
  mode: config.mode,
  amiRolloutStateMachineArn: requireSetting(config.amiRolloutStateMachineArn, 'AMI_ROLLOUT_STATE_MACHINE_ARN'),
  now,
  log: logInfo,
  windows,
  announce: {
    claim: (fingerprint: string, summary: string) => announcements.claimAnnouncement(fingerprint, summary, now(), ANNOUNCEMENT_TTL_SECONDS),
    release: (fingerprint: string) => announcements.releaseAnnouncement(fingerprint),
    publish: (detailType: string, detail: object) => publishEvent(aws, detailType, detail),
  },
  publish: (detailType: string, detail: object) => publishEvent(aws, detailType, detail),
  promotions: {
    records: new FleetRecords(aws, requireSetting(config.fleetTable, 'FLEET_TABLE')),
    stateMachineArn: requireSetting(config.fleetPromotionStateMachineArn, 'FLEET_PROMOTION_STATE_MACHINE_ARN'),
  },
};
const promotionPolicy = promotionPolicySource(aws, config.promotionPolicyParameter);

export const handler = lambdaHandler({
  schema: DetectionTriggerSchema,
  correlate: (trigger) => (trigger.kind === 'detect' && trigger.cluster ? { cluster: trigger.cluster } : {}),
  run: async (trigger) => {
    const policy = await promotionPolicy();
    const result = await detectStaleGroups(trigger, { ...ports, ...(policy ? { promotionPolicy: policy } : {}) });
    if (!result.dryRun) recordMetrics(metricsOfDetection(result.plans));
    return result;
  },
});
