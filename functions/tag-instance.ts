import { awsScope } from '../shared/aws/clients.js';
import { publishEvent } from '../shared/aws/notifications.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { InstanceLaunchEventSchema, instanceIdOf } from '../shared/events/instance-event.js';
import { tagLaunchedInstance } from '../shared/ownership/tag-instance.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** EventBridge: `EC2 Instance State-change Notification` (running), `EC2 Instance-launch Lifecycle Action`. */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  aws,
  managedClusters: config.managedClusters,
  nodeJoinStateMachineArn: requireSetting(config.nodeJoinStateMachineArn, 'NODE_JOIN_STATE_MACHINE_ARN'),
  mode: config.mode,
  publish: (detailType: string, detail: object) => publishEvent(aws, detailType, detail),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: InstanceLaunchEventSchema,
  correlate: (event) => ({ instanceId: instanceIdOf(event) }),
  run: (event) => tagLaunchedInstance(event, ports),
});
