import type { AwsScope } from '../aws/clients.js';
import { type Place, placeKey, samePlace } from '../aws/places.js';
import type { FleetPlace } from '../config/member-accounts.js';
import { listClusterNames } from '../detect/inventory.js';
import { mapBounded } from '../kube/drain/bounded.js';
import { lockKeyOf } from '../rollout/node-group-lock.js';
import type { PolicyCluster } from './access-policy.js';

/**
 * The fleet as chat-ops sees it: every place the deployment looks after (the hub first, then
 * each member account's regions) and the clusters each has. A cluster is a `ClusterRef`:
 * its name and, for a member's, its place — the hub's own carry no place, so everything
 * keyed by them (audit history, locks, approvals, execution names) stays as it was before
 * members existed.
 */
export interface ClusterRef {
  cluster: string;
  /** a member account's place; absent for the hub's own clusters */
  place?: Place;
}

/** `prod` for the hub's own, `444455556666/eu-west-1/prod` for a member's: how replies and audit keys name a cluster. */
export function refLabel(ref: ClusterRef): string {
  return ref.place ? `${placeKey(ref.place)}/${ref.cluster}` : ref.cluster;
}

/** What one place answered: its clusters, or why it could not be reached (a member only: the hub's failures fail the command). */
export type PlaceListing = { at: FleetPlace; clusters: string[] } | { at: FleetPlace; unreachable: string };

/** The fleet's places and how to act in each (PlaceScopes.scopeOf). Absent from the ports: a single-account deployment. */
export interface FleetView {
  places: readonly FleetPlace[];
  scopeOf: (place: Place) => AwsScope;
}

/** Places listed at once: each member place costs an AssumeRole (cached) and a ListClusters. */
export const FLEET_LIST_CONCURRENCY = 4;

/**
 * Lists the clusters of every place, FLEET_LIST_CONCURRENCY at a time, each filtered by its
 * allow-list. The hub's list comes from `hub` (the caller's cache); a member that cannot be
 * reached (MemberAccessError from AssumeRole, an SCP or a missing permission) is reported as
 * such, not thrown: one member down must not take `status` of the rest with it.
 */
export async function listFleetClusters(fleet: FleetView, hub: () => Promise<string[]>): Promise<PlaceListing[]> {
  return mapBounded(fleet.places, FLEET_LIST_CONCURRENCY, async (at): Promise<PlaceListing> => {
    if (at.home) return { at, clusters: await hub() };
    try {
      return { at, clusters: await listClusterNames({ aws: fleet.scopeOf(at.place), managedClusters: at.clusters }) };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      return { at, unreachable: `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}` };
    }
  });
}

/** The ref of a cluster of one place: the hub's own without a place. */
export function refAt(at: FleetPlace, cluster: string): ClusterRef {
  return at.home ? { cluster } : { cluster, place: at.place };
}

/** The ref as the access policy sees it: the hub's own with the hub's place when known, so keys naming it match. */
export function policyClusterOf(ref: ClusterRef, hub: Place | undefined): PolicyCluster {
  if (ref.place) return { cluster: ref.cluster, place: ref.place, member: true };
  return hub?.accountId ? { cluster: ref.cluster, place: hub } : { cluster: ref.cluster };
}

export type Resolution = { ok: true; ref: ClusterRef } | { ok: false; error: string };

/**
 * A cluster written with its place (`444455556666/eu-west-1/prod`): the place must be one
 * the deployment looks after and the cluster one it manages there. No AWS call: whether the
 * cluster exists, the command finds out as it would for the hub's.
 */
export function resolvePlaced(cluster: string, place: Place, places: readonly FleetPlace[]): Resolution {
  const at = places.find((p) => samePlace(p.place, place));
  if (!at) return { ok: false, error: `${placeKey(place)} is not a place this deployment looks after (its places: ${places.map((p) => placeKey(p.place) || p.place.region).join(', ')}).` };
  if (at.clusters !== '*' && !at.clusters.includes(cluster)) {
    return { ok: false, error: `${placeKey(place)}/${cluster} is not a cluster this deployment manages (there: ${at.clusters.join(', ') || 'none'}).` };
  }
  return { ok: true, ref: refAt(at, cluster) };
}

/**
 * A cluster written by name alone, against what each place listed. One place has it: that
 * one. Several: an error naming them (`prod is in 2 places: … — name one`), unless the
 * person may read only one of them (`visible`), which is then the one they mean: the others
 * are not theirs to see, nor to be told of. None: an error, naming the places that could not
 * be asked. With `strict` (a command that changes something), a place that could not be
 * asked and might have the cluster makes the name ambiguous too: acting on the hub's `prod`
 * when the person meant an unreachable member's would be the wrong cluster.
 */
export function resolveShort(cluster: string, listings: readonly PlaceListing[], options: { visible: (ref: ClusterRef) => boolean; strict: boolean }): Resolution {
  const found = listings.flatMap((l) => ('clusters' in l && l.clusters.includes(cluster) ? [refAt(l.at, cluster)] : []));
  const unreachable = listings.filter((l): l is Extract<PlaceListing, { unreachable: string }> => 'unreachable' in l && (l.at.clusters === '*' || l.at.clusters.includes(cluster)));
  const shown = found.filter(options.visible);
  const ask = unreachable.map((l) => `${placeKey(l.at.place)}/${cluster}`);
  if (found.length === 0) {
    const why = ask.length ? `; could not ask ${unreachable.map((l) => placeKey(l.at.place)).join(', ')} — name it as ${ask[0]} to try there` : '';
    return { ok: false, error: `no place of this deployment has a cluster ${cluster}${why}.` };
  }
  // nothing the person may read: the first (the hub's first), so that authorization refuses it as always
  if (shown.length === 0) return { ok: true, ref: found[0]! };
  if (shown.length === 1 && !(options.strict && ask.length > 0)) return { ok: true, ref: shown[0]! };
  const candidates = [...shown.map((ref) => `${placeKeyOf(ref, listings)}/${cluster}`), ...(options.strict ? ask.map((a) => `${a} (unreachable)`) : [])];
  return { ok: false, error: `${cluster} is in ${candidates.length} places: ${candidates.join(', ')} — name one.` };
}

/** The place of a ref as written in addresses: a member's own, the hub's from its listing. */
function placeKeyOf(ref: ClusterRef, listings: readonly PlaceListing[]): string {
  if (ref.place) return placeKey(ref.place);
  const hub = listings.find((l) => l.at.home)?.at.place;
  return hub?.accountId ? placeKey(hub) : (hub?.region ?? '');
}

/**
 * The lock of a cluster's group, for this command's reads: the hub's own under the key it always
 * had, a member's qualified by its place (node-group-lock.ts lockKeyOf), so two `prod`s never
 * share a lock.
 */
export function lockKeyAt(ref: ClusterRef, group: string): string {
  return lockKeyOf(ref.cluster, group, ref.place);
}

