import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { FinishRolloutInputSchema } from '../shared/events/rollout.js';
import { finishRollout } from '../shared/rollout/finish-rollout.js';
import * as z from 'zod/mini';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's way out: release the group's lock, announce the outcome. */
const config = loadServiceConfig();
const shared = rolloutPorts(config, awsScope({ region: config.region }));

export const handler = lambdaHandler({
  schema: z.extend(FinishRolloutInputSchema, { announced: z._default(z.boolean(), false) }),
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => finishRollout(input, { locks: shared.locks, notify: shared.notifier(input), now, log: logInfo }),
});
