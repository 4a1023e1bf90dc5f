import type { Place } from '../aws/places.js';
import type { FleetPlace } from '../config/member-accounts.js';
import type { ManagedClusters } from './resolve-cluster.js';

/**
 * Where an event or an input says a node lives, as the deployment knows it. Pure.
 * - `place` undefined: the hub's own account and region — whose keys, names and records are
 *   what they were before member accounts (work under way survives an upgrade);
 * - `place` set: a member account and region (its role is assumed, its keys are qualified);
 * - `clusters`: the clusters managed there (the member's allow-list, or managedClusters).
 */
export interface LocatedPlace {
  place?: Place;
  clusters: ManagedClusters;
}

/**
 * Finds `asked` among the fleet's places (fleetPlaces: the hub first). Nothing asked (no
 * account, no region) is the hub's own; an absent region is the hub's region, an absent
 * account the hub's account. Undefined: not a place of the fleet — an event forwarded from
 * an account or region nobody listed, to be ignored.
 *
 * A hub whose account the function was not told (HUB_ACCOUNT_ID unset: a single-account
 * deployment, which lists no member) takes any account in its region as its own, as before.
 */
export function locatePlace(fleet: readonly FleetPlace[], asked: Partial<Place> | undefined): LocatedPlace | undefined {
  const [hub, ...members] = fleet;
  if (!hub) return undefined;
  const region = asked?.region ?? hub.place.region;
  const accountId = asked?.accountId ?? hub.place.accountId;
  if (region === hub.place.region && (accountId === hub.place.accountId || hub.place.accountId === '')) return { clusters: hub.clusters };
  const member = members.find((m) => m.place.accountId === accountId && m.place.region === region);
  return member ? { place: member.place, clusters: member.clusters } : undefined;
}

/** How a place is named in logs and messages: `444455556666/eu-west-1`, or `the hub`. */
export function describePlace(asked: Partial<Place> | undefined): string {
  return asked?.accountId || asked?.region ? `${asked.accountId ?? '(hub account)'}/${asked.region ?? '(hub region)'}` : "the hub's own account and region";
}
