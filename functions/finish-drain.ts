import { awsScope } from '../shared/aws/clients.js';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { finishDrain } from '../shared/drain/finish-drain.js';
import { FinishDrainInputSchema } from '../shared/events/drain.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** node-drain workflow's last step: record the outcome, complete every open hook (unless failed), notify. */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  aws,
  records: new DrainRecords(aws, requireSetting(config.drainTable, 'DRAIN_TABLE')),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: FinishDrainInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => finishDrain(input, ports),
});
