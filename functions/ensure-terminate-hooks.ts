import * as z from 'zod/mini';
import { awsScope } from '../shared/aws/clients.js';
import { publishEvent } from '../shared/aws/notifications.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { ensureTerminateHooks } from '../shared/drain/ensure-terminate-hooks.js';
import { lambdaHandler, logger } from './lib/handler.js';

/** Scheduled (and on demand): terminate hooks for opted-in self-managed groups. */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  aws,
  managedClusters: config.managedClusters,
  mode: config.mode,
  publish: (detailType: string, detail: object) => publishEvent(aws, detailType, detail),
  now,
};

export const handler = lambdaHandler({
  // a schedule's event or an empty direct invocation: nothing in it is used
  schema: z.union([z.looseObject({}), z.null()]),
  run: async () => {
    const plan = await ensureTerminateHooks(ports);
    const planned = plan.filter((p) => p.action === 'install').map((p) => p.group);
    logger.info('terminate hooks checked', { groups: plan.length, mode: config.mode, [config.mode === 'observe' ? 'wouldInstall' : 'installed']: planned });
    return { ...(config.mode === 'observe' ? { wouldInstall: planned, installed: [] } : { installed: planned }), skipped: plan.filter((p) => p.action === 'skip') };
  },
});
