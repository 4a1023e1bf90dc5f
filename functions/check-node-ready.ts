import { awsScope } from '../shared/aws/clients.js';
import { describeInstance } from '../shared/aws/instances.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { NodeJoinInputSchema } from '../shared/events/node-join.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { findNodeForInstance, isNodeReady } from '../shared/kube/find-node.js';
import { decideJoin } from '../shared/ownership/decide-join.js';
import { lambdaHandler, logger } from './lib/handler.js';

/** node-join workflow step: has the launching instance's Node registered and become Ready? */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const kube = new KubeClients(aws, new EksTokenCache({ region: config.region, now }));

export const handler = lambdaHandler({
  schema: NodeJoinInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: async (input) => {
    const instance = await describeInstance(aws, input.instanceId);
    const node =
      instance && !['shutting-down', 'terminated'].includes(instance.state)
        ? await findNodeForInstance(await kube.core(input.cluster), input.cluster, instance)
        : undefined;
    const decision = decideJoin({
      instanceState: instance?.state,
      node: node && { name: node.metadata?.name ?? '', ready: isNodeReady(node) },
      now: now(),
      deadline: new Date(input.deadline),
    });
    logger.info('join check', { ...decision });
    return decision;
  },
});
