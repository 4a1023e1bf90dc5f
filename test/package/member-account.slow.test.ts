import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { hubRoleName, MEMBER_TEMPLATE, memberRoleName, memberTemplate, renderMemberTemplate } from '../../scripts/deploy/member-account.js';
import { loadServerlessModel, PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';
import { type CloudFormationTemplate, PACKAGE_STAGE, packageService, packageWithParams } from './packaged-service.js';

const { memberAccountIds, MEMBER_EVENT_SOURCES } = createRequire(import.meta.url)('../../scripts/deploy/member-accounts.cjs') as {
  memberAccountIds: (value: string) => { ids: string[]; error?: undefined } | { error: string };
  MEMBER_EVENT_SOURCES: string[];
};

/**
 * Member accounts (README "Member accounts"): deploy/member-account.yml is what
 * scripts/deploy/member-account.ts makes of serverless.yml, valid CloudFormation, and the hub
 * accepts what it forwards only with the memberAccounts param. Its IAM is audited in
 * least-privilege.test.ts, as the hub's is.
 */
const committed = () => readFileSync(MEMBER_TEMPLATE, 'utf8');
const MEMBERS = '222233334444,333344445555';

describe('Member account template (deploy/member-account.yml)', () => {
  const template = memberTemplate();
  const resources = Object.entries(template.Resources);
  const rules = resources.filter(([, r]) => r.Type === 'AWS::Events::Rule');

  it('is what scripts/deploy/member-account.ts makes of serverless.yml (npm run member-template after changing it)', () => {
    assert.equal(committed(), renderMemberTemplate(template));
  });

  it('is valid CloudFormation (cfn-lint, when installed; else it must at least parse, intrinsics in their long form)', (t) => {
    const parsed = parseYaml(committed(), { version: '1.1' }) as CloudFormationTemplate;
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(template)));
    assert.ok(!committed().includes('!'), 'no short-form tags: any YAML parser reads it');
    const lint = spawnSync('cfn-lint', ['--', MEMBER_TEMPLATE], { encoding: 'utf8' });
    if (lint.error) return t.skip('cfn-lint is not installed (pip install cfn-lint)');
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  });

  it('forwards exactly the events serverless.yml subscribes the hub functions to that happen in member accounts, each pattern as written', () => {
    const model = loadServerlessModel({ stage: PACKAGE_STAGE, params: { managedClusters: '*' } });
    const memberPatterns = model.functions.flatMap((f) => f.eventPatterns).filter((p) => [p['source']].flat().every((s) => MEMBER_EVENT_SOURCES.includes(String(s))));
    assert.deepEqual(rules.map(([, r]) => r.Properties.EventPattern), memberPatterns);
    const detailTypes = memberPatterns.flatMap((p) => p['detail-type'] as string[]).sort();
    assert.deepEqual(detailTypes, [
      'EC2 AMI State Change',
      'EC2 Image Builder Image State Change',
      'EC2 Instance Rebalance Recommendation',
      'EC2 Instance State-change Notification',
      'EC2 Instance-launch Lifecycle Action',
      'EC2 Instance-terminate Lifecycle Action',
      'EC2 Spot Instance Interruption Warning',
    ]);
    for (const [id, rule] of rules) {
      assert.deepEqual(rule.Properties.Targets, [{ Id: 'hub-event-bus', Arn: { Ref: 'HubEventBusArn' }, RoleArn: { 'Fn::GetAtt': ['ForwardEventsRole', 'Arn'] } }], id);
    }
  });

  it("has a member role for each of the roles grant-access.sh gives cluster access, named as grant-access.sh --member names them", () => {
    const script = readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/grant-access.sh'), 'utf8');
    const granted = /for logical in ([\w ]+); do/.exec(script)![1]!.split(' ');
    for (const id of granted) {
      assert.equal(template.Resources[id]?.Type, 'AWS::IAM::Role', id);
      assert.deepEqual(template.Resources[id]!.Properties.RoleName, { 'Fn::Sub': memberRoleName('${HubStage}', id, '${AWS::Region}') });
    }
    assert.equal(memberRoleName('prod', 'RollStepRole', 'eu-west-1'), 'prod-RollStep-eu-west-1');
  });

  it('grant-access.sh --member gives those member roles an access entry, found in the member account by name', () => {
    const bin = mkdtempSync(join(tmpdir(), 'grant-access-member-'));
    const calls = join(bin, 'calls');
    const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${calls}"\n${body}\n`, { mode: 0o755 });
    stub('aws', 'case "$*" in *get-role*) echo "arn:aws:iam::444455556666:role/eks-node-lifecycle/$4";; *describe-access-entry*) exit 1;; esac');
    stub('kubectl', '');
    try {
      execFileSync('bash', [join(PROJECT_ROOT, 'scripts/kubernetes/grant-access.sh'), '--member', 'prod-eu', 'prod', 'eu-central-1'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'pipe' });
      const lines = readFileSync(calls, 'utf8').trim().split('\n');
      assert.ok(!lines.some((l) => l.includes('cloudformation')), 'no hub stack in a member account');
      const entries = lines.filter((l) => l.includes('create-access-entry')).map((l) => /--principal-arn (\S+)/.exec(l)![1]);
      assert.ok(entries.includes('arn:aws:iam::444455556666:role/eks-node-lifecycle/prod-RollStep-eu-central-1'), entries.join('\n'));
      assert.equal(entries.length, 8, 'the Kubernetes-facing roles, PromotionStepRole among them (a promotion reads the nodes and pods of its rings)');
      assert.ok(lines.every((l) => !l.startsWith('aws eks') || l.includes('--region eu-central-1')));
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('Hub side of member accounts (the memberAccounts param, scripts/deploy/member-accounts.cjs)', () => {
  let single: CloudFormationTemplate;
  let hub: CloudFormationTemplate;
  const member = memberTemplate();
  const memberRoleIds = Object.entries(member.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName).map(([id]) => id);
  before(async () => {
    ({ template: single } = await packageService());
    const out = await packageWithParams({ memberAccounts: MEMBERS });
    assert.ok(out.ok, out.ok ? '' : out.output);
    hub = out.template;
  });

  it('changes nothing without it: no bus policy, no fixed role names', () => {
    assert.deepEqual(Object.values(single.Resources).filter((r) => r.Type === 'AWS::Events::EventBusPolicy'), []);
    assert.deepEqual(Object.entries(single.Resources).filter(([, r]) => r.Properties?.RoleName !== undefined).map(([id]) => id), []);
  });

  it("lets the default bus take, from the listed accounts only, the events the member template forwards and nothing else", () => {
    const policy = hub.Resources['MemberAccountsEventBusPolicy']!;
    assert.equal(policy.Type, 'AWS::Events::EventBusPolicy');
    assert.equal(policy.Properties.EventBusName, undefined, 'the default bus');
    const statement = policy.Properties.Statement;
    assert.deepEqual(statement.Principal, { AWS: MEMBERS.split(',').map((id) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${id}:root` })) });
    assert.equal(statement.Action, 'events:PutEvents');
    const forwarded = [...new Set(Object.values(member.Resources).filter((r) => r.Type === 'AWS::Events::Rule').flatMap((r) => r.Properties.EventPattern.source))].sort();
    assert.deepEqual(statement.Condition, { 'ForAllValues:StringEquals': { 'events:source': forwarded } });
    assert.ok(!forwarded.includes('eks-node-lifecycle'), "a member cannot publish the service's own events");
  });

  it('names each hub role a member role trusts as the member template names it, lets it assume them, tells its functions their name, and changes nothing else', () => {
    for (const id of memberRoleIds) assert.equal(hub.Resources[id]!.Properties.RoleName, hubRoleName('eks-node-lifecycle', PACKAGE_STAGE, id), id);
    const named = Object.entries(hub.Resources).filter(([, r]) => r.Properties?.RoleName !== undefined).map(([id]) => id);
    assert.deepEqual(named.sort(), [...memberRoleIds].sort());
    for (const id of memberRoleIds) {
      const assume = (hub.Resources[id]!.Properties.Policies as { PolicyName: string; PolicyDocument: { Statement: unknown[] } }[]).find((p) => p.PolicyName === 'assume-member-roles');
      const prefix = memberRoleName(PACKAGE_STAGE, id, 'x').replace(/-x$/, '');
      assert.deepEqual(assume?.PolicyDocument.Statement, [
        { Sid: 'AssumeMemberRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: MEMBERS.split(',').map((m) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${m}:role/eks-node-lifecycle/${prefix}-*` })) },
      ], id);
    }
    const functions = Object.entries(hub.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    for (const [id, fn] of functions) {
      const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt']?.[0];
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      assert.equal(env['MEMBER_ROLE_NAME'], role && memberRoleIds.includes(role) ? memberRoleName(PACKAGE_STAGE, role, 'x').replace(/-x$/, '') : undefined, id);
      assert.equal(env['MEMBER_ACCOUNTS'], MEMBERS, id);
    }
    // the rest is the single-account package
    const without = structuredClone(hub);
    delete without.Resources['MemberAccountsEventBusPolicy'];
    for (const id of named) {
      delete without.Resources[id]!.Properties.RoleName;
      without.Resources[id]!.Properties.Policies = (without.Resources[id]!.Properties.Policies as { PolicyName: string }[]).filter((p) => p.PolicyName !== 'assume-member-roles');
    }
    for (const [id, fn] of Object.entries(without.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      delete env['MEMBER_ROLE_NAME'];
      assert.equal(env['MEMBER_ACCOUNTS'], MEMBERS, id);
      env['MEMBER_ACCOUNTS'] = '';
    }
    const strip = (t: CloudFormationTemplate) => JSON.parse(JSON.stringify(t).replace(/"S3Key":"[^"]*"/g, '"S3Key":""').replace(/"CodeSha256":"[^"]*"/g, '"CodeSha256":""').replace(/LambdaVersion\w+/g, 'LambdaVersion'));
    assert.deepEqual(strip(without), strip(single));
  });

  it('takes account ids only', () => {
    assert.deepEqual(memberAccountIds(''), { ids: [] });
    assert.deepEqual(memberAccountIds(` ${MEMBERS} ,222233334444`), { ids: MEMBERS.split(',') });
    assert.match((memberAccountIds('2222-3333-4444') as { error: string }).error, /not an AWS account id/);
    assert.match((memberAccountIds('prod') as { error: string }).error, /memberAccounts/);
  });
});
