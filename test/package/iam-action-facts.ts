/**
 * What AWS says about every IAM action this service's roles grant: its access level, the
 * resource types it can be scoped to, and the tag condition keys those resource types (and
 * the action itself) support. Curated by hand; the least-privilege audit
 * (least-privilege.slow.test.ts) fails for an action granted in the packaged template that is not
 * here, so the table cannot silently fall behind serverless.yml.
 *
 * Source: the Service Authorization Reference, "Actions, resources, and condition keys for …"
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/), one page a service:
 *   autoscaling  list_amazonec2autoscaling.html
 *   cloudwatch   list_amazoncloudwatch.html
 *   dynamodb     list_amazondynamodb.html
 *   ec2          list_amazonec2.html
 *   eks          list_amazonelastickubernetesservice.html
 *   events       list_amazoneventbridge.html
 *   iam          list_awsidentityandaccessmanagementiam.html
 *   lambda       list_awslambda.html
 *   logs         list_amazoncloudwatchlogs.html
 *   sqs          list_amazonsqs.html
 *   ssm          list_awssystemsmanager.html
 *   states       list_awsstepfunctions.html
 * A "Resource types" cell left empty means the action supports no resource-level permissions:
 * only `Resource: '*'` ever matches it. Facts the audit's verdicts hinge on were checked
 * against those pages (and the user guides they link) when the table was written:
 * - EC2 `Describe*` and Auto Scaling `Describe*` take no resource types (Auto Scaling user
 *   guide, "Launch template support": "Describe actions do not support resource-level
 *   permissions");
 * - `autoscaling:*` writes on an autoScalingGroup take `autoscaling:ResourceTag/${TagKey}` and
 *   `aws:ResourceTag/${TagKey}` (TerminateInstanceInAutoScalingGroup among them);
 * - `ec2:CreateTags` on an instance takes `aws:RequestTag/${TagKey}`, `aws:TagKeys` and the
 *   instance's `ec2:ResourceTag/${TagKey}` / `aws:ResourceTag/${TagKey}`;
 * - `ec2:CreateLaunchTemplateVersion` is scoped to the launch template only (EC2 user guide,
 *   "IAM permissions required for Amazon EC2 launch templates": "You can't use resource-level
 *   permissions to restrict the resources that users can specify in a launch template");
 * - `ssm:GetParameter(s)` scope to parameter ARNs (Systems Manager user guide, "Restricting
 *   access to Parameter Store parameters using IAM policies");
 * - `states:SendTaskSuccess` / `SendTaskFailure` take no resource types (the task token is the
 *   capability), `states:StartExecution` takes a stateMachine, `states:DescribeExecution` (Read)
 *   an execution (`…:execution:${StateMachineName}:${ExecutionId}`, which supports no tag
 *   condition key);
 * - EKS `UpdateNodegroupVersion` / `UpdateNodegroupConfig` require a nodegroup, whose ARN
 *   holds the cluster name and which takes `aws:ResourceTag/${TagKey}`.
 * - `ec2:CreateNetworkInterface` requires a network-interface, a subnet and a security-group;
 *   `ec2:DeleteNetworkInterface`, `AssignPrivateIpAddresses` and `UnassignPrivateIpAddresses` a
 *   network-interface; `ec2:DescribeNetworkInterfaces` takes none (the Lambda developer guide,
 *   "Giving Lambda functions access to resources in an Amazon VPC", adds that it "only works if
 *   it's allowed on all resources").
 */

export type AccessLevel = 'List' | 'Read' | 'Write' | 'Tagging' | 'Permissions management';

export interface ResourceTypeFacts {
  /** ARN formats as the reference writes them (`${Partition}`, `${Region}`, `${Account}`, names) */
  arns: readonly string[];
  /** the tag condition keys the resource type supports */
  tagConditionKeys: readonly string[];
}

export interface ActionFacts {
  access: AccessLevel;
  /** keys of RESOURCE_TYPES the action can be scoped to; empty: no resource-level permissions */
  resourceTypes: readonly string[];
  /** tag condition keys of the request itself (tags being written) */
  requestTagConditionKeys?: readonly string[];
  /** the action returns secret material (SecureString values): never on `*` or a wildcard name */
  readsSecrets?: true;
}

