/**
 * Several accounts and regions, as AWS has them: one SimAccount per account and region (its
 * own EC2, Auto Scaling, EKS, SSM state and ids), one virtual clock, and STS between them.
 *
 * `bind()` puts one model behind every client of the account services (../sdk-stack.ts): each
 * call goes, as in AWS, to the account its credentials belong to and the region its client
 * names — the function role's keys are the hub's; the credentials AssumeRole issued are their
 * role's account's. A region of a known account that has no SimAccount yet gets an empty one
 * on its first call: the real region exists, and holds nothing of the service's.
 *
 * STS AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * the caller's identity policy is IAM's to check (SimIam, through `authorize`); here the
 * target role must exist in its account's IAM and its trust policy — a resource policy — must
 * allow the caller, evaluated with @cloud-copilot/iam-simulate with aws:PrincipalArn,
 * aws:PrincipalAccount, sts:ExternalId (from the request) and aws:PrincipalOrgID (when the
 * hub has one). Refused: AccessDenied (403). Allowed: temporary credentials (ASIA…) ending
 * DurationSeconds later on the virtual clock (at most the role's MaxSessionDuration, one hour
 * for the member roles); a call signed with them once they have ended is refused with
 * ExpiredTokenException (403), as for any STS-issued credentials
 * (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
 */
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { STSServiceException } from '@aws-sdk/client-sts';
import { type Place, placeKey } from '../../../shared/aws/places.js';
import type { VirtualClock } from '../clock.js';
import { matchesPattern } from '../event-pattern.js';
import type { MemberRole, MemberStack } from '../iam/member-roles.js';
import { bindSdkModel, type CallOrigin, type SdkModel } from '../sdk-stack.js';
import { ACCOUNT_CLIENTS, type AccountCall, type AccountModel, type SimAccount } from './account.js';
import type { CallerContext, StsAuthority, StsSession } from './account-state.js';
import type { AwsEvent } from './events.js';

/** Who calls STS when no session's credentials sign the call: the hub function's role (or the sandbox's own identity). */
export interface HubPrincipal {
  /** the role's ARN: aws:PrincipalArn */
  roleArn: string;
  /** arn:aws:sts::<hub>:assumed-role/<role>/<session>: how a denial names the caller */
  sessionArn: string;
}

/** One call, as IAM is asked about it before it reaches its account. */
export interface CloudCall {
  service: string;
  command: string;
  input: unknown;
  account: SimAccount;
  /** the STS session whose credentials sign it; absent: the hub's own (the function role) */
  session?: StsSession;
}

export interface SimCloudOptions {
  clock: VirtualClock;
  /** the hub's home account (the world's `account`) */
  hub: SimAccount;
  /** builds the SimAccount of a place the cloud has none for yet (same clock, own state) */
  create(place: Place): SimAccount;
  /** the principal of the running call when no session signs it (the invocation's function role) */
  hubPrincipal(): HubPrincipal;
  /** the hub's AWS Organizations id (aws:PrincipalOrgID), if it has one */
  organizationId?: string;
}

/** A role a session may be of: the member roles (member-account.yml). */
const MAX_SESSION_SECONDS = 3600;

export class SimCloud implements StsAuthority {
  readonly hub: SimAccount;
  private readonly accounts = new Map<string, SimAccount>();
  private readonly models = new Map<SimAccount, AccountModel>();
  /** every session AssumeRole issued, by access key id */
  readonly sessions = new Map<string, StsSession & { role: MemberRole }>();
  /** IAM roles per account (IAM is global to an account): the member stacks' */
  private readonly roles = new Map<string, Map<string, MemberRole>>();
  /** the forwarding rules of each place's member stack */
  private readonly rules = new Map<string, MemberStack['rules']>();
  /** IAM's check of a call before it reaches its account: the error to fail it with, or undefined */
  authorize: ((call: CloudCall) => Error | undefined) | undefined;
  /** the AssumeRole calls answered, allowed or refused, in order */
  readonly assumeRoles: { at: number; caller: string; roleArn: string; externalId?: string; outcome: 'allowed' | string }[] = [];
  private unbind: (() => void) | undefined;

  constructor(private readonly options: SimCloudOptions) {
    this.hub = options.hub;
    this.adopt(options.hub);
  }

  /** Every place the cloud has an account for, the hub's home first. */
  places(): Place[] {
    return [...this.accounts.values()].map((a) => ({ accountId: a.accountId, region: a.region }));
  }

