import { completeLifecycleAction } from '../shared/aws/lifecycle-actions.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { metricsOfNodeJoin, recordMetrics } from '../shared/metrics/metrics.js';
import { LifecycleActionGoneError } from '../shared/errors.js';
import { CompleteLifecycleActionInputSchema } from '../shared/events/node-join.js';
import { lambdaHandler, logger } from './lib/handler.js';
import { lifecyclePlacesOf } from './lib/places.js';

/**
 * Workflow step: completes a lifecycle action with CONTINUE or ABANDON, in the instance's
 * account and region (the input's accountId and region; absent: the hub's). Safe to retry: an
 * action that is no longer open (our earlier attempt landed, or it expired) is reported,
 * not thrown.
 */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);

export const handler = lambdaHandler({
  schema: CompleteLifecycleActionInputSchema,
  correlate: (input) => ({ instanceId: input.lifecycleAction.instanceId, autoScalingGroup: input.lifecycleAction.autoScalingGroupName, executionArn: input.executionArn }),
  run: async ({ lifecycleAction, result, reason, cluster, startedAt, ...asked }) => {
    const { place } = places.placeOfInput(asked);
    try {
      await completeLifecycleAction(places.scopes.scopeOf(place), lifecycleAction, result);
      logger.info('lifecycle action completed', { result, reason });
      recordMetrics(metricsOfNodeJoin(cluster, result, startedAt, now()));
      return { completed: true, result };
    } catch (error) {
      if (!(error instanceof LifecycleActionGoneError)) throw error;
      logger.warn('lifecycle action no longer open', { result, reason });
      return { completed: false, result, reason: 'no active lifecycle action (already completed or expired)' };
    }
  },
});
