import type { V1Pod, V1PodDisruptionBudget } from '../api-types.js';
import { now as serviceNow } from '../../clock.js';
import { cordonNode } from './cordon-node.js';
import { singleNamespace } from './blockers.js';
import { KubeCalls } from './kube-calls.js';
import { selectPodsToDrain } from './pod-filters.js';
import { nodeGoneProgress } from './report.js';
import { type DrainPorts, type DrainProgress, type DrainSettings, resolveDrainSettings } from './types.js';

/** Every pod bound to the node, in all namespaces: ONE list request, filtered by the API server. */
export async function listNodePods(ports: Pick<DrainPorts, 'core'>, calls: KubeCalls, nodeName: string): Promise<V1Pod[]> {
  const list = await calls.call(`list pods on node ${nodeName}`, () =>
    ports.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }),
  );
  // a server that ignored the field selector must not make us evict another node's pods
  return list.items.filter((pod) => pod.spec?.nodeName === nodeName);
}

/** The budgets: one list, of the namespace when every pod concerned is in one, else of all namespaces. */
export async function listBudgets(ports: DrainPorts, calls: KubeCalls, pods: readonly V1Pod[]): Promise<V1PodDisruptionBudget[]> {
  const namespace = singleNamespace(pods);
  const list =
    namespace === undefined
      ? await calls.call('list poddisruptionbudgets', () => ports.policy.listPodDisruptionBudgetForAllNamespaces())
      : await calls.call(`list poddisruptionbudgets in ${namespace}`, () => ports.policy.listNamespacedPodDisruptionBudget({ namespace }));
  return list.items;
}

export interface PassStart {
  settings: DrainSettings;
  calls: KubeCalls;
  now: () => Date;
  /** false when the node was already cordoned: an earlier pass left pods behind */
  cordonChanged: boolean;
  selection: ReturnType<typeof selectPodsToDrain>;
}

/**
 * The first steps every pass shares: (1) cordon (idempotent; a missing node ends the pass
 * as node-gone), (2) list the node's pods in one request, (3) select them (pure).
 */
export async function beginPass(ports: DrainPorts, nodeName: string, overrides: Partial<DrainSettings>): Promise<PassStart | DrainProgress> {
  const settings = resolveDrainSettings(overrides);
  const calls = new KubeCalls(ports.cluster);
  const now = ports.now ?? serviceNow;
  const cordon = await cordonNode(ports, nodeName, settings, calls);
  if (!cordon.found) return nodeGoneProgress(nodeName, now(), calls.requests);
  const selection = selectPodsToDrain(await listNodePods(ports, calls, nodeName));
  return { settings, calls, now, cordonChanged: cordon.changed, selection };
}
