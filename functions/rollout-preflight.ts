import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { PreflightInputSchema } from '../shared/events/rollout.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { runPreflight } from '../shared/rollout/preflight.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** ami-rollout preflight: every check before the first write; a failed one explains itself. */
const config = loadServiceConfig();
const eks = new EKSClient({ region: config.region });
const ports = {
  ec2: new EC2Client({ region: config.region }),
  eks,
  iam: new IAMClient({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  kube: new KubeClients(eks, new EksTokenCache({ region: config.region, now })),
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: PreflightInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => runPreflight(input, ports),
});
