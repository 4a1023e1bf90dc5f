import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { reportDrainBlocked } from '../shared/drain/report-blocked.js';
import { ReportDrainBlockedInputSchema } from '../shared/events/drain.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { lifecyclePlacesOf } from './lib/places.js';

/** node-drain step: the drain is past its deadline and holds the node for its terminate hook; say so once (`Node Drain Blocked`, from the hub, naming a member's place). */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);

export const handler = lambdaHandler({
  schema: ReportDrainBlockedInputSchema,
  correlate: (input) => ({ cluster: input.cluster, instanceId: input.instanceId, executionArn: input.executionArn }),
  run: (input) => {
    const { place } = places.placeOfInput(input);
    return reportDrainBlocked(input, { hub: places.scopes.home, ...(place ? { place } : {}), now, log: logInfo });
  },
});
