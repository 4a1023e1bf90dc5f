import type { AccessEntryView } from '../aws/access-entries.js';
import type { AwsAuthFact } from './aws-auth.js';

/**
 * "Can this node role join the cluster?" — one rule, for preflight and for the explanation
 * of a failed managed update. Pure: the callers read the facts (`readsAccessEntries`,
 * `readsAwsAuth` say which), this judges them.
 *
 * The rule, from the EKS User Guide:
 * - authentication mode: CONFIG_MAP reads only aws-auth, API only access entries,
 *   API_AND_CONFIG_MAP both, and a principal's access entry takes precedence over its aws-auth
 *   entry (migrating-access-entries.html);
 * - an access entry lets an EC2 node join when its type is EC2_LINUX or EC2_WINDOWS ("for an IAM
 *   role used with self-managed Amazon EC2 nodes, specify EC2_LINUX or EC2_WINDOWS";
 *   CreateAccessEntry). EC2_WINDOWS adds eks:kube-proxy-windows to system:nodes, so it also
 *   serves Linux nodes; Windows nodes need it. HYBRID_LINUX is for hybrid nodes outside EC2
 *   (hybrid-nodes-creds.html): its node name comes from the SSM/Roles Anywhere session, not
 *   the EC2 private DNS name. A STANDARD entry cannot make a node: its username cannot start
 *   with `system:` (set-custom-username.html), so the Node authorizer never sees
 *   `system:node:<name>`, whatever groups it lists;
 * - an aws-auth mapRoles entry for the role without its path (creating-access-entries.html),
 *   with the groups system:bootstrappers and system:nodes (eks:kube-proxy-windows too for
 *   Windows) and the username system:node:{{EC2PrivateDNSName}}.
 */

export type AuthenticationMode = 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP';
export type NodeOs = 'linux' | 'windows';

export const NODE_USERNAME = 'system:node:{{EC2PrivateDNSName}}';

export interface NodeRoleAccessFacts {
  roleArn: string;
  os: NodeOs;
  authenticationMode: AuthenticationMode;
  /** null: no access entry; undefined: not asked (CONFIG_MAP clusters have none) */
  accessEntry?: AccessEntryView | null;
  /** undefined: not read (an access entry decides, or the cluster ignores aws-auth) */
  awsAuth?: AwsAuthFact;
}

export type NodeRoleAccess =
  | { canJoin: true; via: 'access-entry'; entryType: string }
  | { canJoin: true; via: 'aws-auth'; groups: readonly string[] }
  | { canJoin: false; problem: 'wrong-entry-type'; entryType: string; needed: NodeEntryType }
  /** an API-only cluster, and no access entry */
  | { canJoin: false; problem: 'no-entry' }
  | { canJoin: false; problem: 'aws-auth-absent' }
  | { canJoin: false; problem: 'aws-auth-malformed'; reason: string }
  /** `mappedWithPath`: an entry that names the role with its path, which never matches */
  | { canJoin: false; problem: 'not-mapped'; mappedWithPath?: string }
  /** `username`: set, and not a node's */
  | { canJoin: false; problem: 'mapping-incomplete'; missing: readonly string[]; username?: string }
  /** aws-auth decides, and could not be read */
  | { canJoin: 'unknown'; problem: 'aws-auth-unreadable'; reason: string };

export type NodeEntryType = 'EC2_LINUX' | 'EC2_WINDOWS';

/** The access entry type to create for the role. */
export function nodeEntryType(os: NodeOs): NodeEntryType {
  return os === 'windows' ? 'EC2_WINDOWS' : 'EC2_LINUX';
}

/** The groups an aws-auth entry must give the role. */
export function nodeGroups(os: NodeOs): string[] {
  return ['system:bootstrappers', 'system:nodes', ...(os === 'windows' ? ['eks:kube-proxy-windows'] : [])];
}

export function readsAccessEntries(mode: AuthenticationMode): boolean {
  return mode !== 'CONFIG_MAP';
}

/** aws-auth can decide only when the cluster reads it and no access entry takes precedence. */
export function readsAwsAuth(mode: AuthenticationMode, accessEntry: AccessEntryView | null | undefined): boolean {
  return mode !== 'API' && !accessEntry;
}

export function judgeNodeRoleAccess(facts: NodeRoleAccessFacts): NodeRoleAccess {
  const needed = nodeEntryType(facts.os);
  if (readsAccessEntries(facts.authenticationMode) && facts.accessEntry) {
    const type = facts.accessEntry.type;
    const suitable = facts.os === 'windows' ? type === 'EC2_WINDOWS' : type === 'EC2_LINUX' || type === 'EC2_WINDOWS';
    return suitable ? { canJoin: true, via: 'access-entry', entryType: type } : { canJoin: false, problem: 'wrong-entry-type', entryType: type, needed };
  }
  if (facts.authenticationMode === 'API') return { canJoin: false, problem: 'no-entry' };

  const auth = facts.awsAuth ?? { status: 'absent' as const };
  switch (auth.status) {
    case 'unreadable':
      return { canJoin: 'unknown', problem: 'aws-auth-unreadable', reason: auth.reason };
    case 'malformed':
      return { canJoin: false, problem: 'aws-auth-malformed', reason: auth.reason };
    case 'absent':
      return { canJoin: false, problem: 'aws-auth-absent' };
    case 'read':
      break;
  }
  const mapping = auth.mapping;
  if (!mapping) return { canJoin: false, problem: 'not-mapped', ...(auth.mappedWithPath ? { mappedWithPath: auth.mappedWithPath } : {}) };
  const groups = nodeGroups(facts.os);
  const missing = groups.filter((g) => !mapping.groups.includes(g));
  const badUsername = mapping.username !== undefined && !mapping.username.startsWith('system:node:');
  if (missing.length === 0 && !badUsername) return { canJoin: true, via: 'aws-auth', groups };
  return { canJoin: false, problem: 'mapping-incomplete', missing, ...(badUsername ? { username: mapping.username } : {}) };
}
