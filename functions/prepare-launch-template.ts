import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { PrepareLaunchTemplateInputSchema } from '../shared/events/detection.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { prepareLaunchTemplate } from '../shared/rollout/prepare-launch-template.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** ami-rollout step: a validated launch template version with the target image (idempotent). */
const config = loadServiceConfig();
const eks = new EKSClient({ region: config.region });
const ports = {
  ec2: new EC2Client({ region: config.region }),
  eks,
  autoscaling: new AutoScalingClient({ region: config.region }),
  // the VPC CNI's settings (aws-node) decide max pods
  kube: new KubeClients(eks, new EksTokenCache({ region: config.region, now })),
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: PrepareLaunchTemplateInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => prepareLaunchTemplate(input, ports),
});