const EC2_TAGS = ['aws:ResourceTag/${TagKey}', 'ec2:ResourceTag/${TagKey}'];
const AWS_TAGS = ['aws:ResourceTag/${TagKey}'];
const REQUEST_TAGS = ['aws:RequestTag/${TagKey}', 'aws:TagKeys'];

export const RESOURCE_TYPES: Record<string, ResourceTypeFacts> = {
  'autoscaling:autoScalingGroup': {
    arns: ['arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName}'],
    tagConditionKeys: ['autoscaling:ResourceTag/${TagKey}', 'aws:ResourceTag/${TagKey}'],
  },
  'dynamodb:table': { arns: ['arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}'], tagConditionKeys: AWS_TAGS },
  'ec2:image': { arns: ['arn:${Partition}:ec2:${Region}::image/${ImageId}'], tagConditionKeys: EC2_TAGS },
  'ec2:instance': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}'], tagConditionKeys: EC2_TAGS },
  'ec2:launch-template': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:launch-template/${LaunchTemplateId}'], tagConditionKeys: EC2_TAGS },
  'ec2:network-interface': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:network-interface/${NetworkInterfaceId}'], tagConditionKeys: EC2_TAGS },
  'ec2:security-group': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:security-group/${SecurityGroupId}'], tagConditionKeys: EC2_TAGS },
  'ec2:subnet': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId}'], tagConditionKeys: EC2_TAGS },
  'ec2:key-pair': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:key-pair/${KeyPairName}'], tagConditionKeys: EC2_TAGS },
  'ec2:volume': { arns: ['arn:${Partition}:ec2:${Region}:${Account}:volume/${VolumeId}'], tagConditionKeys: EC2_TAGS },
  'eks:access-entry': {
    arns: ['arn:${Partition}:eks:${Region}:${Account}:access-entry/${ClusterName}/${IamIdentityType}/${IamIdentityAccountID}/${IamIdentityName}/${UUID}'],
    tagConditionKeys: AWS_TAGS,
  },
  'eks:addon': { arns: ['arn:${Partition}:eks:${Region}:${Account}:addon/${ClusterName}/${AddonName}/${UUID}'], tagConditionKeys: AWS_TAGS },
  'eks:cluster': { arns: ['arn:${Partition}:eks:${Region}:${Account}:cluster/${ClusterName}'], tagConditionKeys: AWS_TAGS },
  'eks:nodegroup': { arns: ['arn:${Partition}:eks:${Region}:${Account}:nodegroup/${ClusterName}/${NodegroupName}/${UUID}'], tagConditionKeys: AWS_TAGS },
  'cloudwatch:alarm': { arns: ['arn:${Partition}:cloudwatch:${Region}:${Account}:alarm:${AlarmName}'], tagConditionKeys: AWS_TAGS },
  'events:event-bus': { arns: ['arn:${Partition}:events:${Region}:${Account}:event-bus/${EventBusName}'], tagConditionKeys: AWS_TAGS },
  'iam:instance-profile': { arns: ['arn:${Partition}:iam::${Account}:instance-profile/${InstanceProfileNameWithPath}'], tagConditionKeys: [] },
  'iam:role': { arns: ['arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}'], tagConditionKeys: ['aws:ResourceTag/${TagKey}', 'iam:ResourceTag/${TagKey}'] },
  'lambda:function': { arns: ['arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}'], tagConditionKeys: AWS_TAGS },
  'logs:log-group': { arns: ['arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}'], tagConditionKeys: AWS_TAGS },
  'logs:log-stream': { arns: ['arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}'], tagConditionKeys: [] },
  'sqs:queue': { arns: ['arn:${Partition}:sqs:${Region}:${Account}:${QueueName}'], tagConditionKeys: AWS_TAGS },
  'ssm:parameter': {
    // the second form: AWS's public parameters (/aws/service/…), owned by no account
    arns: ['arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}', 'arn:${Partition}:ssm:${Region}::parameter/aws/service/${PublicParameterPath}'],
    tagConditionKeys: AWS_TAGS,
  },
  'states:execution': { arns: ['arn:${Partition}:states:${Region}:${Account}:execution:${StateMachineName}:${ExecutionId}'], tagConditionKeys: [] },
  'states:stateMachine': { arns: ['arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}'], tagConditionKeys: AWS_TAGS },
};

const group = ['autoscaling:autoScalingGroup'];

