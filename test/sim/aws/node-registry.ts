/**
 * What the simulated kubelet needs from a Kubernetes API server: a tiny port the world
 * implements on top of its KubeStore (or a test implements with a Map).
 *
 * Calls on a node that does not exist (already removed, never registered) must be no-ops:
 * the cloud controller and the kubelet race with whoever else deletes nodes.
 */
export interface NodeRegistry {
  /** Creates the Node object (kubelet self-registration). */
  registerNode(node: KubeNode): void | Promise<void>;
  /** Flips the `Ready` condition (kubelet status updates, node-lifecycle controller); `message`: the kubelet's own words for NotReady. */
  setNodeReady(name: string, ready: boolean, reason?: string, message?: string): void | Promise<void>;
  /** Deletes the Node (cloud controller manager, once the instance is gone). */
  removeNode(name: string): void | Promise<void>;
  /**
   * For clusters that still read `kube-system/aws-auth` (authentication mode CONFIG_MAP or
   * API_AND_CONFIG_MAP) and have no access entry for the node's role: whether aws-auth maps
   * the role to `system:nodes`. Omit it and the kubelet assumes the mapping exists.
   */
  isNodeRoleMapped?(roleArn: string): boolean | Promise<boolean>;
  /**
   * Whether the node's `Ready` condition is True (`undefined`: no such node). Used by EKS
   * managed node group updates; omit it and a registered node counts as Ready.
   */
  isNodeReady?(name: string): boolean | undefined | Promise<boolean | undefined>;
  /** Marks the node unschedulable and merges `labels` into it (EKS: old nodes of an update). */
  cordonNode?(name: string, options?: { labels?: Record<string, string> }): void | Promise<void>;
  /**
   * One drain pass over the node, as `kubectl drain --ignore-daemonsets` does it: every pod
   * but DaemonSet and mirror pods is evicted (budgets respected: a 429 leaves it in place
   * and names it in `blockedBy`), or deleted when `force`. `'drained'` once no such pod is
   * left on the node (terminating pods still count). The caller repeats passes and owns
   * the deadline. Omit it and nodes are treated as empty.
   */
  drainNode?(name: string, options: { force: boolean }): DrainPass | Promise<DrainPass>;
  /**
   * Not an API call: the node's own container runtime. From now on the containers of the pods
   * it selects exit at start on this node, and the API shows what the kubelet reports of them
   * (CrashLoopBackOff, restarts). Omit it and images bad for workloads harm nothing.
   */
  crashPods?(name: string, crash: PodCrash): void | Promise<void>;
}

/** Which pods' containers crash on a node, and how they exit (ami-catalogue.ts's BadForWorkloads). */
export interface PodCrash {
  /** default: every namespace but kube-system */
  namespaces?: readonly string[];
  podSelector?: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
  };
  exitCode: number;
}

/** The outcome of one drain pass: done, or what is still on the node and why. */
export type DrainPass = 'drained' | { blockedBy: string[]; remaining: number };

/** Resolves a cluster's API server; `undefined` when the sandbox runs no API for it. */
export type NodeRegistryLookup = (clusterName: string) => NodeRegistry | undefined;

export interface KubeNodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export interface KubeTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A `v1.Node` as a kubelet registers it (the fields that matter to this project). */
export interface KubeNode {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: {
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    creationTimestamp?: string;
  };
  spec: {
    providerID: string;
    taints?: KubeTaint[];
    unschedulable?: boolean;
  };
  status: {
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    conditions: KubeNodeCondition[];
    addresses: { type: string; address: string }[];
    daemonEndpoints: { kubeletEndpoint: { Port: number } };
    nodeInfo: {
      machineID: string;
      systemUUID: string;
      bootID: string;
      kernelVersion: string;
      osImage: string;
      containerRuntimeVersion: string;
      kubeletVersion: string;
      kubeProxyVersion: string;
      operatingSystem: 'linux' | 'windows';
      architecture: 'amd64' | 'arm64';
    };
  };
}
