import { placeKey } from '../../shared/aws/places.js';
import { now } from '../../shared/clock.js';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';
import { awayPlace, type RolloutPlace } from '../../shared/rollout/rollout-place.js';
import type { RolloutPlaces } from './rollout-ports.js';

/**
 * The cluster API clients of each place a rollout step acts in (only the steps that reach a
 * cluster bundle them): built on a place's first use and kept, their EKS tokens signed with
 * the place's credentials — a member role's, which the cluster's access entry lets in
 * (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html). One set per place,
 * so two clusters named `prod` in two accounts never share a connection or a token.
 */
export function rolloutKube(places: Pick<RolloutPlaces, 'scopes'>): (place: RolloutPlace) => KubeClients {
  const kube = new Map<string, KubeClients>();
  return (place) => {
    const away = awayPlace(place);
    const key = away ? placeKey(away) : '';
    let clients = kube.get(key);
    if (!clients) {
      const aws = places.scopes.scopeOf(away);
      clients = new KubeClients(aws, new EksTokenCache({ region: aws.region, ...(aws.credentials ? { credentials: aws.credentials } : {}), now }));
      kube.set(key, clients);
    }
    return clients;
  };
}
