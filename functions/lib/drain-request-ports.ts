import type { AwsScope } from '../../shared/aws/clients.js';
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
export function drainRequestPorts(config: ServiceConfig, aws: AwsScope): RequestDrainPorts & { kube: KubeClients } {
  const kube = new KubeClients(aws, new EksTokenCache({ region: config.region, now }));
  return {
    aws,
    records: new DrainRecords(aws, requireSetting(config.drainTable, 'DRAIN_TABLE')),
    managedClusters: config.managedClusters,
    nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
    instanceOfNode: async (cluster: string, nodeName: string) => nodeInstanceId(await kube.core(cluster), cluster, nodeName),
    kube,
    mode: config.mode,
    publish: (detailType: string, detail: object) => publishEvent(aws, detailType, detail),
    now,
    log: logInfo,
  };
}
