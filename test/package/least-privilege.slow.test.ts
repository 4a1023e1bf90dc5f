import { runSimulation } from '@cloud-copilot/iam-simulate';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { hubRoleName, MEMBER_TEMPLATE } from '../../scripts/deploy/member-account.js';
import { IAM_ACTION_FACTS } from './iam-action-facts.js';
import { type Account, type AuditPolicy, auditMemberTrust, auditStatements, auditTrust, cfnResolver, type ConditionEntry, type Finding, type Statement, statementsOf } from './iam-audit.js';
import { type CloudFormationTemplate, PACKAGE_PARAMS, PACKAGE_REGION, PACKAGE_STAGE, packageService, packageWithParams, VPC_PARAMS } from './packaged-service.js';

/**
 * Least privilege, audited on what `serverless package` produces (the template CloudFormation
 * deploys, not serverless.yml's intent): every statement of every role, action by action,
 * against the Service Authorization Reference (iam-action-facts.ts) and the guards below.
 */
const ACCOUNT: Account = { partition: 'aws', region: PACKAGE_REGION, accountId: '111122223333' };
const managedClusters = PACKAGE_PARAMS.managedClusters;

const ROLLOUT = { tag: 'eks-node-lifecycle/rollout', values: ['auto', 'approve'] };
/**
 * The guards this service puts on writes to nodes and node groups.
 * - A rollout changes only groups that opted in with `eks-node-lifecycle/rollout=auto|approve`:
 *   the Auto Scaling group's tag for self-managed groups, the EKS node group's for managed ones
 *   (where the policy tags live, see shared/config/node-group-policy.ts). The ownership tag
 *   would be the other candidate, but with managedClusters '*' its key
 *   (kubernetes.io/cluster/<name>) is unknown and condition keys take no wildcard.
 * - Terminate hooks are installed only on groups that asked for drains (`drain=on`).
 * - Tagging (instances, groups) may write only the ownership key of a managed cluster — so never
 *   the opt-in tags above — and, on instances, only on nodes (launched by a group or a launch
 *   template); the audit checks that rule for every Tagging action (iam-audit.ts).
 * - Completing a lifecycle action and its heartbeat cannot be guarded: see `unguardable`.
 */
const POLICY: AuditPolicy = {
  managedClusters: managedClusters === '*' ? '*' : managedClusters.split(','),
  optIn: {
    'autoscaling:UpdateAutoScalingGroup': ROLLOUT,
    'autoscaling:TerminateInstanceInAutoScalingGroup': ROLLOUT,
    'autoscaling:SuspendProcesses': ROLLOUT,
    'autoscaling:ResumeProcesses': ROLLOUT,
    'autoscaling:StartInstanceRefresh': ROLLOUT,
    'autoscaling:CancelInstanceRefresh': ROLLOUT,
    'autoscaling:RollbackInstanceRefresh': ROLLOUT,
    'eks:UpdateNodegroupVersion': ROLLOUT,
    'eks:UpdateNodegroupConfig': ROLLOUT,
    'autoscaling:PutLifecycleHook': { tag: 'eks-node-lifecycle/drain', values: ['on'] },
  },
  unguardable: {
    'autoscaling:CompleteLifecycleAction':
      'hooks live on any group of a managed cluster (a launch hook a person added, a terminate hook of any origin): a self-managed group shows its cluster only by kubernetes.io/cluster/<name>, unknown when managedClusters is *',
    'autoscaling:RecordLifecycleActionHeartbeat': 'as CompleteLifecycleAction: it keeps alive the same hooks',
    'ec2:RunInstances':
      'what Auto Scaling checks on the caller\'s behalf when a group is pointed at a launch template version (UpdateAutoScalingGroup, StartInstanceRefresh — those writes carry the opt-in guard); the instances it would launch carry no tag yet, and the template is the user\'s, so only "through a launch template of this account" (ec2:LaunchTemplate) can be required',
  },
};

const describeFindings = (findings: readonly Finding[]) => findings.map((f) => `${f.rule} ${f.where}: ${f.message}`).join('\n');
const rulesOf = (findings: readonly Finding[]) => [...new Set(findings.map((f) => f.rule))].sort();

