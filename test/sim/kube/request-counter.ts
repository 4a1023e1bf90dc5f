import type { ObservedRequest } from './api-server.js';

/**
 * Counts the requests a sandbox API server handles, by client and by what was asked, so a
 * benchmark can say "Kubernetes API requests per evicted pod" for our drain engine and for
 * `kubectl drain` alike. Wire it with `startKubeApiServer({ …, onRequest: counter.observe })`.
 */

/** Who sent a request, from its User-Agent: the service (shared/kube/rest-client.ts), kubectl, or client-node (scripts, tests). */
export type ApiClient = 'eks-node-lifecycle' | 'kubectl' | 'client-node' | 'other';

export function clientOf(userAgent: string): ApiClient {
  if (userAgent.startsWith('eks-node-lifecycle')) return 'eks-node-lifecycle';
  if (userAgent.startsWith('kubectl')) return 'kubectl';
  if (userAgent.startsWith('kubernetes-client-javascript')) return 'client-node';
  return 'other';
}

/**
 * What a request asked for: `create pods/eviction`, `get pods`, `patch nodes`, `watch pods`;
 * for discovery and health paths, the method and path (`GET /apis`).
 */
export function requestKey(request: Pick<ObservedRequest, 'method' | 'path' | 'verb' | 'resource' | 'subresource'>): string {
  if (!request.verb || !request.resource) return `${request.method} ${request.path}`;
  return `${request.verb} ${request.resource}${request.subresource ? `/${request.subresource}` : ''}`;
}

export interface RequestCountRow {
  client: ApiClient;
  /** `requestKey` of the requests counted here */
  request: string;
  count: number;
  /** how many of them were answered with an error status (≥ 400, or a reset connection) */
  failed: number;
}

export interface RequestCounts {
  total: number;
  byClient: Record<ApiClient, number>;
  /** one row per client and request, most frequent first */
  rows: RequestCountRow[];
}

export interface RequestFilter {
  client?: ApiClient;
  /** a `requestKey`, e.g. `create pods/eviction` */
  request?: string;
}

export interface RequestCounter {
  /** The `onRequest` observer to hand to `startKubeApiServer`. */
  readonly observe: (request: ObservedRequest) => void;
  /** Forgets everything counted so far (after set-up, before the measured run). */
  reset(): void;
  snapshot(): RequestCounts;
  /** Requests counted that match the filter (all of them without one). */
  count(filter?: RequestFilter): number;
}

export function createRequestCounter(): RequestCounter {
  // one row per client and request key
  let counts = new Map<string, RequestCountRow>();

  function observe(request: ObservedRequest): void {
    const client = clientOf(request.userAgent);
    const key = requestKey(request);
    const id = `${client}\u0000${key}`;
    let row = counts.get(id);
    if (!row) counts.set(id, (row = { client, request: key, count: 0, failed: 0 }));
    row.count++;
    if (request.status === 0 || request.status >= 400) row.failed++;
  }

  function snapshot(): RequestCounts {
    const rows = [...counts.values()].map((row) => ({ ...row }));
    rows.sort((a, b) => b.count - a.count || a.client.localeCompare(b.client) || a.request.localeCompare(b.request));
    const byClient: Record<ApiClient, number> = { 'eks-node-lifecycle': 0, kubectl: 0, 'client-node': 0, other: 0 };
    for (const row of rows) byClient[row.client] += row.count;
    return { total: rows.reduce((sum, row) => sum + row.count, 0), byClient, rows };
  }

  return {
    observe,
    reset() {
      counts = new Map();
    },
    snapshot,
    count(filter = {}) {
      return [...counts.values()]
        .filter((row) => (filter.client === undefined || row.client === filter.client) && (filter.request === undefined || row.request === filter.request))
        .reduce((sum, row) => sum + row.count, 0);
    },
  };
}
