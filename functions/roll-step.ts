import { DrainRecords } from '../shared/aws/drain-records.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { RollStepInputSchema } from '../shared/events/rollout.js';
import { runRollStep } from '../shared/rollout/roll-step.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { rolloutPlaces, rolloutPorts } from './lib/rollout-ports.js';
import { awayPlace } from '../shared/rollout/rollout-place.js';
import { promotionPolicySource } from './lib/promotion-policy-source.js';
import { rolloutFleet } from './lib/rollout-fleet.js';

/**
 * ami-rollout's roll loop: one step of the group's roll (batches and their drains, EKS update
 * or instance refresh). The group, its instances and its cluster are acted on in their place;
 * the lock, the drain records, the node-drain hand-over and the events stay in the hub.
 */
const config = loadServiceConfig();
const places = rolloutPlaces(config);
const kubeOf = kubeOfPlaces(places.scopes);
const shared = rolloutPorts(config, places.hub);
const records = new DrainRecords(places.hub, requireSetting(config.drainTable, 'DRAIN_TABLE'));
const ports = {
  hub: places.hub,
  locks: shared.locks,
  // a drain the rollout cannot finish is handed to node-drain (drain-batch.ts)
  nodeDrainStateMachineArn: requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN'),
  // freezes and holds at batch boundaries, the group's outcome for its release, the health gate's thresholds
  fleet: { ...rolloutFleet(config, places.hub), policy: promotionPolicySource(places.hub, config.promotionPolicyParameter) },
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: RollStepInputSchema,
  correlate: (input) => ({ cluster: input.cluster, nodegroup: input.group.name, executionArn: input.executionArn, accountId: input.place?.accountId, region: input.place?.region }),
  run: (input) => {
    const { place, aws } = places.at(input.place ?? input);
    const rollout = { ...input, place };
    // the drain records of the group's place: a member's instance ids are keyed with their account and region (DrainRecords.at)
    return runRollStep(rollout, { ...ports, records: records.at(awayPlace(place)), aws, kube: kubeOf(awayPlace(place)), notify: shared.notifier(rollout) });
  },
});
