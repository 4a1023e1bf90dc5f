import { awsScope } from '../../shared/aws/clients.js';
import { type Place, PlaceScopes } from '../../shared/aws/places.js';
import { DEFAULT_API_SHARE, RequestBudget } from '../../shared/aws/request-budget.js';
import { fleetPlaces } from '../../shared/config/member-accounts.js';
import type { ServiceConfig } from '../../shared/config/service-config.js';
import { InvalidInputError } from '../../shared/errors.js';
import { describePlace, type LocatedPlace, locatePlace } from '../../shared/ownership/place-in-fleet.js';

/**
 * The function's scopes, built once at load: its own (the hub account and region, the
 * execution role) and, on first use, one per member account and region it acts in
 * (AssumeRole of its member role, credentials cached until shortly before they expire). Each
 * paces its EC2, Auto Scaling and EKS requests to the configured share of the place's
 * documented rates (shared/aws/request-budget.ts; API_BUDGET_PERCENT, default 50 %), split
 * between the `environmentsAtOnce` the function may run in at once.
 */
export function placeScopesOf(config: Pick<ServiceConfig, 'region' | 'fleet'>, environmentsAtOnce = 1): PlaceScopes {
  // the budget lives in the function's memory: each of the environments that may run at once
  // (its reserved concurrency) gets its part, so that together they stay within the share
  const budget = new RequestBudget((config.fleet.apiShare ?? DEFAULT_API_SHARE) / environmentsAtOnce);
  const home = awsScope({ region: config.region, ...(config.fleet.hubAccountId ? { accountId: config.fleet.hubAccountId } : {}), budget });
  return new PlaceScopes(home, config.fleet.roles, undefined, budget.share);
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
