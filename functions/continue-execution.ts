import { awsScope } from '../shared/aws/clients.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { ContinueExecutionInputSchema } from '../shared/events/continuation.js';
import { continueExecution } from '../shared/workflow/continue-execution.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** node-drain's, ami-rollout's and fleet-promotion's continuation: a long drain, rollout or promotion goes on in a fresh execution of itself, carrying its state. */
const config = loadServiceConfig();
const ports = { aws: awsScope({ region: config.region }), log: logInfo };

export const handler = lambdaHandler({
  schema: ContinueExecutionInputSchema,
  correlate: (input) => ({ executionArn: input.executionArn }),
  run: (input) => continueExecution(input, ports),
});
