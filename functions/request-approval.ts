import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { RequestApprovalInputSchema } from '../shared/events/rollout.js';
import { requestApproval } from '../shared/rollout/rollout-control.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's approval gate (a callback task): keep the token server-side, ask a person with an approval id. */
const config = loadServiceConfig();
const shared = rolloutPorts(config, awsScope({ region: config.region }));
const approvals = shared.approvals();

export const handler = lambdaHandler({
  schema: RequestApprovalInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => requestApproval(input, { locks: shared.locks, approvals, notify: shared.notifier(input), now, log: logInfo }),
});
