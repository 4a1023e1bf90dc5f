import type { Place, PlaceScopes } from '../../shared/aws/places.js';
import { placeKey } from '../../shared/aws/places.js';
import { now } from '../../shared/clock.js';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';

/**
 * The Kubernetes clients of each place's clusters, built on a place's first use and kept for
 * the cold start: DescribeCluster (endpoint, CA) in the place's scope, and EKS tokens signed
 * with that scope's credentials for its region's STS — a member's clusters see the member role
 * (its access entry), the hub's the function's own role (the default chain), as before.
 * A handler that imports this module talks to clusters (scripts/deploy/kubernetes-facing.cjs:
 * its VPC placement and access entry follow).
 */
export function kubeOfPlaces(scopes: PlaceScopes): (place: Place | undefined) => KubeClients {
  const built = new Map<string, KubeClients>();
  return (place) => {
    const key = place ? placeKey(place) : '';
    let clients = built.get(key);
    if (!clients) {
      const scope = scopes.scopeOf(place);
      clients = new KubeClients(scope, new EksTokenCache({ region: scope.region, ...(scope.credentials ? { credentials: scope.credentials } : {}), now }));
      built.set(key, clients);
    }
    return clients;
  };
}
