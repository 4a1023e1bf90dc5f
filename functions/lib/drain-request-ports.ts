import { type Place, placeKey } from '../../shared/aws/places.js';
import { publishEvent } from '../../shared/aws/notifications.js';
import { DrainRecords } from '../../shared/aws/drain-records.js';
import { now } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import type { RequestDrainPorts } from '../../shared/drain/request-drain.js';
import type { KubeClients } from '../../shared/kube/client.js';
import { nodeInstanceId } from '../../shared/kube/find-node.js';
import type { LocatedPlace } from '../../shared/ownership/place-in-fleet.js';
import { logInfo } from './handler.js';
import type { LifecyclePlaces } from './places.js';

/**
 * What starting a drain needs (requestDrain, and uncordon), per place: built on a place's
 * first request and kept for the cold start. EC2, Auto Scaling, EKS and Kubernetes act in the
 * place (a member's role); the drain records, Step Functions and the events stay in the hub.
 */
export function drainRequestPorts(config: ServiceConfig, places: LifecyclePlaces, kubeOf: (place: Place | undefined) => KubeClients): (where: LocatedPlace) => RequestDrainPorts & { kube: KubeClients } {
  const hub = places.scopes.home;
  const records = new DrainRecords(hub, requireSetting(config.drainTable, 'DRAIN_TABLE'));
  const nodeDrainStateMachineArn = requireSetting(config.nodeDrainStateMachineArn, 'NODE_DRAIN_STATE_MACHINE_ARN');
  const publish = (detailType: string, detail: object) => publishEvent(hub, detailType, detail);
  const built = new Map<string, RequestDrainPorts & { kube: KubeClients }>();
  return ({ place, clusters }) => {
    const key = place ? placeKey(place) : '';
    let ports = built.get(key);
    if (!ports) {
      const kube = kubeOf(place);
      ports = {
        aws: places.scopes.scopeOf(place),
        hub,
        records: records.at(place),
        managedClusters: clusters,
        nodeDrainStateMachineArn,
        instanceOfNode: async (cluster: string, nodeName: string) => nodeInstanceId(await kube.core(cluster), cluster, nodeName),
        kube,
        mode: config.mode,
        publish,
        now,
        log: logInfo,
      };
      built.set(key, ports);
    }
    return ports;
  };
}
