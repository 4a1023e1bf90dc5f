import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import * as z from 'zod/mini';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { ensureTerminateHooks } from '../shared/drain/ensure-terminate-hooks.js';
import { lambdaHandler, logger } from './lib/handler.js';

/** Scheduled (and on demand): terminate hooks for opted-in self-managed groups. */
const config = loadServiceConfig();
const autoscaling = new AutoScalingClient({ region: config.region });

export const handler = lambdaHandler({
  // a schedule's event or an empty direct invocation: nothing in it is used
  schema: z.union([z.looseObject({}), z.null()]),
  run: async () => {
    const plan = await ensureTerminateHooks({ autoscaling, managedClusters: config.managedClusters });
    const installed = plan.filter((p) => p.action === 'install').map((p) => p.group);
    logger.info('terminate hooks checked', { groups: plan.length, installed });
    return { installed, skipped: plan.filter((p) => p.action === 'skip') };
  },
});
