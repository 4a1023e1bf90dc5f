import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import { CloudWatchServiceException } from '@aws-sdk/client-cloudwatch';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { AccessDeniedException as EksAccessDenied, InvalidRequestException as EksInvalidRequest } from '@aws-sdk/client-eks';
import { AccessDeniedException as EventBridgeAccessDenied } from '@aws-sdk/client-eventbridge';
import { IAMServiceException } from '@aws-sdk/client-iam';
import { LambdaServiceException } from '@aws-sdk/client-lambda';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { AccessDeniedException as SsmAccessDenied } from '@aws-sdk/client-ssm';
import { STSServiceException } from '@aws-sdk/client-sts';
import type { AuthRequest } from './requests.js';

/**
 * A denied call, as each service answers it (HTTP 403):
 * - EC2: `UnauthorizedOperation`, "You are not authorized to perform this operation. User: …
 *   is not authorized to perform: <action> on resource: <arn> because no identity-based policy
 *   allows the <action> action. Encoded authorization failure message: …" — the encoded part
 *   is what `sts:DecodeAuthorizationMessage` decodes (here: base64 of the decision, readable);
 * - Auto Scaling, IAM and CloudWatch: `AccessDenied`; Auto Scaling's denial of a permission it checks on
 *   the caller's behalf when launching from a template reads "You are not authorized to use
 *   launch template: <id>";
 * - EKS, SSM, DynamoDB, Step Functions, EventBridge, Lambda: `AccessDeniedException`.
 * The SDK throws the service's modeled class where it has one, else its base exception with
 * the code as `name` — as it does for a real 403.
 */
export interface Denial {
  /** the caller: `arn:aws:sts::<account>:assumed-role/<role>/<function>` */
  principal: string;
  request: AuthRequest;
  explicit: boolean;
}

export function denialMessage(d: Denial): string {
  const why = d.explicit ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${d.request.action} action`;
  return `User: ${d.principal} is not authorized to perform: ${d.request.action} on resource: ${d.request.resource} ${why}`;
}

export function denialError(service: string, d: Denial, requestId: string): Error {
  const $metadata = { httpStatusCode: 403, requestId, attempts: 1, totalRetryDelay: 0 };
  const base = { $fault: 'client' as const, $metadata };
  switch (service) {
    case 'ec2': {
      const encoded = Buffer.from(JSON.stringify({ allowed: false, explicitDeny: d.explicit, matchedStatements: { items: [] }, context: { principal: { arn: d.principal }, action: d.request.action, resource: d.request.resource, conditions: d.request.context } })).toString('base64');
      return new EC2ServiceException({ name: 'UnauthorizedOperation', message: `You are not authorized to perform this operation. ${denialMessage(d)}. Encoded authorization failure message: ${encoded}`, ...base });
    }
    case 'autoscaling': {
      const message = d.request.dependent?.launchTemplate ? `You are not authorized to use launch template: ${d.request.dependent.launchTemplate}` : denialMessage(d);
      return new AutoScalingServiceException({ name: 'AccessDenied', message, ...base });
    }
    case 'cloudwatch':
      return new CloudWatchServiceException({ name: 'AccessDenied', message: denialMessage(d), ...base });
    case 'iam':
      return new IAMServiceException({ name: 'AccessDenied', message: denialMessage(d), ...base });
    case 'sts':
      return new STSServiceException({ name: 'AccessDenied', message: denialMessage(d), ...base });
    case 'eks':
      if (d.request.dependent) return new EksInvalidRequest({ message: 'You are not authorized to describe the launch template version.', $metadata });
      return new EksAccessDenied({ message: denialMessage(d), $metadata });
    case 'ssm':
      return new SsmAccessDenied({ message: denialMessage(d), Message: denialMessage(d), $metadata });
    case 'events':
      return new EventBridgeAccessDenied({ message: denialMessage(d), $metadata });
    case 'dynamodb':
      return new DynamoDBServiceException({ name: 'AccessDeniedException', message: denialMessage(d), ...base });
    case 'states':
      return new SFNServiceException({ name: 'AccessDeniedException', message: denialMessage(d), ...base });
    case 'lambda':
      return new LambdaServiceException({ name: 'AccessDeniedException', message: denialMessage(d), ...base });
    default:
      throw new Error(`no denial shape for ${service}`);
  }
}
