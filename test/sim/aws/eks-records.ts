/** EKS's records of clusters and managed node groups: what EKS, its updates and the kubelet share. */
import type { AccessEntry, Cluster, Nodegroup } from '@aws-sdk/client-eks';

export interface ClusterRecord {
  cluster: Cluster & { name: string; endpoint: string; version: string };
  accessEntries: Map<string, AccessEntry>;
  nodegroups: Map<string, NodegroupRecord>;
  /** Roles EKS itself mapped in aws-auth (CONFIG_MAP clusters), for the kubelet's authn. */
  eksMappedRoles: Set<string>;
}

export interface NodegroupRecord {
  nodegroup: Nodegroup & { nodegroupName: string; clusterName: string };
  autoScalingGroupName: string;
  eksLaunchTemplateId: string;
}