  /** The SimAccount of a place; throws naming the known places when there is none. */
  accountAt(place: Place): SimAccount {
    const found = this.accounts.get(placeKey(place));
    if (!found) throw new Error(`the sandbox has no account ${placeKey(place)}; it has ${[...this.accounts.keys()].join(', ')}`);
    return found;
  }

  /** The SimAccount of a place, made (empty) on its first use: a region of a known account. */
  reach(place: Place): SimAccount {
    return this.accounts.get(placeKey(place)) ?? this.adopt(this.options.create(place));
  }

  private adopt(account: SimAccount): SimAccount {
    this.accounts.set(placeKey({ accountId: account.accountId, region: account.region }), account);
    account.state.stsAuthority = this;
    if (this.unbind) this.models.set(account, account.sdkModel());
    return account;
  }

  /** Deploys member-account.yml's stack in a place: its roles join the account's IAM, its rules forward the place's events. */
  deployMemberStack(place: Place, stack: MemberStack): void {
    this.reach(place);
    let roles = this.roles.get(place.accountId);
    if (!roles) this.roles.set(place.accountId, (roles = new Map()));
    for (const role of stack.roles) roles.set(role.arn, role);
    this.rules.set(placeKey(place), stack.rules);
  }

  /** The member roles an account's IAM holds (of every region's stack). */
  rolesOf(accountId: string): MemberRole[] {
    return [...(this.roles.get(accountId)?.values() ?? [])];
  }

  /** Deletes roles from an account's IAM (all of a place's stack, or one logical id of it): AssumeRole of them is refused from now on. */
  deleteRoles(place: Place, logicalId?: string): MemberRole[] {
    const roles = this.roles.get(place.accountId);
    const gone = [...(roles?.values() ?? [])].filter((r) => r.region === place.region && (logicalId === undefined || r.logicalId === logicalId));
    if (gone.length === 0) throw new Error(`no member role ${logicalId ?? ''} in ${placeKey(place)}; it has ${this.rolesOf(place.accountId).map((r) => r.name).join(', ') || 'none'}`);
    for (const role of gone) roles!.delete(role.arn);
    return gone;
  }

  /**
   * An event one of the cloud's accounts emitted: the hub's home puts it on the bus; another
   * place's goes through its member stack's rules, once per matching rule (each rule is a
   * target of its own), if the hub's bus policy accepts its account; otherwise nowhere.
   */
  forward(place: Place, event: AwsEvent, put: (event: AwsEvent) => void, accepted: ReadonlySet<string>): void {
    if (place.accountId === this.hub.accountId && place.region === this.hub.region) return put(event);
    if (!accepted.has(place.accountId)) return;
    for (const rule of this.rules.get(placeKey(place)) ?? []) if (matchesPattern(rule.pattern, event)) put(event);
  }

  // ---- routing ----

  bind(): this {
    this.restore();
    for (const account of this.accounts.values()) this.models.set(account, account.sdkModel());
    const accountOf = new WeakMap<AccountCall, SimAccount>();
    const model: SdkModel<AccountCall> = {
      routesByOrigin: true,
      begin: (service, command, input, origin) => {
        const { account, session } = this.route(service, origin!);
        const denied = this.authorize?.({ service, command, input, account, ...(session ? { session: this.asItIsNow(session) } : {}) });
        if (denied) throw denied;
        const call = this.models.get(account)!.begin(service, command, input, session ? { session } : {});
        accountOf.set(call, account);
        return call;
      },
      attempt: (call, request, client) => this.models.get(accountOf.get(call)!)!.attempt(call, request, client),
      end: (call, error) => this.models.get(accountOf.get(call)!)!.end(call, error),
    };
    this.unbind = bindSdkModel(ACCOUNT_CLIENTS, model);
    return this;
  }

  restore(): void {
    this.unbind?.();
    this.unbind = undefined;
  }

  /** The account a call reaches: its credentials' account, its client's region. */
  /**
   * A session as IAM evaluates it at this request: its role's policies as they are now. A session
   * of a deleted role keeps its credentials until they expire, but every request it makes is
   * denied ("permissions assigned to temporary security credentials are evaluated each time they
   * are used": IAM user guide, "Disabling permissions for temporary security credentials").
   */
  private asItIsNow(session: StsSession & { role: MemberRole }): StsSession & { role: MemberRole } {
    if (this.roles.get(session.role.accountId)?.has(session.role.arn)) return session;
    return { ...session, role: { ...session.role, logicalId: `${session.role.logicalId} (deleted)`, policies: [] } };
  }

