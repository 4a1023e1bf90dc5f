import type { MemberRoles, Place } from '../aws/places.js';
import { ConfigurationError } from '../errors.js';
import { ACCOUNT_ID as ACCOUNT, CLUSTER_NAME as CLUSTER, REGION } from '../ids.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';

/**
 * The member accounts one deployment serves (README "Member accounts"), from the stage param
 * `memberAccounts`: comma-separated entries `<account>[:<region>+<region>…[:<cluster>+<cluster>…]]`.
 * - regions: where the member has clusters (and a member-account.yml stack); default: the hub's region;
 * - clusters: the member's clusters the hub looks after; default: the hub's managedClusters.
 *
 * `444455556666, 777788889999:eu-west-1+us-east-1:prod+batch`
 * '' (the default): a single-account deployment, as before.
 */
export interface MemberAccount {
  accountId: string;
  regions: string[];
  clusters: ManagedClusters;
}

/** Every place the deployment looks after, with the clusters it manages there. */
export interface FleetPlace {
  place: Place;
  clusters: ManagedClusters;
  /** the hub's own account (no role to assume) */
  home: boolean;
}

export interface FleetSettings {
  /** the hub's account id (HUB_ACCOUNT_ID, `Ref: AWS::AccountId`): needed to tell a member from the hub */
  hubAccountId?: string;
  members: MemberAccount[];
  /** the function's member roles; absent when it acts in the hub only, or no member is configured */
  roles?: MemberRoles;
  /** the share of each account-region's documented API request rates the service may take (API_BUDGET_PERCENT); absent: the budget's default (aws/request-budget.ts, 50 %) */
  apiShare?: number;
}

/** member-account.yml's path for the member roles (scripts/deploy/member-accounts.cjs MEMBER_ROLE_PATH) */
export const MEMBER_ROLE_PATH = '/eks-node-lifecycle/';

/** Parses `memberAccounts`; a malformed entry is a ConfigurationError naming it. */
export function parseMemberAccounts(value: string, hubRegion: string, managedClusters: ManagedClusters): MemberAccount[] {
  const members: MemberAccount[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [accountId = '', regionList, clusterList, ...rest] = raw.split(':').map((s) => s.trim());
    const bad = (why: string) => new ConfigurationError(`MEMBER_ACCOUNTS (the stage param memberAccounts): "${raw}" ${why}; entries are <account>[:<region>+<region>[:<cluster>+<cluster>]]`);
    if (rest.length > 0) throw bad('has more than three parts');
    if (!ACCOUNT.test(accountId)) throw bad(`names no account id (12 digits): "${accountId}"`);
    if (members.some((m) => m.accountId === accountId)) throw bad(`lists account ${accountId} a second time`);
    const regions = regionList ? regionList.split('+').map((r) => r.trim()) : [hubRegion];
    const badRegion = regions.find((r) => !REGION.test(r));
    if (badRegion !== undefined) throw bad(`names no region: "${badRegion}"`);
    let clusters: ManagedClusters = managedClusters;
    if (clusterList) {
      const names = clusterList.split('+').map((c) => c.trim());
      const badName = names.find((c) => c !== '*' && !CLUSTER.test(c));
      if (badName !== undefined) throw bad(`names no cluster: "${badName}"`);
      clusters = names.includes('*') ? '*' : names;
    }
    members.push({ accountId, regions: [...new Set(regions)], clusters });
  }
  return members;
}

/** Reads the fleet settings from the function's environment. */
export function loadFleetSettings(env: NodeJS.ProcessEnv, hubRegion: string, managedClusters: ManagedClusters): FleetSettings {
  const members = parseMemberAccounts(env.MEMBER_ACCOUNTS ?? '', hubRegion, managedClusters);
  const hubAccountId = env.HUB_ACCOUNT_ID?.trim() || undefined;
  if (hubAccountId !== undefined && !ACCOUNT.test(hubAccountId)) throw new ConfigurationError(`HUB_ACCOUNT_ID: "${hubAccountId}" is not an account id (12 digits)`);
  if (members.length > 0 && !hubAccountId) throw new ConfigurationError('HUB_ACCOUNT_ID must be set when MEMBER_ACCOUNTS lists members');
  if (hubAccountId && members.some((m) => m.accountId === hubAccountId)) throw new ConfigurationError(`MEMBER_ACCOUNTS lists the hub's own account ${hubAccountId}: the hub needs no member stack`);
  const roleName = env.MEMBER_ROLE_NAME?.trim();
  return {
    ...(hubAccountId ? { hubAccountId } : {}),
    members,
    ...(parseApiShare(env.API_BUDGET_PERCENT) !== undefined ? { apiShare: parseApiShare(env.API_BUDGET_PERCENT)! } : {}),
    ...(members.length > 0 && roleName
      ? { roles: { roleName, path: MEMBER_ROLE_PATH, sessionName: env.AWS_LAMBDA_FUNCTION_NAME?.trim() || 'eks-node-lifecycle', ...(env.MEMBER_EXTERNAL_ID?.trim() ? { externalId: env.MEMBER_EXTERNAL_ID.trim() } : {}) } }
      : {}),
  };
}

/** API_BUDGET_PERCENT (the stage param apiBudgetPercent): a percentage in (0, 100] as a share; unset: undefined (the default); anything else is a ConfigurationError, not a silent default. */
export function parseApiShare(value: string | undefined): number | undefined {
  const text = value?.trim() ?? '';
  if (text === '') return undefined;
  const percent = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) throw new ConfigurationError(`API_BUDGET_PERCENT (the stage param apiBudgetPercent): "${text}" is not a percentage in (0, 100]`);
  return percent / 100;
}

/** The hub's place first, then each member's regions, in the order configured. */
export function fleetPlaces(settings: FleetSettings, hubRegion: string, managedClusters: ManagedClusters): FleetPlace[] {
  const hub: FleetPlace = { place: { accountId: settings.hubAccountId ?? '', region: hubRegion }, clusters: managedClusters, home: true };
  return [hub, ...settings.members.flatMap((m) => m.regions.map((region) => ({ place: { accountId: m.accountId, region }, clusters: m.clusters, home: false })))];
}
