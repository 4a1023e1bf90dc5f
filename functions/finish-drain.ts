import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { finishDrain } from '../shared/drain/finish-drain.js';
import { FinishDrainInputSchema } from '../shared/events/drain.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { lifecyclePlacesOf } from './lib/places.js';

/** node-drain workflow's last step: record the outcome, complete every open hook (unless failed) in the instance's place, notify from the hub. */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const records = new DrainRecords(places.scopes.home, requireSetting(config.drainTable, 'DRAIN_TABLE'));

export const handler = lambdaHandler({
  schema: FinishDrainInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => {
    const { place } = places.placeOfInput(input);
    return finishDrain(input, { aws: places.scopes.scopeOf(place), hub: places.scopes.home, records: records.at(place), now, log: logInfo });
  },
});
