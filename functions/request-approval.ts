import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { RequestApprovalInputSchema } from '../shared/events/rollout.js';
import { requestApproval } from '../shared/rollout/rollout-control.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { approvalsOf, rolloutPlaces, rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's approval gate (a callback task): keep the token server-side, ask a person with an approval id. */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const shared = rolloutPorts(config, places.hub);
const approvals = approvalsOf(config, places.hub);

export const handler = lambdaHandler({
  schema: RequestApprovalInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn, accountId: input.place?.accountId, region: input.place?.region }),
  run: (input) => {
    const { place } = places.at(input.place);
    return requestApproval({ ...input, place }, { locks: shared.locks, approvals, notify: shared.notifier({ ...input, place }), now, log: logInfo });
  },
});
