/**
 * The shapes every user data renderer shares. Plain data: callers fetch the cluster with
 * eks:DescribeCluster and pass it in; nothing in this folder calls AWS.
 */

/** The image family a launch template boots (same literals as shared/ami). */
export type NodeImageFamily = 'al2' | 'al2023' | 'bottlerocket' | 'windows';

/**
 * `full-bootstrap`: the template names its own AMI, EKS merges nothing, the user data must
 * join the node itself. `eks-merges`: a managed node group on an EKS AMI; EKS appends its
 * own bootstrap, so ours must never start the kubelet.
 */
export type UserDataMode = 'full-bootstrap' | 'eks-merges';

export interface ClusterConnection {
  name: string;
  /** https://… as eks:DescribeCluster returns it */
  endpoint: string;
  /** base64 PEM, `cluster.certificateAuthority.data` */
  certificateAuthority: string;
  /** `kubernetesNetworkConfig.serviceIpv4Cidr`, e.g. 10.100.0.0/16 */
  serviceIpv4Cidr: string;
}

export interface NodeTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface RenderUserDataInput {
  family: NodeImageFamily;
  mode: UserDataMode;
  cluster: ClusterConnection;
  /** max pods computed for the instance type and the cluster's CNI; the user's own setting wins over it */
  maxPods?: number;
  /** the node group's `max-pods` tag: wins over the user's setting and the computed one */
  maxPodsOverride?: number;
  /** the existing user data was rendered by this service: its max pods is ours, recomputed rather than kept */
  existingMaxPodsIsOurs?: boolean;
  /** the current template's user data, decoded (not base64) */
  existing?: string;
  labels?: Record<string, string>;
  taints?: NodeTaint[];
}

/** What a user data would join: read back from a bootstrap we or the user wrote. */
export interface BootstrapTarget {
  clusterName?: string;
  apiServerEndpoint?: string;
  certificateAuthority?: string;
}
