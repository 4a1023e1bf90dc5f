import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { PreflightInputSchema } from '../shared/events/rollout.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { runPreflight } from '../shared/rollout/preflight.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** ami-rollout preflight: every check before the first write; a failed one explains itself. */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  aws,
  kube: new KubeClients(aws, new EksTokenCache({ region: config.region, now })),
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: PreflightInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => runPreflight(input, ports),
});
