import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { FinishRolloutInputSchema } from '../shared/events/rollout.js';
import { finishRollout } from '../shared/rollout/finish-rollout.js';
import * as z from 'zod/mini';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPlaces, rolloutPorts } from './lib/rollout-ports.js';
import { rolloutFleet } from './lib/rollout-fleet.js';

/** ami-rollout's way out: release the group's lock, announce the outcome (both in the hub, whatever the group's place). */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const shared = rolloutPorts(config, places.hub);
const fleet = rolloutFleet(config, places.hub);

export const handler = lambdaHandler({
  schema: z.extend(FinishRolloutInputSchema, { announced: z._default(z.boolean(), false) }),
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn, accountId: input.place?.accountId, region: input.place?.region }),
  run: (input) => {
    const { place } = places.at(input.place);
    return finishRollout({ ...input, place }, { locks: shared.locks, recordOutcome: fleet.recordOutcome, notify: shared.notifier({ ...input, place }), now, log: logInfo });
  },
});
