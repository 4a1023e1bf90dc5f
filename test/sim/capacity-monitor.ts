import type { Place } from '../../shared/aws/places.js';
import type { SimAccount } from './aws/account.js';
import type { KubeStore, StoreEvent } from './kube/store.js';
import { isNodeReady, isTerminating, type KubeNode, type Pod } from './kube/types.js';
import { holdsNode } from './node-pods.js';

/**
 * Watches one node group's serving capacity and records each moment it falls below a floor:
 * what a rollout promises ("at no instant is capacity below desired − max-unavailable").
 *
 * A node counts as available when all of these hold:
 * - its instance is in the Auto Scaling group and InService (not Pending*, not Terminating*);
 * - its Node is registered and Ready;
 * - it is not being drained. A node is being drained from the moment it is cordoned and a pod
 *   on it is evicted or deleted (or, cordoned, it has no pods left but DaemonSet and mirror
 *   pods). A cordoned node that still serves its pods is available: a rollout cordons the old
 *   nodes up front so pods move once, which costs no capacity. Uncordoning ends the drain.
 *
 * Samples are taken at every change that can matter, never on a timer: each Node and pod
 * change in the cluster's store, and each Auto Scaling lifecycle change (the account notes
 * every one on its timeline, after the change). Like the budget monitor, a floor that starts
 * unmet (nodes still joining) is not violated until it has once been met.
 *
 * For a managed node group, watch its Auto Scaling group:
 * `account.eks.requireNodegroup(cluster, name).autoScalingGroupName`.
 */
export interface CapacityWatch {
  cluster: string;
  autoScalingGroup: string;
  /** the fewest available nodes allowed: desired − max-unavailable (0: judge later with `belowFloor`) */
  floor: number;
  /** where the group and its cluster live (default: the world's own account and region) */
  place?: Place;
}

export interface CapacityViolation {
  /** virtual time (ISO) */
  at: string;
  available: number;
  /** which nodes stopped counting, and why: "i-0abc (ip-10-0-1-5…) is Terminating" */
  detail: string;
}

export interface CapacityChange {
  at: string;
  available: number;
  /** "+i-0abc (ip-…)" for a node that became available, "−i-0def (…) why" for one that stopped */
  detail: string;
  /** the nodes that stopped counting, and why (empty when nodes were only gained) */
  lost: string;
}

export interface CapacityMonitor {
  /** available nodes now */
  readonly available: number;
  /** the fewest available nodes seen since the watch began */
  readonly min: number;
  /** available nodes when the watch began */
  readonly initial: number;
  /** how many times capacity was computed */
  readonly samples: number;
  /** each drop below the floor, in order (a further loss while below it is another entry) */
  readonly violations: CapacityViolation[];
  /** every change of the available set since the watch began, in order */
  readonly changes: CapacityChange[];
  /** the drops below another floor than the watch's (a floor known only after the fact) */
  belowFloor(floor: number): CapacityViolation[];
  stop(): void;
}

/** What the monitor reads: the account's Auto Scaling groups and the cluster's store (a `World` fits); a place's, for a watch that names one. */
export interface CapacityWorld {
  readonly account: SimAccount;
  cluster(name: string, place?: Place): { store: KubeStore };
  accountAt(place: Place): SimAccount;
}

interface NodeView {
  instanceId: string | undefined;
  ready: boolean;
  cordoned: boolean;
}

