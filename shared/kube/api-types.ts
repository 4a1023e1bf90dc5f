import type * as k8s from '@kubernetes/client-node';

/**
 * Kubernetes objects as the API server sends them. The shapes are client-node's model types
 * (imported as types only: nothing of client-node is bundled), with two differences that
 * client-node's deserializer used to hide:
 * - times (`creationTimestamp`, `deletionTimestamp`, `lastTransitionTime`, `timeAdded`…) are
 *   the RFC 3339 strings of the wire, not `Date` objects: parse them where a time is needed;
 * - a list's continue token is `metadata.continue`, as on the wire (client-node: `_continue`).
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type V1Node = Wire<k8s.V1Node>;
export type V1Taint = Wire<k8s.V1Taint>;
export type V1Pod = Wire<k8s.V1Pod>;
export type V1OwnerReference = Wire<k8s.V1OwnerReference>;
export type V1PodDisruptionBudget = Wire<k8s.V1PodDisruptionBudget>;
export type V1LabelSelector = Wire<k8s.V1LabelSelector>;
export type V1ConfigMap = Wire<k8s.V1ConfigMap>;
export type V1DaemonSet = Wire<k8s.V1DaemonSet>;
export type V1Eviction = Wire<k8s.V1Eviction>;
export type V1DeleteOptions = Wire<k8s.V1DeleteOptions>;
export type V1SelfSubjectAccessReview = Wire<k8s.V1SelfSubjectAccessReview>;
export type V1ResourceAttributes = Wire<k8s.V1ResourceAttributes>;
/** What the API server answers a failed request with (and an eviction it accepted). */
export type V1Status = Wire<k8s.V1Status>;

export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}