  private route(service: string, origin: CallOrigin): { account: SimAccount; session?: StsSession & { role: MemberRole } } {
    const session = this.sessions.get(origin.credentials.accessKeyId);
    if (session && session.expiration <= this.options.clock.now()) throw expiredToken(service);
    // any other key is the hub's: the function role's, or the process's own (a scenario's calls)
    return { account: this.reach({ accountId: session?.accountId ?? this.hub.accountId, region: origin.region || this.hub.region }), ...(session ? { session } : {}) };
  }

  // ---- STS ----

  assumeRole(input: Record<string, any>, caller: CallerContext): object {
    const clock = this.options.clock;
    const roleArn = String(input.RoleArn ?? '');
    const sessionName = String(input.RoleSessionName ?? '');
    const principal = caller.session ? { roleArn: caller.session.roleArn, sessionArn: caller.session.arn } : this.options.hubPrincipal();
    const principalAccount = principal.roleArn.split(':')[4]!;
    const duration = input.DurationSeconds === undefined ? 3600 : Number(input.DurationSeconds);
    const record = { at: clock.now(), caller: principal.sessionArn, roleArn, ...(input.ExternalId !== undefined ? { externalId: String(input.ExternalId) } : {}) };
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw stsError('ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`, 400);
    if (duration < 900) throw stsError('ValidationError', `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`, 400);
    const accountId = roleArn.split(':')[4] ?? '';
    const role = this.roles.get(accountId)?.get(roleArn);
    const refuse = (): never => {
      this.assumeRoles.push({ ...record, outcome: 'AccessDenied' });
      throw stsError('AccessDenied', `User: ${principal.sessionArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    };
    if (!role || !this.trusts(role, principal.roleArn, principalAccount, input.ExternalId)) return refuse();
    if (duration > MAX_SESSION_SECONDS) {
      this.assumeRoles.push({ ...record, outcome: 'ValidationError' });
      throw stsError('ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`, 400);
    }
    const ids = this.hub.ids;
    const roleId = `AROA${ids.upper(17)}`;
    const session: StsSession & { role: MemberRole } = {
      accessKeyId: `ASIA${ids.upper(16)}`,
      secretAccessKey: `${ids.upper(20)}${ids.upper(20)}`,
      sessionToken: `IQoJb3JpZ2luX2VjE${ids.upper(40)}`,
      expiration: Math.floor(clock.now() / 1000) * 1000 + duration * 1000,
      accountId,
      roleArn,
      roleName: role.name,
      sessionName,
      arn: `arn:${roleArn.split(':')[1]}:sts::${accountId}:assumed-role/${role.name}/${sessionName}`,
      userId: `${roleId}:${sessionName}`,
      role,
    };
    this.sessions.set(session.accessKeyId, session);
    this.assumeRoles.push({ ...record, outcome: 'allowed' });
    return {
      Credentials: { AccessKeyId: session.accessKeyId, SecretAccessKey: session.secretAccessKey, SessionToken: session.sessionToken, Expiration: new Date(session.expiration) },
      AssumedRoleUser: { AssumedRoleId: session.userId, Arn: session.arn },
      PackedPolicySize: 0,
    };
  }

  /** The role's trust policy, evaluated for this principal (a resource policy: the caller's identity policy is SimIam's to check). */
  private trusts(role: MemberRole, principalArn: string, principalAccount: string, externalId: unknown): boolean {
    const result = runUnsafeSimulation(
      {
        request: {
          principal: principalArn,
          action: 'sts:AssumeRole',
          resource: { resource: role.arn, accountId: role.accountId },
          contextVariables: {
            'aws:PrincipalArn': principalArn,
            'aws:PrincipalAccount': principalAccount,
            ...(typeof externalId === 'string' ? { 'sts:ExternalId': externalId } : {}),
            ...(this.options.organizationId && principalAccount === this.hub.accountId ? { 'aws:PrincipalOrgID': this.options.organizationId } : {}),
          },
        },
        // the identity side allows; only the trust policy decides here
        identityPolicies: [{ name: 'caller', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        // a ValidatedPolicy: runUnsafeSimulation names the resource policy by its metadata, and loads a bare document without any
        resourcePolicy: { __validated: true, policyDocument: role.trust, metadata: { name: `${role.name} trust policy` }, errors: [] },
      },
      {},
    );
    return result === 'Allowed';
  }
}

function stsError(name: string, message: string, httpStatusCode: number): Error {
  return new STSServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode, attempts: 1, totalRetryDelay: 0 } });
}

/** What every service answers a call signed with STS credentials that have ended. */
function expiredToken(service: string): Error {
  const error = stsError('ExpiredTokenException', 'The security token included in the request is expired', 403);
  (error as { $service?: string }).$service = service;
  return error;
}
