/**
 * An in-memory NodeRegistry for tests that need the kubelet but not a Kubernetes API
 * server: it keeps the registered Node objects and their Ready condition.
 */
import type { KubeNode, NodeRegistry } from './node-registry';

export class MemoryNodeRegistry implements NodeRegistry {
  readonly nodes = new Map<string, KubeNode>();
  /** Role ARNs aws-auth maps to system:nodes; undefined = every role is mapped. */
  mappedRoles: Set<string> | undefined;

  registerNode(node: KubeNode): void {
    if (this.nodes.has(node.metadata.name)) throw new Error(`nodes "${node.metadata.name}" already exists`);
    this.nodes.set(node.metadata.name, structuredClone(node));
  }

  setNodeReady(name: string, ready: boolean, reason?: string, message?: string): void {
    const condition = this.nodes.get(name)?.status.conditions.find((c) => c.type === 'Ready');
    if (!condition) return;
    condition.status = ready ? 'True' : 'False';
    condition.reason = reason ?? (ready ? 'KubeletReady' : 'KubeletNotReady');
    if (message !== undefined) condition.message = message;
  }

  removeNode(name: string): void {
    this.nodes.delete(name);
  }

  isNodeRoleMapped(roleArn: string): boolean {
    return this.mappedRoles === undefined || this.mappedRoles.has(roleArn);
  }

  ready(name: string): boolean {
    return this.nodes.get(name)?.status.conditions.find((c) => c.type === 'Ready')?.status === 'True';
  }

  /** The node whose providerID names `instanceId`. */
  byInstance(instanceId: string): KubeNode | undefined {
    return [...this.nodes.values()].find((n) => n.spec.providerID.endsWith(`/${instanceId}`));
  }
}
