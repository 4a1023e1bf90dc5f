import { roleNameOf } from '../aws/iam.js';
import { KubernetesAccessDeniedError } from '../errors.js';
import type { CoreV1Api } from '../kube/api.js';
import { callKube, kubeStatus } from '../kube/client.js';

/** An entry of aws-auth's mapRoles. */
export interface RoleMapping {
  rolearn: string;
  username?: string;
  groups: string[];
}

/** `…:role/path/name` → `…:role/name`. */
export function roleArnWithoutPath(roleArn: string): string {
  const at = roleArn.indexOf(':role/');
  if (at < 0) return roleArn;
  return `${roleArn.slice(0, at)}:role/${roleNameOf(roleArn)}`;
}

/**
 * The entry of aws-auth's mapRoles for a role. The authenticator learns the role from STS,
 * which drops the role's path, so only an entry naming the ARN without its path matches
 * (kubernetes-sigs/aws-iam-authenticator#268); one written with the path is reported as
 * `mappedWithPath`. Rejects when mapRoles is not a YAML list.
 *
 * Used by preflight and by the explanation of a failed managed update, so both read aws-auth
 * the same way, each with the YAML reader its bundle has (shared/yaml: the preflight with
 * `yaml`, rollStep with js-yaml; both read YAML 1.2's core schema, which for mapRoles — a
 * list of maps of strings — gives the same data: test/unit/rollout-aws-auth.test.ts).
 */
export async function findRoleMapping(mapRoles: string | undefined, roleArn: string, read: (text: string) => Promise<unknown>): Promise<{ mapping?: RoleMapping; mappedWithPath?: string }> {
  if (mapRoles === undefined || mapRoles.trim() === '') return {};
  const parsed: unknown = await read(mapRoles);
  if (!Array.isArray(parsed)) throw new Error('mapRoles is not a list');
  const entries = parsed
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>)['rolearn'] === 'string')
    .map((e) => ({
      rolearn: e['rolearn'] as string,
      ...(typeof e['username'] === 'string' ? { username: e['username'] } : {}),
      groups: Array.isArray(e['groups']) ? (e['groups'] as unknown[]).map(String) : [],
    }));
  const canonical = roleArnWithoutPath(roleArn);
  const mapping = entries.find((e) => e.rolearn === canonical);
  if (mapping) return { mapping };
  const withPath = canonical !== roleArn ? entries.find((e) => e.rolearn === roleArn) : undefined;
  return withPath ? { mappedWithPath: withPath.rolearn } : {};
}

/** What kube-system/aws-auth says of a role. */
export type AwsAuthFact =
  | { status: 'absent' }
  | { status: 'unreadable'; reason: string }
  | { status: 'malformed'; reason: string }
  /** `mapping`: the entry the authenticator would use; `mappedWithPath`: an entry that names the role with its path, which never matches */
  | { status: 'read'; mapping?: RoleMapping; mappedWithPath?: string };

/**
 * Reads aws-auth's entry for the role. Our own RBAC refusing the read is a finding
 * (`unreadable`); an unreachable API server throws, for the caller's retry.
 */
export async function readAwsAuth(core: () => Promise<CoreV1Api>, cluster: string, roleArn: string, read: (text: string) => Promise<unknown>): Promise<AwsAuthFact> {
  try {
    const api = await core();
    const configMap = await callKube(cluster, 'get configmap kube-system/aws-auth', () => api.readNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system' })).catch((error: unknown) => {
      if (kubeStatus(error) === 404) return undefined;
      throw error;
    });
    if (!configMap) return { status: 'absent' };
    try {
      return { status: 'read', ...(await findRoleMapping(configMap.data?.['mapRoles'], roleArn, read)) };
    } catch (error) {
      return { status: 'malformed', reason: (error as Error).message };
    }
  } catch (error) {
    if (error instanceof KubernetesAccessDeniedError) return { status: 'unreadable', reason: error.detail };
    throw error;
  }
}
