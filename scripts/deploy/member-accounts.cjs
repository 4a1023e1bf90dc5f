'use strict';

/**
 * Member accounts (README "Member accounts"): one deployment, the hub, serving clusters in other
 * accounts. Each member deploys deploy/member-account.yml (generated from serverless.yml by
 * scripts/deploy/member-account.ts); this module holds the rules both sides follow, and is the
 * hub's plugin.
 *
 * With the `memberAccounts` param (comma-separated account ids; '' by default, and then nothing
 * changes) the hub's stack gains:
 * - a statement on the default event bus's policy accepting events from those accounts only, and
 *   only of the sources the member template forwards (`events:source`): a member cannot publish
 *   the service's own events (EventBridge user guide, "Permissions for event buses" and "Example
 *   policy: Send events to a custom bus in a different account");
 * - a fixed name (`<service>-<stage>-<LogicalId>`) for each hub role that has a member role, so
 *   that the member role's trust policy names it exactly (`aws:PrincipalArn`); CloudFormation's
 *   generated names end in a random suffix.
 */

/**
 * Where each service a hub role calls lives. Member: the resources of the clusters' account and
 * region (nodes, groups, clusters, node roles, AWS's public parameters). Hub: the service's own
 * tables, state machines, functions, parameters, bus, queue, logs, metrics and traces. A service
 * in neither list stops the generator: decide where it belongs.
 */
const MEMBER_SERVICES = ['autoscaling', 'ec2', 'eks', 'iam'];
const HUB_SERVICES = ['cloudwatch', 'dynamodb', 'events', 'lambda', 'logs', 'scheduler', 'sns', 'sqs', 'states', 'xray'];
/** ssm: AWS's public parameters (`arn:…:ssm:<region>::parameter/aws/service/…`, no account) are read where the clusters are; the service's own parameters stay in the hub */
const PUBLIC_PARAMETER = /::parameter\/aws\/service\//;

/** Event sources: member events are forwarded to the hub's bus; the service's own events and its alarms are the hub's. */
const MEMBER_EVENT_SOURCES = ['aws.autoscaling', 'aws.ec2', 'aws.imagebuilder'];
const HUB_EVENT_SOURCES = ['aws.cloudwatch', 'eks-node-lifecycle'];

/** IAM's limit on a role name (IAM user guide, "IAM and AWS STS quotas") */
const ROLE_NAME_LIMIT = 64;
/** the longest region code (ap-southeast-5, ap-northeast-3, …): member role names carry their region */
const LONGEST_REGION = 14;
/** member roles live under this path: the name alone must still be unique in the account */
const MEMBER_ROLE_PATH = '/eks-node-lifecycle/';

const serviceOf = (action) => String(action).split(':')[0];
const textOf = (value) => JSON.stringify(value);

/**
 * The part of a hub statement that acts in a member account: its member actions, and for ssm only
 * the public parameters. Undefined when nothing of it does.
 */
function memberPart(statement) {
  const actions = [statement.Action].flat();
  const unknown = actions.filter((a) => !MEMBER_SERVICES.includes(serviceOf(a)) && !HUB_SERVICES.includes(serviceOf(a)) && serviceOf(a) !== 'ssm');
  if (unknown.length > 0) throw new Error(`statement ${statement.Sid}: ${unknown.join(', ')} — is it called in the hub or in the member accounts? Add its service to scripts/deploy/member-accounts.cjs`);
  const member = actions.filter((a) => MEMBER_SERVICES.includes(serviceOf(a)));
  const ssm = actions.filter((a) => serviceOf(a) === 'ssm');
  if (member.length > 0 && ssm.length > 0) throw new Error(`statement ${statement.Sid} mixes ssm with ${member.join(', ')}: write them apart`);
  if (ssm.length > 0) {
    const resources = [statement.Resource].flat().filter((r) => PUBLIC_PARAMETER.test(textOf(r)));
    return resources.length === 0 ? undefined : { ...statement, Action: unwrap(ssm), Resource: resources };
  }
  return member.length === 0 ? undefined : { ...statement, Action: unwrap(member) };
}

const unwrap = (list) => (list.length === 1 ? list[0] : list);

/** A function's role: one only Lambda may assume. */
function isFunctionRole(resource) {
  if (resource?.Type !== 'AWS::IAM::Role') return false;
  const statements = [resource.Properties?.AssumeRolePolicyDocument?.Statement ?? []].flat();
  return statements.length > 0 && statements.every((s) => [s.Principal?.Service].flat().every((p) => p === 'lambda.amazonaws.com'));
}

/** The function roles of serverless.yml's resources with a member part: one member role each, in the order declared. */
function memberRoleIds(resources) {
  return Object.entries(resources)
    .filter(([, r]) => isFunctionRole(r))
    .filter(([, r]) => (r.Properties.Policies ?? []).some((p) => [p.PolicyDocument.Statement].flat().some((s) => memberPart(s) !== undefined)))
    .map(([id]) => id);
}

/** 'member' when the pattern's events happen in member accounts, 'hub' when they are the hub's own. */
function eventSide(pattern) {
  const sources = [pattern.source ?? []].flat();
  if (sources.length > 0 && sources.every((s) => MEMBER_EVENT_SOURCES.includes(s))) return 'member';
  if (sources.length > 0 && sources.every((s) => HUB_EVENT_SOURCES.includes(s))) return 'hub';
  throw new Error(`an EventBridge pattern with source ${JSON.stringify(pattern.source)}: do its events happen in the member accounts or in the hub? Add the source to scripts/deploy/member-accounts.cjs`);
}