describe('Least privilege: the IAM of the packaged template', () => {
  let template: CloudFormationTemplate;
  let statements: Statement[];
  let findings: Finding[];
  const only = (...rules: string[]) => findings.filter((f) => rules.includes(f.rule));

  before(async () => {
    ({ template } = await packageService());
    statements = statementsOf(template, ACCOUNT);
    findings = auditStatements(statements, POLICY, ACCOUNT);
  });

  it('audits every role, and knows every action granted (the facts table cannot fall behind)', () => {
    const roles = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Role').length;
    assert.ok(roles >= 20, `${roles} roles`);
    assert.deepEqual(new Set(statements.map((s) => s.role)).size, roles, 'every role has statements');
    const granted = new Set(statements.flatMap((s) => s.actions));
    assert.ok(granted.size >= 50, `${granted.size} actions`);
    assert.deepEqual(only('unknown-action'), []);
    assert.deepEqual([...granted].filter((a) => !IAM_ACTION_FACTS[a]), []);
  });

  it('grants no wildcard action, no NotAction/NotResource, and no action on * that AWS can scope', () => {
    assert.equal(describeFindings(only('wildcard-action', 'negated', 'star-resource', 'star-resource-read')), '');
  });

  it('grants nothing that can never apply: no ARN for an action AWS cannot scope, no ARN of a type the action does not take', () => {
    assert.equal(describeFindings(only('unscopable-on-arn', 'resource-type-mismatch', 'dead-resource', 'unsupported-condition-key', 'wildcard-condition-key')), '');
  });

  it('uses no wildcard wider than a resource type, and names every secret it reads', () => {
    assert.equal(describeFindings(only('over-broad-arn', 'secret-wildcard')), '');
    const secretReads = statements.filter((s) => s.actions.some((a) => IAM_ACTION_FACTS[a]?.readsSecrets));
    assert.ok(secretReads.length >= 4, 'the chat functions read their parameters');
  });

  it('guards every write on nodes and node groups with the opt-in tag, or says why it cannot', () => {
    assert.equal(describeFindings(only('node-group-write-unguarded', 'instance-tagging-unguarded')), '');
    // the guards exist in the template, not only as absence of findings
    const rollStep = statements.filter((s) => s.role === 'RollStepRole' && s.actions.includes('autoscaling:UpdateAutoScalingGroup'));
    assert.deepEqual(rollStep.map((s) => s.conditions), [[{ operator: 'StringEqualsIgnoreCase', key: 'aws:ResourceTag/eks-node-lifecycle/rollout', values: ['auto', 'approve'] }]]);
    const hookCompletions = statements.filter((s) => s.actions.some((a) => a.includes('LifecycleAction')));
    assert.ok(hookCompletions.length > 0 && hookCompletions.every((s) => s.resources.every((r) => r.includes(':autoScalingGroup:'))), 'hook completions stay on Auto Scaling groups');
    // RunInstances only through a launch template of the account, for Auto Scaling's check
    const launches = statements.filter((s) => s.actions.includes('ec2:RunInstances'));
    assert.deepEqual(launches.map((s) => s.role), ['RollStepRole', 'RollStepRole']);
    for (const s of launches.filter((s) => !s.resources.every((r) => r.includes(':launch-template/')))) {
      assert.deepEqual(s.conditions, [{ operator: 'ArnLike', key: 'ec2:LaunchTemplate', values: [`arn:aws:ec2:${ACCOUNT.region}:${ACCOUNT.accountId}:launch-template/*`] }]);
    }
    // the rollout keeps alive and completes only the hooks of the groups it may roll
    const rolloutHooks = hookCompletions.filter((s) => s.role === 'RollStepRole');
    assert.deepEqual(rolloutHooks.map((s) => [s.actions.sort(), s.conditions]), [[['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'], [{ operator: 'StringEqualsIgnoreCase', key: 'aws:ResourceTag/eks-node-lifecycle/rollout', values: ['auto', 'approve'] }]]]);
  });

  it('lets a drain\'s owner be checked only among this service\'s own node-drain and ami-rollout executions, and hands drains only to node-drain', () => {
    const describe = statements.filter((s) => s.actions.includes('states:DescribeExecution'));
    assert.deepEqual(describe.map((s) => s.role).sort(), ['RequestDrainRole', 'RollStepRole']);
    for (const s of describe) {
      assert.deepEqual(s.resources.sort(), [
        `arn:aws:states:${PACKAGE_REGION}:${ACCOUNT.accountId}:execution:eks-node-lifecycle-${PACKAGE_STAGE}-ami-rollout:*`,
        `arn:aws:states:${PACKAGE_REGION}:${ACCOUNT.accountId}:execution:eks-node-lifecycle-${PACKAGE_STAGE}-node-drain:*`,
      ]);
    }
    const handOver = statements.filter((s) => s.role === 'RollStepRole' && s.actions.includes('states:StartExecution'));
    assert.deepEqual(handOver.flatMap((s) => s.resources), [`arn:aws:states:${PACKAGE_REGION}:${ACCOUNT.accountId}:stateMachine:eks-node-lifecycle-${PACKAGE_STAGE}-node-drain`]);
  });

  it('writes only the ownership tags of managed clusters, only on nodes, never the opt-in tags', () => {
    assert.equal(describeFindings(only('tagging-unbounded')), '');
    const atLaunch = (s: (typeof statements)[number]) => s.conditions.some((c) => c.key === 'ec2:CreateAction');
    const tagging = statements.filter((s) => s.actions.some((a) => IAM_ACTION_FACTS[a]?.access === 'Tagging'));
    assert.deepEqual(tagging.filter((s) => !atLaunch(s)).map((s) => s.sid).sort(), ['PropagateOwnershipTagOnGroups', 'TagAutoScalingNodesWithClusterOwnershipOnly', 'TagLaunchTemplateNodesWithClusterOwnershipOnly']);
    // the launch template's own TagSpecifications, checked by Auto Scaling: only while launching
    assert.deepEqual(tagging.filter(atLaunch).map((s) => [s.sid, s.conditions]), [['TagWhatClusterTemplatesLaunch', [{ operator: 'StringEquals', key: 'ec2:CreateAction', values: ['RunInstances'] }]]]);
    for (const s of tagging.filter((s) => !atLaunch(s))) {
      assert.deepEqual(s.conditions.find((c) => c.key === 'aws:TagKeys')?.values, ['kubernetes.io/cluster/*'], s.sid);
    }
  });

  it('passes roles only to EC2 and EKS', () => {
    assert.equal(describeFindings(only('pass-role-unbounded')), '');
    const passRole = statements.filter((s) => s.actions.includes('iam:PassRole'));
    assert.deepEqual(passRole.map((s) => s.conditions), [[{ operator: 'StringEquals', key: 'iam:PassedToService', values: ['ec2.amazonaws.com', 'eks.amazonaws.com'] }]]);
  });

  it('writes the chat-ops table only in the item families each function needs, never table-wide', () => {
    const chatops = statements.filter((s) => s.resources.some((r) => r.endsWith(':table/eks-node-lifecycle-ci-chatops')));
    assert.ok(chatops.length >= 6, 'every chat-ops statement found');
    for (const s of chatops) {
      const leading = s.conditions.find((c) => c.key === 'dynamodb:LeadingKeys');
      assert.equal(leading?.operator, 'ForAllValues:StringLike', `${s.role}/${s.sid}: scoped by dynamodb:LeadingKeys`);
      assert.ok(leading!.values.length > 0 && leading!.values.every((v) => /^[a-z-]+#\*$/.test(v)), `${s.role}/${s.sid}: item families (<prefix>#*), got ${leading!.values.join(', ')}`);
    }
    // the internet-facing function writes only its replay claims and audit records
    const slack = chatops.filter((s) => s.role === 'ChatSlackRole');
    assert.deepEqual(slack.flatMap((s) => s.conditions.find((c) => c.key === 'dynamodb:LeadingKeys')!.values).sort(), ['audit#*', 'request#*']);
  });

  it('lets only the authenticated entries that complete approvals answer task tokens', () => {
    const answering = statements.filter((s) => s.actions.some((a) => a === 'states:SendTaskSuccess' || a === 'states:SendTaskFailure'));
    assert.deepEqual([...new Set(answering.map((s) => s.role))].sort(), ['ChatApiRole', 'ChatWorkerRole']);
  });

  it('caps the public entry and the other chat entries with reserved concurrency, so a flood cannot starve drains and hooks', () => {
    const reserved = (key: string) => template.Resources[`${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`]!.Properties.ReservedConcurrentExecutions;
    assert.equal(reserved('chatSlack'), 10);
    for (const key of ['chatWorker', 'chatInvoke', 'chatApi']) assert.ok(reserved(key) > 0 && reserved(key) <= 10, key);
    // the functions drains and hooks depend on are not capped
    for (const key of ['requestDrain', 'drainStep', 'finishDrain', 'completeLifecycleAction', 'tagInstance']) assert.equal(reserved(key), undefined, key);
  });

  it('has nothing else to say', () => {
    assert.equal(describeFindings(findings), '');
  });

  it('lets each role be assumed only by what uses it: Lambda, EventBridge Scheduler (which may invoke its target), Step Functions', () => {
    assert.equal(describeFindings(auditTrust(template, statements, ACCOUNT)), '');
    const schedules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    assert.equal(schedules.length, 2);
  });

  it('names each cluster in the ownership tag keys when managedClusters lists them', () => {
    // the template as `--param managedClusters=prod,staging` would produce it
    const text = JSON.stringify(template);
    const literal = JSON.stringify({ 'Fn::Split': [',', managedClusters] });
    assert.ok(text.includes(literal), 'the tag keys are built from managedClusters');
    const listed = JSON.parse(text.replaceAll(literal, JSON.stringify({ 'Fn::Split': [',', 'prod,staging'] }))) as CloudFormationTemplate;
    const listedStatements = statementsOf(listed, ACCOUNT);
    const keys = listedStatements.find((s) => s.sid === 'PropagateOwnershipTagOnGroups')!.conditions.find((c) => c.key === 'aws:TagKeys')!.values;
    assert.deepEqual(keys, ['kubernetes.io/cluster/prod', 'kubernetes.io/cluster/staging']);
    assert.deepEqual(rulesOf(auditStatements(listedStatements, { ...POLICY, managedClusters: ['prod', 'staging'] }, ACCOUNT)), []);
    // a key for a cluster the deployment does not manage is caught
    assert.deepEqual(rulesOf(auditStatements(listedStatements, { ...POLICY, managedClusters: ['prod'] }, ACCOUNT)), ['tagging-unbounded']);
  });
});

describe('Least privilege: the IAM of the template with the functions in a VPC (vpcSubnetIds, vpcSecurityGroupIds)', () => {
  let statements: Statement[];
  let template: CloudFormationTemplate;
  before(async () => {
    const out = await packageWithParams(VPC_PARAMS);
    assert.ok(out.ok, out.ok ? '' : out.output);
    template = out.template;
    statements = statementsOf(template, ACCOUNT);
  });

  it('passes the same audit: the network-interface permissions are known actions, scoped where AWS scopes them', () => {
    const granted = new Set(statements.flatMap((s) => s.actions));
    assert.deepEqual([...granted].filter((a) => !IAM_ACTION_FACTS[a]), []);
    assert.equal(describeFindings(auditStatements(statements, POLICY, ACCOUNT)), '');
    assert.equal(describeFindings(auditTrust(template, statements, ACCOUNT)), '');
  });

  it('attaches no managed policy: what the roles may do is all in the statements audited', () => {
    for (const [id, r] of Object.entries(template.Resources)) if (r.Type === 'AWS::IAM::Role') assert.equal(r.Properties.ManagedPolicyArns, undefined, id);
    const network = statements.filter((s) => s.actions.some((a) => a.endsWith('NetworkInterface') || a.endsWith('PrivateIpAddresses')));
    assert.ok(network.every((s) => s.policy.endsWith('vpc-network-interfaces')), 'only the VPC policy grants network-interface actions');
    const create = network.find((s) => s.actions.includes('ec2:CreateNetworkInterface'))!;
    const arn = (type: string, id: string) => `arn:aws:ec2:${PACKAGE_REGION}:${ACCOUNT.accountId}:${type}/${id}`;
    assert.deepEqual(create.resources, [arn('network-interface', '*'), ...VPC_PARAMS.vpcSubnetIds.split(',').map((id) => arn('subnet', id)), arn('security-group', VPC_PARAMS.vpcSecurityGroupIds)]);
  });
});

describe('Least privilege: the audit catches what it is meant to', () => {
  const GROUPS = 'arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/*';
  const INSTANCES = 'arn:aws:ec2:eu-west-1:111122223333:instance/*';
  const audit = (actions: string[], resources: string[], conditions: ConditionEntry[] = []) =>
    rulesOf(auditStatements([{ role: 'SyntheticRole', policy: 'synthetic', sid: 'Synthetic', effect: 'Allow', actions, resources, conditions, negated: false }], POLICY, ACCOUNT));
  const optedIn: ConditionEntry = { operator: 'StringEqualsIgnoreCase', key: 'aws:ResourceTag/eks-node-lifecycle/rollout', values: ['auto', 'approve'] };
  const ownershipKeys: ConditionEntry = { operator: 'ForAllValues:StringLike', key: 'aws:TagKeys', values: ['kubernetes.io/cluster/*'] };
  const onNodes: ConditionEntry = { operator: 'Null', key: 'ec2:ResourceTag/aws:autoscaling:groupName', values: ['false'] };

  it('accepts well-guarded statements (so what it reports below is the fault, not noise)', () => {
    assert.deepEqual(audit(['autoscaling:UpdateAutoScalingGroup', 'autoscaling:TerminateInstanceInAutoScalingGroup'], [GROUPS], [optedIn]), []);
    assert.deepEqual(audit(['ec2:CreateTags'], [INSTANCES], [ownershipKeys, onNodes]), []);
    assert.deepEqual(audit(['ec2:DescribeInstances'], ['*']), []);
    assert.deepEqual(audit(['states:SendTaskSuccess'], ['*']), []);
  });

  it('a mutating action on * that AWS can scope', () => {
    assert.deepEqual(audit(['autoscaling:TerminateInstanceInAutoScalingGroup'], ['*'], [optedIn]), ['star-resource']);
    assert.deepEqual(audit(['dynamodb:PutItem'], ['*']), ['star-resource']);
    // AWSLambdaVPCAccessExecutionRole's shape (network-interface writes on *): why vpc.cjs writes the statements out
    assert.deepEqual(audit(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'], ['*']), ['star-resource']);
  });

  it('a write on Auto Scaling groups without the opt-in, with a wrong value, or with IfExists', () => {
    assert.deepEqual(audit(['autoscaling:UpdateAutoScalingGroup'], [GROUPS]), ['node-group-write-unguarded']);
    assert.deepEqual(audit(['autoscaling:UpdateAutoScalingGroup'], [GROUPS], [{ ...optedIn, values: ['off', 'auto'] }]), ['node-group-write-unguarded']);
    assert.deepEqual(audit(['autoscaling:UpdateAutoScalingGroup'], [GROUPS], [{ ...optedIn, operator: 'StringEqualsIfExists' }]), ['node-group-write-unguarded']);
    assert.deepEqual(audit(['eks:UpdateNodegroupVersion'], ['arn:aws:eks:eu-west-1:111122223333:nodegroup/*']), ['node-group-write-unguarded']);
    // a write the policy has not decided on
    assert.deepEqual(audit(['autoscaling:DetachInstances'], [GROUPS]), ['unknown-action']);
  });

  it('instance tagging that could write any key, the opt-in key, or on any instance', () => {
    assert.deepEqual(audit(['ec2:CreateTags'], [INSTANCES], [onNodes]), ['tagging-unbounded']);
    assert.deepEqual(audit(['ec2:CreateTags'], [INSTANCES], [{ ...ownershipKeys, values: ['kubernetes.io/cluster/*', 'eks-node-lifecycle/*'] }, onNodes]), ['tagging-unbounded']);
    assert.deepEqual(audit(['ec2:CreateTags'], [INSTANCES], [ownershipKeys]), ['instance-tagging-unguarded']);
    // with named clusters, the wildcard key is too wide
    assert.deepEqual(
      rulesOf(auditStatements([{ role: 'R', policy: 'p', sid: 'S', effect: 'Allow', actions: ['ec2:CreateTags'], resources: [INSTANCES], conditions: [ownershipKeys, onNodes], negated: false }], { ...POLICY, managedClusters: ['prod'] }, ACCOUNT)),
      ['tagging-unbounded'],
    );
  });

  it('wildcard actions, unknown actions, NotAction', () => {
    assert.deepEqual(audit(['*'], ['*']), ['wildcard-action']);
    assert.deepEqual(audit(['ec2:*'], ['*']), ['wildcard-action']);
    assert.deepEqual(audit(['ec2:Describe*'], ['*']), ['wildcard-action']);
    assert.deepEqual(audit(['ec2:TerminateInstances'], [INSTANCES]), ['unknown-action']);
    assert.deepEqual(rulesOf(auditStatements([{ role: 'R', policy: 'p', sid: 'S', effect: 'Allow', actions: ['ec2:DescribeInstances'], resources: ['*'], conditions: [], negated: true }], POLICY, ACCOUNT)), ['negated']);
  });

  it('PassRole without PassedToService, or with a wildcard service', () => {
    assert.deepEqual(audit(['iam:PassRole'], ['arn:aws:iam::111122223333:role/*']), ['pass-role-unbounded']);
    assert.deepEqual(audit(['iam:PassRole'], ['arn:aws:iam::111122223333:role/*'], [{ operator: 'StringEquals', key: 'iam:PassedToService', values: ['*.amazonaws.com'] }]), ['pass-role-unbounded']);
  });

  it('secrets read from * or from a wildcard name; AWS public parameters are fine', () => {
    assert.deepEqual(audit(['ssm:GetParameter'], ['*']), ['star-resource']);
    assert.deepEqual(audit(['ssm:GetParameter'], ['arn:aws:ssm:eu-west-1:111122223333:parameter/eks-node-lifecycle/*']), ['secret-wildcard']);
    assert.deepEqual(audit(['ssm:GetParameters'], ['arn:aws:ssm:eu-west-1::parameter/aws/service/eks/*']), []);
  });

  it('grants that never apply, and wildcards wider than a resource type', () => {
    assert.deepEqual(audit(['states:SendTaskSuccess'], ['arn:aws:states:eu-west-1:111122223333:stateMachine:x']), ['dead-resource', 'unscopable-on-arn']);
    assert.deepEqual(audit(['eks:DescribeCluster'], ['arn:aws:eks:eu-west-1:111122223333:nodegroup/*']), ['dead-resource', 'resource-type-mismatch']);
    assert.deepEqual(audit(['ec2:CreateLaunchTemplateVersion'], ['arn:aws:ec2:eu-west-1::image/*']), ['dead-resource', 'resource-type-mismatch']);
    assert.deepEqual(audit(['dynamodb:GetItem'], ['arn:aws:dynamodb:eu-west-1:111122223333:*']), ['over-broad-arn']);
    assert.deepEqual(audit(['dynamodb:GetItem'], ['arn:aws:dynamodb:*:*:table/x']), ['over-broad-arn']);
  });

  it('conditions that can never match: a wildcard key, a tag key the resource type does not support', () => {
    assert.deepEqual(audit(['autoscaling:UpdateAutoScalingGroup'], [GROUPS], [optedIn, { operator: 'StringEquals', key: 'aws:ResourceTag/kubernetes.io/cluster/*', values: ['owned'] }]), ['wildcard-condition-key']);
    assert.deepEqual(audit(['autoscaling:UpdateAutoScalingGroup'], [GROUPS], [optedIn, { operator: 'StringEquals', key: 'ec2:ResourceTag/x', values: ['y'] }]), ['unsupported-condition-key']);
  });

  it('a schedule whose role only Lambda may assume and which may not invoke its target', async () => {
    const { template } = await packageService();
    const broken = structuredClone(template);
    const schedule = Object.values(broken.Resources).find((r) => r.Type === 'AWS::Scheduler::Schedule')!;
    schedule.Properties.Target.RoleArn = { 'Fn::GetAtt': ['EnsureTerminateHooksRole', 'Arn'] };
    const findings = auditTrust(broken, statementsOf(broken, ACCOUNT), ACCOUNT);
    assert.deepEqual(rulesOf(findings), ['trust']);
    assert.equal(findings.length, 2, describeFindings(findings));
  });
});

describe('Least privilege: the member account template (deploy/member-account.yml)', () => {
  const MEMBER: Account = { partition: 'aws', region: 'eu-central-1', accountId: '444455556666' };
  const HUB = '111122223333';
  const HUB_STAGE = 'prod';
  const PARAMS = {
    HubAccountId: HUB,
    HubStage: HUB_STAGE,
    HubEventBusArn: `arn:aws:events:eu-west-1:${HUB}:event-bus/default`,
    ExternalId: 'fleet-7f3a',
    OrganizationId: '',
    ManagedClusters: managedClusters,
  };
  let member: CloudFormationTemplate;
  let statements: Statement[];
  let hubTemplate: CloudFormationTemplate;
  /** the hub roles' statements as they would read in the member's account and region */
  let hubHere: Statement[];
  const hubRoleArn = (id: string) => `arn:aws:iam::${HUB}:role/${hubRoleName('eks-node-lifecycle', HUB_STAGE, id)}`;
  const memberRoles = () => Object.entries(member.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.AWS);
  const isMemberAction = (a: string) => ['autoscaling', 'ec2', 'eks', 'iam'].includes(a.split(':')[0]!);
  /** each statement in the account its resources live in: the forwarding role's is the hub's bus */
  const HUB_BUS: Account = { partition: 'aws', region: 'eu-west-1', accountId: HUB };
  const audit = (list: Statement[], policy: AuditPolicy = POLICY) => [
    ...auditStatements(list.filter((s) => s.role !== 'ForwardEventsRole'), policy, MEMBER),
    ...auditStatements(list.filter((s) => s.role === 'ForwardEventsRole'), policy, HUB_BUS),
  ];

  before(async () => {
    member = parseYaml(readFileSync(MEMBER_TEMPLATE, 'utf8')) as CloudFormationTemplate;
    statements = statementsOf(member, MEMBER, PARAMS);
    ({ template: hubTemplate } = await packageService());
    hubHere = statementsOf(hubTemplate, MEMBER);
  });

  it('passes the audit the hub roles pass: known actions, no wildcard, scoped resources, tag-guarded writes, ownership tags only', () => {
    const roles = Object.values(member.Resources).filter((r) => r.Type === 'AWS::IAM::Role').length;
    assert.equal(new Set(statements.map((s) => s.role)).size, roles, 'every role audited');
    assert.ok(roles >= 10, `${roles} roles`);
    assert.deepEqual([...new Set(statements.flatMap((s) => s.actions))].filter((a) => !IAM_ACTION_FACTS[a]), []);
    assert.equal(describeFindings(audit(statements)), '');
    // the forwarding role puts events on the hub's bus and nowhere else
    assert.deepEqual(statements.filter((s) => s.role === 'ForwardEventsRole').map((s) => [s.actions, s.resources]), [[['events:PutEvents'], [PARAMS.HubEventBusArn]]]);
  });

  it("grants each member role exactly the hub role's statements on member resources: same guards, same resources, in the member's account and region", () => {
    for (const s of statements.filter((s) => s.role !== 'ForwardEventsRole')) {
      const hub = hubHere.find((h) => h.role === s.role && h.policy === s.policy && h.sid === s.sid);
      assert.ok(hub, `${s.role}/${s.sid} is a statement of the hub's ${s.role}`);
      assert.deepEqual(s.conditions, hub.conditions, `${s.role}/${s.sid}: conditions`);
      assert.ok(s.resources.every((r) => hub.resources.includes(r)), `${s.role}/${s.sid}: resources`);
      assert.ok(s.actions.every((a) => hub.actions.includes(a)), `${s.role}/${s.sid}: actions`);
      for (const r of s.resources) assert.ok(r === '*' || r.includes(`:${MEMBER.region}:`) || r.startsWith('arn:aws:iam::'), `${r} in the member's region`);
      for (const r of s.resources) assert.ok(!r.includes(':111122223333:') && !r.includes('eks-node-lifecycle-'), `${r}: nothing of the hub`);
    }
    // and nothing lost: every hub grant on nodes, groups, clusters and node roles is in its member role
    for (const h of hubHere.filter((h) => h.actions.some(isMemberAction))) {
      const kept = statements.find((s) => s.role === h.role && s.sid === h.sid);
      assert.ok(kept, `${h.role}/${h.sid} has a member statement`);
      assert.deepEqual(kept.actions, h.actions.filter(isMemberAction), `${h.role}/${h.sid}`);
    }
    // and no table, state machine, function, queue, log group or parameter of the service
    assert.deepEqual(statements.flatMap((s) => s.actions).filter((a) => /^(dynamodb|states|lambda|sqs|logs|xray|cloudwatch):/.test(a)), []);
    const parameters = statements.filter((s) => s.actions.some((a) => a.startsWith('ssm:'))).flatMap((s) => s.resources);
    assert.ok(parameters.length > 0 && parameters.every((r) => r === `arn:aws:ssm:${MEMBER.region}::parameter/aws/service/*`), `AWS's public parameters only: ${parameters.join(', ')}`);
  });

  it('writes only the ownership tags of the clusters the member names', () => {
    const named = statementsOf(member, MEMBER, { ...PARAMS, ManagedClusters: 'prod,staging' });
    assert.deepEqual(named.find((s) => s.sid === 'PropagateOwnershipTagOnGroups')!.conditions.find((c) => c.key === 'aws:TagKeys')!.values, ['kubernetes.io/cluster/prod', 'kubernetes.io/cluster/staging']);
    assert.deepEqual(rulesOf(audit(named, { ...POLICY, managedClusters: ['prod', 'staging'] })), []);
    assert.deepEqual(rulesOf(audit(named, { ...POLICY, managedClusters: ['prod'] })), ['tagging-unbounded']);

  });

  it('lets each member role be assumed only by its hub function role, with the ExternalId or the organisation; the forwarding role only by EventBridge for this account', () => {
    const hubRoles = Object.entries(hubTemplate.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => hubRoleArn(id));
    assert.equal(describeFindings(auditMemberTrust(member, MEMBER, PARAMS, { accountId: HUB, roleArns: hubRoles })), '');
    assert.equal(describeFindings(auditMemberTrust(member, MEMBER, { ...PARAMS, ExternalId: '', OrganizationId: 'o-a1b2c3d4e5' }, { accountId: HUB, roleArns: hubRoles })), '');
    // one member role per hub role, named after it
    assert.deepEqual(memberRoles().map(([id]) => id).sort(), memberRoles().map(([id]) => id).filter((id) => hubTemplate.Resources[id]?.Type === 'AWS::IAM::Role').sort());
  });

  it('the trust policies as IAM evaluates them: the hub role with the ExternalId, and nobody else', async () => {
    const resolve = cfnResolver(member, MEMBER, PARAMS);
    const roleArn = `arn:aws:iam::${MEMBER.accountId}:role/eks-node-lifecycle/${HUB_STAGE}-RollStep-${MEMBER.region}`;
    const trust = resolve(member.Resources['RollStepRole']!.Properties.AssumeRolePolicyDocument);
    const assume = async (principal: string, context: Record<string, string>) => {
      const r = await runSimulation(
        {
          // the global keys AWS sets on every request (iam-simulate takes them as given)
          request: { principal, action: 'sts:AssumeRole', resource: { resource: roleArn, accountId: MEMBER.accountId }, contextVariables: { 'aws:PrincipalArn': principal, 'aws:PrincipalAccount': principal.split(':')[4]!, ...context } },
          identityPolicies: [{ name: 'assume', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } }],
          resourcePolicy: trust,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (r.resultType === 'error') throw new Error(JSON.stringify(r.errors));
      return r.overallResult;
    };
    assert.equal(await assume(hubRoleArn('RollStepRole'), { 'sts:ExternalId': 'fleet-7f3a' }), 'Allowed');
    assert.equal(await assume(hubRoleArn('RollStepRole'), {}), 'ImplicitlyDenied', 'no ExternalId');
    assert.equal(await assume(hubRoleArn('RollStepRole'), { 'sts:ExternalId': 'guess' }), 'ImplicitlyDenied', 'a wrong ExternalId');
    assert.equal(await assume(hubRoleArn('ChatSlackRole'), { 'sts:ExternalId': 'fleet-7f3a' }), 'ImplicitlyDenied', "another of the hub's roles");
    assert.equal(await assume(`arn:aws:iam::${HUB}:role/admin`, { 'sts:ExternalId': 'fleet-7f3a' }), 'ImplicitlyDenied', 'a person of the hub account');
    assert.equal(await assume(`arn:aws:iam::999988887777:role/${hubRoleName('eks-node-lifecycle', HUB_STAGE, 'RollStepRole')}`, { 'sts:ExternalId': 'fleet-7f3a' }), 'ImplicitlyDenied', 'the same name in another account');
  });

  it('the trust audit catches a wildcard hub role, a missing ExternalId and organisation, and another principal', () => {
    const hubRoles = [hubRoleArn('RollStepRole')];
    const only = (mutate: (trust: any) => void, params = PARAMS) => {
      const broken = structuredClone(member);
      broken.Resources = { RollStepRole: broken.Resources['RollStepRole']! };
      mutate(broken.Resources['RollStepRole']!.Properties.AssumeRolePolicyDocument.Statement[0]);
      return rulesOf(auditMemberTrust(broken, MEMBER, params, { accountId: HUB, roleArns: hubRoles }));
    };
    assert.deepEqual(only(() => {}), []);
    assert.deepEqual(
      only((s) => (s.Condition = { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${HUB}:role/*` }, StringEquals: s.Condition.StringEquals })),
      ['member-trust'],
    );
    assert.deepEqual(only(() => {}, { ...PARAMS, ExternalId: '' }), ['member-trust']);
    assert.deepEqual(only((s) => (s.Principal = { AWS: '*' })), ['member-trust']);
  });
});
