import { awsScope } from '../shared/aws/clients.js';
import { RequestGuards } from '../shared/chatops/request-guards.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { authorizeForcedDrain } from '../shared/drain/authorize-forced-drain.js';
import { requestDrain } from '../shared/drain/request-drain.js';
import { uncordonInstance } from '../shared/drain/uncordon-node.js';
import { DrainTriggerSchema, ManualUncordonRequestSchema } from '../shared/events/drain.js';
import * as z from 'zod/mini';
import { drainRequestPorts } from './lib/drain-request-ports.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * EventBridge: `EC2 Instance-terminate Lifecycle Action`, `EC2 Spot Instance Interruption
 * Warning`, `EC2 Instance Rebalance Recommendation`; direct invocation: a manual drain
 * (forced only with chat-ops' grant), and its reverse, a manual uncordon (this function has the
 * clusters' Kubernetes access and the drain records that say whether a drain runs).
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = drainRequestPorts(config, aws);
const guards = new RequestGuards(aws, requireSetting(config.chatopsTable, 'CHATOPS_TABLE'));
const grants = { use: (id: string, instanceId: string, at: Date) => guards.useForcedDrainGrant(id, instanceId, at) };

export const handler = lambdaHandler({
  schema: z.union([DrainTriggerSchema, ManualUncordonRequestSchema]),
  correlate: (trigger) =>
    'kind' in trigger
      ? { cluster: trigger.cluster, instanceId: trigger.instanceId }
      : { instanceId: 'EC2InstanceId' in trigger.detail ? trigger.detail.EC2InstanceId : trigger.detail['instance-id'] },
  run: async (trigger) => ('kind' in trigger && trigger.kind === 'manual-uncordon' ? uncordonInstance(trigger, ports) : requestDrain(await authorizeForcedDrain(trigger, grants, ports.now()), ports)),
});
