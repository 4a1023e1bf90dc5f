import { requiresApproval } from '../shared/chatops/access-policy.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { BeginRolloutInputSchema } from '../shared/events/rollout.js';
import { beginRollout } from '../shared/rollout/begin-rollout.js';
import { accessPolicySource } from './lib/access-policy-source.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPlaces, rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's first step: policy, maintenance window, the group's lock. Changes nothing in the group. */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const shared = rolloutPorts(config, places.hub);
// the cluster's requireApproval applies to every rollout, however it was started
const policy = accessPolicySource(places.hub, requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER'));
const clusterRequiresApproval = async (cluster: string) => requiresApproval(await policy(), cluster);

export const handler = lambdaHandler({
  schema: BeginRolloutInputSchema,
  correlate: ({ input, executionArn }) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn, accountId: input.accountId, region: input.region }),
  run: async ({ input, executionArn }) => {
    // the group is read in its place; the lock and the decision are kept in the hub
    const { place, aws } = places.at(input);
    const notify = shared.notifier({ ...input, place, executionArn });
    const begin = await beginRollout({ ...input, place, executionArn }, { aws, locks: shared.locks, requiresApproval: clusterRequiresApproval, notify, mode: config.mode, now, log: logInfo });
    // the workflow hands `place` to every later step (and to the executions it continues in)
    return { ...input, place, begin };
  },
});
