import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { ApiException, CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { callAws } from '../aws/call.js';
import { ClusterNotFoundError, KubernetesAccessDeniedError, KubernetesUnavailableError } from '../errors.js';
import type { EksTokenCache } from './eks-token.js';

export interface ClusterConnection {
  name: string;
  endpoint: string;
  /** base64 PEM, as DescribeCluster returns it */
  caData: string;
  serviceIpv4Cidr?: string;
  version?: string;
}

/**
 * Kubernetes API clients for EKS clusters, configured from DescribeCluster (endpoint, CA)
 * and authenticated with an EKS bearer token. Cluster data is read once per cold start;
 * a client is rebuilt only when its token is renewed.
 */
export class KubeClients {
  private readonly clusters = new Map<string, Promise<ClusterConnection>>();
  private readonly configs = new Map<string, { token: string; config: KubeConfig; apis: Map<unknown, unknown> }>();

  constructor(
    private readonly eks: EKSClient,
    private readonly tokens: EksTokenCache,
  ) {}

  connection(cluster: string): Promise<ClusterConnection> {
    let found = this.clusters.get(cluster);
    if (!found) {
      found = describeClusterConnection(this.eks, cluster);
      this.clusters.set(cluster, found);
      found.catch(() => this.clusters.delete(cluster));
    }
    return found;
  }

  core(cluster: string): Promise<CoreV1Api> {
    return this.api(cluster, CoreV1Api);
  }

  policy(cluster: string): Promise<PolicyV1Api> {
    return this.api(cluster, PolicyV1Api);
  }

  private async api<T>(cluster: string, type: new (config: never) => T): Promise<T> {
    const [connection, token] = await Promise.all([this.connection(cluster), this.tokens.get(cluster)]);
    let cached = this.configs.get(cluster);
    if (cached?.token !== token) {
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: cluster, server: connection.endpoint, caData: connection.caData, skipTLSVerify: false }],
        users: [{ name: 'eks-node-lifecycle', token }],
        contexts: [{ name: cluster, cluster: cluster, user: 'eks-node-lifecycle' }],
        currentContext: cluster,
      });
      cached = { token, config, apis: new Map() };
      this.configs.set(cluster, cached);
    }
    let api = cached.apis.get(type) as T | undefined;
    if (!api) {
      api = cached.config.makeApiClient(type as never) as T;
      cached.apis.set(type, api);
    }
    return api;
  }
}

/** Endpoint, CA, service CIDR and version of a cluster (DescribeCluster). */
export async function describeClusterConnection(eks: EKSClient, name: string): Promise<ClusterConnection> {
  const { cluster } = await callAws('eks:DescribeCluster', () => eks.send(new DescribeClusterCommand({ name })), {
    ResourceNotFoundException: () => new ClusterNotFoundError(name),
  });
  if (!cluster?.endpoint || !cluster.certificateAuthority?.data) throw new ClusterNotFoundError(name);
  return {
    name,
    endpoint: cluster.endpoint,
    caData: cluster.certificateAuthority.data,
    serviceIpv4Cidr: cluster.kubernetesNetworkConfig?.serviceIpv4Cidr,
    version: cluster.version,
  };
}

/** HTTP status of a Kubernetes API error, or undefined for a transport failure. */
export function kubeStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * Runs one Kubernetes call and turns its failure into a typed error: 401/403 → access
 * denied (a configuration problem: retrying will not help), 5xx, 429 from the server
 * itself, and transport failures → unavailable (retryable). Other statuses pass through
 * for the caller to interpret (404 is often an answer, not a failure).
 */
export async function callKube<T>(cluster: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = kubeStatus(error);
    if (status === 401 || status === 403) {
      throw new KubernetesAccessDeniedError(cluster, `${operation}: HTTP ${status}`, { cause: error });
    }
    if (status === undefined || status >= 500) {
      const detail = status === undefined ? (error as Error).message : `HTTP ${status}`;
      throw new KubernetesUnavailableError(cluster, `${operation}: ${detail}`, { cause: error });
    }
    throw error;
  }
}
