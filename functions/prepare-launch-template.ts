import { loadServiceConfig } from '../shared/config/service-config.js';
import { PrepareLaunchTemplateStepSchema } from '../shared/events/rollout.js';
import { prepareLaunchTemplate } from '../shared/rollout/prepare-launch-template.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { awayPlace } from '../shared/rollout/rollout-place.js';
import { rolloutPlaces } from './lib/rollout-ports.js';

/** ami-rollout step: a validated launch template version with the target image (idempotent), in the group's place. */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const kubeOf = kubeOfPlaces(places.scopes);

export const handler = lambdaHandler({
  schema: PrepareLaunchTemplateStepSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn, accountId: input.place?.accountId, region: input.place?.region }),
  run: ({ place: given, ...input }) => {
    const { place, aws } = places.at(given);
    // the VPC CNI's settings (aws-node) decide max pods
    return prepareLaunchTemplate(input, { aws, kube: kubeOf(awayPlace(place)), log: logInfo });
  },
});
