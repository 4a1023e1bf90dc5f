import { loadServiceConfig } from '../shared/config/service-config.js';
import { requestDrain } from '../shared/drain/request-drain.js';
import { DrainTriggerSchema } from '../shared/events/drain.js';
import { drainRequestPorts } from './lib/drain-request-ports.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * EventBridge: `EC2 Instance-terminate Lifecycle Action`, `EC2 Spot Instance Interruption
 * Warning`, `EC2 Instance Rebalance Recommendation`; direct invocation: a manual drain.
 */
const ports = drainRequestPorts(loadServiceConfig());

export const handler = lambdaHandler({
  schema: DrainTriggerSchema,
  correlate: (trigger) =>
    'kind' in trigger
      ? { cluster: trigger.cluster, instanceId: trigger.instanceId }
      : { instanceId: 'EC2InstanceId' in trigger.detail ? trigger.detail.EC2InstanceId : trigger.detail['instance-id'] },
  run: (trigger) => requestDrain(trigger, ports),
});
