import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { AWS_NODE } from '../../shared/kube/cni-settings.js';
import { PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';

const { buildsKubeClients } = createRequire(import.meta.url)('../../scripts/deploy/kubernetes-facing.cjs') as { buildsKubeClients: (root: string, module: string) => boolean };

/**
 * The shipped RBAC (scripts/kubernetes/rbac.yaml) grants what the functions call, and nothing
 * more. What they call is read from the source: every Kubernetes API method called in
 * shared/ and functions/ (recognised by the client's method-name grammar — verb, optional
 * Namespaced, kind, subresource — so the scan holds for @kubernetes/client-node and for a
 * client keeping its method names), mapped through KUBE_CALLS to the permission it needs. A
 * new call without a row, or without a rule, fails; so does a rule no call needs.
 */

interface Permission {
  group: string;
  resource: string;
  verb: string;
  /** a namespaced grant of named objects (a Role), instead of the ClusterRole's cluster-wide one */
  only?: { namespace: string; names: string[] };
  /** granted to every authenticated user by Kubernetes' default RBAC (this ClusterRole): rbac.yaml must not repeat it */
  byDefault?: 'system:basic-user';
}

/** The permission each Kubernetes call of the service needs. */
const KUBE_CALLS: Record<string, Permission> = {
  listNode: { group: '', resource: 'nodes', verb: 'list' },
  readNode: { group: '', resource: 'nodes', verb: 'get' },
  patchNode: { group: '', resource: 'nodes', verb: 'patch' },
  listPodForAllNamespaces: { group: '', resource: 'pods', verb: 'list' },
  createNamespacedPodEviction: { group: '', resource: 'pods/eviction', verb: 'create' },
  deleteNamespacedPod: { group: '', resource: 'pods', verb: 'delete' },
  listPodDisruptionBudgetForAllNamespaces: { group: 'policy', resource: 'poddisruptionbudgets', verb: 'list' },
  listNamespacedPodDisruptionBudget: { group: 'policy', resource: 'poddisruptionbudgets', verb: 'list' },
  readNamespacedConfigMap: { group: '', resource: 'configmaps', verb: 'get', only: { namespace: 'kube-system', names: ['aws-auth'] } },
  readNamespacedDaemonSet: { group: 'apps', resource: 'daemonsets', verb: 'get', only: { namespace: 'kube-system', names: ['aws-node'] } },
  // doctor asks what it may do (Kubernetes docs, "Using RBAC Authorization": default ClusterRoles)
  createSelfSubjectAccessReview: { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', verb: 'create', byDefault: 'system:basic-user' },
};

// the client's method names: <verb>[Namespaced|Cluster]<Kind>[<Subresource>][ForAllNamespaces]
const VERBS = ['deleteCollection', 'connectGet', 'connectPost', 'connectPut', 'connectPatch', 'connectDelete', 'connectHead', 'connectOptions', 'list', 'read', 'create', 'patch', 'replace', 'delete', 'watch', 'get'];
const KINDS = [
  'APIService', 'Binding', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'ComponentStatus', 'ConfigMap', 'ControllerRevision', 'CronJob', 'CSIDriver', 'CSINode',
  'CustomObject', 'CustomResourceDefinition', 'DaemonSet', 'Deployment', 'EndpointSlice', 'Endpoints', 'Event', 'HorizontalPodAutoscaler', 'Ingress', 'Job', 'Lease', 'LimitRange',
  'LocalSubjectAccessReview', 'MutatingWebhookConfiguration', 'Namespace', 'NetworkPolicy', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'Pod', 'PodDisruptionBudget',
  'PodTemplate', 'PriorityClass', 'ReplicaSet', 'ReplicationController', 'ResourceQuota', 'Role', 'RoleBinding', 'Secret', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'Service',
  'ServiceAccount', 'StatefulSet', 'StorageClass', 'SubjectAccessReview', 'TokenReview', 'ValidatingWebhookConfiguration', 'VolumeAttachment',
];
const SUBRESOURCES = ['Approval', 'Attach', 'Binding', 'Ephemeralcontainers', 'Eviction', 'Exec', 'Log', 'Portforward', 'Proxy', 'Resize', 'Scale', 'Status', 'Token'];
const byLength = (words: string[]) => [...words].sort((a, b) => b.length - a.length).join('|');
const KUBE_METHOD = new RegExp(`\\.\\s*((?:${byLength(VERBS)})(?:Namespaced|Cluster)?(?:${byLength(KINDS)})(?:${byLength(SUBRESOURCES)})?(?:ForAllNamespaces)?)\\s*\\(`, 'g');

interface Call {
  method: string;
  at: string;
  /** the call's text up to its first closing parenthesis: the arguments, when they are literal */
  text: string;
}

function kubeCallsIn(source: string, file: string): Call[] {
  return [...source.matchAll(KUBE_METHOD)].map((m) => ({
    method: m[1]!,
    at: `${file}:${source.slice(0, m.index).split('\n').length}`,
    text: source.slice(m.index, source.indexOf(')', m.index) + 1),
  }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.ts$/.test(entry) && !/\.d\.ts$/.test(entry) ? [path] : [];
  });
}

const key = (p: Permission) => `${p.only ? `${p.only.namespace}:` : ''}${p.group || 'core'}/${p.resource}:${p.verb}${p.only ? `[${p.only.names.join(',')}]` : ''}`;

interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

/** The permissions a set of RBAC documents grants to `group`, one key each (see `key`). */
function grantedTo(docs: any[], group: string): { keys: string[]; rules: RbacRule[] } {
  const keys: string[] = [];
  const rules: RbacRule[] = [];
  for (const binding of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding')) {
    if (!binding.subjects?.some((s: any) => s.kind === 'Group' && s.name === group)) continue;
    const role = docs.find((d) => d.kind === binding.roleRef.kind && d.metadata.name === binding.roleRef.name && (d.kind === 'ClusterRole' || d.metadata.namespace === binding.metadata.namespace));
    assert.ok(role, `${binding.kind} ${binding.metadata.name} refers to a role the manifest defines`);
    // a RoleBinding scopes even a ClusterRole to its namespace
    const namespace = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
    for (const rule of role.rules as RbacRule[]) {
      rules.push(rule);
      for (const g of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs ?? []) {
            const only = namespace || rule.resourceNames ? { namespace: namespace ?? '*', names: rule.resourceNames ?? ['*'] } : undefined;
            keys.push(key({ group: g, resource, verb, ...(only ? { only } : {}) }));
          }
        }
      }
    }
  }
  return { keys: [...new Set(keys)].sort(), rules };
}

