import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { callKube, kubeStatus } from './client.js';

/** A Node's `spec.providerID` is `aws:///<az>/<instance-id>`: the only reliable link to EC2. */
export function nodeRunsInstance(node: V1Node, instanceId: string): boolean {
  return node.spec?.providerID?.endsWith(`/${instanceId}`) === true;
}

/**
 * Finds the Node of an instance by providerID. Node names usually are the private DNS name,
 * so that is tried first (one GET); a custom hostname or DHCP option set falls back to a
 * list, and the name is never trusted without the providerID matching.
 */
export async function findNodeForInstance(
  core: CoreV1Api,
  cluster: string,
  instance: { instanceId: string; privateDnsName?: string },
): Promise<V1Node | undefined> {
  if (instance.privateDnsName) {
    const byName = await callKube(cluster, 'get node', () => core.readNode({ name: instance.privateDnsName! })).catch(
      (error: unknown) => {
        if (kubeStatus(error) === 404) return undefined;
        throw error;
      },
    );
    if (byName && nodeRunsInstance(byName, instance.instanceId)) return byName;
  }
  const list = await callKube(cluster, 'list nodes', () => core.listNode());
  return list.items.find((node) => nodeRunsInstance(node, instance.instanceId));
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
