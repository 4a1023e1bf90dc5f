import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../serverless-config.js';
import { type PolicyDocument, resolveIntrinsics, type SimRole, type TemplateContext } from './template-roles.js';

/**
 * A member account's stack, as deploy/member-account.yml (generated from serverless.yml by
 * scripts/deploy/member-account.ts, committed) deploys it in one region: the roles the hub's
 * functions assume there, with their trust policies, and the EventBridge rules forwarding the
 * region's events to the hub's bus. Its intrinsics are resolved for the stack's parameters and
 * Conditions (Fn::If, AWS::NoValue: the trust policy names sts:ExternalId and/or
 * aws:PrincipalOrgID only when given), as CloudFormation would.
 */
export interface MemberStackParameters {
  HubAccountId: string;
  HubStage: string;
  HubEventBusArn: string;
  /** '' when the roles trust the organisation id only */
  ExternalId: string;
  OrganizationId: string;
  /** the clusters of this account and region the hub looks after, comma-separated, or `*` */
  ManagedClusters: string;
}

export interface MemberRole extends SimRole {
  /** the role's trust policy (its resource policy for sts:AssumeRole) */
  trust: PolicyDocument;
  /** the account and region of the stack that created it */
  accountId: string;
  region: string;
}

export interface ForwardingRule {
  name: string;
  pattern: Record<string, unknown>;
}

export interface MemberStack {
  roles: MemberRole[];
  rules: ForwardingRule[];
}

type Template = { Conditions?: Record<string, unknown>; Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

let template: Template | undefined;

/** deploy/member-account.yml, read once. */
export function memberTemplate(): Template {
  template ??= parseYaml(readFileSync(join(PROJECT_ROOT, 'deploy', 'member-account.yml'), 'utf8')) as Template;
  return template;
}

/** The stack member-account.yml creates in `accountId`/`region` with these parameters. */
export function memberStack(accountId: string, region: string, parameters: MemberStackParameters, partition = 'aws'): MemberStack {
  const t = memberTemplate();
  const resources = t.Resources;
  const stackName = `eks-node-lifecycle-member-${region}`;
  const conditions = new Map<string, boolean>();
  const nameOf = (id: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`deploy/member-account.yml has no resource ${id}`);
    // a role without RoleName gets CloudFormation's <stack>-<LogicalId>-<suffix>
    if (r.Type === 'AWS::IAM::Role') return r.Properties.RoleName ? String(resolveIntrinsics(r.Properties.RoleName, ctx)) : `${stackName}-${id}`.slice(0, 64);
    if (r.Type === 'AWS::Events::Rule') return String(resolveIntrinsics(r.Properties.Name, ctx));
    throw new Error(`the sandbox cannot name ${id} (${r.Type}) of deploy/member-account.yml`);
  };
  const ctx: TemplateContext = {
    partition,
    region,
    accountId,
    ref(id) {
      if (id in parameters) return parameters[id as keyof MemberStackParameters];
      return nameOf(id);
    },
    getAtt(id, attribute) {
      if (attribute !== 'Arn') throw new Error(`the sandbox resolves Fn::GetAtt ${id}.Arn only, not ${attribute}`);
      const r = resources[id];
      if (r?.Type === 'AWS::IAM::Role') return `arn:${partition}:iam::${accountId}:role${r.Properties.Path ?? '/'}${nameOf(id)}`;
      if (r?.Type === 'AWS::Events::Rule') return `arn:${partition}:events:${region}:${accountId}:rule/${nameOf(id)}`;
      throw new Error(`the sandbox cannot resolve Fn::GetAtt ${id}.Arn of deploy/member-account.yml`);
    },
    condition(name) {
      let value = conditions.get(name);
      if (value === undefined) {
        const definition = t.Conditions?.[name];
        if (definition === undefined) throw new Error(`deploy/member-account.yml has no condition ${name}`);
        conditions.set(name, (value = resolveIntrinsics(definition, ctx) === true));
      }
      return value;
    },
  };

  const roles: MemberRole[] = [];
  const rules: ForwardingRule[] = [];
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      const policies = ((r.Properties.Policies ?? []) as { PolicyName: unknown; PolicyDocument: unknown }[]).map((p) => ({
        name: String(resolveIntrinsics(p.PolicyName, ctx)),
        policy: resolveIntrinsics(p.PolicyDocument, ctx) as PolicyDocument,
      }));
      roles.push({ logicalId, name: nameOf(logicalId), arn: ctx.getAtt(logicalId, 'Arn'), policies, trust: resolveIntrinsics(r.Properties.AssumeRolePolicyDocument, ctx) as PolicyDocument, accountId, region });
    }
    if (r.Type === 'AWS::Events::Rule' && r.Properties.State !== 'DISABLED') rules.push({ name: nameOf(logicalId), pattern: resolveIntrinsics(r.Properties.EventPattern, ctx) as Record<string, unknown> });
  }
  return { roles, rules };
}
