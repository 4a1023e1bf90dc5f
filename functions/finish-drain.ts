import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../shared/aws/clients.js';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { finishDrain } from '../shared/drain/finish-drain.js';
import { FinishDrainInputSchema } from '../shared/events/drain.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** node-drain workflow's last step: record the outcome, complete every open hook (unless failed), notify. */
const config = loadServiceConfig();
const ports = {
  autoscaling: new AutoScalingClient({ region: config.region }),
  eventbridge: new EventBridgeClient({ region: config.region }),
  records: new DrainRecords(awsScope({ region: config.region }), requireSetting(config.drainTable, 'DRAIN_TABLE')),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: FinishDrainInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => finishDrain(input, ports),
});
