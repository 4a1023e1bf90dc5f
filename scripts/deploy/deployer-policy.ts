/**
 * The IAM policy a person (or a CI role) needs to deploy, update and remove this service —
 * `serverless deploy` / `serverless remove` — and nothing else, generated from the packaged
 * CloudFormation template:
 *
 *   npx tsx scripts/deploy/deployer-policy.ts     # deploy/deployer-policy-{1,2}.json: any stage, region, account
 *   npx tsx scripts/deploy/deployer-policy.ts --stage dev --region eu-west-1 --account 123456789012 --out ./policy
 *   … --param vpc=…                              # with the params the deploy uses, when they add resources or properties
 *
 * What goes in:
 * 1. the framework's own calls (osls 4, lib/plugins/aws/{deploy,lib,info,remove}): the stack
 *    (change sets, events, resources, template) and the deployment bucket it uploads to;
 * 2. for every resource type in the template, what CloudFormation's handlers use to create, read,
 *    update and delete it (scripts/deploy/resource-handler-permissions.ts, from the resource
 *    provider schemas), less what only a feature the template does not use needs (FEATURES);
 * 3. every action scoped to the service's resources — names starting `eks-node-lifecycle-<stage>`
 *    — where the action takes a resource ARN; `iam:PassRole` only for those roles and only to the
 *    services the template's roles trust (`iam:PassedToService`).
 * More than IAM's 6,144 characters for one managed policy: it is split in two (or more), to attach
 * together. The test (test/package/deployer-policy.slow.test.ts) regenerates it from the current template and
 * compares it with the committed file, so it cannot fall behind serverless.yml.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HANDLER_PERMISSIONS } from './resource-handler-permissions.js';

export const SERVICE = 'eks-node-lifecycle';
/** IAM's limit for a customer managed policy, white space not counted (IAM user guide, "IAM and AWS STS quotas") */
export const MANAGED_POLICY_LIMIT = 6144;

export interface PolicyScope {
  partition: string;
  /** '*' for any */
  region: string;
  account: string;
  stage: string;
}

export const ANY_SCOPE: PolicyScope = { partition: 'aws', region: '*', account: '*', stage: '*' };

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, any>;
}

export interface Template {
  Resources: Record<string, TemplateResource>;
}

/**
 * Actions a handler uses only for a feature: dropped while no resource of that type in the
 * template uses the feature (`used` reads one resource's Properties). Drops of actions on the
 * service's own resources are kept short: a drop is for what reaches beyond them (KMS keys,
 * VPCs, other buckets, Kinesis) or creates a configuration the template never has.
 */
interface Feature {
  feature: string;
  actions: readonly string[];
  used: (properties: Record<string, any>) => boolean;
}

const has = (key: string) => (p: Record<string, any>) => p[key] !== undefined;
const never = () => false;

