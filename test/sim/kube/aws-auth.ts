import { parse, stringify } from 'yaml';
import type { KubeStore } from './store.js';
import type { ConfigMap } from './types.js';

/**
 * `kube-system/aws-auth`, the ConfigMap aws-iam-authenticator reads on clusters whose
 * authentication mode still includes CONFIG_MAP: helpers to write it as an operator would
 * (`kubectl edit cm aws-auth`), and the authenticator's own reading of it for the kubelet.
 */

export const AWS_AUTH = { namespace: 'kube-system', name: 'aws-auth' } as const;

export interface RoleMapping {
  rolearn: string;
  username: string;
  groups: string[];
}

/** The entry the EKS user guide gives for a node role (plus eks:kube-proxy-windows for Windows). */
export function nodeRoleMapping(roleArn: string, options: { windows?: boolean; groups?: string[] } = {}): RoleMapping {
  return {
    rolearn: roleArn,
    username: 'system:node:{{EC2PrivateDNSName}}',
    groups: options.groups ?? ['system:bootstrappers', 'system:nodes', ...(options.windows ? ['eks:kube-proxy-windows'] : [])],
  };
}

/** Creates aws-auth, or replaces its mapRoles, keeping its other keys (mapUsers, mapAccounts). */
export function putAwsAuth(store: KubeStore, mapRoles: readonly RoleMapping[]): ConfigMap {
  const text = stringify(mapRoles);
  const current = store.get('configmaps', AWS_AUTH.namespace, AWS_AUTH.name);
  if (!current) return store.create('configmaps', { metadata: { ...AWS_AUTH }, data: { mapRoles: text } });
  return store.update('configmaps', AWS_AUTH.namespace, AWS_AUTH.name, (cm) => {
    cm.data = { ...cm.data, mapRoles: text };
  });
}

/** Adds (or replaces) one role's entry. */
export function mapRole(store: KubeStore, mapping: RoleMapping): ConfigMap {
  const others = (readMapRoles(store) ?? []).filter((m) => m.rolearn !== mapping.rolearn);
  return putAwsAuth(store, [...others, mapping]);
}

/** The mapRoles entries; undefined when there is no aws-auth, [] when it maps no role. */
export function readMapRoles(store: KubeStore): RoleMapping[] | undefined {
  const cm = store.get('configmaps', AWS_AUTH.namespace, AWS_AUTH.name);
  if (!cm) return undefined;
  const parsed: unknown = cm.data?.['mapRoles'] ? parse(cm.data['mapRoles']) : [];
  return Array.isArray(parsed) ? (parsed as RoleMapping[]) : [];
}

/**
 * Whether a node authenticating as `roleArn` gets into `system:nodes`. The authenticator
 * only knows the role from STS (`assumed-role/<name>/<session>`), so it compares against the
 * ARN without the role's path: an entry written with the path never matches
 * (kubernetes-sigs/aws-iam-authenticator#268).
 */
export function awsAuthAdmitsNode(store: KubeStore, roleArn: string): boolean {
  const canonical = withoutPath(roleArn);
  return (readMapRoles(store) ?? []).some((m) => m.rolearn === canonical && (m.groups ?? []).includes('system:nodes'));
}

function withoutPath(roleArn: string): string {
  const at = roleArn.indexOf(':role/');
  if (at < 0) return roleArn;
  return `${roleArn.slice(0, at)}:role/${roleArn.slice(at + ':role/'.length).split('/').pop()}`;
}
