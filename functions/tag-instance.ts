import { publishEvent } from '../shared/aws/notifications.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { InstanceLaunchEventSchema, instanceIdOf } from '../shared/events/instance-event.js';
import { describePlace } from '../shared/ownership/place-in-fleet.js';
import { tagLaunchedInstance, type TaggingOutcome } from '../shared/ownership/tag-instance.js';
import { lambdaHandler, logger, logInfo } from './lib/handler.js';
import { lifecyclePlacesOf } from './lib/places.js';

/**
 * EventBridge: `EC2 Instance State-change Notification` (running), `EC2 Instance-launch
 * Lifecycle Action` — the hub's own, and a member's forwarded to the hub's bus: tagged and
 * joined in the account and region of the event's envelope.
 */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const hub = places.scopes.home;
const shared = {
  hub,
  nodeJoinStateMachineArn: requireSetting(config.nodeJoinStateMachineArn, 'NODE_JOIN_STATE_MACHINE_ARN'),
  mode: config.mode,
  publish: (detailType: string, detail: object) => publishEvent(hub, detailType, detail),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: InstanceLaunchEventSchema,
  correlate: (event) => ({ instanceId: instanceIdOf(event) }),
  run: async (event): Promise<TaggingOutcome> => {
    const asked = { accountId: event.account, region: event.region };
    const where = places.locate(asked);
    if (!where) {
      // an account or region nobody listed (memberAccounts): nothing to act on, nothing to retry
      logger.warn('instance ignored: not a place of this deployment', { place: asked, instanceId: instanceIdOf(event) });
      return { outcome: 'ignored', instanceId: instanceIdOf(event), reason: `${describePlace(asked)} is not a place of this deployment (memberAccounts)` };
    }
    const { place, clusters } = where;
    return tagLaunchedInstance(event, { ...shared, aws: places.scopes.scopeOf(place), ...(place ? { place } : {}), managedClusters: clusters });
  },
});
