import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { RolloutControlRequestSchema } from '../shared/events/rollout.js';
import { controlRolloutDirectly } from '../shared/rollout/rollout-control.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { approvalsOf, rolloutPorts } from './lib/rollout-ports.js';

/**
 * Direct invocation (operators' tooling): pause, resume or abort a group's rollout. Lambda
 * does not say who invoked it, so `requestedBy` is recorded as unverified and approvals are
 * refused here (they go through Slack or the CLI, where the caller is authenticated); IAM
 * decides who may invoke this function at all.
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const shared = rolloutPorts(config, aws);
const approvals = approvalsOf(config, aws);

export const handler = lambdaHandler({
  schema: RolloutControlRequestSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group }),
  run: (input) =>
    controlRolloutDirectly(input, {
      aws,
      locks: shared.locks,
      approvals,
      notifier: shared.approvalNotifier,
      now,
      log: logInfo,
    }),
});
