import * as z from 'zod/mini';
import { publishEvent } from '../shared/aws/notifications.js';
import { placeKey } from '../shared/aws/places.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { ensureTerminateHooksInFleet, type HookPlan } from '../shared/drain/ensure-terminate-hooks.js';
import { lambdaHandler, logger } from './lib/handler.js';
import { lifecyclePlacesOf } from './lib/places.js';

/**
 * Scheduled (and on demand): terminate hooks for opted-in self-managed groups, in every place of
 * the fleet (the hub's, then each member account and region: its role, its clusters).
 */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const hub = places.scopes.home;
const publish = (detailType: string, detail: object) => publishEvent(hub, detailType, detail);

function summary(plan: HookPlan[]) {
  const planned = plan.filter((p) => p.action === 'install').map((p) => p.group);
  return { ...(config.mode === 'observe' ? { wouldInstall: planned, installed: [] } : { installed: planned }), skipped: plan.filter((p) => p.action === 'skip') };
}

export const handler = lambdaHandler({
  // a schedule's event or an empty direct invocation: nothing in it is used
  schema: z.union([z.looseObject({}), z.null()]),
  run: async () => {
    const results = await ensureTerminateHooksInFleet(places.fleet, ({ place, clusters }) => ({
      aws: places.scopes.scopeOf(place),
      managedClusters: clusters,
      mode: config.mode,
      publish,
      now,
    }));
    const [home, ...members] = results;
    const hubPlan = home && 'plan' in home ? home.plan : [];
    const memberSummaries = members.map((r) => ({ place: placeKey(r.place!), ...('plan' in r ? summary(r.plan) : { error: r.error }) }));
    for (const failed of memberSummaries.filter((m) => 'error' in m)) logger.warn('terminate hooks: member not reachable, skipped', failed);
    const planned = hubPlan.filter((p) => p.action === 'install').map((p) => p.group);
    logger.info('terminate hooks checked', { groups: hubPlan.length, mode: config.mode, [config.mode === 'observe' ? 'wouldInstall' : 'installed']: planned, ...(members.length > 0 ? { members: memberSummaries } : {}) });
    return { ...summary(hubPlan), ...(members.length > 0 ? { members: memberSummaries } : {}) };
  },
});
