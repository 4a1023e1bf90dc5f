import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { RequestApprovalInputSchema } from '../shared/events/rollout.js';
import { requestApproval } from '../shared/rollout/rollout-control.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { approvalsOf, rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's approval gate (a callback task): keep the token server-side, ask a person with an approval id. */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const shared = rolloutPorts(config, aws);
const approvals = approvalsOf(config, aws);

export const handler = lambdaHandler({
  schema: RequestApprovalInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => requestApproval(input, { locks: shared.locks, approvals, notify: shared.notifier(input), now, log: logInfo }),
});
