import { loadServiceConfig } from '../shared/config/service-config.js';
import { PreflightInputSchema } from '../shared/events/rollout.js';
import { runPreflight } from '../shared/rollout/preflight.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { awayPlace } from '../shared/rollout/rollout-place.js';
import { rolloutPlaces } from './lib/rollout-ports.js';

/**
 * ami-rollout preflight: every check before the first write; a failed one explains itself.
 * Read in the group's place: its image, template, cluster and access entries there, and its
 * node role by the member role (IAM is the member account's).
 */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const kubeOf = kubeOfPlaces(places.scopes);

export const handler = lambdaHandler({
  schema: PreflightInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn, accountId: input.place?.accountId, region: input.place?.region }),
  run: (input) => {
    const { place, aws } = places.at(input.place);
    return runPreflight(input, { aws, kube: kubeOf(awayPlace(place)), log: logInfo });
  },
});
