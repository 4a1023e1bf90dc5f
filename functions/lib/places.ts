import { type AwsScope, awsScope } from '../../shared/aws/clients.js';
import { type Place, PlaceScopes } from '../../shared/aws/places.js';
import { fleetPlaces } from '../../shared/config/member-accounts.js';
import type { ServiceConfig } from '../../shared/config/service-config.js';
import { InvalidInputError } from '../../shared/errors.js';
import { describePlace, type LocatedPlace, locatePlace } from '../../shared/ownership/place-in-fleet.js';

/**
 * The function's scopes, built once at load: its own (the hub account and region, the
 * execution role) and, on first use, one per member account and region it acts in
 * (AssumeRole of its member role, credentials cached until shortly before they expire).
 * Detection's are paced as well: budgeted-places.ts.
 */
export function placeScopesOf(config: Pick<ServiceConfig, 'region' | 'fleet'>): PlaceScopes {
  return new PlaceScopes(homeScopeOf(config), config.fleet.roles);
}

/** The function's own scope: the hub account (when members are configured, its id) and region. */
export function homeScopeOf(config: Pick<ServiceConfig, 'region' | 'fleet'>, extra: Pick<AwsScope, 'budget'> = {}): AwsScope {
  return awsScope({ region: config.region, ...(config.fleet.hubAccountId ? { accountId: config.fleet.hubAccountId } : {}), ...extra });
}

/**
 * What a function of the node lifecycle (tagging, drains, joins) needs to act where a node
 * lives: the fleet's places (`locate`: an event's or input's place as the deployment knows it,
 * undefined when it is none of them) and their scopes (Kubernetes clients per place:
 * kube-places.ts). Built once at load.
 */
export interface LifecyclePlaces {
  scopes: PlaceScopes;
  /** every place of the fleet, the hub's first (its `place` undefined: the hub's own) with the clusters managed there */
  fleet: LocatedPlace[];
  locate: (asked: Partial<Place> | undefined) => LocatedPlace | undefined;
  /** a workflow step's place (its input's accountId and region): one the fleet no longer lists is an input error, not retried */
  placeOfInput: (input: Partial<Place>) => LocatedPlace;
}

export function lifecyclePlacesOf(config: Pick<ServiceConfig, 'region' | 'fleet' | 'managedClusters'>, scopes = placeScopesOf(config)): LifecyclePlaces {
  const fleet = fleetPlaces(config.fleet, config.region, config.managedClusters);
  return {
    scopes,
    fleet: fleet.map(({ place, clusters, home }) => (home ? { clusters } : { place, clusters })),
    locate: (asked) => locatePlace(fleet, asked),
    placeOfInput: ({ accountId, region }) => {
      const asked = { ...(accountId ? { accountId } : {}), ...(region ? { region } : {}) };
      const where = locatePlace(fleet, asked);
      if (!where) throw new InvalidInputError([{ path: 'accountId', message: `${describePlace(asked)} is not a place of this deployment (memberAccounts)` }]);
      return where;
    },
  };
}