describe('Kubernetes RBAC (scripts/kubernetes/rbac.yaml): exactly what the code calls', () => {
  const docs = parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/rbac.yaml'), 'utf8')).map((d) => d.toJS());
  const granted = grantedTo(docs, 'eks-node-lifecycle');
  const calls = ['shared', 'functions'].flatMap((dir) => sourceFiles(join(PROJECT_ROOT, dir))).flatMap((file) => kubeCallsIn(readFileSync(file, 'utf8'), relative(PROJECT_ROOT, file)));
  const needed = [...new Set(calls.filter((c) => KUBE_CALLS[c.method] && !KUBE_CALLS[c.method]!.byDefault).map((c) => key(KUBE_CALLS[c.method]!)))].sort();

  it('finds the calls of the node lookup, the drain engine, the health gate and the preflight', () => {
    const methods = new Set(calls.map((c) => c.method));
    for (const method of ['listNode', 'patchNode', 'listPodForAllNamespaces', 'createNamespacedPodEviction', 'deleteNamespacedPod', 'readNamespacedConfigMap']) {
      assert.ok(methods.has(method), `the scan finds ${method}`);
    }
  });

  it('knows the permission of every Kubernetes call in shared/ and functions/', () => {
    assert.deepEqual(calls.filter((c) => !KUBE_CALLS[c.method]).map((c) => `${c.at} ${c.method}`), [], 'add each to KUBE_CALLS (and its rule to rbac.yaml)');
  });

  it('grants every call, and nothing no call needs', () => {
    assert.deepEqual(granted.keys, needed);
    // and the table holds no row the code no longer needs
    assert.deepEqual(Object.keys(KUBE_CALLS).filter((m) => !calls.some((c) => c.method === m)), []);
  });

  it('reads only the aws-auth ConfigMap, only in kube-system, wherever the code reads a ConfigMap', () => {
    for (const call of calls.filter((c) => c.method === 'readNamespacedConfigMap')) {
      assert.match(call.text, /name: 'aws-auth'/, call.at);
      assert.match(call.text, /namespace: 'kube-system'/, call.at);
    }
    const kubeSystem = docs.find((d) => d.kind === 'Role');
    assert.equal(kubeSystem.metadata.namespace, 'kube-system');
    assert.deepEqual(kubeSystem.rules[0], { apiGroups: [''], resources: ['configmaps'], resourceNames: ['aws-auth'], verbs: ['get'] });
  });

  it('reads only the aws-node DaemonSet, only in kube-system, wherever the code reads a DaemonSet', () => {
    const reads = calls.filter((c) => c.method === 'readNamespacedDaemonSet');
    assert.ok(reads.length > 0, 'the max-pods read of the VPC CNI settings is found');
    for (const call of reads) assert.match(call.text, /AWS_NODE/, call.at);
    assert.deepEqual(AWS_NODE, { namespace: 'kube-system', name: 'aws-node' });
    const kubeSystem = docs.find((d) => d.kind === 'Role');
    assert.deepEqual(kubeSystem.rules, [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['aws-auth'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['aws-node'], verbs: ['get'] },
    ]);
  });

  it('has no wildcard, no secrets, no escalate/bind/impersonate, no non-resource URLs', () => {
    for (const rule of granted.rules) {
      const words = [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? []), ...(rule.resourceNames ?? [])];
      assert.ok(!words.some((w) => w.includes('*')), JSON.stringify(rule));
      assert.ok(!rule.resources?.some((r) => r === 'secrets' || r.startsWith('secrets/')), JSON.stringify(rule));
      assert.ok(!rule.verbs?.some((v) => ['escalate', 'bind', 'impersonate'].includes(v)), JSON.stringify(rule));
      assert.equal(rule.nonResourceURLs, undefined);
    }
    assert.ok(!docs.some((d) => d.aggregationRule), 'no aggregated role that other roles could widen');
  });

  it('gives an access entry (grant-access.sh) to exactly the roles of the functions that talk to clusters', () => {
    const serverless = readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8');
    const roleOf = (file: string) => new RegExp(`handler: functions/${file}\\.handler\\n(?:    .*\\n)*?    role: (\\w+)`).exec(serverless)?.[1];
    // a handler talks to clusters when it, or a functions/lib module it imports, builds Kubernetes
    // clients: the rule the VPC placement follows too (scripts/deploy/kubernetes-facing.cjs)
    const talking = readdirSync(join(PROJECT_ROOT, 'functions'))
      .filter((f) => f.endsWith('.ts') && buildsKubeClients(PROJECT_ROOT, `functions/${f.replace(/\.ts$/, '')}`))
      .map((f) => roleOf(f.replace(/\.ts$/, '')));
    const script = readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/grant-access.sh'), 'utf8');
    const granted = /for logical in ([\w ]+); do/.exec(script)![1]!.split(' ');
    assert.ok(!talking.includes(undefined), 'every such function names its role');
    assert.deepEqual([...granted].sort(), [...talking].sort() as string[]);
  });

  it('grant-access.sh applies the RBAC to the cluster it was given, never to the current kubectl context', () => {
    // aws and kubectl stand-ins that record how they were called
    const bin = mkdtempSync(join(tmpdir(), 'grant-access-'));
    const calls = join(bin, 'calls');
    const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${calls}"\n${body}\n`, { mode: 0o755 });
    stub('aws', 'case "$*" in *describe-stack-resource*) echo "role-x";; *get-role*) echo "arn:aws:iam::111122223333:role/role-x";; *describe-access-entry*) exit 0;; *update-kubeconfig*) for ((i=1;i<=$#;i++)); do if [ "${!i}" = --kubeconfig ]; then j=$((i+1)); echo "kubeconfig for the cluster" > "${!j}"; fi; done;; esac');
    stub('kubectl', 'for ((i=1;i<=$#;i++)); do if [ "${!i}" = --kubeconfig ]; then j=$((i+1)); cat "${!j}" >> "' + calls + '"; fi; done');
    try {
      execFileSync('bash', [join(PROJECT_ROOT, 'scripts/kubernetes/grant-access.sh'), 'prod-eu', 'prod', 'eu-west-1'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: '/nonexistent/current-context' }, stdio: 'pipe' });
      const lines = readFileSync(calls, 'utf8').trim().split('\n');
      const kubeconfigLine = lines.find((l) => l.includes('update-kubeconfig'))!;
      assert.match(kubeconfigLine, /--region eu-west-1 --name prod-eu --kubeconfig \S+/);
      const kubectl = lines.filter((l) => l.startsWith('kubectl '));
      assert.equal(kubectl.length, 1);
      assert.match(kubectl[0]!, /^kubectl --kubeconfig \S+ apply -f \S+rbac\.yaml$/);
      assert.equal(lines[lines.indexOf(kubectl[0]!) + 1], 'kubeconfig for the cluster', 'kubectl read the kubeconfig written for prod-eu');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('binds only the group the access entries use', () => {
    const bindings = docs.filter((d) => /Binding$/.test(d.kind));
    assert.equal(bindings.length, 2);
    for (const binding of bindings) {
      assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'eks-node-lifecycle' }], binding.metadata.name);
    }
    assert.deepEqual(docs.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
  });
});

