import { loadServiceConfig } from '../shared/config/service-config.js';
import { FinishRolloutInputSchema } from '../shared/events/rollout.js';
import { finishRollout } from '../shared/rollout/finish-rollout.js';
import { z } from 'zod';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's way out: release the group's lock, announce the outcome. */
const config = loadServiceConfig();
const shared = rolloutPorts(config);

export const handler = lambdaHandler({
  schema: FinishRolloutInputSchema.extend({ announced: z.boolean().default(false) }),
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => finishRollout(input, { locks: shared.locks, notify: shared.notifier(input), log: logInfo }),
});
