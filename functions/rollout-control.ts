import { SFNClient } from '@aws-sdk/client-sfn';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { RolloutControlRequestSchema } from '../shared/events/rollout.js';
import { controlRollout } from '../shared/rollout/rollout-control.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** Direct invocation (chat, CLI): approve, reject, pause, resume or abort a group's rollout. */
const config = loadServiceConfig();
const shared = rolloutPorts(config);
const sfn = new SFNClient({ region: config.region });

export const handler = lambdaHandler({
  schema: RolloutControlRequestSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group }),
  run: (input) =>
    controlRollout(input, {
      sfn,
      locks: shared.locks,
      notifier: (executionArn) => shared.notifier({ cluster: input.cluster, group: { kind: 'node group', name: input.group }, target: { imageId: 'see the rollout' }, executionArn }),
      log: logInfo,
    }),
});
