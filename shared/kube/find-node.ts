import type { V1Node } from './api-types.js';
import type { CoreV1Api } from './api.js';
import { callKube, kubeStatus } from './client.js';
import { instanceIdOfProviderId } from '../ids.js';

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
    const byName = await readNode(core, cluster, instance.privateDnsName);
    if (byName && nodeRunsInstance(byName, instance.instanceId)) return byName;
  }
  const list = await callKube(cluster, 'list nodes', () => core.listNode());
  return list.items.find((node) => nodeRunsInstance(node, instance.instanceId));
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** The EC2 instance a node runs on, from its providerID (`aws:///<az>/<instance-id>`). */
export function instanceIdOfNode(node: V1Node | undefined): string | undefined {
  return instanceIdOfProviderId(node?.spec?.providerID);
}

/** The EC2 instance behind a node, from its providerID; undefined when there is no such node. */
export async function nodeInstanceId(core: CoreV1Api, cluster: string, nodeName: string): Promise<string | undefined> {
  return instanceIdOfNode(await readNode(core, cluster, nodeName));
}

/** The Node, or undefined when it does not exist. */
export async function readNode(core: CoreV1Api, cluster: string, name: string): Promise<V1Node | undefined> {
  return callKube(cluster, 'get node', () => core.readNode({ name })).catch((error: unknown) => {
    if (kubeStatus(error) === 404) return undefined;
    throw error;
  });
}
