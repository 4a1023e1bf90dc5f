import { awsScope } from '../shared/aws/clients.js';
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
const aws = awsScope({ region: config.region });
const shared = rolloutPorts(config, aws);
// the cluster's requireApproval applies to every rollout, however it was started
const policy = accessPolicySource(aws, requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER'));
const clusterRequiresApproval = async (cluster: string) => requiresApproval(await policy(), cluster);

export const handler = lambdaHandler({
  schema: BeginRolloutInputSchema,
  correlate: ({ input, executionArn }) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn }),
  run: async ({ input, executionArn }) => {
    const notify = shared.notifier({ ...input, executionArn });
    const begin = await beginRollout({ ...input, executionArn }, { aws, locks: shared.locks, requiresApproval: clusterRequiresApproval, notify, mode: config.mode, now, log: logInfo });
    return { ...input, begin };
  },
});
