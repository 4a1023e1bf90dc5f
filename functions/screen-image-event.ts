import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../shared/aws/clients.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { DetectionWindows } from '../shared/detect/detection-windows.js';
import { screenImageEvent } from '../shared/detect/screen-image-event.js';
import { ImageEventSchema } from '../shared/events/detection.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** `EC2 AMI State Change` and `EC2 Image Builder Image State Change`: a detection only for the groups the image could move, debounced. */
const config = loadServiceConfig();
const ports = {
  ec2: new EC2Client({ region: config.region }),
  eks: new EKSClient({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  sfn: new SFNClient({ region: config.region }),
  managedClusters: config.managedClusters,
  detectionStateMachineArn: requireSetting(config.amiDetectionStateMachineArn, 'AMI_DETECTION_STATE_MACHINE_ARN'),
  windows: new DetectionWindows(awsScope({ region: config.region }), requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE')),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: ImageEventSchema,
  run: (event) => screenImageEvent(event, ports),
});
