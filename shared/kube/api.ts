import type { KubeList, V1ConfigMap, V1DaemonSet, V1DeleteOptions, V1Eviction, V1Node, V1Pod, V1PodDisruptionBudget, V1SelfSubjectAccessReview, V1Status } from './api-types.js';
import type { KubeRestClient } from './rest-client.js';

/**
 * The Kubernetes API calls this service makes, and no others: core/v1, policy/v1, apps/v1 and
 * authorization.k8s.io/v1 (doctor's own access review), with
 * client-node's method names and object parameters so that code reads as its documentation
 * does. Lists are single requests unless the caller pages with `limit` and `_continue`.
 */

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  /** `metadata.continue` of the previous page */
  _continue?: string;
}

/** The Content-Type a PATCH names its kind of patch with. */
export const PatchStrategy = {
  JsonPatch: 'application/json-patch+json',
  MergePatch: 'application/merge-patch+json',
  StrategicMergePatch: 'application/strategic-merge-patch+json',
} as const;
export type PatchStrategy = (typeof PatchStrategy)[keyof typeof PatchStrategy];

export interface CoreV1Api {
  listNode(options?: ListOptions): Promise<KubeList<V1Node>>;
  readNode(params: { name: string }): Promise<V1Node>;
  /** the kind of patch is not defaulted: a JSON patch and a merge patch of the same body mean different things */
  patchNode(params: { name: string; body: object }, strategy: PatchStrategy): Promise<V1Node>;
  listPodForAllNamespaces(options?: ListOptions): Promise<KubeList<V1Pod>>;
  /** 201 with a Status when the eviction is accepted; 429 when a PodDisruptionBudget refuses it */
  createNamespacedPodEviction(params: { name: string; namespace: string; body: V1Eviction }): Promise<V1Status>;
  deleteNamespacedPod(params: { name: string; namespace: string; gracePeriodSeconds?: number; body?: V1DeleteOptions }): Promise<V1Pod>;
  readNamespacedConfigMap(params: { name: string; namespace: string }): Promise<V1ConfigMap>;
}

export interface PolicyV1Api {
  listPodDisruptionBudgetForAllNamespaces(options?: ListOptions): Promise<KubeList<V1PodDisruptionBudget>>;
  listNamespacedPodDisruptionBudget(params: { namespace: string } & ListOptions): Promise<KubeList<V1PodDisruptionBudget>>;
}

const segment = encodeURIComponent;

function listQuery(options: ListOptions = {}): Record<string, string | number | undefined> {
  return { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.limit, continue: options._continue };
}

export function coreV1Api(client: KubeRestClient): CoreV1Api {
  const pod = (namespace: string, name: string) => `/api/v1/namespaces/${segment(namespace)}/pods/${segment(name)}`;
  return {
    listNode: (options) => client.send({ method: 'GET', path: '/api/v1/nodes', query: listQuery(options) }),
    readNode: ({ name }) => client.send({ method: 'GET', path: `/api/v1/nodes/${segment(name)}` }),
    patchNode: ({ name, body }, strategy) => client.send({ method: 'PATCH', path: `/api/v1/nodes/${segment(name)}`, body, contentType: strategy }),
    listPodForAllNamespaces: (options) => client.send({ method: 'GET', path: '/api/v1/pods', query: listQuery(options) }),
    createNamespacedPodEviction: ({ name, namespace, body }) => client.send({ method: 'POST', path: `${pod(namespace, name)}/eviction`, body }),
    // as client-node sends it: the grace period as a query parameter, preconditions in the body
    deleteNamespacedPod: ({ name, namespace, gracePeriodSeconds, body }) =>
      client.send({ method: 'DELETE', path: pod(namespace, name), query: { gracePeriodSeconds }, body }),
    readNamespacedConfigMap: ({ name, namespace }) => client.send({ method: 'GET', path: `/api/v1/namespaces/${segment(namespace)}/configmaps/${segment(name)}` }),
  };
}

/** apps/v1: only the read of one DaemonSet (the VPC CNI's aws-node, for its settings). */
export interface AppsV1Api {
  readNamespacedDaemonSet(params: { name: string; namespace: string }): Promise<V1DaemonSet>;
}

export function appsV1Api(client: KubeRestClient): AppsV1Api {
  return {
    readNamespacedDaemonSet: ({ name, namespace }) => client.send({ method: 'GET', path: `/apis/apps/v1/namespaces/${segment(namespace)}/daemonsets/${segment(name)}` }),
  };
}

export function policyV1Api(client: KubeRestClient): PolicyV1Api {
  return {
    listPodDisruptionBudgetForAllNamespaces: (options) => client.send({ method: 'GET', path: '/apis/policy/v1/poddisruptionbudgets', query: listQuery(options) }),
    listNamespacedPodDisruptionBudget: ({ namespace, ...options }) =>
      client.send({ method: 'GET', path: `/apis/policy/v1/namespaces/${segment(namespace)}/poddisruptionbudgets`, query: listQuery(options) }),
  };
}

/**
 * authorization.k8s.io/v1: may the caller do this? (`kubectl auth can-i`). Every authenticated
 * user may ask it about themselves: the `system:basic-user` ClusterRole, bound to
 * `system:authenticated` by default, grants `create` on selfsubjectaccessreviews.
 */
export interface AuthorizationV1Api {
  createSelfSubjectAccessReview(params: { body: V1SelfSubjectAccessReview }): Promise<V1SelfSubjectAccessReview>;
}

export function authorizationV1Api(client: KubeRestClient): AuthorizationV1Api {
  return {
    createSelfSubjectAccessReview: ({ body }) => client.send({ method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', body }),
  };
}
