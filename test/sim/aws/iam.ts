/**
 * IAM, as far as node groups need it: roles with their attached managed policies, and
 * instance profiles (one role each). This is the one place instance profiles live:
 * `Ec2Service.instanceProfiles` is this service's `instanceProfiles` map, so the role a
 * kubelet authenticates as and the role IAM reports for the profile cannot disagree.
 *
 * Setting a profile's role (`instanceProfiles.set(name, roleArn)`, as EKS and the builders
 * do) creates the role when it does not exist yet, with no policies attached.
 *
 * Ids (RoleId, InstanceProfileId) are derived from the names, not drawn from the account's
 * id generator, so adding IAM did not shift the instance ids of existing scenarios.
 */
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
  type Role,
} from '@aws-sdk/client-iam';
import { createHash } from 'node:crypto';
import type { AccountState } from './account-state';
import { clone } from './clone';
import { commandName, type CommandInput, type CommandOutput, type Route } from './routes';

/** The three managed policies a node role carries (EKS user guide, "Amazon EKS node IAM role"). */
export const NODE_ROLE_POLICIES = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
  'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
] as const;

const EC2_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export interface RoleRecord {
  role: Role & { RoleName: string; Arn: string; Path: string };
  /** attached managed policy ARNs, in attachment order */
  attached: string[];
}

/** An IAM route: like the other services' routes, under the service name `iam`. */
export interface IamRoute extends Omit<Route, 'service'> {
  readonly service: 'iam';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommandClass = new (input: any) => { readonly input: unknown; resolveMiddleware(...args: any[]): unknown };

function iamRoute<C extends AnyCommandClass>(command: C, handle: (input: CommandInput<C>) => CommandOutput<C>): IamRoute {
  return { service: 'iam', command, name: commandName(command), handle: handle as (input: unknown) => unknown };
}

function metadata(httpStatusCode: number) {
  return { httpStatusCode, attempts: 1, totalRetryDelay: 0 };
}

export function iamNoSuchEntity(message: string): NoSuchEntityException {
  return new NoSuchEntityException({ message, $metadata: metadata(404) });
}

/** IAM throttles with the query protocol's `Throttling` code, which the SDK does not model. */
export function iamThrottling(): IAMServiceException {
  return new IAMServiceException({ name: 'Throttling', $fault: 'client', $metadata: metadata(400), message: 'Rate exceeded' });
}

/** `…:role/path/name` → name and path (`/path/`). */
function splitRoleArn(arn: string): { name: string; path: string } {
  const resource = arn.slice(arn.indexOf(':role/') + ':role/'.length);
  const parts = resource.split('/');
  const name = parts.pop()!;
  return { name, path: parts.length ? `/${parts.join('/')}/` : '/' };
}

/** Profile name → role ARN. `set` also makes sure the role exists. */
class InstanceProfileRoles extends Map<string, string> {
  private readonly created = new Map<string, Date>();

  constructor(private readonly onSet: (name: string, roleArn: string) => void) {
    super();
  }

  override set(name: string, roleArn: string): this {
    // Map's constructor never calls set without entries, so onSet is always assigned here
    this.onSet(name, roleArn);
    return super.set(name, roleArn);
  }

  createdAt(name: string, now: Date): Date {
    let at = this.created.get(name);
    if (!at) this.created.set(name, (at = now));
    return at;
  }
}

export class IamService {
  /** by role name (IAM role names are unique per account, whatever their path) */
  readonly roles = new Map<string, RoleRecord>();
  readonly instanceProfiles: InstanceProfileRoles;

  constructor(private readonly account: AccountState) {
    this.instanceProfiles = new InstanceProfileRoles((name, roleArn) => {
      this.ensureRole(roleArn);
      this.instanceProfiles.createdAt(name, this.account.clock.date());
    });
  }

  // ---- sandbox setup ----

