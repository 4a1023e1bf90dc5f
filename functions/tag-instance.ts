import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { publishEvent } from '../shared/aws/notifications.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { InstanceLaunchEventSchema, instanceIdOf } from '../shared/events/instance-event.js';
import { tagLaunchedInstance } from '../shared/ownership/tag-instance.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** EventBridge: `EC2 Instance State-change Notification` (running), `EC2 Instance-launch Lifecycle Action`. */
const config = loadServiceConfig();
const eventbridge = new EventBridgeClient({ region: config.region });
const ports = {
  ec2: new EC2Client({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  sfn: new SFNClient({ region: config.region }),
  managedClusters: config.managedClusters,
  nodeJoinStateMachineArn: requireSetting(config.nodeJoinStateMachineArn, 'NODE_JOIN_STATE_MACHINE_ARN'),
  mode: config.mode,
  publish: (detailType: string, detail: object) => publishEvent(eventbridge, detailType, detail),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: InstanceLaunchEventSchema,
  correlate: (event) => ({ instanceId: instanceIdOf(event) }),
  run: (event) => tagLaunchedInstance(event, ports),
});
