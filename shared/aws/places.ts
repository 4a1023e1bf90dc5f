import { now } from '../clock.js';
import { MemberAccessError } from '../errors.js';
import { assumeRole, type ExpiringCredentials } from './assume-role.js';
import { type AwsScope, awsScope, type ScopeBudget } from './clients.js';
import { partitionOfRegion } from './partition.js';

/**
 * Where a cluster lives: an account and a region. Every cluster, group, instance and event
 * the service handles belongs to one place; two clusters named `prod` in two places are two
 * clusters. The hub is the account the service is deployed in; a member is an account
 * whose deploy/member-account.yml stack lets the hub's functions in.
 */
export interface Place {
  readonly accountId: string;
  readonly region: string;
}

/** `444455556666/eu-west-1`: how a place is written in keys, names and addresses. */
export function placeKey(place: Place): string {
  return `${place.accountId}/${place.region}`;
}

export function samePlace(a: Place, b: Place): boolean {
  return a.accountId === b.accountId && a.region === b.region;
}

/** How a hub function acts in member accounts: the member role it assumes, per region. */
export interface MemberRoles {
  /**
   * `<stage>-<Role>`, the function's own role without the `Role` suffix: the member role is
   * `<path><roleName>-<region>` (scripts/deploy/member-accounts.cjs names it, the member
   * template creates it)
   */
  roleName: string;
  /** IAM path of the member roles: `/eks-node-lifecycle/` */
  path: string;
  /** what the member roles' trust policies require as sts:ExternalId ('' or absent: none, the organisation id decides) */
  externalId?: string;
  /** the session name, seen in the member's CloudTrail: the function's name */
  sessionName: string;
}

/** Credentials are renewed this long before they expire (the SDK itself re-asks 5 minutes before). */
export const RENEW_BEFORE_EXPIRY_MS = 10 * 60_000;
/** A refused AssumeRole is not asked again for this long: a member whose role is gone costs one call per minute, not one per request. */
export const REFUSAL_REMEMBERED_MS = 60_000;

interface Session {
  credentials?: ExpiringCredentials;
  pending?: Promise<ExpiringCredentials>;
  refused?: { error: MemberAccessError; at: number };
}

/**
 * The AWS scope of each place, built once per place and kept for the function's life: the
 * hub's own places use the function's role; a member's, credentials from AssumeRole of its
 * member role, shared by every client of that place, cached until shortly before they expire
 * (one AssumeRole per account and region per hour, whatever the number of calls).
 */
export class PlaceScopes {
  private readonly scopes = new Map<string, AwsScope>();
  private readonly sessions = new Map<string, Session>();
  /** AssumeRole calls made (the bench counts them: one per member account and region) */
  assumeRoleCalls = 0;

  constructor(
    /** the function's own scope: the hub account (accountId known when members are configured) and region */
    readonly home: AwsScope,
    private readonly roles: MemberRoles | undefined,
    private readonly clock: () => number = () => now().getTime(),
    /**
     * the API budget of each scope this makes (request-budget.ts: a share of the place's
     * documented request rates), one of its own per place; absent, none (the home scope's
     * budget, if any, is the caller's: functions/lib/budgeted-places.ts)
     */
    private readonly budgetOf?: () => ScopeBudget,
  ) {}

  /** The hub's place (its account must be known to tell a member from it). */
  get homePlace(): Place | undefined {
    return this.home.accountId ? { accountId: this.home.accountId, region: this.home.region } : undefined;
  }

  /** True when the place is in the hub account (any region), or names no account. */
  isHome(place: Partial<Place> | undefined): boolean {
    return !place?.accountId || place.accountId === this.home.accountId;
  }

  /**
   * The scope to act in `place`: the function's own for the hub's region (or no place), the
   * function's role in another region of the hub account, a member role's otherwise.
   */
  scopeOf(place?: Partial<Place>): AwsScope {
    const region = place?.region ?? this.home.region;
    if (this.isHome(place) && region === this.home.region) return this.home;
    const accountId = place?.accountId ?? this.home.accountId ?? '';
    const key = `${accountId}/${region}`;
    let scope = this.scopes.get(key);
    if (!scope) {
      const budget = this.budgetOf ? { budget: this.budgetOf() } : {};
      scope = this.isHome(place)
        ? awsScope({ region, ...(this.home.accountId ? { accountId: this.home.accountId } : {}), ...(this.home.credentials ? { credentials: this.home.credentials } : {}), ...budget })
        : awsScope({ region, accountId, credentials: () => this.credentialsOf({ accountId, region }), ...budget });
      this.scopes.set(key, scope);
    }
    return scope;
  }

  /** The member role the hub's function assumes in a place: `arn:aws:iam::<account>:role/eks-node-lifecycle/<stage>-<Role>-<region>` */
  roleArnOf(place: Place): string {
    if (!this.roles) throw new MemberAccessError(place.accountId, place.region, '(none)', 'this function has no member role: the memberAccounts param is empty, or its role acts only in the hub');
    return `arn:${partitionOfRegion(place.region).name}:iam::${place.accountId}:role${this.roles.path}${this.roles.roleName}-${place.region}`;
  }

  /**
   * The member role's credentials: cached, renewed RENEW_BEFORE_EXPIRY_MS before they expire,
   * one AssumeRole in flight per place however many clients ask at once; a refusal is
   * remembered for REFUSAL_REMEMBERED_MS.
   */
  async credentialsOf(place: Place): Promise<ExpiringCredentials> {
    const key = placeKey(place);
    let session = this.sessions.get(key);
    if (!session) this.sessions.set(key, (session = {}));
    const at = this.clock();
    if (session.credentials && session.credentials.expiration.getTime() - at > RENEW_BEFORE_EXPIRY_MS) return session.credentials;
    if (session.refused && at - session.refused.at < REFUSAL_REMEMBERED_MS) throw session.refused.error;
    let pending = session.pending;
    if (!pending) {
      const roleArn = this.roleArnOf(place);
      this.assumeRoleCalls++;
      const s = session;
      pending = s.pending = assumeRole(this.home, {
        roleArn,
        accountId: place.accountId,
        region: place.region,
        sessionName: this.roles!.sessionName,
        ...(this.roles!.externalId ? { externalId: this.roles!.externalId } : {}),
      })
        .then((credentials) => {
          s.credentials = credentials;
          delete s.refused;
          return credentials;
        })
        .catch((error: unknown) => {
          if (error instanceof MemberAccessError) s.refused = { error, at: this.clock() };
          throw error;
        })
        .finally(() => {
          delete s.pending;
        });
    }
    return pending;
  }
}
