import { KubeApiError } from './errors.js';
import { fitsNode } from './scheduling.js';
import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import { controllerOf, isNodeReady, isPodActive, isPodReady, type KubeObject, type Pod } from './types.js';
import { daemonPodFor, podFromTemplate, ownerReference, replicaSetFor } from './workloads.js';

/**
 * Level-triggered reconcilers for Deployments, ReplicaSets and DaemonSets: each looks at the
 * whole world and closes the gap to the desired state. Rolling updates of a changed template
 * and adoption of orphans are not modelled.
 *
 * Pods are created as the real controllers create them, with `generateName` (the API server
 * picks a free name), and a create the API refuses never stops a controller: like the real
 * one, which logs and requeues, it asks to be run again a little later (the returned time).
 */

/** How long a controller waits before it tries a refused create again (the workqueue's first backoff is 5 ms; a virtual second is gentler on the event loop). */
const RETRY_AFTER_MS = 1_000;

/** Creates the pod, or returns undefined when the API refuses it (the next sync tries again). */
function createPod(store: KubeStore, pod: Pod): Pod | undefined {
  try {
    return store.create('pods', pod);
  } catch (error) {
    if (error instanceof KubeApiError) return undefined;
    throw error;
  }
}

function ownedBy(pods: readonly Pod[], owner: KubeObject): Pod[] {
  return pods.filter((pod) => pod.metadata.namespace === owner.metadata.namespace && controllerOf(pod)?.uid === owner.metadata.uid);
}

/** Which surplus pod goes first (controller.ActivePods ordering, shortened): unplaced, then unready, then newest. */
function deletionOrder(a: Pod, b: Pod): number {
  const rank = (pod: Pod) => (pod.spec.nodeName ? 2 : 0) + (isPodReady(pod) ? 1 : 0);
  return rank(a) - rank(b) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
}

/** Keeps a Deployment's ReplicaSet at the Deployment's scale and reports status. */
export function reconcileDeployments(store: KubeStore): void {
  const replicaSets = store.view('replicasets');
  for (const deployment of store.view('deployments')) {
    if (deployment.metadata.deletionTimestamp) continue;
    const replicas = deployment.spec.replicas ?? 1;
    let owned = replicaSets.find((rs) => rs.metadata.namespace === deployment.metadata.namespace && controllerOf(rs)?.uid === deployment.metadata.uid);
    if (!owned) owned = store.create('replicasets', replicaSetFor(deployment));
    else if ((owned.spec.replicas ?? 1) !== replicas) {
      owned = store.update('replicasets', owned.metadata.namespace, owned.metadata.name!, (rs) => {
        rs.spec.replicas = replicas;
        rs.metadata.annotations = { ...rs.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(replicas) };
      });
    }
    const ready = owned.status?.readyReplicas ?? 0;
    const current = owned.status?.replicas ?? 0;
    const available = ready >= replicas;
    const now = rfc3339(store.clock.now());
    store.update('deployments', deployment.metadata.namespace, deployment.metadata.name!, (d) => {
      const previous = d.status?.conditions?.find((c) => c.type === 'Available');
      const status = available ? 'True' : 'False';
      d.status = {
        observedGeneration: d.metadata.generation ?? 1,
        replicas: current,
        updatedReplicas: current,
        readyReplicas: ready,
        availableReplicas: ready,
        ...(current - ready > 0 ? { unavailableReplicas: current - ready } : {}),
        conditions: [
          {
            type: 'Available',
            status,
            reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
            lastUpdateTime: previous?.status === status ? previous.lastUpdateTime : now,
            lastTransitionTime: previous?.status === status ? previous.lastTransitionTime : now,
          },
        ],
      };
    });
  }
}

/**
 * Keeps `replicas` active pods per ReplicaSet. A pod that starts terminating stops counting
 * at once, so an eviction is answered by a replacement while the evicted pod shuts down.
 */
export function reconcileReplicaSets(store: KubeStore): number | undefined {
  const pods = store.view('pods');
  let retry: number | undefined;
  for (const rs of store.view('replicasets')) {
    if (rs.metadata.deletionTimestamp) continue;
    const want = rs.spec.replicas ?? 1;
    const active = ownedBy(pods, rs).filter(isPodActive);
    for (let i = active.length; i < want; i++) {
      const created = createPod(store, podFromTemplate(rs.spec.template, rs.metadata.namespace!, ownerReference(rs)));
      if (created) active.push(created);
      else retry = store.clock.now() + RETRY_AFTER_MS;
    }
    if (active.length > want) {
      for (const surplus of active.sort(deletionOrder).splice(0, active.length - want)) {
        store.delete('pods', surplus.metadata.namespace, surplus.metadata.name!);
      }
    }
    const ready = active.filter(isPodReady).length;
    store.update('replicasets', rs.metadata.namespace, rs.metadata.name!, (r) => {
      r.status = {
        replicas: active.length,
        fullyLabeledReplicas: active.length,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: r.metadata.generation ?? 1,
      };
    });
  }
  return retry;
}

/**
 * One daemon pod per node that should run it. Pods are created only on Ready nodes; a node
 * that goes NotReady keeps its pod (daemon pods tolerate not-ready), as in Kubernetes.
 */
export function reconcileDaemonSets(store: KubeStore): number | undefined {
  const nodes = store.view('nodes');
  const pods = store.view('pods');
  let retry: number | undefined;
  for (const ds of store.view('daemonsets')) {
    if (ds.metadata.deletionTimestamp) continue;
    const owned = ownedBy(pods, ds).filter(isPodActive);
    let desired = 0;
    let scheduled = 0;
    let ready = 0;
    for (const node of nodes) {
      const name = node.metadata.name!;
      const candidate = daemonPodFor(ds, name);
      // readiness aside, does this node select and tolerate the daemon pod?
      const shouldRun = fitsNode({ ...candidate, spec: { ...candidate.spec, nodeName: undefined } }, node, { ignoreReadiness: true }).fits;
      if (!shouldRun) continue;
      desired++;
      const existing = owned.find((pod) => pod.spec.nodeName === name);
      if (existing) {
        scheduled++;
        if (isPodReady(existing)) ready++;
      } else if (isNodeReady(node)) {
        if (createPod(store, candidate)) scheduled++;
        else retry = store.clock.now() + RETRY_AFTER_MS;
      }
    }
    const misscheduled = owned.filter((pod) => !nodes.some((n) => n.metadata.name === pod.spec.nodeName)).length;
    store.update('daemonsets', ds.metadata.namespace, ds.metadata.name!, (d) => {
      d.status = {
        currentNumberScheduled: scheduled,
        desiredNumberScheduled: desired,
        numberMisscheduled: misscheduled,
        numberReady: ready,
        numberAvailable: ready,
        updatedNumberScheduled: scheduled,
        observedGeneration: d.metadata.generation ?? 1,
      };
    });
  }
  return retry;
}
