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
}

export interface TerminationObserver {
  readonly terminations: TerminationRecord[];
  stop(): void;
}

export interface TerminationWorld {
  readonly account: SimAccount;
  readonly clusters: ReadonlyMap<string, { store: KubeStore }>;
}

export function observeTerminations(world: TerminationWorld): TerminationObserver {
  const { account } = world;
  const terminations: TerminationRecord[] = [];
  let stopped = false;

  account.ec2.instances.onStateChange((record, previous) => {
    if (stopped || record.instance.State.Name !== 'shutting-down' || (previous !== 'running' && previous !== 'pending')) return;
    const instanceId = record.instance.InstanceId!;
    const found = nodeOfInstance(world, instanceId);
    const pods = found ? (found.store.view('pods') as Pod[]).filter((p) => p.spec?.nodeName === found.node && holdsNode(p)) : [];
    const name = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
    terminations.push({
      at: account.clock.iso(),
      instanceId,
      ...(found ? { node: found.node } : {}),
      podsToEvict: pods.filter(awaitsEviction).map(name),
      podsTerminating: pods.filter((p) => !awaitsEviction(p)).map(name),
      ...causeOf(account, instanceId, record.terminationReason),
    });
  });

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

/** The Kubernetes node an instance registered (by its providerID), while the node exists. */
export function nodeOfInstance(world: Pick<TerminationWorld, 'clusters'>, instanceId: string): { store: KubeStore; node: string } | undefined {
  for (const { store } of world.clusters.values()) {
    const node = (store.view('nodes') as KubeNode[]).find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`));
    if (node) return { store, node: node.metadata.name! };
  }
  return undefined;
}
