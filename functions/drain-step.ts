import { awsScope } from '../shared/aws/clients.js';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { runDrainStep } from '../shared/drain/run-drain-step.js';
import { DrainStepInputSchema } from '../shared/events/drain.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** node-drain workflow step: the drain's lease and every open hook's heartbeat when due, then one pass (evict or force; none while the API is away: keep-alive). */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  aws,
  records: new DrainRecords(aws, requireSetting(config.drainTable, 'DRAIN_TABLE')),
  kube: new KubeClients(aws, new EksTokenCache({ region: config.region, now })),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: DrainStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => runDrainStep(input, ports),
});
