import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { RolloutControlRequestSchema } from '../shared/events/rollout.js';
import { controlRolloutDirectly } from '../shared/rollout/rollout-control.js';
import { placeFieldsOf } from '../shared/rollout/rollout-place.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { approvalsOf, rolloutPlaces, rolloutPorts } from './lib/rollout-ports.js';

/**
 * Direct invocation (operators' tooling): pause, resume or abort a group's rollout. Lambda
 * does not say who invoked it, so `requestedBy` is recorded as unverified and approvals are
 * refused here (they go through Slack or the CLI, where the caller is authenticated); IAM
 * decides who may invoke this function at all. A member's group is named with its
 * accountId and region; the lock is the hub's either way.
 */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const shared = rolloutPorts(config, places.hub);
const approvals = approvalsOf(config, places.hub);

export const handler = lambdaHandler({
  schema: RolloutControlRequestSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group, accountId: input.accountId, region: input.region }),
  run: ({ accountId, region, ...request }) =>
    controlRolloutDirectly(
      // the hub's own place named in full is the hub's own: its lock key is the one it always was
      { ...request, ...placeFieldsOf(places.at({ accountId, region }).place) },
      {
        aws: places.hub,
        locks: shared.locks,
        approvals,
        notifier: shared.approvalNotifier,
        now,
        log: logInfo,
      },
    ),
});