export const FEATURES: Record<string, readonly Feature[]> = {
  'AWS::DynamoDB::Table': [
    { feature: 'Kinesis streaming (KinesisStreamSpecification)', actions: ['kinesis:DescribeStream', 'kinesis:PutRecords', 'dynamodb:EnableKinesisStreamingDestination', 'dynamodb:UpdateKinesisStreamingDestination'], used: has('KinesisStreamSpecification') },
    // SSEEnabled alone uses the AWS managed key aws/dynamodb, whose key policy lets the account's principals use it through DynamoDB
    { feature: 'a customer managed KMS key (SSESpecification.KMSMasterKeyId)', actions: ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:ListAliases', 'kms:Encrypt', 'kms:RevokeGrant'], used: (p) => p.SSESpecification?.KMSMasterKeyId !== undefined },
    {
      feature: 'an import from S3 (ImportSourceSpecification)',
      actions: ['dynamodb:ImportTable', 'dynamodb:DescribeImport', 's3:GetObject', 's3:GetObjectMetadata', 's3:ListBucket', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams', 'logs:PutLogEvents', 'logs:PutRetentionPolicy'],
      used: has('ImportSourceSpecification'),
    },
    // the schema has no replica property: these serve the global-table replication the provider shares with AWS::DynamoDB::GlobalTable
    {
      feature: 'replicas (AWS::DynamoDB::GlobalTable)',
      actions: ['dynamodb:CreateTableReplica', 'dynamodb:AssociateTableReplica', 'iam:CreateServiceLinkedRole', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
      used: never,
    },
    { feature: 'a resource policy (ResourcePolicy)', actions: ['dynamodb:PutResourcePolicy'], used: has('ResourcePolicy') },
    { feature: 'contributor insights (ContributorInsightsSpecification)', actions: ['dynamodb:UpdateContributorInsights'], used: has('ContributorInsightsSpecification') },
  ],
  'AWS::Events::Rule': [{ feature: 'targets that assume a role (RoleArn)', actions: ['iam:PassRole'], used: (p) => p.RoleArn !== undefined || (p.Targets ?? []).some((t: any) => t.RoleArn !== undefined) }],
  'AWS::IAM::Role': [
    { feature: 'managed policies (ManagedPolicyArns)', actions: ['iam:AttachRolePolicy'], used: has('ManagedPolicyArns') },
    { feature: 'a permissions boundary (PermissionsBoundary)', actions: ['iam:PutRolePermissionsBoundary'], used: has('PermissionsBoundary') },
  ],
  'AWS::Lambda::Function': [
    { feature: 'a VPC (VpcConfig)', actions: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeNetworkInterfaces'], used: has('VpcConfig') },
    { feature: 'file systems (FileSystemConfigs)', actions: ['elasticfilesystem:DescribeMountTargets', 's3files:ListMountTargets'], used: has('FileSystemConfigs') },
    // without KmsKeyArn Lambda encrypts the environment with its AWS managed key, on its own behalf
    { feature: 'a customer managed KMS key (KmsKeyArn)', actions: ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], used: has('KmsKeyArn') },
    { feature: 'code signing (CodeSigningConfigArn)', actions: ['lambda:GetCodeSigningConfig', 'lambda:PutFunctionCodeSigningConfig'], used: has('CodeSigningConfigArn') },
    { feature: 'layers (Layers)', actions: ['lambda:GetLayerVersion'], used: has('Layers') },
    { feature: 'a capacity provider (CapacityProviderConfig)', actions: ['lambda:PassCapacityProvider', 'lambda:PutFunctionScalingConfig'], used: has('CapacityProviderConfig') },
  ],
  'AWS::Lambda::Version': [
    { feature: 'provisioned concurrency (ProvisionedConcurrencyConfig)', actions: ['lambda:PutProvisionedConcurrencyConfig'], used: has('ProvisionedConcurrencyConfig') },
    { feature: 'a capacity provider (FunctionScalingConfig)', actions: ['lambda:PutFunctionScalingConfig'], used: has('FunctionScalingConfig') },
  ],
  'AWS::Logs::LogGroup': [
    { feature: 'a KMS key (KmsKeyId)', actions: ['logs:AssociateKmsKey'], used: has('KmsKeyId') },
    { feature: 'a data protection policy (DataProtectionPolicy)', actions: ['logs:PutDataProtectionPolicy'], used: has('DataProtectionPolicy') },
    // both take no resource type: a grant would reach every log group's policies
    { feature: 'a resource policy (ResourcePolicyDocument)', actions: ['logs:PutResourcePolicy', 'logs:DeleteResourcePolicy'], used: has('ResourcePolicyDocument') },
    { feature: 'field index policies (FieldIndexPolicies)', actions: ['logs:PutIndexPolicy', 'logs:DeleteIndexPolicy'], used: has('FieldIndexPolicies') },
    { feature: 'bearer token authentication (BearerTokenAuthenticationEnabled)', actions: ['logs:PutBearerTokenAuthentication'], used: has('BearerTokenAuthenticationEnabled') },
    { feature: 'deletion protection (DeletionProtectionEnabled)', actions: ['logs:PutLogGroupDeletionProtection'], used: has('DeletionProtectionEnabled') },
    // no LogGroup property delivers logs anywhere; s3:REST.PUT.OBJECT is an S3 operation name, not an IAM action
    { feature: 'log delivery to S3 or Firehose', actions: ['logs:CreateLogDelivery', 's3:REST.PUT.OBJECT', 'firehose:TagDeliveryStream'], used: never },
  ],
  'AWS::S3::Bucket': [
    { feature: 'S3 Metadata tables (MetadataTableConfiguration, MetadataConfiguration)', actions: ['s3:CreateBucketMetadataTableConfiguration', 's3:DeleteBucketMetadataTableConfiguration', 's3:UpdateBucketMetadataJournalTableConfiguration', 's3:UpdateBucketMetadataInventoryTableConfiguration', 's3:UpdateBucketMetadataAnnotationTableConfiguration', 's3tables:CreateNamespace', 's3tables:CreateTable', 's3tables:CreateTableBucket', 's3tables:GetTable', 's3tables:PutTableBucketPolicy', 's3tables:PutTableEncryption', 's3tables:PutTablePolicy', 's3tables:GetTableMetadataLocation', 's3tables:UpdateTableMetadataLocation'], used: (p) => p.MetadataTableConfiguration !== undefined || p.MetadataConfiguration !== undefined },
    { feature: 'replication (ReplicationConfiguration)', actions: ['s3:PutBucketReplication', 's3:PutReplicationConfiguration', 'iam:PassRole'], used: has('ReplicationConfiguration') },
    { feature: 'ACLs (AccessControl)', actions: ['s3:PutBucketAcl', 's3:PutObjectAcl'], used: has('AccessControl') },
    { feature: 'analytics (AnalyticsConfigurations)', actions: ['s3:PutAnalyticsConfiguration'], used: has('AnalyticsConfigurations') },
    { feature: 'CORS (CorsConfiguration)', actions: ['s3:PutBucketCORS'], used: has('CorsConfiguration') },
    { feature: 'inventory (InventoryConfigurations)', actions: ['s3:PutInventoryConfiguration'], used: has('InventoryConfigurations') },
    { feature: 'lifecycle rules (LifecycleConfiguration)', actions: ['s3:PutLifecycleConfiguration'], used: has('LifecycleConfiguration') },
    { feature: 'request metrics (MetricsConfigurations)', actions: ['s3:PutMetricsConfiguration'], used: has('MetricsConfigurations') },
    { feature: 'event notifications (NotificationConfiguration)', actions: ['s3:PutBucketNotification'], used: has('NotificationConfiguration') },
    { feature: 'website hosting (WebsiteConfiguration)', actions: ['s3:PutBucketWebsite', 's3:DeleteBucketWebsite'], used: has('WebsiteConfiguration') },
    { feature: 'transfer acceleration (AccelerateConfiguration)', actions: ['s3:PutAccelerateConfiguration'], used: has('AccelerateConfiguration') },
    { feature: 'object lock (ObjectLockConfiguration, ObjectLockEnabled)', actions: ['s3:PutBucketObjectLockConfiguration', 's3:PutObjectLockConfiguration'], used: (p) => p.ObjectLockConfiguration !== undefined || p.ObjectLockEnabled !== undefined },
    { feature: 'access logging (LoggingConfiguration)', actions: ['s3:PutBucketLogging'], used: has('LoggingConfiguration') },
    { feature: 'intelligent tiering (IntelligentTieringConfigurations)', actions: ['s3:PutIntelligentTieringConfiguration'], used: has('IntelligentTieringConfigurations') },
    { feature: 'attribute-based access control (AbacStatus)', actions: ['s3:PutBucketAbac'], used: has('AbacStatus') },
  ],
  'AWS::SNS::Topic': [
    { feature: 'delivery status logging (DeliveryStatusLogging)', actions: ['iam:GetRole', 'iam:PassRole'], used: has('DeliveryStatusLogging') },
    { feature: 'a data protection policy (DataProtectionPolicy)', actions: ['sns:PutDataProtectionPolicy'], used: has('DataProtectionPolicy') },
    { feature: 'subscriptions in the template (Subscription)', actions: ['sns:Subscribe'], used: has('Subscription') },
  ],
  'AWS::StepFunctions::StateMachine': [
    { feature: 'a definition in S3 (DefinitionS3Location)', actions: ['s3:GetObject', 's3:GetObjectVersion'], used: has('DefinitionS3Location') },
    { feature: 'a customer managed KMS key (EncryptionConfiguration)', actions: ['kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Decrypt'], used: (p) => p.EncryptionConfiguration?.KmsKeyId !== undefined },
  ],
};

/**
 * Actions a type needs that its schema does not list, each with its source. Step Functions
 * sets up log delivery to CloudWatch Logs (a vended log) with the caller's credentials: the
 * Step Functions developer guide, "Using CloudWatch Logs to log execution history in Step
 * Functions" → "IAM policies for logging to CloudWatch Logs", lists these for whoever creates or
 * updates a state machine with logging; none of them takes a resource type.
 */
const UNLISTED: Record<string, readonly Feature[]> = {
  'AWS::StepFunctions::StateMachine': [
    {
      feature: 'logging (LoggingConfiguration)',
      actions: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
      used: has('LoggingConfiguration'),
    },
  ],
};

/**
 * The framework's own calls, beside CloudFormation's: osls 4.3 (lib/plugins/aws) — deploy
 * (change sets by default: create, describe, execute, delete; CreateStack/UpdateStack with
 * `deploymentMethod: direct`), the stack's events while it waits, its resources and template
 * (info, check-for-changes), ValidateTemplate; the deployment bucket: HeadBucket and
 * ListObjectsV2 (s3:ListBucket), HeadObject/GetObject, the upload (PutObject), the cleanup of old
 * deployments and `serverless remove` (DeleteObject(s), ListObjectVersions, DeleteObjectVersion).
 * check-for-changes also calls lambda:GetFunction, which the functions' read handler has.
 */
const STACK_ACTIONS = [
  'cloudformation:CreateChangeSet',
  'cloudformation:DescribeChangeSet',
  'cloudformation:ExecuteChangeSet',
  'cloudformation:DeleteChangeSet',
  'cloudformation:CreateStack',
  'cloudformation:UpdateStack',
  'cloudformation:DeleteStack',
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackEvents',
  'cloudformation:DescribeStackResource',
  'cloudformation:DescribeStackResources',
  'cloudformation:ListStackResources',
  'cloudformation:GetTemplate',
];
const FRAMEWORK_WILDCARD_ACTIONS = ['cloudformation:ValidateTemplate'];
const DEPLOYMENT_BUCKET_ACTIONS = ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'];

/**
 * Actions that take no resource type (Service Authorization Reference: an empty "Resource
 * types" cell): only `Resource: "*"` matches them. The test checks this list against
 * @cloud-copilot/iam-simulate's copy of the reference for every action in the policy.
 */
export const WILDCARD_ONLY = new Set([
  'cloudformation:ValidateTemplate',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
  // the hub's event bus policy, with the memberAccounts param (AWS::Events::EventBusPolicy)
  'events:PutPermission',
  'events:RemovePermission',
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeIndexPolicies',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
]);

/** the service's resources of each IAM service prefix, as ARNs (names from serverless.yml and CloudFormation's generated names) */
export function serviceResources(scope: PolicyScope): Record<string, string[]> {
  const { partition: p, region: r, account: a } = scope;
  const name = scope.stage === '*' ? `${SERVICE}-*` : `${SERVICE}-${scope.stage}`;
  // S3 bucket names are lower case: CloudFormation lowers the stack name in the bucket's generated name
  const bucket = `${name.toLowerCase()}-*`;
  return {
    cloudformation: [`arn:${p}:cloudformation:${r}:${a}:stack/${name}/*`],
    cloudwatch: [`arn:${p}:cloudwatch:${r}:${a}:alarm:${name}-*`, `arn:${p}:cloudwatch::${a}:dashboard/${name}`],
    dynamodb: [`arn:${p}:dynamodb:${r}:${a}:table/${name}-*`],
    events: [`arn:${p}:events:${r}:${a}:rule/${name}-*`],
    // the default bus, whose policy accepts the member accounts' events (memberAccounts param): see BY_RESOURCE
    'events-bus': [`arn:${p}:events:${r}:${a}:event-bus/default`],
    // CloudFormation names the roles <stack>-<logical id>-<suffix>
    iam: [`arn:${p}:iam::${a}:role/${name}-*`],
    lambda: [`arn:${p}:lambda:${r}:${a}:function:${name}-*`],
    logs: [`arn:${p}:logs:${r}:${a}:log-group:/aws/lambda/${name}-*`, `arn:${p}:logs:${r}:${a}:log-group:/aws/vendedlogs/states/${name}*`],
    s3: [`arn:${p}:s3:::${bucket}`, `arn:${p}:s3:::${bucket}/*`],
    scheduler: [`arn:${p}:scheduler:${r}:${a}:schedule/default/${name}-*`],
    sns: [`arn:${p}:sns:${r}:${a}:${name}-*`],
    sqs: [`arn:${p}:sqs:${r}:${a}:${name}-*`],
    states: [`arn:${p}:states:${r}:${a}:stateMachine:${name}-*`],
  };
}

export interface TypeCoverage {
  type: string;
  /** the actions kept, PassRole included */
  actions: string[];
  /** features the template does not use, and the actions dropped with them */
  dropped: { feature: string; actions: string[] }[];
}

/** Per resource type in the template: the handlers' actions kept and dropped. Throws for a type with no handler permissions on record. */
export function coverage(template: Template): TypeCoverage[] {
  const byType = new Map<string, Record<string, any>[]>();
  for (const resource of Object.values(template.Resources)) {
    byType.set(resource.Type, [...(byType.get(resource.Type) ?? []), resource.Properties ?? {}]);
  }
  const unknown = [...byType.keys()].filter((type) => HANDLER_PERMISSIONS[type] === undefined);
  if (unknown.length > 0) {
    throw new Error(`no handler permissions on record for ${unknown.join(', ')}: add them to scripts/deploy/resource-handler-permissions.ts from the type's resource provider schema`);
  }
  return [...byType.keys()].sort().map((type) => {
    const resources = byType.get(type)!;
    const { create, read, update, delete: del } = HANDLER_PERMISSIONS[type]!.handlers;
    const listed = new Set([...create, ...read, ...update, ...del].map(normalize));
    const dropped: TypeCoverage['dropped'] = [];
    for (const f of FEATURES[type] ?? []) {
      if (resources.some(f.used)) continue;
      const actions = f.actions.map(normalize).filter((a) => listed.delete(a));
      dropped.push({ feature: f.feature, actions });
    }
    for (const f of UNLISTED[type] ?? []) {
      if (resources.some(f.used)) for (const a of f.actions) listed.add(normalize(a));
    }
    return { type, actions: [...listed].sort(), dropped };
  });
}

/**
 * API operations the S3 schema lists as if they were IAM actions: each is authorized by the
 * action that puts the configuration (Amazon S3 API reference, the "Permissions" section of each
 * operation; the Service Authorization Reference has no `s3:Delete…` action for them). They then
 * follow that action's feature: a configuration the template never has is never deleted.
 */
const OPERATION_ACTIONS: Record<string, string> = {
  's3:DeleteBucketAnalyticsConfiguration': 's3:PutAnalyticsConfiguration',
  's3:DeleteBucketCors': 's3:PutBucketCORS',
  's3:DeleteBucketEncryption': 's3:PutEncryptionConfiguration',
  's3:DeleteBucketLifecycle': 's3:PutLifecycleConfiguration',
  's3:DeleteBucketMetricsConfiguration': 's3:PutMetricsConfiguration',
  's3:DeleteBucketReplication': 's3:PutReplicationConfiguration',
};

/** `S3:GetBucketWebsite` (as one schema writes it) → `s3:GetBucketWebsite`: IAM service prefixes are lower case */
function normalize(action: string): string {
  const [service = '', name = ''] = action.split(':');
  const written = `${service.toLowerCase()}:${name}`;
  return OPERATION_ACTIONS[written] ?? written;
}

/** The services the template's roles trust, as `iam:PassedToService` names them (`states.<region>.amazonaws.com` is `states.amazonaws.com`). */
export function trustedServices(template: Template): string[] {
  const services = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const statement of resource.Properties?.AssumeRolePolicyDocument?.Statement ?? []) {
      for (const principal of [statement.Principal?.Service ?? []].flat()) {
        const name = typeof principal === 'string' ? principal : principal['Fn::Sub'];
        const m = /^([a-z0-9-]+)\.(?:\$\{AWS::Region\}\.|[a-z0-9-]+\.)?amazonaws\.com$/.exec(name ?? '');
        if (!m) throw new Error(`a role trusts ${JSON.stringify(principal)}: not a service principal this generator reads`);
        services.add(`${m[1]}.amazonaws.com`);
      }
    }
  }
  return [...services].sort();
}

/** Actions on a resource other than their service's usual one here, by the key of serviceResources() they take. */
const BY_RESOURCE: Record<string, string> = { 'events:DescribeEventBus': 'events-bus' };

export function deployerPolicy(template: Template, scope: PolicyScope = ANY_SCOPE): PolicyDocument {
  const resources = serviceResources(scope);
  const byService = new Map<string, Set<string>>();
  const wildcard = new Set(FRAMEWORK_WILDCARD_ACTIONS);
  const add = (action: string) => {
    if (action === 'iam:PassRole') return;
    if (WILDCARD_ONLY.has(action)) return void wildcard.add(action);
    const service = BY_RESOURCE[action] ?? action.split(':')[0]!;
    if (!resources[service]) throw new Error(`${action}: no resource of the service for ${service} — scope it in serviceResources() or list it in WILDCARD_ONLY`);
    byService.set(service, (byService.get(service) ?? new Set()).add(action));
  };
  for (const action of [...STACK_ACTIONS, ...DEPLOYMENT_BUCKET_ACTIONS]) add(action);
  const types = coverage(template);
  for (const { actions } of types) actions.forEach(add);

  const statements: PolicyStatement[] = [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, actions]) => ({ Sid: sid(service), Effect: 'Allow', Action: [...actions].sort(), Resource: resources[service]! }));
  if (types.some((t) => t.actions.includes('iam:PassRole'))) {
    statements.push({
      Sid: 'PassStackRoles',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: resources.iam!,
      Condition: { StringEquals: { 'iam:PassedToService': trustedServices(template) } },
    });
  }
  statements.push({ Sid: 'NoResourceLevelPermissions', Effect: 'Allow', Action: [...wildcard].sort(), Resource: '*' });
  return { Version: '2012-10-17', Statement: statements };
}

