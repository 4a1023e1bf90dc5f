import type { Timer, VirtualClock } from '../clock.js';
import { crashLoopPods, nodeFaultsOf } from './crash-loops.js';
import { collectGarbage, collectOrphanedPods, evictFromNoExecuteTaints, taintNodesByCondition } from './node-controllers.js';
import { schedulePendingPods, startBoundPods, syncPodReadinessWithNodes } from './pod-lifecycle.js';
import type { KubeStore } from './store.js';
import { reconcileDaemonSets, reconcileDeployments, reconcileReplicaSets } from './workload-controllers.js';

// The sandbox's helpers that build workloads live beside the pods they stamp out; they are
// re-exported here because scenarios set up a world and start its controllers together.
export { createDaemonSet, createDeployment, createPdb, createPod, ensureNamespace } from './workloads.js';
export { createNode, setNodeReady } from './nodes.js';

export interface ControllerOptions {
  /** Virtual time from a pod's binding to its being Running and Ready. Default 5 s. */
  podStartupMs?: number;
}

/** Stops every controller and cancels their timers. */
export type StopControllers = () => void;

/** A bound on reconcile passes per wake-up, so a controller bug shows up as a stall, not a hang. */
const MAX_PASSES = 50;

/**
 * Runs the simulated control plane against a store. Controllers react as real ones do:
 * asynchronously, but without virtual delay. A change marks the world dirty and schedules
 * one reconcile at the current virtual time; it runs when the clock next moves (settle or
 * advance), after the change's writer has finished. Each run repeats these passes until
 * nothing changes:
 * 1. node lifecycle: taints from node conditions and cordons;
 * 2. garbage collection: pods of deleted nodes, dependents of deleted owners;
 * 3. taint manager: evictions for NoExecute taints;
 * 4. Deployments, then ReplicaSets (replacement pods), then DaemonSets;
 * 5. the scheduler binds pending pods;
 * 6. the kubelets start bound pods, crash those their node's runtime kills (crash-loops.ts)
 *    and follow their node's readiness.
 */
export function startControllers(store: KubeStore, clock: VirtualClock = store.clock, options: ControllerOptions = {}): StopControllers {
  if (clock !== store.clock) throw new Error('startControllers: the controllers must run on the clock of the store they watch');
  const startupMs = options.podStartupMs ?? 5_000;
  const starting = new Map<string, Timer>();
  const loops = new Map<string, Timer>();
  const faults = nodeFaultsOf(store);
  let dirty = false;
  let running = false;
  let stopped = false;
  let scheduled: Timer | undefined;
  let wake: Timer | undefined;
  let requeue: Timer | undefined;

  function schedule(): void {
    if (!scheduled && !stopped) scheduled = clock.after(0, run);
  }

  /** One pass; when to look again for a toleration running out, and when to retry a refused create. */
  function pass(): { recheck: number | undefined; retry: number | undefined } {
    taintNodesByCondition(store);
    collectOrphanedPods(store);
    collectGarbage(store);
    const recheck = evictFromNoExecuteTaints(store);
    reconcileDeployments(store);
    const retries = [reconcileReplicaSets(store), reconcileDaemonSets(store)].filter((at): at is number => at !== undefined);
    schedulePendingPods(store);
    startBoundPods(store, startupMs, starting);
    crashLoopPods(store, faults, loops);
    syncPodReadinessWithNodes(store);
    return { recheck, retry: retries.length > 0 ? Math.min(...retries) : undefined };
  }

  function run(): void {
    scheduled = undefined;
    running = true;
    let recheck: number | undefined;
    let retry: number | undefined;
    try {
      for (let i = 0; dirty && i < MAX_PASSES; i++) {
        dirty = false;
        ({ recheck, retry } = pass());
      }
    } finally {
      running = false;
    }
    if (dirty) schedule();
    // a requeued create (background: a refusal that lasts must not keep settle() running)
    if (retry !== undefined && !requeue) {
      requeue = clock.at(retry, () => {
        requeue = undefined;
        dirty = true;
        run();
      }, { background: true });
    }
    // a toleration running out is a change no event announces: wake up for it
    if (recheck !== undefined && (!wake || wake.due !== recheck)) {
      wake?.cancel();
      wake = clock.at(recheck, () => {
        wake = undefined;
        dirty = true;
        run();
      });
    }
  }

  const changed = () => {
    dirty = true;
    if (!running) schedule();
  };
  const unsubscribe = store.on(changed);
  // a node's runtime turning bad is no API change: it wakes the kubelets all the same
  const unsubscribeFaults = faults.on(changed);
  // reconcile what exists already
  dirty = true;
  schedule();

  return function stopControllers() {
    stopped = true;
    unsubscribe();
    unsubscribeFaults();
    scheduled?.cancel();
    wake?.cancel();
    requeue?.cancel();
    for (const timer of [...starting.values(), ...loops.values()]) timer.cancel();
    starting.clear();
    loops.clear();
  };
}
