import type { Timer } from '../clock.js';
import { labelSelectorFromObject, matchesLabels } from './selectors.js';
import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import { type Condition, type ContainerStatus, isPodActive, type LabelSelector, type Pod } from './types.js';

/**
 * Crash loops: nodes whose container runtime kills the pods it selects (a bad node image,
 * test/sim/aws/ami-catalogue.ts `badFor: 'workloads'`), and the kubelet's answer to that, as
 * the API then shows it. Every container of an affected pod exits at start (exit code given,
 * reason Error); the kubelet restarts it after its back-off — 10 s, doubling, capped at 5 min
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-restarts) —
 * and it exits again. Between restarts the container waits with reason CrashLoopBackOff, its
 * last termination in `lastState.terminated`, `restartCount` counting the restarts, and the pod
 * is not Ready (Ready and ContainersReady False, ContainersNotReady), so ReplicaSets,
 * Deployments and budgets count it unavailable as the real controllers do. The pod stays
 * Running (restartPolicy Always) and bound: nothing replaces it.
 *
 * A pod running before its node turned bad crashes at once (its first crash ends its first
 * run); the back-off never resets, since no container runs the 10 minutes that would reset it.
 */

export interface CrashLoopFault {
  /** default: every namespace but kube-system */
  namespaces?: readonly string[];
  podSelector?: LabelSelector;
  exitCode: number;
}

const INITIAL_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 300_000;

/** The kubelet's wait before restarting a container that has exited `crashes` times in a row. */
export function crashLoopBackOffMs(crashes: number): number {
  return Math.min(INITIAL_BACKOFF_MS * 2 ** Math.max(0, crashes - 1), MAX_BACKOFF_MS);
}

/** The faults of one cluster's nodes, by node name; the controllers reconcile when one changes. */
export class NodeFaults {
  private readonly faults = new Map<string, CrashLoopFault>();
  private readonly listeners = new Set<() => void>();

  set(node: string, fault: CrashLoopFault | undefined): void {
    if (fault) this.faults.set(node, fault);
    else this.faults.delete(node);
    for (const listener of [...this.listeners]) listener();
  }

  get(node: string): CrashLoopFault | undefined {
    return this.faults.get(node);
  }

  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const FAULTS = new WeakMap<KubeStore, NodeFaults>();

/** The node faults of the cluster a store is. */
export function nodeFaultsOf(store: KubeStore): NodeFaults {
  let faults = FAULTS.get(store);
  if (!faults) FAULTS.set(store, (faults = new NodeFaults()));
  return faults;
}

function selects(fault: CrashLoopFault, pod: Pod): boolean {
  const namespace = pod.metadata.namespace ?? '';
  const inNamespace = fault.namespaces ? fault.namespaces.includes(namespace) : namespace !== 'kube-system';
  return inNamespace && (!fault.podSelector || matchesLabels(labelSelectorFromObject(fault.podSelector), pod.metadata.labels));
}

/** kubelet's back-off message: `format.Pod` is `<name>_<namespace>(<uid>)`, the delay a Go duration. */
function backOffMessage(pod: Pod, container: string, ms: number): string {
  const seconds = Math.round(ms / 1000);
  const delay = seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `back-off ${delay} restarting failed container=${container} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

function waiting(status: ContainerStatus): boolean {
  return (status.state as { waiting?: { reason?: string } } | undefined)?.waiting?.reason === 'CrashLoopBackOff';
}

/** When the container last exited, in ms (metav1.Time has whole seconds). */
function lastExit(status: ContainerStatus): number {
  const finished = (status['lastState'] as { terminated?: { finishedAt?: string } } | undefined)?.terminated?.finishedAt;
  return finished ? Date.parse(finished) : NaN;
}

/**
 * The pod's containers exit: each records its termination and waits out its back-off. `restart`:
 * the kubelet starts them again first (restartCount + 1) and they exit within the same second.
 */
function crash(store: KubeStore, pod: Pod, fault: CrashLoopFault, restart: boolean): void {
  const now = rfc3339(store.clock.now());
  store.update('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
    const status = (p.status ??= {});
    status.containerStatuses = (status.containerStatuses ?? []).map((c) => {
      const restartCount = c.restartCount + (restart ? 1 : 0);
      const containerID = restart ? `containerd://${store.uuid().replace(/-/g, '')}` : (c['containerID'] as string | undefined);
      const running = (c.state as { running?: { startedAt?: string } } | undefined)?.running;
      return {
        ...c,
        ...(containerID ? { containerID } : {}),
        ready: false,
        started: false,
        restartCount,
        lastState: { terminated: { exitCode: fault.exitCode, reason: 'Error', startedAt: restart ? now : (running?.startedAt ?? now), finishedAt: now, ...(containerID ? { containerID } : {}) } },
        state: { waiting: { reason: 'CrashLoopBackOff', message: backOffMessage(p, c.name, crashLoopBackOffMs(restartCount + 1)) } },
      };
    });
    const unready = `containers with unready status: [${status.containerStatuses.map((c) => c.name).join(' ')}]`;
    status.conditions = (status.conditions ?? []).map((c): Condition =>
      (c.type === 'Ready' || c.type === 'ContainersReady') && (c.status !== 'False' || c.reason !== 'ContainersNotReady')
        ? { type: c.type, status: 'False', reason: 'ContainersNotReady', message: unready, lastProbeTime: null, lastTransitionTime: now }
        : c,
    );
  });
}

/**
 * One pass of the kubelets of faulty nodes: a running pod they select crashes now; one
 * waiting out its back-off gets a timer for its restart. Timers are background ones: a
 * crash loop lasts forever and must not keep `settle()` running.
 */
export function crashLoopPods(store: KubeStore, faults: NodeFaults, loops: Map<string, Timer>): void {
  const present = new Set<string>();
  for (const pod of store.view('pods')) {
    const uid = pod.metadata.uid!;
    const fault = pod.spec.nodeName ? faults.get(pod.spec.nodeName) : undefined;
    if (!fault || !isPodActive(pod) || pod.status?.phase !== 'Running' || !selects(fault, pod)) continue;
    present.add(uid);
    if (loops.has(uid)) continue;
    const statuses = pod.status.containerStatuses ?? [];
    if (!statuses.some(waiting)) {
      crash(store, pod, fault, false);
      continue;
    }
    const first = statuses[0]!;
    const due = lastExit(first) + crashLoopBackOffMs(first.restartCount + 1);
    loops.set(
      uid,
      store.clock.at(
        Number.isNaN(due) ? store.clock.now() : due,
        () => {
          loops.delete(uid);
          const now = store.get('pods', pod.metadata.namespace, pod.metadata.name!);
          if (now?.metadata.uid !== uid || !isPodActive(now) || now.status?.phase !== 'Running') return;
          crash(store, now, faults.get(now.spec.nodeName ?? '') ?? fault, true);
        },
        { background: true },
      ),
    );
  }
  for (const [uid, timer] of loops) {
    if (present.has(uid)) continue;
    timer.cancel();
    loops.delete(uid);
  }
}
