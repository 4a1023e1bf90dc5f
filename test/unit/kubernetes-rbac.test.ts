import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../sim/serverless-config.js';

/** The shipped RBAC grants what the functions call, and nothing more. */
describe('Kubernetes RBAC (scripts/kubernetes/rbac.yaml)', () => {
  const docs = parseAllDocuments(readFileSync(`${PROJECT_ROOT}/scripts/kubernetes/rbac.yaml`, 'utf8')).map((d) => d.toJS());
  const role = docs.find((d) => d.kind === 'ClusterRole');
  const grants = new Set<string>(
    role.rules.flatMap((r: { apiGroups: string[]; resources: string[]; verbs: string[] }) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'}/${res}:${v}`))),
    ),
  );

  it('grants exactly the calls of the node lookup and the drain engine', () => {
    assert.deepEqual([...grants].sort(), [
      'core/nodes:get',
      'core/nodes:list',
      'core/nodes:patch',
      'core/pods/eviction:create',
      'core/pods:delete',
      'core/pods:list',
      'policy/poddisruptionbudgets:list',
    ]);
  });

  it('reads only the aws-auth ConfigMap in kube-system, for the rollout preflight', () => {
    const awsAuth = docs.find((d) => d.kind === 'Role');
    assert.equal(awsAuth.metadata.namespace, 'kube-system');
    assert.deepEqual(awsAuth.rules, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['aws-auth'], verbs: ['get'] }]);
    const binding = docs.find((d) => d.kind === 'RoleBinding');
    assert.equal(binding.roleRef.name, awsAuth.metadata.name);
    assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'eks-node-lifecycle' }]);
  });

  it('has no wildcard and binds the group the access entries use', () => {
    assert.ok(![...grants].some((g) => g.includes('*')));
    const binding = docs.find((d) => d.kind === 'ClusterRoleBinding');
    assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'eks-node-lifecycle' }]);
    assert.equal(binding.roleRef.name, role.metadata.name);
  });
});
