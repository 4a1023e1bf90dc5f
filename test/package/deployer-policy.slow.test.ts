import { runSimulation, isWildcardOnlyAction } from '@cloud-copilot/iam-simulate';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  coverage,
  deployerPolicy,
  MANAGED_POLICY_LIMIT,
  POLICY_DIR,
  type PolicyDocument,
  policyFileName,
  policySize,
  renderPolicy,
  splitPolicy,
  type Template,
  WILDCARD_ONLY,
} from '../../scripts/deploy/deployer-policy.js';
import { HANDLER_PERMISSIONS } from '../../scripts/deploy/resource-handler-permissions.js';
import { packageService, packageWithParams } from './packaged-service.js';

const ACCOUNT = '123456789012';
const R = `eu-west-1:${ACCOUNT}`;

/** Resources a `serverless deploy --stage prod` creates or touches, one or two per service: the policy must reach each action on one of them. */
const STACK_RESOURCES: Record<string, string[]> = {
  cloudformation: [`arn:aws:cloudformation:${R}:stack/eks-node-lifecycle-prod/1f2e3d4c-0000-4000-8000-000000000000`],
  cloudwatch: [`arn:aws:cloudwatch:${R}:alarm:eks-node-lifecycle-prod-FailedEventsQueueNotEmptyAlarm`, `arn:aws:cloudwatch::${ACCOUNT}:dashboard/eks-node-lifecycle-prod`],
  dynamodb: [`arn:aws:dynamodb:${R}:table/eks-node-lifecycle-prod-drains`],
  events: [`arn:aws:events:${R}:rule/eks-node-lifecycle-prod-tagInstance-rule-1`],
  iam: [`arn:aws:iam::${ACCOUNT}:role/eks-node-lifecycle-prod-TagInstanceRole-1A2B3C4D5E6F`],
  lambda: [`arn:aws:lambda:${R}:function:eks-node-lifecycle-prod-tagInstance`, `arn:aws:lambda:${R}:function:eks-node-lifecycle-prod-tagInstance:7`],
  logs: [`arn:aws:logs:${R}:log-group:/aws/lambda/eks-node-lifecycle-prod-tagInstance`, `arn:aws:logs:${R}:log-group:/aws/vendedlogs/states/eks-node-lifecycle-prod`],
  s3: ['arn:aws:s3:::eks-node-lifecycle-prod-serverlessdeploymentbucket-1a2b3c4d5e6f', 'arn:aws:s3:::eks-node-lifecycle-prod-serverlessdeploymentbucket-1a2b3c4d5e6f/serverless/eks-node-lifecycle/prod/1796629507194/tagInstance.zip'],
  scheduler: [`arn:aws:scheduler:${R}:schedule/default/eks-node-lifecycle-prod-detect-stale-groups`],
  sns: [`arn:aws:sns:${R}:eks-node-lifecycle-prod-alarms`],
  sqs: [`arn:aws:sqs:${R}:eks-node-lifecycle-prod-failed-events`],
  states: [`arn:aws:states:${R}:stateMachine:eks-node-lifecycle-prod-ami-rollout`],
};

