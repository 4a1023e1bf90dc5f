import type { V1ResourceAttributes } from './api-types.js';
import type { AuthorizationV1Api } from './api.js';
import { callKube } from './client.js';

/** One question to the API's authorizer: may the caller do this verb on this resource? */
export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/**
 * Asks the API server, with one SelfSubjectAccessReview each (authorization.k8s.io/v1, what
 * `kubectl auth can-i` sends), whether the caller may do each of `questions`: the answer of
 * the cluster's own authorizers (RBAC, and EKS access policies), not a reading of manifests.
 */
export async function reviewAccess<Q extends AccessQuestion>(authorization: AuthorizationV1Api, cluster: string, questions: readonly Q[]): Promise<{ question: Q; allowed: boolean; reason?: string }[]> {
  return Promise.all(
    questions.map(async (question) => {
      const resourceAttributes: V1ResourceAttributes = {
        verb: question.verb,
        group: question.group,
        resource: question.resource,
        ...(question.subresource ? { subresource: question.subresource } : {}),
        ...(question.namespace ? { namespace: question.namespace } : {}),
        ...(question.name ? { name: question.name } : {}),
      };
      const review = await callKube(cluster, `can-i ${question.verb} ${question.resource}`, () =>
        authorization.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } } }),
      );
      return { question, allowed: review.status?.allowed === true, ...(review.status?.reason ? { reason: review.status.reason } : {}) };
    }),
  );
}
