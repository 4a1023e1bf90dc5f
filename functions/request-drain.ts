import { RequestGuards } from '../shared/chatops/request-guards.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { authorizeForcedDrain } from '../shared/drain/authorize-forced-drain.js';
import { placeOfTrigger, requestDrain } from '../shared/drain/request-drain.js';
import { uncordonInstance } from '../shared/drain/uncordon-node.js';
import { DrainTriggerSchema, ManualUncordonRequestSchema } from '../shared/events/drain.js';
import { describePlace } from '../shared/ownership/place-in-fleet.js';
import * as z from 'zod/mini';
import { drainRequestPorts } from './lib/drain-request-ports.js';
import { lambdaHandler, logger } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { lifecyclePlacesOf } from './lib/places.js';

/**
 * EventBridge: `EC2 Instance-terminate Lifecycle Action`, `EC2 Spot Instance Interruption
 * Warning`, `EC2 Instance Rebalance Recommendation` — the hub's own, and a member's forwarded
 * to the hub's bus (acted on in the account and region of its envelope); direct invocation: a
 * manual drain (forced only with chat-ops' grant), and its reverse, a manual uncordon (this
 * function has the clusters' Kubernetes access and the drain records that say whether a drain
 * runs).
 */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const portsAt = drainRequestPorts(config, places, kubeOfPlaces(places.scopes));
const guards = new RequestGuards(places.scopes.home, requireSetting(config.chatopsTable, 'CHATOPS_TABLE'));
const grants = { use: (id: string, instanceId: string, at: Date) => guards.useForcedDrainGrant(id, instanceId, at) };

export const handler = lambdaHandler({
  schema: z.union([DrainTriggerSchema, ManualUncordonRequestSchema]),
  correlate: (trigger) =>
    'kind' in trigger
      ? { cluster: trigger.cluster, instanceId: trigger.instanceId }
      : { instanceId: 'EC2InstanceId' in trigger.detail ? trigger.detail.EC2InstanceId : trigger.detail['instance-id'] },
  run: async (trigger) => {
    const asked = placeOfTrigger(trigger);
    const where = places.locate(asked);
    if (!where) {
      // an account or region nobody listed (memberAccounts): nothing to act on, nothing to retry
      const reason = `${describePlace(asked)} is not a place of this deployment (memberAccounts)`;
      logger.warn('drain request ignored: not a place of this deployment', { place: asked, kind: 'kind' in trigger ? trigger.kind : trigger['detail-type'] });
      return 'kind' in trigger && trigger.kind === 'manual-uncordon' ? { outcome: 'refused' as const, instanceId: trigger.instanceId, reason } : { outcome: 'ignored' as const, reason };
    }
    const ports = portsAt(where);
    return 'kind' in trigger && trigger.kind === 'manual-uncordon' ? uncordonInstance(trigger, ports) : requestDrain(await authorizeForcedDrain(trigger, grants, ports.now()), ports);
  },
});
