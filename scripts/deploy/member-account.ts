/**
 * deploy/member-account.yml — the CloudFormation template each member account deploys, in each
 * region with clusters (README "Member accounts"), generated from serverless.yml, never edited:
 *
 *   npm run member-template      # writes deploy/member-account.yml; a test keeps it equal to this
 *
 * What it holds:
 * 1. one role per hub function role that acts in the clusters' account (least privilege: each hub
 *    function reaches only what its own role reaches, and only that role may assume it). The
 *    statements are the hub role's own (serverless.yml `resources:`), less what stays in the hub
 *    — the service's tables, state machines, functions, parameters, bus, queue, logs
 *    (scripts/deploy/member-accounts.cjs says which service is where). `${AWS::AccountId}` and
 *    `${AWS::Region}` are kept as written: in a stack of the member account and region they name
 *    the member's. Roles are per region (IAM is global: the name carries the region), so a role
 *    reaches one account and region, as the hub's roles do.
 *    Trust: the hub account as principal, and the hub role by `aws:PrincipalArn` — not the role's
 *    ARN as principal, which IAM turns into the role's unique id, broken when the role is
 *    recreated (IAM user guide, "AWS JSON policy elements: Principal", IAM role principals) —
 *    with `sts:ExternalId` and/or `aws:PrincipalOrgID` (IAM user guide, "The confused deputy
 *    problem"; "Access to AWS accounts owned by third parties").
 * 2. one EventBridge rule per pattern serverless.yml subscribes a hub function to whose events
 *    happen in the member account (lifecycle actions, spot interruptions, rebalance
 *    recommendations, instance state changes, AMI and Image Builder state changes), the pattern
 *    as written, targeting the hub's event bus through a role of its own: EventBridge user guide,
 *    "Sending and receiving events between AWS accounts" (the sending rule needs a role for a
 *    bus in another account; "We recommend always using IAM roles when the target of a rule is an
 *    event bus", "Permissions for event buses").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { loadServerlessModel, PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
type Resources = Record<string, { Type: string; Properties?: any }>;

const rules = createRequire(import.meta.url)('./member-accounts.cjs') as {
  memberPart: (s: Statement) => Statement | undefined;
  memberRoleIds: (resources: Resources) => string[];
  eventSide: (pattern: Record<string, unknown>) => 'member' | 'hub';
  hubRoleName: (service: string, stage: string, logicalId: string) => string;
  memberRoleName: (stage: string, logicalId: string, region: string) => string;
  maxStageLength: (service: string, logicalIds: string[]) => number;
  MEMBER_ROLE_PATH: string;
};
export const { hubRoleName, memberRoleName, MEMBER_ROLE_PATH } = rules;

export const MEMBER_TEMPLATE = join(PROJECT_ROOT, 'deploy', 'member-account.yml');
/** stand-ins the generator reads serverless.yml with: the stage must not survive, managedClusters becomes the ManagedClusters parameter */
const STAGE = 'stage0placeholder';
const CLUSTERS = 'managed0clusters0placeholder';
const RULE_NAME_LIMIT = 64;
const CFN_PSEUDO = /^AWS::/;

export interface MemberTemplate {
  AWSTemplateFormatVersion: string;
  Description: string;
  Parameters: Record<string, Record<string, unknown>>;
  Rules: Record<string, unknown>;
  Conditions: Record<string, unknown>;
  Resources: Resources;
  Outputs: Record<string, unknown>;
}

const sub = (text: string) => ({ 'Fn::Sub': text });
const ref = (name: string) => ({ Ref: name });