  /** The role of this ARN, created with no policies when it does not exist. */
  ensureRole(roleArn: string): RoleRecord {
    const { name, path } = splitRoleArn(roleArn);
    const found = this.roles.get(name);
    if (found) return found;
    const record: RoleRecord = {
      role: {
        RoleName: name,
        Path: path,
        Arn: roleArn,
        RoleId: `AROA${stableId(`role:${roleArn}`)}`,
        CreateDate: this.account.clock.date(),
        AssumeRolePolicyDocument: encodeURIComponent(EC2_TRUST_POLICY),
        MaxSessionDuration: 3600,
      },
      attached: [],
    };
    this.roles.set(name, record);
    return record;
  }

  /** A node role with exactly these managed policies (default: the three a node needs). */
  putNodeRole(roleArn: string, policies: readonly string[] = NODE_ROLE_POLICIES): RoleRecord {
    const record = this.ensureRole(roleArn);
    record.attached = [...new Set(policies)];
    return record;
  }

  /** An instance profile handing `roleArn` to instances (the role is created if needed). */
  addInstanceProfile(name: string, roleArn: string): void {
    this.instanceProfiles.set(name, roleArn);
  }

  attachRolePolicy(roleName: string, policyArn: string): void {
    const record = this.requireRole(roleName);
    if (!record.attached.includes(policyArn)) record.attached.push(policyArn);
  }

  detachRolePolicy(roleName: string, policyArn: string): void {
    const record = this.requireRole(roleName);
    if (!record.attached.includes(policyArn)) throw iamNoSuchEntity(`Policy ${policyArn} was not found.`);
    record.attached = record.attached.filter((arn) => arn !== policyArn);
  }

  requireRole(roleName: string | undefined): RoleRecord {
    const record = this.roles.get(roleName ?? '');
    if (!record) throw iamNoSuchEntity(`The role with name ${roleName} cannot be found.`);
    return record;
  }

  // ---- commands ----

  routes(): IamRoute[] {
    return [
      iamRoute(GetRoleCommand, (i) => ({ Role: clone(this.requireRole(i.RoleName).role) })),
      iamRoute(GetInstanceProfileCommand, (i) => {
        const name = i.InstanceProfileName ?? '';
        const roleArn = this.instanceProfiles.get(name);
        if (roleArn === undefined) throw iamNoSuchEntity(`Instance Profile ${name} cannot be found.`);
        const role = this.roles.get(splitRoleArn(roleArn).name);
        return {
          InstanceProfile: {
            Path: '/',
            InstanceProfileName: name,
            InstanceProfileId: `AIPA${stableId(`profile:${name}`)}`,
            Arn: `arn:aws:iam::${this.account.accountId}:instance-profile/${name}`,
            CreateDate: this.instanceProfiles.createdAt(name, this.account.clock.date()),
            Roles: role ? [clone(role.role)] : [],
          },
        };
      }),
      iamRoute(ListAttachedRolePoliciesCommand, (i) => {
        const record = this.requireRole(i.RoleName);
        const start = i.Marker ? Number(i.Marker) : 0;
        if (!Number.isInteger(start) || start < 0 || start > record.attached.length) {
          throw new IAMServiceException({ name: 'InvalidInput', $fault: 'client', $metadata: metadata(400), message: 'Invalid Marker.' });
        }
        const size = i.MaxItems ?? 100;
        const page = record.attached.slice(start, start + size);
        const more = start + size < record.attached.length;
        return {
          AttachedPolicies: page.map((arn) => ({ PolicyArn: arn, PolicyName: arn.split('/').pop()! })),
          IsTruncated: more,
          ...(more ? { Marker: String(start + size) } : {}),
        };
      }),
    ];
  }
}

/** 17 IAM-alphabet characters derived from `seed`. */
function stableId(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = createHash('sha256').update(seed).digest();
  return Array.from(bytes.subarray(0, 17), (b) => alphabet[b % alphabet.length]).join('');
}
