import { type Place, placeKey, type PlaceScopes } from '../aws/places.js';

/**
 * A rollout's place as its keys, names and events carry it: `{}` for the hub's own place (the
 * hub account in the hub's region — every rollout before member accounts existed, whose locks,
 * approvals and announcements keep their keys, so in-flight work survives the upgrade), the
 * whole place otherwise (a member account, or another region of the hub's). Only a whole
 * place qualifies a key: two `prod/ng` in two accounts are two groups with two locks.
 */
export type RolloutPlace = Place | Record<string, never>;

/** The place a step was given (`{}`, part of one, or a whole one), resolved against the hub's. */
export function rolloutPlaceOf(scopes: Pick<PlaceScopes, 'home' | 'isHome'>, given: { accountId?: string | undefined; region?: string | undefined } | undefined): RolloutPlace {
  const region = given?.region ?? scopes.home.region;
  if (scopes.isHome(given) && region === scopes.home.region) return {};
  return { accountId: given?.accountId ?? scopes.home.accountId ?? '', region };
}

/** The place, when it is not the hub's own. */
export function awayPlace(place: Partial<Place> | undefined): Place | undefined {
  return place?.accountId && place.region ? { accountId: place.accountId, region: place.region } : undefined;
}

/** `name` for the hub's own place, `<account>/<region>/name` for any other. */
export function placeQualified(name: string, place: Partial<Place> | undefined): string {
  const away = awayPlace(place);
  return away ? `${placeKey(away)}/${name}` : name;
}

/** The place's fields for an event or record: none for the hub's own place (its events stay as they were). */
export function placeFieldsOf(place: Partial<Place> | undefined): { accountId?: string; region?: string } {
  const away = awayPlace(place);
  return away ? { accountId: away.accountId, region: away.region } : {};
}
