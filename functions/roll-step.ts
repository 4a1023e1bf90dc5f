import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../shared/aws/clients.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { RollStepInputSchema } from '../shared/events/rollout.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { runRollStep } from '../shared/rollout/roll-step.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's roll loop: one step of the group's roll (batches and their drains, EKS update or instance refresh). */
const config = loadServiceConfig();
const shared = rolloutPorts(config);
const eks = new EKSClient({ region: config.region });
const ports = {
  ec2: new EC2Client({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  eks,
  kube: new KubeClients(eks, new EksTokenCache({ region: config.region, now })),
  records: new DrainRecords(awsScope({ region: config.region }), requireSetting(config.drainTable, 'DRAIN_TABLE')),
  locks: shared.locks,
  // a drain whose owner's lease lapsed is checked, one the rollout cannot finish handed to node-drain (drain-batch.ts)
  sfn: new SFNClient({ region: config.region }),
  nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: RollStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => runRollStep(input, { ...ports, notify: shared.notifier(input) }),
});
