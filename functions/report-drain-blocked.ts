import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { reportDrainBlocked } from '../shared/drain/report-blocked.js';
import { ReportDrainBlockedInputSchema } from '../shared/events/drain.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** node-drain step: the drain is past its deadline and holds the node for its terminate hook; say so once (`Node Drain Blocked`). */
const config = loadServiceConfig();
const ports = { aws: awsScope({ region: config.region }), now, log: logInfo };

export const handler = lambdaHandler({
  schema: ReportDrainBlockedInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => reportDrainBlocked(input, ports),
});
