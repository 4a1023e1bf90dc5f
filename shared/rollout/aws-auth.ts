import { roleNameOf } from '../aws/iam.js';

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
