import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { PrepareLaunchTemplateInputSchema } from '../shared/events/detection.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { prepareLaunchTemplate } from '../shared/rollout/prepare-launch-template.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** ami-rollout step: a validated launch template version with the target image (idempotent). */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  aws,
  // the VPC CNI's settings (aws-node) decide max pods
  kube: new KubeClients(aws, new EksTokenCache({ region: config.region, now })),
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: PrepareLaunchTemplateInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => prepareLaunchTemplate(input, ports),
});