export const IAM_ACTION_FACTS: Record<string, ActionFacts> = {
  'autoscaling:CancelInstanceRefresh': { access: 'Write', resourceTypes: group },
  'autoscaling:CompleteLifecycleAction': { access: 'Write', resourceTypes: group },
  'autoscaling:CreateOrUpdateTags': { access: 'Tagging', resourceTypes: group, requestTagConditionKeys: REQUEST_TAGS },
  'autoscaling:DescribeAutoScalingGroups': { access: 'List', resourceTypes: [] },
  'autoscaling:DescribeInstanceRefreshes': { access: 'List', resourceTypes: [] },
  'autoscaling:DescribeLifecycleHooks': { access: 'List', resourceTypes: [] },
  'autoscaling:DescribeScalingActivities': { access: 'List', resourceTypes: [] },
  'autoscaling:PutLifecycleHook': { access: 'Write', resourceTypes: group },
  'autoscaling:RecordLifecycleActionHeartbeat': { access: 'Write', resourceTypes: group },
  'autoscaling:ResumeProcesses': { access: 'Write', resourceTypes: group },
  'autoscaling:RollbackInstanceRefresh': { access: 'Write', resourceTypes: group },
  'autoscaling:StartInstanceRefresh': { access: 'Write', resourceTypes: group },
  'autoscaling:SuspendProcesses': { access: 'Write', resourceTypes: group },
  'autoscaling:TerminateInstanceInAutoScalingGroup': { access: 'Write', resourceTypes: group },
  'autoscaling:UpdateAutoScalingGroup': { access: 'Write', resourceTypes: group },

  'dynamodb:DeleteItem': { access: 'Write', resourceTypes: ['dynamodb:table'] },
  'dynamodb:GetItem': { access: 'Read', resourceTypes: ['dynamodb:table'] },
  'dynamodb:PutItem': { access: 'Write', resourceTypes: ['dynamodb:table'] },
  'dynamodb:Query': { access: 'Read', resourceTypes: ['dynamodb:table'] },
  'dynamodb:UpdateItem': { access: 'Write', resourceTypes: ['dynamodb:table'] },

  // the network-interface actions Lambda takes with the role of a function in a VPC (scripts/deploy/vpc.cjs)
  'ec2:AssignPrivateIpAddresses': { access: 'Write', resourceTypes: ['ec2:network-interface'] },
  'ec2:CreateLaunchTemplateVersion': { access: 'Write', resourceTypes: ['ec2:launch-template'] },
  'ec2:CreateNetworkInterface': { access: 'Write', resourceTypes: ['ec2:network-interface', 'ec2:security-group', 'ec2:subnet'], requestTagConditionKeys: REQUEST_TAGS },
  'ec2:CreateTags': { access: 'Tagging', resourceTypes: ['ec2:instance', 'ec2:image', 'ec2:launch-template', 'ec2:network-interface', 'ec2:security-group', 'ec2:subnet', 'ec2:volume'], requestTagConditionKeys: REQUEST_TAGS },
  'ec2:DeleteLaunchTemplateVersions': { access: 'Write', resourceTypes: ['ec2:launch-template'] },
  'ec2:DeleteNetworkInterface': { access: 'Write', resourceTypes: ['ec2:network-interface'] },
  'ec2:DescribeImages': { access: 'List', resourceTypes: [] },
  'ec2:DescribeInstanceTypes': { access: 'List', resourceTypes: [] },
  'ec2:DescribeInstances': { access: 'List', resourceTypes: [] },
  'ec2:DescribeLaunchTemplateVersions': { access: 'List', resourceTypes: [] },
  'ec2:DescribeLaunchTemplates': { access: 'List', resourceTypes: [] },
  'ec2:DescribeNetworkInterfaces': { access: 'List', resourceTypes: [] },
  'ec2:DescribeSubnets': { access: 'List', resourceTypes: [] },
  'ec2:ModifyLaunchTemplate': { access: 'Write', resourceTypes: ['ec2:launch-template'] },
  // image, instance, network-interface, security-group, subnet and volume are required: a grant
  // on launch templates alone lets Auto Scaling check a template, and launches nothing
  'ec2:RunInstances': {
    access: 'Write',
    resourceTypes: ['ec2:image', 'ec2:instance', 'ec2:network-interface', 'ec2:security-group', 'ec2:subnet', 'ec2:volume', 'ec2:launch-template', 'ec2:key-pair'],
    requestTagConditionKeys: REQUEST_TAGS,
  },
  'ec2:UnassignPrivateIpAddresses': { access: 'Write', resourceTypes: ['ec2:network-interface'] },

  'eks:DescribeAccessEntry': { access: 'Read', resourceTypes: ['eks:access-entry'] },
  'eks:DescribeCluster': { access: 'Read', resourceTypes: ['eks:cluster'] },
  'eks:DescribeNodegroup': { access: 'Read', resourceTypes: ['eks:nodegroup'] },
  'eks:DescribeUpdate': { access: 'Read', resourceTypes: ['eks:cluster', 'eks:nodegroup', 'eks:addon'] },
  'eks:ListClusters': { access: 'List', resourceTypes: [] },
  'eks:ListNodegroups': { access: 'List', resourceTypes: ['eks:cluster'] },
  'eks:ListUpdates': { access: 'List', resourceTypes: ['eks:cluster', 'eks:nodegroup', 'eks:addon'] },
  'eks:UpdateNodegroupConfig': { access: 'Write', resourceTypes: ['eks:nodegroup'] },
  'eks:UpdateNodegroupVersion': { access: 'Write', resourceTypes: ['eks:nodegroup'] },

  // a composite alarm is described only to a caller scoped to * (CloudWatch API reference, DescribeAlarms)
  'cloudwatch:DescribeAlarms': { access: 'List', resourceTypes: ['cloudwatch:alarm'] },

  'events:PutEvents': { access: 'Write', resourceTypes: ['events:event-bus'] },

  'iam:GetInstanceProfile': { access: 'Read', resourceTypes: ['iam:instance-profile'] },
  'iam:ListAttachedRolePolicies': { access: 'List', resourceTypes: ['iam:role'] },
  'iam:PassRole': { access: 'Write', resourceTypes: ['iam:role'] },

  'lambda:InvokeFunction': { access: 'Write', resourceTypes: ['lambda:function'] },

  // the state machines' log delivery (serverless-step-functions grants these with a loggingConfig); none takes a
  // resource type, so only Resource '*' applies (Step Functions user guide, "Logging using CloudWatch Logs")
  'logs:CreateLogDelivery': { access: 'Write', resourceTypes: [] },
  'logs:DeleteLogDelivery': { access: 'Write', resourceTypes: [] },
  'logs:DescribeLogGroups': { access: 'List', resourceTypes: [] },
  'logs:DescribeResourcePolicies': { access: 'List', resourceTypes: [] },
  'logs:GetLogDelivery': { access: 'Read', resourceTypes: [] },
  'logs:ListLogDeliveries': { access: 'List', resourceTypes: [] },
  'logs:PutResourcePolicy': { access: 'Permissions management', resourceTypes: [] },
  'logs:UpdateLogDelivery': { access: 'Write', resourceTypes: [] },
  'logs:CreateLogStream': { access: 'Write', resourceTypes: ['logs:log-group'] },
  'logs:PutLogEvents': { access: 'Write', resourceTypes: ['logs:log-stream'] },

  'sqs:SendMessage': { access: 'Write', resourceTypes: ['sqs:queue'] },

  'ssm:GetParameter': { access: 'Read', resourceTypes: ['ssm:parameter'], readsSecrets: true },
  'ssm:GetParameters': { access: 'Read', resourceTypes: ['ssm:parameter'], readsSecrets: true },

  'states:DescribeExecution': { access: 'Read', resourceTypes: ['states:execution'] },
  'states:SendTaskFailure': { access: 'Write', resourceTypes: [] },
  'states:SendTaskSuccess': { access: 'Write', resourceTypes: [] },

  // X-Ray (the `tracing` param): list_awsx-ray.html — segments and sampling take no resource type
  'xray:GetSamplingRules': { access: 'Read', resourceTypes: [] },
  'xray:GetSamplingTargets': { access: 'Read', resourceTypes: [] },
  'xray:PutTelemetryRecords': { access: 'Write', resourceTypes: [] },
  'xray:PutTraceSegments': { access: 'Write', resourceTypes: [] },
  'states:StartExecution': { access: 'Write', resourceTypes: ['states:stateMachine'] },
};

export function isMutating(facts: ActionFacts): boolean {
  return facts.access === 'Write' || facts.access === 'Tagging' || facts.access === 'Permissions management';
}
