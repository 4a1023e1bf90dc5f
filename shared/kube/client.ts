import type { AwsScope } from '../aws/clients.js';
import { describeCluster } from '../aws/clusters.js';
import { ClusterNotFoundError, KubernetesAccessDeniedError, KubernetesUnavailableError } from '../errors.js';
import { appsV1Api, authorizationV1Api, coreV1Api, policyV1Api, type AppsV1Api, type AuthorizationV1Api, type CoreV1Api, type PolicyV1Api } from './api.js';
import type { EksTokenCache } from './eks-token.js';
import { KubeStatusError, KubeRestClient, KubeTransportError } from './rest-client.js';

export interface ClusterConnection {
  name: string;
  endpoint: string;
  /** base64 PEM, as DescribeCluster returns it */
  caData: string;
  serviceIpv4Cidr?: string;
  version?: string;
  /** API, API_AND_CONFIG_MAP or CONFIG_MAP: whether access entries, aws-auth, or both let principals in */
  authenticationMode?: string;
}

interface Apis {
  core: CoreV1Api;
  policy: PolicyV1Api;
  apps: AppsV1Api;
  authorization: AuthorizationV1Api;
}

/**
 * Kubernetes API clients for EKS clusters, configured from DescribeCluster (endpoint, CA)
 * and authenticated with an EKS bearer token. Cluster data is read once per cold start, and
 * each cluster gets one HTTPS client (one pool of keep-alive connections); the token is
 * asked for per request, so a renewed token does not cost new connections.
 */
export class KubeClients {
  private readonly clusters = new Map<string, Promise<ClusterConnection>>();
  private readonly apis = new Map<string, Promise<Apis>>();

  constructor(
    private readonly aws: AwsScope,
    private readonly tokens: EksTokenCache,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  connection(cluster: string): Promise<ClusterConnection> {
    let found = this.clusters.get(cluster);
    if (!found) {
      found = describeClusterConnection(this.aws, cluster);
      this.clusters.set(cluster, found);
      found.catch(() => this.clusters.delete(cluster));
    }
    return found;
  }

  async core(cluster: string): Promise<CoreV1Api> {
    return (await this.api(cluster)).core;
  }

  async policy(cluster: string): Promise<PolicyV1Api> {
    return (await this.api(cluster)).policy;
  }

  async apps(cluster: string): Promise<AppsV1Api> {
    return (await this.api(cluster)).apps;
  }

  async authorization(cluster: string): Promise<AuthorizationV1Api> {
    return (await this.api(cluster)).authorization;
  }

  private api(cluster: string): Promise<Apis> {
    let found = this.apis.get(cluster);
    if (!found) {
      found = this.connection(cluster).then((connection) => {
        const client = new KubeRestClient({
          endpoint: connection.endpoint,
          caData: connection.caData,
          token: () => this.tokens.get(cluster),
          ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        });
        return { core: coreV1Api(client), policy: policyV1Api(client), apps: appsV1Api(client), authorization: authorizationV1Api(client) };
      });
      this.apis.set(cluster, found);
      found.catch(() => this.apis.delete(cluster));
    }
    return found;
  }
}

/** Endpoint, CA, service CIDR and version of a cluster (DescribeCluster). */
export async function describeClusterConnection(scope: AwsScope, name: string): Promise<ClusterConnection> {
  const cluster = await describeCluster(scope, name);
  if (!cluster.endpoint || !cluster.certificateAuthority) throw new ClusterNotFoundError(name);
  return {
    name,
    endpoint: cluster.endpoint,
    caData: cluster.certificateAuthority,
    serviceIpv4Cidr: cluster.serviceIpv4Cidr,
    version: cluster.version,
    ...(cluster.authenticationMode ? { authenticationMode: cluster.authenticationMode } : {}),
  };
}

/** HTTP status of a Kubernetes API error, or undefined for a transport failure. */
export function kubeStatus(error: unknown): number | undefined {
  return error instanceof KubeStatusError ? error.statusCode : undefined;
}

/**
 * Runs one Kubernetes call and turns its failure into a typed error (see `kubeFailure`).
 * Other statuses pass through for the caller to interpret (404 is often an answer, not a
 * failure).
 */
export async function callKube<T>(cluster: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw kubeFailure(cluster, operation, error);
  }
}

/**
 * The typed error a failed Kubernetes call means: 401/403 → access denied (a configuration
 * problem: retrying will not help); 5xx, 429 from the server itself (throttling; an
 * eviction's 429 is the caller's answer before it gets here), timeouts and transport
 * failures → unavailable (retryable). Anything else is returned as it is.
 */
export function kubeFailure(cluster: string, operation: string, error: unknown): unknown {
  if (error instanceof KubeTransportError) return new KubernetesUnavailableError(cluster, `${operation}: ${error.message}`, { cause: error });
  const status = kubeStatus(error);
  if (status === 401 || status === 403) {
    return new KubernetesAccessDeniedError(cluster, `${operation}: HTTP ${status}`, { cause: error });
  }
  if (status === 429) return new KubernetesUnavailableError(cluster, `${operation}: HTTP 429 (the API server is throttling)`, { cause: error });
  if (status !== undefined && status >= 500) return new KubernetesUnavailableError(cluster, `${operation}: HTTP ${status}`, { cause: error });
  return error;
}
