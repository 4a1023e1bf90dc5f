import { parseAllDocuments } from 'yaml';
import type { AccessQuestion } from '../../../shared/kube/access-review.js';
import { badRequest, failure, type KubeApiError } from './errors.js';

/**
 * Authorization in the sandbox's API server: what RBAC grants the user the service
 * authenticates as, and `SelfSubjectAccessReview` answered from the very rules the server
 * enforces, so that a review and the request it asks about can never disagree.
 *
 * By default nothing is configured and the server lets every authenticated user do
 * everything (as it always did: the sandbox's one user is the service), and a review says so.
 * `server.setAuthorization(rules)` turns RBAC on: a request the rules do not grant is 403
 * Forbidden, worded as kube-apiserver words it. `rulesFromManifest` reads the rules a group is
 * bound to out of RBAC manifests (scripts/kubernetes/rbac.yaml), as the RBAC authorizer would.
 * Self reviews are allowed to every authenticated user, as Kubernetes' default
 * `system:basic-user` ClusterRole allows them.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** a Role's (through a RoleBinding): only in this namespace; absent: cluster-wide */
  namespace?: string;
}

/** What a request asks, as the authorizer sees it: the service's own access questions have the same shape. */
export type RequestAttributes = AccessQuestion;

const any = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);

/** Does one of `rules` grant the request? RBAC's matching: group, resource (with `/subresource`), verb, names, namespace. */
export function allows(rules: readonly PolicyRule[], request: RequestAttributes): boolean {
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  return rules.some(
    (rule) =>
      any(rule.apiGroups, request.group) &&
      any(rule.resources, resource) &&
      any(rule.verbs, request.verb) &&
      (!rule.resourceNames?.length || (request.name !== undefined && rule.resourceNames.includes(request.name))) &&
      (rule.namespace === undefined || rule.namespace === request.namespace),
  );
}

/** kube-apiserver's 403 for a request RBAC does not grant. */
export function forbidden(user: string, request: RequestAttributes): KubeApiError {
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  // the group-qualified resource (`deployments.apps`), as errors.NewForbidden names it
  const qualified = request.group ? `${request.resource}.${request.group}` : request.resource;
  const what = request.name ? `${qualified} "${request.name}"` : qualified;
  const where = request.namespace ? `in the namespace "${request.namespace}"` : 'at the cluster scope';
  return failure(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${request.verb} resource "${resource}" in API group "${request.group}" ${where}`, {
    ...(request.name ? { name: request.name } : {}),
    ...(request.group ? { group: request.group } : {}),
    kind: request.resource,
  });
}

/**
 * POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews: 201 with the review and its
 * status. One of resourceAttributes or nonResourceAttributes is required (else 400, as the
 * API server validates it); a non-resource URL is allowed only when no RBAC is configured.
 */
export function selfSubjectAccessReview(body: unknown, rules: readonly PolicyRule[] | undefined): { status: number; body: unknown } {
  const review = body as { kind?: string; apiVersion?: string; spec?: { resourceAttributes?: Partial<RequestAttributes>; nonResourceAttributes?: { path?: string; verb?: string } } } | undefined;
  if (!review || typeof review !== 'object' || review.kind !== 'SelfSubjectAccessReview') throw badRequest('the body of the request must be a SelfSubjectAccessReview');
  const attributes = review.spec?.resourceAttributes;
  const nonResource = review.spec?.nonResourceAttributes;
  if ((attributes === undefined) === (nonResource === undefined)) {
    throw failure(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
  }
  const request: RequestAttributes | undefined = attributes
    ? {
        verb: attributes.verb ?? '',
        group: attributes.group ?? '',
        resource: attributes.resource ?? '',
        ...(attributes.subresource ? { subresource: attributes.subresource } : {}),
        ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
        ...(attributes.name ? { name: attributes.name } : {}),
      }
    : undefined;
  const allowed = rules === undefined || (request !== undefined && allows(rules, request));
  const status = rules === undefined ? { allowed: true, reason: 'sandbox: no RBAC configured, every authenticated user may do everything' } : allowed ? { allowed: true, reason: 'RBAC: allowed by the configured rules' } : { allowed: false };
  return { status: 201, body: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: review.spec, status } };
}

/** The rules RBAC manifests bind to a group: ClusterRoleBindings cluster-wide, RoleBindings in their namespace. */
export function rulesFromManifest(yamlText: string, group: string): PolicyRule[] {
  const docs = parseAllDocuments(yamlText).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string }; roleRef?: { kind: string; name: string }; subjects?: { kind: string; name: string }[]; rules?: Omit<PolicyRule, 'namespace'>[] });
  const rules: PolicyRule[] = [];
  for (const binding of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')) {
    if (!binding.subjects?.some((s) => s.kind === 'Group' && s.name === group)) continue;
    const namespace = binding.kind === 'RoleBinding' ? binding.metadata?.namespace : undefined;
    const role = docs.find((d) => d.kind === binding.roleRef?.kind && d.metadata?.name === binding.roleRef?.name && (d.kind === 'ClusterRole' || d.metadata?.namespace === namespace));
    for (const rule of role?.rules ?? []) rules.push({ ...rule, ...(namespace ? { namespace } : {}) });
  }
  return rules;
}
