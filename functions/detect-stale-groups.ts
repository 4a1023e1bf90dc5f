import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { awsScope } from '../shared/aws/clients.js';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { publishEvent } from '../shared/aws/notifications.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { ANNOUNCEMENT_TTL_SECONDS } from '../shared/detect/announce-problems.js';
import { detectStaleGroups } from '../shared/detect/detect.js';
import { metricsOfDetection, recordMetrics } from '../shared/metrics/metrics.js';
import { DetectionWindows } from '../shared/detect/detection-windows.js';
import { NodeGroupLocks } from '../shared/rollout/node-group-lock.js';
import { DetectionTriggerSchema } from '../shared/events/detection.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** Schedule, an AMI event's debounce window (the ami-detection workflow), or on demand (`{kind:'detect', dryRun}`). */
const config = loadServiceConfig();
const announcements = new NodeGroupLocks(awsScope({ region: config.region }), requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE'));
const eventbridge = new EventBridgeClient({ region: config.region });
const windows = new DetectionWindows(awsScope({ region: config.region }), requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE'));
const ports = {
  eks: new EKSClient({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  ec2: new EC2Client({ region: config.region }),
  ssm: new SSMClient({ region: config.region }),
  sfn: new SFNClient({ region: config.region }),
  managedClusters: config.managedClusters,
  mode: config.mode,
  amiRolloutStateMachineArn: requireSetting(config.amiRolloutStateMachineArn, 'AMI_ROLLOUT_STATE_MACHINE_ARN'),
  now,
  log: logInfo,
  windows,
  announce: {
    claim: (fingerprint: string, summary: string) => announcements.claimAnnouncement(fingerprint, summary, now(), ANNOUNCEMENT_TTL_SECONDS),
    release: (fingerprint: string) => announcements.releaseAnnouncement(fingerprint),
    publish: (detailType: string, detail: object) => publishEvent(eventbridge, detailType, detail),
  },
  publish: (detailType: string, detail: object) => publishEvent(eventbridge, detailType, detail),
};

export const handler = lambdaHandler({
  schema: DetectionTriggerSchema,
  correlate: (trigger) => (trigger.kind === 'detect' && trigger.cluster ? { cluster: trigger.cluster } : {}),
  run: async (trigger) => {
    const result = await detectStaleGroups(trigger, ports);
    if (!result.dryRun) recordMetrics(metricsOfDetection(result.plans));
    return result;
  },
});
