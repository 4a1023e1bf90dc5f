import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../../shared/aws/clients.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { publishEvent } from '../../shared/aws/notifications.js';
import { DrainRecords } from '../../shared/aws/drain-records.js';
import { now } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import type { RequestDrainPorts } from '../../shared/drain/request-drain.js';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';
import { nodeInstanceId } from '../../shared/kube/find-node.js';
import { logInfo } from './handler.js';

/**
 * What starting a drain needs (requestDrain, and the rollout, which drains through it), built
 * once per cold start; `kube` is shared with the function's other Kubernetes calls.
 */
export function drainRequestPorts(config: ServiceConfig): RequestDrainPorts & { kube: KubeClients } {
  const eks = new EKSClient({ region: config.region });
  const kube = new KubeClients(eks, new EksTokenCache({ region: config.region, now }));
  const eventbridge = new EventBridgeClient({ region: config.region });
  return {
    ec2: new EC2Client({ region: config.region }),
    autoscaling: new AutoScalingClient({ region: config.region }),
    eks,
    sfn: new SFNClient({ region: config.region }),
    records: new DrainRecords(awsScope({ region: config.region }), requireSetting(config.drainTable, 'DRAIN_TABLE')),
    managedClusters: config.managedClusters,
    nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
    instanceOfNode: async (cluster: string, nodeName: string) => nodeInstanceId(await kube.core(cluster), cluster, nodeName),
    kube,
    mode: config.mode,
    publish: (detailType: string, detail: object) => publishEvent(eventbridge, detailType, detail),
    now,
    log: logInfo,
  };
}