function simulate(policies: PolicyDocument[], action: string, resource: string, context: Record<string, string> = {}) {
  return runSimulation(
    {
      request: { principal: `arn:aws:iam::${ACCOUNT}:role/deployer`, action, resource: { resource, accountId: ACCOUNT }, contextVariables: context },
      identityPolicies: policies.map((policy, i) => ({ name: policyFileName(i), policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
}

async function decision(policies: PolicyDocument[], action: string, resource: string, context: Record<string, string> = {}) {
  const r = await simulate(policies, action, resource, context);
  if (r.resultType === 'error') throw new Error(`${action} on ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult;
}

/** IAM's ARN matching: `*` any run of characters, `?` one */
const globMatches = (pattern: string, arn: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(arn);

const actionsOf = (policies: PolicyDocument[]) => policies.flatMap((p) => p.Statement.flatMap((s) => s.Action));

describe('Deployer policy (deploy/deployer-policy-*.json)', () => {
  let template: Template;
  let policies: PolicyDocument[];
  before(async () => {
    template = (await packageService()).template;
    policies = splitPolicy(deployerPolicy(template));
  });

  it('is what scripts/deploy/deployer-policy.ts makes of the current template (run it after changing serverless.yml)', () => {
    const committed = readdirSync(POLICY_DIR).filter((f) => /^deployer-policy-\d+\.json$/.test(f)).sort();
    assert.deepEqual(committed, policies.map((_, i) => policyFileName(i)));
    policies.forEach((policy, i) => assert.equal(readFileSync(join(POLICY_DIR, policyFileName(i)), 'utf8'), renderPolicy(policy), policyFileName(i)));
  });

  it('covers every resource type of the template with its resource provider schema', () => {
    const types = new Set(Object.values(template.Resources).map((r) => r.Type));
    assert.deepEqual(coverage(template).map((c) => c.type), [...types].sort());
    for (const type of types) assert.ok(HANDLER_PERMISSIONS[type], type);
    // every action a handler needs is granted, unless dropped with a feature the template does not use
    const granted = new Set(actionsOf(policies));
    for (const { type, actions } of coverage(template)) {
      for (const action of actions) assert.ok(granted.has(action), `${type}: ${action}`);
    }
  });

  it(`fits IAM's managed policies: each part within ${MANAGED_POLICY_LIMIT} characters, unique Sids, no wildcard action`, () => {
    assert.ok(policies.length <= 2, `${policies.length} parts`);
    const sids = policies.flatMap((p) => p.Statement.map((s) => s.Sid));
    assert.equal(new Set(sids).size, sids.length);
    for (const policy of policies) {
      assert.ok(policySize(policy) <= MANAGED_POLICY_LIMIT, `${policySize(policy)} characters`);
      assert.equal(policy.Version, '2012-10-17');
      for (const s of policy.Statement) {
        assert.match(s.Sid, /^[A-Za-z0-9]+$/);
        assert.equal(s.Effect, 'Allow');
        assert.ok(s.Action.length > 0 && s.Resource.length > 0);
        for (const action of s.Action) assert.match(action, /^[a-z0-9-]+:[A-Za-z0-9]+$/, `${s.Sid}: ${action} (no "*", no "svc:*", no prefix wildcard)`);
      }
    }
    const all = actionsOf(policies);
    assert.equal(new Set(all).size, all.length, 'each action once');
  });

  it("grants `Resource: \"*\"` to exactly the actions that take no resource type (the Service Authorization Reference, as iam-simulate holds it)", async () => {
    const wildcard = policies.flatMap((p) => p.Statement).filter((s) => s.Resource === '*');
    assert.equal(wildcard.length, 1);
    for (const action of actionsOf(policies)) {
      const [service, name] = action.split(':') as [string, string];
      assert.equal(await isWildcardOnlyAction(service, name), wildcard[0]!.Action.includes(action), action);
    }
    for (const action of WILDCARD_ONLY) assert.ok(await isWildcardOnlyAction(...(action.split(':') as [string, string])), action);
  });

  it("reaches every scoped action on one of the stack's own resources, with no ARN of a type the action does not take", async () => {
    const problems: string[] = [];
    for (const statement of policies.flatMap((p) => p.Statement)) {
      if (statement.Resource === '*' || statement.Condition) continue;
      for (const action of statement.Action) {
        const samples = STACK_RESOURCES[action.split(':')[0]!] ?? [];
        const results = await Promise.all(samples.map((arn) => simulate(policies, action, arn)));
        // a qualified function ARN is both a version's and an alias's (the same ARN format): iam-simulate cannot pick one, IAM matches the string
        const ambiguous = samples.filter((arn, i) => results[i]!.resultType === 'error' && JSON.stringify(results[i]!.errors).includes('multiple.resource.types'));
        const matchedAmbiguous = ambiguous.some((arn) => [statement.Resource].flat().some((pattern) => globMatches(pattern, arn)));
        if (!matchedAmbiguous && !results.some((r) => r.resultType !== 'error' && r.overallResult === 'Allowed')) {
          problems.push(`${action}: ${results.map((r) => (r.resultType === 'error' ? JSON.stringify(r.errors) : r.overallResult)).join(', ')}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('allows the calls of a deploy: a function of the service, its role passed to Lambda, the stack change set, the deployment bucket', async () => {
    assert.equal(await decision(policies, 'lambda:CreateFunction', `arn:aws:lambda:${R}:function:eks-node-lifecycle-prod-tagInstance`), 'Allowed');
    assert.equal(await decision(policies, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/eks-node-lifecycle-prod-TagInstanceRole-1A2B3C4D5E6F`, { 'iam:PassedToService': 'lambda.amazonaws.com' }), 'Allowed');
    assert.equal(await decision(policies, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/eks-node-lifecycle-prod-SchedulesRole-1A2B3C4D5E6F`, { 'iam:PassedToService': 'scheduler.amazonaws.com' }), 'Allowed');
    assert.equal(await decision(policies, 'cloudformation:CreateChangeSet', STACK_RESOURCES['cloudformation']![0]!), 'Allowed');
    assert.equal(await decision(policies, 's3:PutObject', STACK_RESOURCES['s3']![1]!), 'Allowed');
    assert.equal(await decision(policies, 'cloudformation:ValidateTemplate', '*'), 'Allowed');
  });

  it("denies what is not the service's: another function, a role passed to EC2 or not the stack's, another stack or bucket, a table's items", async () => {
    assert.equal(await decision(policies, 'lambda:CreateFunction', `arn:aws:lambda:${R}:function:payments-prod-api`), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'lambda:UpdateFunctionCode', `arn:aws:lambda:${R}:function:eks-node-lifecycle`), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/eks-node-lifecycle-prod-TagInstanceRole-1A2B3C4D5E6F`, { 'iam:PassedToService': 'ec2.amazonaws.com' }), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`, { 'iam:PassedToService': 'lambda.amazonaws.com' }), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/admin`), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'iam:AttachRolePolicy', STACK_RESOURCES['iam']![0]!), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'cloudformation:DeleteStack', `arn:aws:cloudformation:${R}:stack/network-prod/1f2e3d4c-0000-4000-8000-000000000000`), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 's3:GetObject', 'arn:aws:s3:::terraform-state-prod/network.tfstate'), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'dynamodb:Scan', STACK_RESOURCES['dynamodb']![0]!), 'ImplicitlyDenied');
    assert.equal(await decision(policies, 'kms:Decrypt', `arn:aws:kms:${R}:key/1f2e3d4c-0000-4000-8000-000000000000`), 'ImplicitlyDenied');
  });

  it('covers a hub with member accounts: the default bus policy it writes (AWS::Events::EventBusPolicy)', async () => {
    const packaged = await packageWithParams({ memberAccounts: '222233334444' });
    assert.ok(packaged.ok, packaged.ok ? '' : packaged.output);
    const hub = splitPolicy(deployerPolicy(packaged.template as Template));
    const bus = `arn:aws:events:${R}:event-bus/default`;
    for (const action of ['events:PutPermission', 'events:RemovePermission']) assert.equal(await decision(hub, action, '*'), 'Allowed', action);
    assert.equal(await decision(hub, 'events:DescribeEventBus', bus), 'Allowed');
    assert.equal(await decision(hub, 'events:DescribeEventBus', `arn:aws:events:${R}:event-bus/someone-elses`), 'ImplicitlyDenied');
  });
});
