import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EKSClient } from '@aws-sdk/client-eks';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { BeginRolloutInputSchema } from '../shared/events/rollout.js';
import { beginRollout } from '../shared/rollout/begin-rollout.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's first step: policy, maintenance window, the group's lock. Changes nothing in the group. */
const config = loadServiceConfig();
const shared = rolloutPorts(config);
const clients = { autoscaling: new AutoScalingClient({ region: config.region }), eks: new EKSClient({ region: config.region }) };

export const handler = lambdaHandler({
  schema: BeginRolloutInputSchema,
  correlate: ({ input, executionArn }) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn }),
  run: async ({ input, executionArn }) => {
    const notify = shared.notifier({ ...input, executionArn });
    const begin = await beginRollout({ ...input, executionArn }, { ...clients, locks: shared.locks, notify, now, log: logInfo });
    return { ...input, begin };
  },
});
