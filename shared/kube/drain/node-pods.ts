import type { V1Pod } from '@kubernetes/client-node';
import type { KubeCalls } from './kube-calls.js';
import type { DrainPorts } from './types.js';

/** Every pod bound to the node, in all namespaces: ONE list request, filtered by the API server. */
export async function listNodePods(ports: DrainPorts, calls: KubeCalls, nodeName: string): Promise<V1Pod[]> {
  const list = await calls.call(`list pods on node ${nodeName}`, () =>
    ports.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }),
  );
  // a server that ignored the field selector must not make us evict another node's pods
  return list.items.filter((pod) => pod.spec?.nodeName === nodeName);
}