export function watchCapacity(world: CapacityWorld, watch: CapacityWatch): CapacityMonitor {
  const account = watch.place ? world.accountAt(watch.place) : world.account;
  const store = (watch.place ? world.cluster(watch.cluster, watch.place) : world.cluster(watch.cluster)).store;
  const nodes = new Map<string, NodeView>();
  // pods that hold a node busy (not DaemonSet, not mirror, not finished): namespace/name → node,
  // and how many each node holds
  const workload = new Map<string, string>();
  const podsOn = new Map<string, number>();
  // cordoned nodes on which an eviction or deletion has begun
  const drainStarted = new Set<string>();

  for (const node of store.list('nodes')) nodes.set(node.metadata.name!, viewOf(node));
  for (const pod of store.list('pods')) trackPod(pod);

  function trackPod(pod: Pod, gone = false): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const was = workload.get(key);
    const now = !gone && pod.spec?.nodeName && holdsNode(pod) ? pod.spec.nodeName : undefined;
    if (was === now) return;
    if (was !== undefined) {
      workload.delete(key);
      podsOn.set(was, podsOn.get(was)! - 1);
    }
    if (now !== undefined) {
      workload.set(key, now);
      podsOn.set(now, (podsOn.get(now) ?? 0) + 1);
    }
  }

  function noteDrain(pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (node && nodes.get(node)?.cordoned && holdsNode(pod)) drainStarted.add(node);
  }

  function onNode(event: StoreEvent): void {
    const node = event.object as KubeNode;
    const name = node.metadata.name!;
    if (event.type === 'DELETED') {
      nodes.delete(name);
      drainStarted.delete(name);
      return;
    }
    const view = viewOf(node);
    if (!view.cordoned) drainStarted.delete(name);
    nodes.set(name, view);
  }

  function onPod(event: StoreEvent): void {
    const pod = event.object as Pod;
    const before = event.oldObject as Pod | undefined;
    if (event.type === 'DELETED') {
      trackPod(pod, true);
      noteDrain(pod);
      return;
    }
    if (isTerminating(pod) && !(before && isTerminating(before))) noteDrain(pod);
    trackPod(pod);
  }

  /** Why a group instance does not count now; undefined when it does. */
  function unavailable(lifecycleState: string, nodeName: string | undefined): string | undefined {
    if (lifecycleState !== 'InService') return `is ${lifecycleState}`;
    if (!nodeName) return 'has no registered node';
    const node = nodes.get(nodeName)!;
    if (!node.ready) return 'has a node that is not Ready';
    if (!node.cordoned) return undefined;
    if (drainStarted.has(nodeName)) return 'is being drained (cordoned, its pods evicted)';
    if (!podsOn.get(nodeName)) return 'is cordoned with no pods left';
    return undefined;
  }

  let current = new Map<string, string>(); // instance id → "i-… (node)"
  const why = new Map<string, string>();
  let min = Number.POSITIVE_INFINITY;
  let samples = 0;
  let initial = 0;
  const changes: CapacityChange[] = [];

  function sample(baseline = false): void {
    samples++;
    const byInstance = new Map<string, string>();
    for (const [name, node] of nodes) if (node.instanceId) byInstance.set(node.instanceId, name);
    const group = account.autoscaling.groups.get(watch.autoScalingGroup);
    const next = new Map<string, string>();
    why.clear();
    for (const instance of group?.instances.values() ?? []) {
      const nodeName = byInstance.get(instance.instanceId);
      const label = nodeName ? `${instance.instanceId} (${nodeName})` : instance.instanceId;
      const reason = unavailable(instance.lifecycleState, nodeName);
      if (reason === undefined) next.set(instance.instanceId, label);
      else why.set(instance.instanceId, `${label} ${reason}`);
    }
    const lost = [...current.keys()].filter((id) => !next.has(id));
    const gained = [...next.keys()].filter((id) => !current.has(id));
    current = next;
    min = Math.min(min, next.size);
    if (baseline || (lost.length === 0 && gained.length === 0)) return;

    const at = account.clock.iso();
    const lostDetail = lost.map((id) => why.get(id) ?? `${id} left the group`);
    changes.push({ at, available: next.size, detail: [...gained.map((id) => `+${next.get(id)}`), ...lostDetail.map((d) => `−${d}`)].join('; '), lost: lostDetail.join('; ') });
  }

  /** Replays the changes against a floor: each drop below it (or further below) once it had been met. */
  function belowFloor(floor: number): CapacityViolation[] {
    const violations: CapacityViolation[] = [];
    let floorMet = initial >= floor;
    let previous = initial;
    for (const change of changes) {
      if (floorMet && change.available < floor && (previous >= floor || change.available < previous)) {
        violations.push({ at: change.at, available: change.available, detail: change.lost });
      }
      if (change.available >= floor) floorMet = true;
      previous = change.available;
    }
    return violations;
  }

  const unsubscribeStore = store.on((event) => {
    if (event.resource === 'nodes') onNode(event);
    else if (event.resource === 'pods') onPod(event);
    else return;
    sample();
  });
  const unsubscribeLog = account.onLog((_message, entry) => {
    if (entry.source === 'autoscaling') sample();
  });

  sample(true);
  initial = current.size;

  return {
    get available() {
      return current.size;
    },
    get min() {
      return min;
    },
    get samples() {
      return samples;
    },
    get initial() {
      return initial;
    },
    get violations() {
      return belowFloor(watch.floor);
    },
    changes,
    belowFloor,
    stop() {
      unsubscribeStore();
      unsubscribeLog();
    },
  };
}

function viewOf(node: KubeNode): NodeView {
  const instanceId = /\/(i-[0-9a-f]+)$/.exec(node.spec?.providerID ?? '')?.[1];
  return { instanceId, ready: isNodeReady(node), cordoned: node.spec?.unschedulable === true };
}
