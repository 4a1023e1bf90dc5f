import { FleetRecords } from '../shared/aws/fleet-records.js';
import { publishEvent } from '../shared/aws/notifications.js';
import { startExecutionOnce } from '../shared/aws/step-functions.js';
import { now } from '../shared/clock.js';
import { fleetPlaces } from '../shared/config/member-accounts.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { planFleet } from '../shared/detect/detect.js';
import { PromotionStepInputSchema } from '../shared/events/promotion-step.js';
import { lockKeyOf, NodeGroupLocks } from '../shared/rollout/node-group-lock.js';
import { type ClusterHealthRequest, runPromotionStep } from '../shared/promotion/promotion-step.js';
import type { Place } from '../shared/aws/places.js';
import type { Release } from '../shared/fleet/release.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { checkRecall, gatherClusterHealth } from './lib/promotion-facts.js';
import { budgetedPlaceScopesOf } from './lib/budgeted-places.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { promotionPolicySource } from './lib/promotion-policy-source.js';

/**
 * fleet-promotion's one step: a decision of a release's promotion, applied (rollouts begun or
 * rolled back), stored and announced. It reads the whole fleet as detection does (planFleet, at
 * its own share of each place's API budget: PROMOTION_STEPS_AT_ONCE, its reserved concurrency).
 */
const PROMOTION_STEPS_AT_ONCE = 2;
const config = loadServiceConfig();
const places = budgetedPlaceScopesOf(config, PROMOTION_STEPS_AT_ONCE);
const aws = places.home;
const fleet = fleetPlaces(config.fleet, config.region, config.managedClusters);
const records = new FleetRecords(aws, requireSetting(config.fleetTable, 'FLEET_TABLE'));
const locks = new NodeGroupLocks(aws, requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE'));
const amiRollout = requireSetting(config.amiRolloutStateMachineArn, 'AMI_ROLLOUT_STATE_MACHINE_ARN');

/** Health and recalls, read in each cluster's place (functions/lib/promotion-facts.ts). */
const facts = { scopeOf: (place: Place | undefined) => places.scopeOf(place), kubeOf: kubeOfPlaces(places), fleet: records };

const ports = {
  records,
  policy: promotionPolicySource(aws, config.promotionPolicyParameter),
  plan: (policy: Parameters<typeof planFleet>[0]['promotionPolicy']) => planFleet({ places, fleet, mode: config.mode, ...(policy ? { promotionPolicy: policy } : {}), now, log: logInfo }),
  lockOwner: async (ref: { account?: string; region?: string; cluster: string; group: string }) => {
    const lock = await locks.get(lockKeyOf(ref.cluster, ref.group, { ...(ref.account ? { accountId: ref.account } : {}), ...(ref.region ? { region: ref.region } : {}) }));
    return lock && lock.expiresAt * 1000 > now().getTime() ? lock.owner : undefined;
  },
  health: (request: ClusterHealthRequest) => gatherClusterHealth(facts, request),
  recall: (release: Release, where: readonly { place?: Place; imageIds: readonly string[] }[]) => checkRecall(facts, { release, places: where, now: now() }),
  startRollout: (name: string, input: object) => startExecutionOnce(aws, amiRollout, name, input),
  publish: (detailType: string, detail: object) => publishEvent(aws, detailType, detail),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: PromotionStepInputSchema,
  run: (input) => runPromotionStep(input, ports),
});