function sid(service: string): string {
  return service.split('-').map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`).join('');
}

/** The size IAM counts against MANAGED_POLICY_LIMIT: the JSON without white space. */
export function policySize(policy: PolicyDocument): number {
  return JSON.stringify(policy).length;
}

/**
 * The policy as managed policies within IAM's size limit, statements kept in order: as many
 * as fit in the first, the rest in the next (a role takes 10 managed policies by default).
 */
export function splitPolicy(policy: PolicyDocument, limit = MANAGED_POLICY_LIMIT): PolicyDocument[] {
  const parts: PolicyDocument[] = [];
  for (const statement of policy.Statement) {
    const last = parts.at(-1);
    if (last && policySize({ ...last, Statement: [...last.Statement, statement] }) <= limit) {
      last.Statement.push(statement);
      continue;
    }
    const part: PolicyDocument = { Version: policy.Version, Statement: [statement] };
    if (policySize(part) > limit) throw new Error(`statement ${statement.Sid} alone is over IAM's ${limit} characters`);
    parts.push(part);
  }
  return parts;
}

export const POLICY_DIR = join(import.meta.dirname, '..', '..', 'deploy');

/** deployer-policy-1.json, deployer-policy-2.json, … */
export function policyFileName(index: number): string {
  return `deployer-policy-${index + 1}.json`;
}

