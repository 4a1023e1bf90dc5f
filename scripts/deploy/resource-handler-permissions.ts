/**
 * The IAM permissions CloudFormation's resource handlers use, per resource type, as each type's
 * resource provider schema declares them (`handlers.{create,read,update,delete}.permissions`):
 * the registry schemas AWS publishes (https://schema.cloudformation.us-east-1.amazonaws.com/CloudformationSchema.zip,
 * "Resource type schema" in the CloudFormation CLI user guide), read from the copy in
 * pulumi/pulumi-aws-native at 43eed3b017fff3b41e0ceeae37ee943afce53275 (2026-08-07),
 * `aws-cloudformation-schema/<schema>`. `provider` is the schema's own `sourceUrl` where it names
 * one (the open-source resource provider); the others are AWS's closed providers, known only
 * by their schema. Copied verbatim — the lists include what a feature this service does not
 * use needs (KMS keys, VPCs, imports…); scripts/deploy/deployer-policy.ts drops those.
 * A type the packaged template gains must be added here: the deployer policy test fails until it is.
 */
export interface HandlerPermissions {
  schema: string;
  provider?: string;
  handlers: Record<'create' | 'read' | 'update' | 'delete', readonly string[]>;
}

export const HANDLER_PERMISSIONS: Record<string, HandlerPermissions> = {
  'AWS::CloudWatch::Alarm': {
    schema: 'aws-cloudwatch-alarm.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-cloudwatch',
    handlers: {
      create: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource'],
      read: ['cloudwatch:DescribeAlarms', 'cloudwatch:ListTagsForResource'],
      update: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource', 'cloudwatch:UntagResource'],
      delete: ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms'],
    },
  },
  'AWS::CloudWatch::Dashboard': {
    schema: 'aws-cloudwatch-dashboard.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-cloudwatch',
    handlers: {
      create: ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:TagResource'],
      read: ['cloudwatch:GetDashboard', 'cloudwatch:ListTagsForResource'],
      update: ['cloudwatch:PutDashboard', 'cloudwatch:TagResource', 'cloudwatch:UntagResource', 'cloudwatch:ListTagsForResource'],
      delete: ['cloudwatch:DeleteDashboards', 'cloudwatch:GetDashboard'],
    },
  },
  'AWS::DynamoDB::Table': {
    schema: 'aws-dynamodb-table.json',
    handlers: {
      create: ['dynamodb:CreateTable', 'dynamodb:DescribeImport', 'dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive', 'dynamodb:UpdateTimeToLive', 'dynamodb:UpdateContributorInsights', 'dynamodb:UpdateContinuousBackups', 'dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeContributorInsights', 'dynamodb:EnableKinesisStreamingDestination', 'dynamodb:DisableKinesisStreamingDestination', 'dynamodb:DescribeKinesisStreamingDestination', 'dynamodb:ImportTable', 'dynamodb:ListTagsOfResource', 'dynamodb:TagResource', 'dynamodb:UpdateTable', 'dynamodb:GetResourcePolicy', 'dynamodb:PutResourcePolicy', 'dynamodb:CreateTableReplica', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:AssociateTableReplica', 'kinesis:DescribeStream', 'kinesis:PutRecords', 'iam:CreateServiceLinkedRole', 'kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:ListAliases', 'kms:Encrypt', 'kms:RevokeGrant', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams', 'logs:PutLogEvents', 'logs:PutRetentionPolicy', 's3:GetObject', 's3:GetObjectMetadata', 's3:ListBucket'],
      read: ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeContributorInsights', 'dynamodb:DescribeKinesisStreamingDestination', 'dynamodb:ListTagsOfResource', 'dynamodb:GetResourcePolicy', 'dynamodb:DescribeTimeToLive'],
      update: ['dynamodb:UpdateTable', 'dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive', 'dynamodb:UpdateTimeToLive', 'dynamodb:UpdateContinuousBackups', 'dynamodb:UpdateContributorInsights', 'dynamodb:UpdateKinesisStreamingDestination', 'dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeKinesisStreamingDestination', 'dynamodb:ListTagsOfResource', 'dynamodb:TagResource', 'dynamodb:UntagResource', 'dynamodb:DescribeContributorInsights', 'dynamodb:EnableKinesisStreamingDestination', 'dynamodb:DisableKinesisStreamingDestination', 'dynamodb:GetResourcePolicy', 'dynamodb:PutResourcePolicy', 'dynamodb:DeleteResourcePolicy', 'dynamodb:CreateTable', 'dynamodb:CreateTableReplica', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:AssociateTableReplica', 'kinesis:DescribeStream', 'kinesis:PutRecords', 'iam:CreateServiceLinkedRole', 'kms:CreateGrant', 'kms:DescribeKey', 'kms:ListAliases', 'kms:RevokeGrant'],
      delete: ['dynamodb:DeleteTable', 'dynamodb:DescribeTable'],
    },
  },
  'AWS::Events::EventBusPolicy': {
    schema: 'aws-events-eventbuspolicy.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-events-eventbuspolicy',
    handlers: {
      create: ['events:DescribeEventBus', 'events:PutPermission'],
      read: ['events:DescribeEventBus'],
      update: ['events:DescribeEventBus', 'events:PutPermission'],
      delete: ['events:DescribeEventBus', 'events:RemovePermission'],
    },
  },
  'AWS::Events::Rule': {
    schema: 'aws-events-rule.json',
    handlers: {
      create: ['iam:PassRole', 'events:DescribeRule', 'events:PutRule', 'events:PutTargets', 'events:TagResource'],
      read: ['iam:PassRole', 'events:DescribeRule', 'events:ListTargetsByRule', 'events:ListTagsForResource'],
      update: ['iam:PassRole', 'events:DescribeRule', 'events:PutRule', 'events:RemoveTargets', 'events:PutTargets', 'events:UntagResource', 'events:TagResource'],
      delete: ['iam:PassRole', 'events:DescribeRule', 'events:DeleteRule', 'events:RemoveTargets', 'events:ListTargetsByRule'],
    },
  },
  'AWS::IAM::Role': {
    schema: 'aws-iam-role.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-iam',
    handlers: {
      create: ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:GetRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:GetRole'],
      read: ['iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:GetRolePolicy'],
      update: ['iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:UpdateAssumeRolePolicy', 'iam:DetachRolePolicy', 'iam:AttachRolePolicy', 'iam:DeleteRolePermissionsBoundary', 'iam:PutRolePermissionsBoundary', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy', 'iam:TagRole', 'iam:UntagRole'],
      delete: ['iam:DeleteRole', 'iam:DetachRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:TagRole', 'iam:UntagRole'],
    },
  },
  'AWS::Lambda::EventInvokeConfig': {
    schema: 'aws-lambda-eventinvokeconfig.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-rpdk',
    handlers: {
      create: ['lambda:PutFunctionEventInvokeConfig'],
      read: ['lambda:GetFunctionEventInvokeConfig'],
      update: ['lambda:UpdateFunctionEventInvokeConfig'],
      delete: ['lambda:DeleteFunctionEventInvokeConfig'],
    },
  },
  'AWS::Lambda::Function': {
    schema: 'aws-lambda-function.json',
    handlers: {
      create: ['lambda:CreateFunction', 'lambda:GetFunction', 'lambda:PutFunctionConcurrency', 'iam:PassRole', 's3:GetObject', 's3:GetObjectVersion', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'elasticfilesystem:DescribeMountTargets', 's3files:ListMountTargets', 'kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'lambda:GetCodeSigningConfig', 'lambda:GetFunctionCodeSigningConfig', 'lambda:GetLayerVersion', 'lambda:GetRuntimeManagementConfig', 'lambda:PutRuntimeManagementConfig', 'lambda:TagResource', 'lambda:PutFunctionRecursionConfig', 'lambda:GetFunctionRecursionConfig', 'lambda:PutFunctionScalingConfig', 'lambda:PassCapacityProvider'],
      read: ['lambda:GetFunction', 'kms:Decrypt', 'lambda:GetFunctionCodeSigningConfig', 'lambda:GetFunctionRecursionConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:GetFunctionScalingConfig'],
      update: ['lambda:DeleteFunctionConcurrency', 'lambda:GetFunction', 'lambda:PutFunctionConcurrency', 'lambda:TagResource', 'lambda:UntagResource', 'lambda:UpdateFunctionConfiguration', 'lambda:UpdateFunctionCode', 'iam:PassRole', 's3:GetObject', 's3:GetObjectVersion', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'elasticfilesystem:DescribeMountTargets', 's3files:ListMountTargets', 'kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'lambda:GetRuntimeManagementConfig', 'lambda:PutRuntimeManagementConfig', 'lambda:PutFunctionCodeSigningConfig', 'lambda:DeleteFunctionCodeSigningConfig', 'lambda:GetCodeSigningConfig', 'lambda:GetFunctionCodeSigningConfig', 'lambda:PutFunctionRecursionConfig', 'lambda:GetFunctionRecursionConfig', 'lambda:PutFunctionScalingConfig', 'lambda:PublishVersion', 'lambda:PassCapacityProvider'],
      delete: ['lambda:DeleteFunction', 'lambda:GetFunction', 'ec2:DescribeNetworkInterfaces'],
    },
  },
  'AWS::Lambda::Permission': {
    schema: 'aws-lambda-permission.json',
    handlers: {
      create: ['lambda:AddPermission'],
      read: ['lambda:GetPolicy'],
      update: [],
      delete: ['lambda:RemovePermission'],
    },
  },
  'AWS::Lambda::Url': {
    schema: 'aws-lambda-url.json',
    handlers: {
      create: ['lambda:CreateFunctionUrlConfig'],
      read: ['lambda:GetFunctionUrlConfig'],
      update: ['lambda:UpdateFunctionUrlConfig'],
      delete: ['lambda:DeleteFunctionUrlConfig'],
    },
  },
  'AWS::Lambda::Version': {
    schema: 'aws-lambda-version.json',
    handlers: {
      create: ['lambda:PublishVersion', 'lambda:GetFunctionConfiguration', 'lambda:PutProvisionedConcurrencyConfig', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:PutRuntimeManagementConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:PutFunctionScalingConfig', 'lambda:ListVersionsByFunction'],
      read: ['lambda:GetFunctionConfiguration', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:GetFunctionScalingConfig'],
      update: ['lambda:GetFunctionConfiguration', 'lambda:PutFunctionScalingConfig'],
      delete: ['lambda:GetFunctionConfiguration', 'lambda:DeleteFunction'],
    },
  },
  'AWS::Logs::LogGroup': {
    schema: 'aws-logs-loggroup.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-logs',
    handlers: {
      create: ['logs:DescribeLogGroups', 'logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource', 'logs:GetDataProtectionPolicy', 'logs:PutDataProtectionPolicy', 'logs:CreateLogDelivery', 's3:REST.PUT.OBJECT', 'firehose:TagDeliveryStream', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:PutIndexPolicy', 'logs:DescribeIndexPolicies', 'logs:PutBearerTokenAuthentication'],
      read: ['logs:DescribeLogGroups', 'logs:ListTagsForResource', 'logs:GetDataProtectionPolicy', 'logs:DescribeIndexPolicies', 'logs:DescribeResourcePolicies'],
      update: ['logs:DescribeLogGroups', 'logs:AssociateKmsKey', 'logs:DisassociateKmsKey', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy', 'logs:TagResource', 'logs:UntagResource', 'logs:ListTagsForResource', 'logs:GetDataProtectionPolicy', 'logs:PutDataProtectionPolicy', 'logs:CreateLogDelivery', 's3:REST.PUT.OBJECT', 'firehose:TagDeliveryStream', 'logs:PutIndexPolicy', 'logs:DeleteIndexPolicy', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DeleteResourcePolicy', 'logs:PutLogGroupDeletionProtection', 'logs:PutBearerTokenAuthentication'],
      delete: ['logs:DescribeLogGroups', 'logs:DeleteLogGroup', 'logs:DeleteDataProtectionPolicy'],
    },
  },
  'AWS::S3::Bucket': {
    schema: 'aws-s3-bucket.json',
    handlers: {
      create: ['s3:CreateBucket', 's3:PutBucketTagging', 's3:TagResource', 's3:PutBucketAbac', 's3:PutAnalyticsConfiguration', 's3:PutEncryptionConfiguration', 's3:PutBucketCORS', 's3:PutInventoryConfiguration', 's3:PutLifecycleConfiguration', 's3:PutMetricsConfiguration', 's3:PutBucketNotification', 's3:PutBucketReplication', 's3:PutBucketWebsite', 's3:PutAccelerateConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutReplicationConfiguration', 's3:PutObjectAcl', 's3:PutBucketObjectLockConfiguration', 's3:GetBucketAcl', 's3:ListBucket', 'iam:PassRole', 's3:DeleteObject', 's3:PutBucketLogging', 's3:PutBucketVersioning', 's3:PutObjectLockConfiguration', 's3:PutBucketOwnershipControls', 's3:PutIntelligentTieringConfiguration', 's3:GetBucketMetadataTableConfiguration', 's3:CreateBucketMetadataTableConfiguration', 's3tables:CreateNamespace', 's3tables:CreateTable', 's3tables:CreateTableBucket', 's3tables:GetTable', 's3tables:PutTableBucketPolicy', 's3tables:PutTableEncryption', 's3tables:PutTablePolicy', 's3tables:GetTableMetadataLocation', 's3tables:UpdateTableMetadataLocation'],
      read: ['s3:GetAccelerateConfiguration', 's3:GetLifecycleConfiguration', 's3:GetBucketPublicAccessBlock', 's3:GetAnalyticsConfiguration', 's3:GetBucketCORS', 's3:GetEncryptionConfiguration', 's3:GetInventoryConfiguration', 's3:GetBucketLogging', 's3:GetMetricsConfiguration', 's3:GetBucketNotification', 's3:GetBucketVersioning', 's3:GetReplicationConfiguration', 'S3:GetBucketWebsite', 's3:GetBucketPublicAccessBlock', 's3:GetBucketObjectLockConfiguration', 's3:GetBucketTagging', 's3:ListTagsForResource', 's3:GetBucketAbac', 's3:GetBucketOwnershipControls', 's3:GetIntelligentTieringConfiguration', 's3:GetBucketMetadataTableConfiguration', 's3:ListBucket'],
      update: ['s3:PutBucketAcl', 's3:PutBucketTagging', 's3:TagResource', 's3:UntagResource', 's3:PutBucketAbac', 's3:PutAnalyticsConfiguration', 's3:PutEncryptionConfiguration', 's3:PutBucketCORS', 's3:PutInventoryConfiguration', 's3:PutLifecycleConfiguration', 's3:PutMetricsConfiguration', 's3:PutBucketNotification', 's3:PutBucketReplication', 's3:PutBucketWebsite', 's3:PutAccelerateConfiguration', 's3:GetBucketMetadataTableConfiguration', 's3:DeleteBucketMetadataTableConfiguration', 's3:CreateBucketMetadataTableConfiguration', 's3:UpdateBucketMetadataJournalTableConfiguration', 's3:UpdateBucketMetadataInventoryTableConfiguration', 's3:UpdateBucketMetadataAnnotationTableConfiguration', 's3tables:CreateNamespace', 's3tables:CreateTable', 's3tables:CreateTableBucket', 's3tables:GetTable', 's3tables:PutTableBucketPolicy', 's3tables:PutTableEncryption', 's3tables:PutTablePolicy', 's3tables:GetTableMetadataLocation', 's3tables:UpdateTableMetadataLocation', 's3:PutBucketPublicAccessBlock', 's3:PutReplicationConfiguration', 's3:PutBucketOwnershipControls', 's3:PutIntelligentTieringConfiguration', 's3:DeleteBucketWebsite', 's3:PutBucketLogging', 's3:PutBucketVersioning', 's3:PutObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration', 's3:DeleteBucketAnalyticsConfiguration', 's3:DeleteBucketCors', 's3:DeleteBucketMetricsConfiguration', 's3:DeleteBucketEncryption', 's3:DeleteBucketLifecycle', 's3:DeleteBucketReplication', 'iam:PassRole', 's3:ListBucket'],
      delete: ['s3:DeleteBucket', 's3:ListBucket'],
    },
  },
  'AWS::S3::BucketPolicy': {
    schema: 'aws-s3-bucketpolicy.json',
    handlers: {
      create: ['s3:GetBucketPolicy', 's3:PutBucketPolicy'],
      read: ['s3:GetBucketPolicy'],
      update: ['s3:GetBucketPolicy', 's3:PutBucketPolicy'],
      delete: ['s3:GetBucketPolicy', 's3:DeleteBucketPolicy'],
    },
  },
  'AWS::SNS::Topic': {
    schema: 'aws-sns-topic.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-sns',
    handlers: {
      create: ['sns:CreateTopic', 'sns:TagResource', 'sns:Subscribe', 'sns:GetTopicAttributes', 'sns:PutDataProtectionPolicy', 'iam:GetRole', 'iam:PassRole'],
      read: ['sns:GetTopicAttributes', 'sns:ListTagsForResource', 'sns:ListSubscriptionsByTopic', 'sns:GetDataProtectionPolicy'],
      update: ['sns:SetTopicAttributes', 'sns:TagResource', 'sns:UntagResource', 'sns:Subscribe', 'sns:Unsubscribe', 'sns:GetTopicAttributes', 'sns:ListTagsForResource', 'sns:ListSubscriptionsByTopic', 'sns:GetDataProtectionPolicy', 'sns:PutDataProtectionPolicy', 'iam:GetRole', 'iam:PassRole'],
      delete: ['sns:GetTopicAttributes', 'sns:DeleteTopic'],
    },
  },
  'AWS::SQS::Queue': {
    schema: 'aws-sqs-queue.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-sqs',
    handlers: {
      create: ['sqs:CreateQueue', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ListQueueTags', 'sqs:TagQueue'],
      read: ['sqs:GetQueueAttributes', 'sqs:ListQueueTags'],
      update: ['sqs:SetQueueAttributes', 'sqs:GetQueueAttributes', 'sqs:ListQueueTags', 'sqs:TagQueue', 'sqs:UntagQueue'],
      delete: ['sqs:DeleteQueue', 'sqs:GetQueueAttributes'],
    },
  },
  'AWS::Scheduler::Schedule': {
    schema: 'aws-scheduler-schedule.json',
    handlers: {
      create: ['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'iam:PassRole'],
      read: ['scheduler:GetSchedule'],
      update: ['scheduler:UpdateSchedule', 'scheduler:GetSchedule', 'iam:PassRole'],
      delete: ['scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
    },
  },
  'AWS::StepFunctions::StateMachine': {
    schema: 'aws-stepfunctions-statemachine.json',
    provider: 'https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-stepfunctions',
    handlers: {
      create: ['states:CreateStateMachine', 'states:DescribeStateMachine', 'states:TagResource', 'iam:PassRole', 's3:GetObject', 's3:GetObjectVersion', 'kms:DescribeKey', 'kms:GenerateDataKey'],
      read: ['states:DescribeStateMachine', 'states:ListTagsForResource', 'kms:Decrypt'],
      update: ['states:UpdateStateMachine', 'states:TagResource', 'states:UntagResource', 'states:ListTagsForResource', 'iam:PassRole', 'kms:DescribeKey', 'kms:GenerateDataKey', 's3:GetObject', 's3:GetObjectVersion'],
      delete: ['states:DeleteStateMachine', 'states:DescribeStateMachine'],
    },
  },
};
