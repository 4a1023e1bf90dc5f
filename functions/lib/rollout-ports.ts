import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { now } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import { NodeGroupLocks } from '../../shared/rollout/node-group-lock.js';
import { type RolloutContext, rolloutNotifier } from '../../shared/rollout/rollout-events.js';

/** What every ami-rollout step shares: the group locks and the notifications. Built once per cold start. */
export function rolloutPorts(config: ServiceConfig) {
  const eventbridge = new EventBridgeClient({ region: config.region });
  return {
    locks: new NodeGroupLocks(new DynamoDBClient({ region: config.region }), requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE')),
    /** the notifier of one rollout: its events name the cluster, group, target and execution */
    notifier: (context: RolloutContext) => rolloutNotifier(eventbridge, context, now),
  };
}
