import { type Place, samePlace } from '../../shared/aws/places.js';
import type { SimAccount } from './aws/account.js';
import type { KubeStore } from './kube/store.js';
import type { KubeNode, Pod } from './kube/types.js';
import { awaitsEviction, holdsNode } from './node-pods.js';

/**
 * Records every EC2 instance termination at the instant it happens (running → shutting-down):
 * what its node still ran, and who caused it. This is what "no node terminated before it was
 * drained" is judged on: the pods are read at that very instant, before the kubelet stops.
 *
 * Who caused it:
 * - `call`: one of our SDK calls, answered synchronously by the account: the termination
 *   happened inside it (TerminateInstances, TerminateInstanceInAutoScalingGroup without
 *   hooks, CompleteLifecycleAction with CONTINUE or ABANDON on a terminate hook);
 * - `hook-timeout`: a terminate hook's heartbeat or global timeout passed, and Auto Scaling
 *   applied its DefaultResult (both results terminate);
 * - `spot`: EC2 reclaimed a Spot instance;
 * - `auto-scaling`: Auto Scaling on its own (a scale-in without terminate hooks, a health
 *   check, an instance refresh, an abandoned launch).
 */
export type TerminationCause = 'call' | 'hook-timeout' | 'spot' | 'auto-scaling';

export interface TerminationRecord {
  /** virtual time (ISO) */
  at: string;
  instanceId: string;
  /** the Kubernetes node of the instance, if it had registered */
  node?: string;
  /** pods that still held the node and were not yet evicted (namespace/name) */
  podsToEvict: string[];
  /** pods evicted or deleted but still shutting down (namespace/name) */
  podsTerminating: string[];
  cause: TerminationCause;
  /** for `call`: `autoscaling:CompleteLifecycleAction (CONTINUE)`, `ec2:TerminateInstances`… */
  call?: string;
  /** the account and region of the instance, when not the world's own (a member's) */
  place?: Place;
}

export interface TerminationObserver {
  readonly terminations: TerminationRecord[];
  stop(): void;
}

/**
 * What the observer reads (a `World` fits): every place's account (`places()`, `accountAt`, the
 * world's own `account` first) and its clusters, with where each lives (a cluster without
 * `place` is the own account's).
 */
export interface TerminationWorld {
  readonly account: SimAccount;
  readonly clusters: ReadonlyMap<string, { store: KubeStore; place?: Place }>;
  places(): Place[];
  accountAt(place: Place): SimAccount;
}

/** Every account of the world, its own first, with the place of each that is not its own. */
export function accountsOf(world: Pick<TerminationWorld, 'account' | 'places' | 'accountAt'>): { account: SimAccount; place?: Place }[] {
  const home = { accountId: world.account.accountId, region: world.account.region };
  const others = world.places().filter((p) => !samePlace(p, home));
  return [{ account: world.account }, ...others.map((place) => ({ account: world.accountAt(place), place }))];
}

/**
 * Observes the accounts of every place the world has when called (a region the world makes
 * later, on a call's first use, is not followed: it starts empty).
 */
export function observeTerminations(world: TerminationWorld): TerminationObserver {
  const terminations: TerminationRecord[] = [];
  let stopped = false;

  for (const { account, place } of accountsOf(world)) {
    account.ec2.instances.onStateChange((record, previous) => {
      if (stopped || record.instance.State.Name !== 'shutting-down' || (previous !== 'running' && previous !== 'pending')) return;
      const instanceId = record.instance.InstanceId!;
      const found = nodeOfInstance(world, instanceId, place ?? { accountId: account.accountId, region: account.region });
      const pods = found ? (found.store.view('pods') as Pod[]).filter((p) => p.spec?.nodeName === found.node && holdsNode(p)) : [];
      const name = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
      terminations.push({
        at: account.clock.iso(),
        instanceId,
        ...(found ? { node: found.node } : {}),
        podsToEvict: pods.filter(awaitsEviction).map(name),
        podsTerminating: pods.filter((p) => !awaitsEviction(p)).map(name),
        ...causeOf(account, instanceId, record.terminationReason),
        ...(place ? { place } : {}),
      });
    });
  }

  return {
    terminations,
    stop() {
      // the instance store has no unsubscribe; the listener goes quiet instead
      stopped = true;
    },
  };
}

function causeOf(account: SimAccount, instanceId: string, reason: string | undefined): { cause: TerminationCause; call?: string } {
  const call = account.activeCall;
  if (call) {
    const result = (call.input as { LifecycleActionResult?: string } | undefined)?.LifecycleActionResult;
    return { cause: 'call', call: `${call.service}:${call.command}${result ? ` (${result})` : ''}` };
  }
  if (reason === 'Server.SpotInstanceTermination') return { cause: 'spot' };
  // the hook's expiry notes itself just before it completes the action with its DefaultResult
  const last = account.log.findLast((entry) => entry.instanceId === instanceId && entry.source === 'autoscaling' && /lifecycle action .* reached its|completed with/.test(entry.message));
  if (last && /reached its (heartbeat|global) timeout/.test(last.message)) return { cause: 'hook-timeout' };
  if (last && /completed with \w+ \((heartbeat|global) timeout\)/.test(last.message)) return { cause: 'hook-timeout' };
  return { cause: 'auto-scaling' };
}

/**
 * The Kubernetes node an instance registered (by its providerID), while the node exists: in the
 * clusters of `place` when given (a cluster without a place counts as the world's own), else in
 * any cluster. `cluster` is the cluster's key in `world.clusters`.
 */
export function nodeOfInstance(world: Pick<TerminationWorld, 'clusters' | 'account'>, instanceId: string, place?: Place): { store: KubeStore; node: string; cluster: string } | undefined {
  const home = { accountId: world.account.accountId, region: world.account.region };
  for (const [cluster, { store, place: at }] of world.clusters) {
    if (place && !samePlace(at ?? home, place)) continue;
    const node = (store.view('nodes') as KubeNode[]).find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`));
    if (node) return { store, node: node.metadata.name!, cluster };
  }
  return undefined;
}
