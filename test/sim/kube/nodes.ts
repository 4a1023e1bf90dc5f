import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import type { Condition, KubeNode, Labels, Taint } from './types.js';

/** Builds Nodes as an EKS kubelet registers them, for tests and the sandbox's kubelet. */

export interface NodeInput {
  name: string;
  labels?: Labels;
  /** `aws:///<az>/<instance-id>` */
  providerID?: string;
  ready?: boolean;
  unschedulable?: boolean;
  taints?: Taint[];
  kubeletVersion?: string;
  internalIP?: string;
  instanceType?: string;
  zone?: string;
}

export const DEFAULT_KUBELET_VERSION = 'v1.31.4-eks-aeac579';

function readyCondition(ready: boolean, now: string): Condition {
  return ready
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
    : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready', lastHeartbeatTime: now, lastTransitionTime: now };
}

export function createNode(store: KubeStore, input: NodeInput): KubeNode {
  const now = rfc3339(store.clock.now());
  const zone = input.zone ?? 'eu-west-1a';
  const instanceType = input.instanceType ?? 'm6i.large';
  const pressure = (type: string, reason: string, message: string): Condition => ({
    type, status: 'False', reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
  });
  const node: KubeNode = {
    metadata: {
      name: input.name,
      labels: {
        'kubernetes.io/hostname': input.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': instanceType,
        'topology.kubernetes.io/zone': zone,
        'topology.kubernetes.io/region': zone.slice(0, -1),
        ...input.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {
      ...(input.providerID ? { providerID: input.providerID } : {}),
      ...(input.unschedulable ? { unschedulable: true } : {}),
      ...(input.taints ? { taints: input.taints } : {}),
    },
    status: {
      conditions: [
        pressure('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        pressure('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        pressure('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        readyCondition(input.ready ?? true, now),
      ],
      addresses: [
        { type: 'InternalIP', address: input.internalIP ?? '10.0.0.10' },
        { type: 'Hostname', address: input.name },
        { type: 'InternalDNS', address: input.name },
      ],
      capacity: { cpu: '2', memory: '7910136Ki', pods: '29', 'ephemeral-storage': '20959212Ki' },
      allocatable: { cpu: '1930m', memory: '7220984Ki', pods: '29', 'ephemeral-storage': '18242267924' },
      nodeInfo: {
        kubeletVersion: input.kubeletVersion ?? DEFAULT_KUBELET_VERSION,
        kubeProxyVersion: input.kubeletVersion ?? DEFAULT_KUBELET_VERSION,
        osImage: 'Amazon Linux 2023.6.20250123',
        kernelVersion: '6.1.124-134.200.amzn2023.x86_64',
        containerRuntimeVersion: 'containerd://1.7.25',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
  return store.create('nodes', node);
}

/** What the kubelet reports when it starts or stops posting ready status; `notReady`: its own words for why not. */
export function setNodeReady(store: KubeStore, name: string, ready: boolean | 'Unknown', notReady?: { reason: string; message: string }): KubeNode {
  const now = rfc3339(store.clock.now());
  return store.update('nodes', undefined, name, (node) => {
    const conditions = (node.status ??= {}).conditions ?? [];
    const previous = conditions.find((c) => c.type === 'Ready');
    const next: Condition =
      ready === 'Unknown'
        ? { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: previous?.lastHeartbeatTime ?? now, lastTransitionTime: now }
        : ready === false && notReady
          ? { type: 'Ready', status: 'False', ...notReady, lastHeartbeatTime: now, lastTransitionTime: now }
          : readyCondition(ready, now);
    if (previous && previous.status === next.status) next.lastTransitionTime = previous.lastTransitionTime ?? now;
    node.status.conditions = [...conditions.filter((c) => c.type !== 'Ready'), next];
  });
}
