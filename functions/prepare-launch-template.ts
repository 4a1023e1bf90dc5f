import { loadServiceConfig } from '../shared/config/service-config.js';
import { PrepareLaunchTemplateStepSchema } from '../shared/events/rollout.js';
import { prepareLaunchTemplate } from '../shared/rollout/prepare-launch-template.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { rolloutKube } from './lib/rollout-kube.js';
import { rolloutPlaces } from './lib/rollout-ports.js';

/** ami-rollout step: a validated launch template version with the target image (idempotent), in the group's place. */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const kubeOf = rolloutKube(places);

export const handler = lambdaHandler({
  schema: PrepareLaunchTemplateStepSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn, accountId: input.place?.accountId, region: input.place?.region }),
  run: ({ place: given, ...input }) => {
    const { place, aws } = places.at(given);
    // the VPC CNI's settings (aws-node) decide max pods
    return prepareLaunchTemplate(input, { aws, kube: kubeOf(place), log: logInfo });
  },
});
