import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { requiresApproval } from '../shared/chatops/access-policy.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { BeginRolloutInputSchema } from '../shared/events/rollout.js';
import { beginRollout } from '../shared/rollout/begin-rollout.js';
import { accessPolicySource } from './lib/access-policy-source.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's first step: policy, maintenance window, the group's lock. Changes nothing in the group. */
const config = loadServiceConfig();
const shared = rolloutPorts(config);
const clients = { autoscaling: new AutoScalingClient({ region: config.region }), eks: new EKSClient({ region: config.region }) };
// the cluster's requireApproval applies to every rollout, however it was started
const policy = accessPolicySource(new SSMClient({ region: config.region }), requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER'));
const clusterRequiresApproval = async (cluster: string) => requiresApproval(await policy(), cluster);

export const handler = lambdaHandler({
  schema: BeginRolloutInputSchema,
  correlate: ({ input, executionArn }) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn }),
  run: async ({ input, executionArn }) => {
    const notify = shared.notifier({ ...input, executionArn });
    const begin = await beginRollout({ ...input, executionArn }, { ...clients, locks: shared.locks, requiresApproval: clusterRequiresApproval, notify, mode: config.mode, now, log: logInfo });
    return { ...input, begin };
  },
});
