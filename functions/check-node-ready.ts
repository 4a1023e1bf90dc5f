import { describeInstance } from '../shared/aws/instances.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { NodeJoinInputSchema } from '../shared/events/node-join.js';
import { findNodeForInstance, isNodeReady } from '../shared/kube/find-node.js';
import { decideJoin } from '../shared/ownership/decide-join.js';
import { lambdaHandler, logger } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { lifecyclePlacesOf } from './lib/places.js';

/** node-join workflow step: has the launching instance's Node registered and become Ready? Asked in the instance's place (EC2 and the cluster there). */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const kubeOf = kubeOfPlaces(places.scopes);

export const handler = lambdaHandler({
  schema: NodeJoinInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: async (input) => {
    const { place } = places.placeOfInput(input);
    const kube = kubeOf(place);
    const instance = await describeInstance(places.scopes.scopeOf(place), input.instanceId);
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
