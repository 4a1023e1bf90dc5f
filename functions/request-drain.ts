import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChatopsTable } from '../shared/chatops/chatops-table.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { authorizeForcedDrain } from '../shared/drain/authorize-forced-drain.js';
import { requestDrain } from '../shared/drain/request-drain.js';
import { DrainTriggerSchema } from '../shared/events/drain.js';
import { drainRequestPorts } from './lib/drain-request-ports.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * EventBridge: `EC2 Instance-terminate Lifecycle Action`, `EC2 Spot Instance Interruption
 * Warning`, `EC2 Instance Rebalance Recommendation`; direct invocation: a manual drain
 * (forced only with chat-ops' grant).
 */
const config = loadServiceConfig();
const ports = drainRequestPorts(config);
const chatops = new ChatopsTable(new DynamoDBClient({ region: config.region }), requireSetting(config.chatopsTable, 'CHATOPS_TABLE'));
const grants = { use: (id: string, instanceId: string, at: Date) => chatops.useForcedDrainGrant(id, instanceId, at) };

export const handler = lambdaHandler({
  schema: DrainTriggerSchema,
  correlate: (trigger) =>
    'kind' in trigger
      ? { cluster: trigger.cluster, instanceId: trigger.instanceId }
      : { instanceId: 'EC2InstanceId' in trigger.detail ? trigger.detail.EC2InstanceId : trigger.detail['instance-id'] },
  run: async (trigger) => requestDrain(await authorizeForcedDrain(trigger, grants, ports.now()), ports),
});
