import { loadServiceConfig } from '../shared/config/service-config.js';
import { requestDrain } from '../shared/drain/request-drain.js';
import { RollStepInputSchema } from '../shared/events/rollout.js';
import { runRollStep } from '../shared/rollout/roll-step.js';
import { drainRequestPorts } from './lib/drain-request-ports.js';
import { lambdaHandler } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's roll loop: one step of the group's roll (batches, EKS update or instance refresh). */
const config = loadServiceConfig();
const shared = rolloutPorts(config);
const drain = drainRequestPorts(config);

export const handler = lambdaHandler({
  schema: RollStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) =>
    runRollStep(input, {
      ...drain,
      locks: shared.locks,
      notify: shared.notifier(input),
      requestDrain: async (instanceId) => {
        await requestDrain({ kind: 'rollout-drain', cluster: input.cluster, instanceId, rolloutExecutionArn: input.executionArn }, drain);
      },
    }),
});
