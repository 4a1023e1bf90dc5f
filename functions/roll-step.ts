import { awsScope } from '../shared/aws/clients.js';
import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { RollStepInputSchema } from '../shared/events/rollout.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { runRollStep } from '../shared/rollout/roll-step.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutPorts } from './lib/rollout-ports.js';

/** ami-rollout's roll loop: one step of the group's roll (batches and their drains, EKS update or instance refresh). */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const shared = rolloutPorts(config, aws);
const ports = {
  aws,
  kube: new KubeClients(aws, new EksTokenCache({ region: config.region, now })),
  records: new DrainRecords(aws, requireSetting(config.drainTable, 'DRAIN_TABLE')),
  locks: shared.locks,
  // a drain the rollout cannot finish is handed to node-drain (drain-batch.ts)
  nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: RollStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn }),
  run: (input) => runRollStep(input, { ...ports, notify: shared.notifier(input) }),
});
