import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { requestDrain } from '../shared/drain/request-drain.js';
import { DrainTriggerSchema } from '../shared/events/drain.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { nodeInstanceId } from '../shared/kube/find-node.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/**
 * EventBridge: `EC2 Instance-terminate Lifecycle Action`, `EC2 Spot Instance Interruption
 * Warning`, `EC2 Instance Rebalance Recommendation`; direct invocation: a manual drain.
 */
const config = loadServiceConfig();
const eks = new EKSClient({ region: config.region });
const kube = new KubeClients(eks, new EksTokenCache({ region: config.region, now }));
const ports = {
  ec2: new EC2Client({ region: config.region }),
  autoscaling: new AutoScalingClient({ region: config.region }),
  eks,
  sfn: new SFNClient({ region: config.region }),
  records: new DrainRecords(new DynamoDBClient({ region: config.region }), requireSetting(config.drainTable, 'DRAIN_TABLE')),
  managedClusters: config.managedClusters,
  nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
  instanceOfNode: async (cluster: string, nodeName: string) => nodeInstanceId(await kube.core(cluster), cluster, nodeName),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: DrainTriggerSchema,
  correlate: (trigger) =>
    'kind' in trigger
      ? { cluster: trigger.cluster, instanceId: trigger.instanceId }
      : { instanceId: 'EC2InstanceId' in trigger.detail ? trigger.detail.EC2InstanceId : trigger.detail['instance-id'] },
  run: (trigger) => requestDrain(trigger, ports),
});
