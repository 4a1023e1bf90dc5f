import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { requestDrain } from '../shared/drain/request-drain.js';
import { RollStepInputSchema } from '../shared/events/rollout.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { nodeInstanceId } from '../shared/kube/find-node.js';
import { runRollStep } from '../shared/rollout/roll-step.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's roll loop: one step of the group's roll (batches, EKS update or instance refresh). */
const config = loadServiceConfig();
const shared = rolloutPorts(config);
const eks = new EKSClient({ region: config.region });
const kube = new KubeClients(eks, new EksTokenCache({ region: config.region, now }));
const clients = {
  ec2: new EC2Client({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  eks,
  sfn: new SFNClient({ region: config.region }),
  records: new DrainRecords(new DynamoDBClient({ region: config.region }), requireSetting(config.drainTable, 'DRAIN_TABLE')),
};
const drainPorts = {
  ...clients,
  managedClusters: config.managedClusters,
  nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
  instanceOfNode: async (cluster: string, nodeName: string) => nodeInstanceId(await kube.core(cluster), cluster, nodeName),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: RollStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) =>
    runRollStep(input, {
      ...clients,
      kube,
      locks: shared.locks,
      notify: shared.notifier(input),
      requestDrain: async (instanceId) => {
        await requestDrain({ kind: 'rollout-drain', cluster: input.cluster, instanceId, rolloutExecutionArn: input.executionArn }, drainPorts);
      },
      now,
      log: logInfo,
    }),
});