describe('Kubernetes RBAC check: it catches what it is meant to', () => {
  const manifest = (rules: RbacRule[]) => [
    { kind: 'ClusterRole', metadata: { name: 'r' }, rules },
    { kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'Group', name: 'g' }] },
  ];

  it('recognises Kubernetes calls by their method names, whatever the client, and nothing else', () => {
    const source = [
      'await core.listNode();',
      'await this.core?.readNamespacedSecret({ name, namespace });',
      'await api.deleteCollectionNamespacedPod({ namespace });',
      'await policy.listPodDisruptionBudgetForAllNamespaces();',
      'await ports.approvals.createApproval({});',
      "text.replaceAll('a', 'b'); doc.deleteIn(['x']);",
    ].join('\n');
    assert.deepEqual(kubeCallsIn(source, 'f.ts').map((c) => `${c.at} ${c.method}`), ['f.ts:1 listNode', 'f.ts:2 readNamespacedSecret', 'f.ts:3 deleteCollectionNamespacedPod', 'f.ts:4 listPodDisruptionBudgetForAllNamespaces']);
  });

  it('sees a grant beyond the calls, and a call without its grant', () => {
    const rbac = grantedTo(manifest([{ apiGroups: [''], resources: ['nodes', 'secrets'], verbs: ['get'] }]), 'g');
    assert.deepEqual(rbac.keys, ['core/nodes:get', 'core/secrets:get']);
    assert.notDeepEqual(rbac.keys, [key(KUBE_CALLS['readNode']!)]);
    assert.deepEqual(grantedTo(manifest([]), 'g').keys, []);
    // a binding of another group grants this one nothing
    assert.deepEqual(grantedTo(manifest([{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]), 'other').keys, []);
  });

  it('tells a named, namespaced grant from a cluster-wide one', () => {
    const docs = [
      { kind: 'Role', metadata: { name: 'r', namespace: 'kube-system' }, rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['aws-auth'], verbs: ['get'] }] },
      { kind: 'RoleBinding', metadata: { name: 'b', namespace: 'kube-system' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'Group', name: 'g' }] },
    ];
    assert.deepEqual(grantedTo(docs, 'g').keys, [key(KUBE_CALLS['readNamespacedConfigMap']!)]);
    assert.deepEqual(grantedTo(manifest([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]), 'g').keys, ['core/configmaps:get']);
  });
});