export function memberTemplate(root = PROJECT_ROOT): MemberTemplate {
  const model = loadServerlessModel({ root, stage: STAGE, params: { managedClusters: CLUSTERS } });
  const service = model.service;
  const roleIds = rules.memberRoleIds(model.resources);
  const maxStage = rules.maxStageLength(service, roleIds);

  const resources: Resources = {};
  const outputs: Record<string, unknown> = {};
  for (const id of roleIds) {
    const policies = (model.resources[id]!.Properties.Policies as { PolicyName: string; PolicyDocument: { Version: string; Statement: Statement[] } }[])
      .map((p) => ({ PolicyName: p.PolicyName, PolicyDocument: { Version: p.PolicyDocument.Version, Statement: [p.PolicyDocument.Statement].flat().flatMap((s) => rules.memberPart(s) ?? []) } }))
      .filter((p) => p.PolicyDocument.Statement.length > 0);
    resources[id] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: sub(rules.memberRoleName('${HubStage}', id, '${AWS::Region}')),
        Path: rules.MEMBER_ROLE_PATH,
        Description: sub(`assumed by the hub's ${rules.hubRoleName(service, '${HubStage}', id)} (account \${HubAccountId}) in \${AWS::Region}`),
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'HubFunctionRoleOnly',
              Effect: 'Allow',
              Principal: { AWS: sub('arn:${AWS::Partition}:iam::${HubAccountId}:root') },
              Action: 'sts:AssumeRole',
              Condition: {
                ArnEquals: { 'aws:PrincipalArn': sub(`arn:\${AWS::Partition}:iam::\${HubAccountId}:role/${rules.hubRoleName(service, '${HubStage}', id)}`) },
                StringEquals: {
                  'sts:ExternalId': { 'Fn::If': ['HasExternalId', ref('ExternalId'), ref('AWS::NoValue')] },
                  'aws:PrincipalOrgID': { 'Fn::If': ['HasOrganizationId', ref('OrganizationId'), ref('AWS::NoValue')] },
                },
              },
            },
          ],
        },
        Policies: memberIntrinsics(policies, id),
      },
    };
    outputs[`${id}Arn`] = { Description: `what ${id} of the hub assumes here`, Value: { 'Fn::GetAtt': [id, 'Arn'] } };
  }

  const forwardPrefix = `${service}-\${HubStage}-forward-`;
  resources['ForwardEventsRole'] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: "EventBridge puts this region's events on the hub's event bus with it",
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sts:AssumeRole',
            // only the rules of this stack (cross-service confused deputy)
            Condition: {
              StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
              ArnLike: { 'aws:SourceArn': sub(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${forwardPrefix}*`) },
            },
          },
        ],
      },
      Policies: [{ PolicyName: 'put-events-on-hub-bus', PolicyDocument: { Version: '2012-10-17', Statement: [{ Sid: 'HubEventBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: ref('HubEventBusArn') }] } }],
    },
  };

  const raw = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { merge: true }) as { stepFunctions?: { stateMachines?: Record<string, { events?: unknown[] }> } };
  for (const [key, machine] of Object.entries(raw.stepFunctions?.stateMachines ?? {})) {
    if ((machine.events ?? []).length > 0) throw new Error(`state machine ${key} subscribes to events: teach scripts/deploy/member-account.ts to forward them`);
  }
  const seen = new Set<string>();
  for (const fn of model.functions) {
    fn.eventPatterns.forEach((pattern, i) => {
      if (rules.eventSide(pattern) !== 'member' || seen.has(JSON.stringify(pattern))) return;
      seen.add(JSON.stringify(pattern));
      const name = `${forwardPrefix}${fn.key}-${i + 1}`;
      if (name.replace('${HubStage}', 'x'.repeat(maxStage)).length > RULE_NAME_LIMIT) throw new Error(`rule ${name} would be over EventBridge's ${RULE_NAME_LIMIT} characters`);
      const id = `Forward${fn.key[0]!.toUpperCase()}${fn.key.slice(1)}${i + 1}`;
      resources[id] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: sub(name),
          Description: `what serverless.yml subscribes ${fn.key} to, forwarded to the hub`,
          EventPattern: pattern,
          State: 'ENABLED',
          Targets: [{ Id: 'hub-event-bus', Arn: ref('HubEventBusArn'), RoleArn: { 'Fn::GetAtt': ['ForwardEventsRole', 'Arn'] } }],
        },
      };
    });
  }

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `${service} member account, one stack per region with clusters: the roles the hub's functions assume here, and the rules forwarding this region's events to the hub`,
    Parameters: {
      HubAccountId: { Type: 'String', Description: 'the account the service is deployed in (the hub)', AllowedPattern: '^\\d{12}$' },
      HubStage: {
        Type: 'String',
        Description: `the hub's stage (serverless deploy --stage): its roles are ${rules.hubRoleName(service, '<stage>', '<LogicalId>')}`,
        AllowedPattern: '^[A-Za-z0-9-]+$',
        MaxLength: maxStage,
      },
      HubEventBusArn: {
        Type: 'String',
        Description: "the hub's default event bus: arn:aws:events:<hub region>:<hub account>:event-bus/default",
        AllowedPattern: '^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/[A-Za-z0-9._/-]+$',
      },
      ExternalId: { Type: 'String', Default: '', Description: 'the ExternalId the hub passes to AssumeRole (this and/or OrganizationId)', AllowedPattern: '^([\\w+=,.@:/-]{2,1224})?$' },
      OrganizationId: { Type: 'String', Default: '', Description: "the hub account's AWS Organizations id, o-… (this and/or ExternalId)", AllowedPattern: '^(o-[a-z0-9]{10,32})?$' },
      ManagedClusters: {
        Type: 'String',
        Description: "the clusters of this account and region the hub looks after, comma-separated, or * for all (as the hub's managedClusters): the ownership tag keys the roles may write",
        AllowedPattern: '^(\\*|[A-Za-z0-9][A-Za-z0-9_-]*(,[A-Za-z0-9][A-Za-z0-9_-]*)*)$',
      },
    },
    Rules: {
      ExternalIdOrOrganization: {
        Assertions: [
          {
            Assert: { 'Fn::Not': [{ 'Fn::And': [{ 'Fn::Equals': ['', ref('ExternalId')] }, { 'Fn::Equals': ['', ref('OrganizationId')] }] }] },
            AssertDescription: 'give ExternalId, OrganizationId or both: the roles trust the hub roles only with one of them',
          },
        ],
      },
    },
    Conditions: {
      HasExternalId: { 'Fn::Not': [{ 'Fn::Equals': ['', ref('ExternalId')] }] },
      HasOrganizationId: { 'Fn::Not': [{ 'Fn::Equals': ['', ref('OrganizationId')] }] },
    },
    Resources: resources,
    Outputs: outputs,
  };
}

/**
 * The hub statements as the member stack writes them: managedClusters becomes the ManagedClusters
 * parameter; anything else of the hub — its stage, a Ref or GetAtt of its resources — must not
 * be left (memberPart dropped what names them, or this throws).
 */
function memberIntrinsics<T>(value: T, where: string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (v === CLUSTERS) return ref('ManagedClusters');
      if (v.includes(CLUSTERS) || v.includes(STAGE)) throw new Error(`${where}: "${v}" names the hub's stage or clusters in a member statement`);
      return v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Fn::GetAtt' in o || ('Ref' in o && !CFN_PSEUDO.test(String(o['Ref'])))) throw new Error(`${where}: ${JSON.stringify(o)} is a resource of the hub, in a member statement`);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

export function renderMemberTemplate(template: MemberTemplate): string {
  const header = [
    '# Generated by scripts/deploy/member-account.ts from serverless.yml (npm run member-template): do not edit.',
    '# Deploy it in each member account and region with clusters (README "Member accounts").',
  ].join('\n');
  return `${header}\n${stringify(template, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(MEMBER_TEMPLATE, renderMemberTemplate(memberTemplate()));
  process.stderr.write(`${MEMBER_TEMPLATE}\n`);
}
