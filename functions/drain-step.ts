import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { runDrainStep } from '../shared/drain/run-drain-step.js';
import { DrainStepInputSchema } from '../shared/events/drain.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { lifecyclePlacesOf } from './lib/places.js';

/**
 * node-drain workflow step: the drain's lease and every open hook's heartbeat when due, then one
 * pass (evict or force; none while the API is away: keep-alive) — in the instance's place (its
 * input's accountId and region): EC2, Auto Scaling and the cluster there, the record in the hub.
 */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const kubeOf = kubeOfPlaces(places.scopes);
const records = new DrainRecords(places.scopes.home, requireSetting(config.drainTable, 'DRAIN_TABLE'));

export const handler = lambdaHandler({
  schema: DrainStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => {
    const { place } = places.placeOfInput(input);
    return runDrainStep(input, { aws: places.scopes.scopeOf(place), records: records.at(place), kube: kubeOf(place), now, log: logInfo });
  },
});