export function renderPolicy(policy: PolicyDocument): string {
  return `${JSON.stringify(policy, null, 2)}\n`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string', default: '*' },
      region: { type: 'string', default: '*' },
      account: { type: 'string', default: '*' },
      partition: { type: 'string', default: 'aws' },
      out: { type: 'string' },
      // a deploy's own params (`--param vpc=…`) can add resource properties, and with them permissions
      param: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const scope = { partition: values.partition!, region: values.region!, account: values.account!, stage: values.stage! };
  const params = Object.fromEntries(values.param.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const generic = Object.entries(scope).every(([k, v]) => v === ANY_SCOPE[k as keyof PolicyScope]) && values.param.length === 0;
  const out = values.out ?? (generic ? POLICY_DIR : undefined);
  // deploy/ holds the policy for any stage, region and account, the one the test compares
  if (!out || (!generic && resolve(out) === POLICY_DIR)) throw new Error('a policy for one stage, region, account or set of params goes to --out <directory>, not deploy/');
  // the packaged template (offline): its resource types do not depend on the stage
  const { packageService, packageWithParams } = await import('../../test/package/packaged-service.js');
  let template: Template;
  if (values.param.length === 0) template = (await packageService()).template;
  else {
    const packaged = await packageWithParams(params);
    if (!packaged.ok) throw new Error(`serverless package refused the params:\n${packaged.output}`);
    template = packaged.template;
  }
  const policy = deployerPolicy(template, scope);
  const parts = splitPolicy(policy);
  mkdirSync(out, { recursive: true });
  parts.forEach((part, i) => {
    const file = join(out, policyFileName(i));
    writeFileSync(file, renderPolicy(part));
    process.stderr.write(`${file}: ${part.Statement.reduce((n, s) => n + s.Action.length, 0)} actions, ${policySize(part)} of ${MANAGED_POLICY_LIMIT} characters\n`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    process.stderr.write(`deployer-policy: ${error.message}\n`);
    process.exitCode = 1;
  });
}