/** The hub role a member role trusts: `eks-node-lifecycle-prod-RollStepRole` */
function hubRoleName(service, stage, logicalId) {
  return `${service}-${stage}-${logicalId}`;
}

/** The member role of a hub role, in one region: `prod-RollStep-eu-west-1` (under MEMBER_ROLE_PATH) */
function memberRoleName(stage, logicalId, region) {
  return `${stage}-${logicalId.replace(/Role$/, '')}-${region}`;
}

/** What a hub function whose role has a member role is told: the member role's name without its region (shared/aws/places.ts adds it). */
function memberRoleEnvironment(stage, logicalId) {
  return { MEMBER_ROLE_NAME: memberRoleName(stage, logicalId, 'x').replace(/-x$/, '') };
}

/**
 * The statement a hub role with a member role gains: sts:AssumeRole of its member roles, in
 * every region, of the listed accounts only (the member's trust policy decides the rest).
 */
function assumeMemberRoleStatement(stage, logicalId, accountIds) {
  const name = memberRoleEnvironment(stage, logicalId).MEMBER_ROLE_NAME;
  return {
    Sid: 'AssumeMemberRoles',
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Resource: accountIds.map((id) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${id}:role${MEMBER_ROLE_PATH}${name}-*` })),
  };
}

/** The longest hub stage both names fit IAM's limit with, for these roles. */
function maxStageLength(service, logicalIds) {
  const longest = Math.max(...logicalIds.map((id) => id.length));
  const hub = ROLE_NAME_LIMIT - hubRoleName(service, '', 'x'.repeat(longest)).length;
  const member = ROLE_NAME_LIMIT - memberRoleName('', `${'x'.repeat(longest)}`, 'x'.repeat(LONGEST_REGION)).length;
  return Math.min(hub, member);
}

/**
 * `memberAccounts` as account ids; `{ error }` for anything but 12-digit ids. Each entry is
 * `<account>[:<regions>[:<clusters>]]`; the functions read the regions and clusters
 * (shared/config/member-accounts.ts), the hub's stack needs the accounts.
 */
function memberAccountIds(value) {
  const ids = String(value ?? '')
    .split(',')
    .map((s) => s.trim().split(':')[0].trim())
    .filter((s) => s !== '');
  const bad = ids.find((id) => !/^\d{12}$/.test(id));
  if (bad !== undefined) return { error: `memberAccounts: "${bad}" is not an AWS account id (12 digits); give a comma-separated list` };
  return { ids: [...new Set(ids)] };
}

class MemberAccounts {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.acceptMembers() };
  }

  acceptMembers() {
    const service = this.serverless.service;
    const accounts = memberAccountIds(service.custom?.memberAccounts);
    const fail = (message, code) => {
      throw new this.serverless.classes.Error(message, code);
    };
    if (accounts.error) fail(accounts.error, 'INVALID_MEMBER_ACCOUNTS');
    if (accounts.ids.length === 0) return;

    const name = service.service;
    const stage = this.serverless.getProvider('aws').getStage();
    const declared = service.resources?.Resources ?? {};
    const roles = memberRoleIds(declared);
    if (stage.length > maxStageLength(name, roles)) fail(`memberAccounts: the stage name "${stage}" is too long for the role names the member accounts trust (at most ${maxStageLength(name, roles)} characters)`, 'INVALID_MEMBER_ACCOUNTS');
    for (const id of roles) {
      declared[id].Properties.RoleName = hubRoleName(name, stage, id);
      declared[id].Properties.Policies.push({ PolicyName: 'assume-member-roles', PolicyDocument: { Version: '2012-10-17', Statement: [assumeMemberRoleStatement(stage, id, accounts.ids)] } });
    }
    // each function whose role has member roles is told their name (shared/config/member-accounts.ts)
    const compiled = service.provider.compiledCloudFormationTemplate.Resources;
    for (const fn of service.getAllFunctions()) {
      const role = service.getFunction(fn).role;
      if (!roles.includes(role)) continue;
      const resource = compiled[this.serverless.getProvider('aws').naming.getLambdaLogicalId(fn)];
      const properties = resource.Properties;
      properties.Environment ??= { Variables: {} };
      Object.assign(properties.Environment.Variables, memberRoleEnvironment(stage, role));
    }

    const sources = new Set();
    for (const fn of service.getAllFunctions()) {
      for (const event of service.getFunction(fn).events ?? []) {
        const pattern = event.eventBridge?.pattern;
        if (pattern && eventSide(pattern) === 'member') [pattern.source].flat().forEach((s) => sources.add(s));
      }
    }
    service.provider.compiledCloudFormationTemplate.Resources.MemberAccountsEventBusPolicy = {
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        StatementId: `${name}-${stage}-member-accounts`,
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: accounts.ids.map((id) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${id}:root` })) },
          Action: 'events:PutEvents',
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
          Condition: { 'ForAllValues:StringEquals': { 'events:source': [...sources].sort() } },
        },
      },
    };
  }
}

module.exports = MemberAccounts;
Object.assign(module.exports, { memberPart, memberRoleIds, isFunctionRole, eventSide, hubRoleName, memberRoleName, memberRoleEnvironment, assumeMemberRoleStatement, maxStageLength, memberAccountIds, MEMBER_ROLE_PATH, MEMBER_EVENT_SOURCES });
