import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { detectStaleGroups } from '../shared/detect/detect.js';
import { DetectionTriggerSchema } from '../shared/events/detection.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** Schedule, `EC2 AMI State Change`, `EC2 Image Builder Image State Change`, or on demand (`{kind:'detect', dryRun}`). */
const config = loadServiceConfig();
const ports = {
  eks: new EKSClient({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  ec2: new EC2Client({ region: config.region }),
  ssm: new SSMClient({ region: config.region }),
  sfn: new SFNClient({ region: config.region }),
  managedClusters: config.managedClusters,
  amiRolloutStateMachineArn: requireSetting(config.amiRolloutStateMachineArn, 'AMI_ROLLOUT_STATE_MACHINE_ARN'),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: DetectionTriggerSchema,
  correlate: (trigger) => ('kind' in trigger && trigger.kind === 'detect' && trigger.cluster ? { cluster: trigger.cluster } : {}),
  run: (trigger) => detectStaleGroups(trigger, ports),
});
