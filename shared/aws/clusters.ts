import { DescribeClusterCommand, EKSClient, paginateListClusters } from '@aws-sdk/client-eks';
import { ClusterNotFoundError } from '../errors.js';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** An EKS cluster, as this service reads one: where its API is, its version, who may enter. */
export interface ClusterView {
  name: string;
  endpoint?: string;
  /** base64 PEM, as DescribeCluster returns it */
  certificateAuthority?: string;
  serviceIpv4Cidr?: string;
  version?: string;
  /** API, API_AND_CONFIG_MAP or CONFIG_MAP; absent on clusters from before access entries */
  authenticationMode?: string;
  /** the cluster's tags (DescribeCluster): where a ring is given for all its groups */
  tags?: Record<string, string>;
}

/** The cluster (DescribeCluster); one EKS does not know is a ClusterNotFoundError. */
export async function describeCluster(scope: AwsScope, name: string): Promise<ClusterView> {
  const { cluster } = await callAws('eks:DescribeCluster', () => clientOf(scope, EKSClient).send(new DescribeClusterCommand({ name })), {
    ResourceNotFoundException: () => new ClusterNotFoundError(name),
  });
  if (!cluster) throw new ClusterNotFoundError(name);
  return {
    name,
    ...(cluster.endpoint !== undefined ? { endpoint: cluster.endpoint } : {}),
    ...(cluster.certificateAuthority?.data !== undefined ? { certificateAuthority: cluster.certificateAuthority.data } : {}),
    ...(cluster.kubernetesNetworkConfig?.serviceIpv4Cidr !== undefined ? { serviceIpv4Cidr: cluster.kubernetesNetworkConfig.serviceIpv4Cidr } : {}),
    ...(cluster.version !== undefined ? { version: cluster.version } : {}),
    ...(cluster.accessConfig?.authenticationMode ? { authenticationMode: cluster.accessConfig.authenticationMode } : {}),
    ...(cluster.tags && Object.keys(cluster.tags).length > 0 ? { tags: cluster.tags } : {}),
  };
}

/** The names of the account's clusters in the scope's region, every page. */
export async function listClusterNames(scope: AwsScope): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListClusters({ client: clientOf(scope, EKSClient) }, {})) names.push(...(page.clusters ?? []));
  return names;
}
