/**
 * Errors in the exact shape the SDK v3 clients throw, so code under test that branches on
 * `err.name` (or `instanceof ResourceNotFoundException`) behaves as it would against AWS.
 *
 * EC2 and Auto Scaling model almost none of their error codes: the SDK throws the service's
 * base exception with `name` set to the wire error code (`InvalidInstanceID.NotFound`,
 * `ValidationError`). EKS and SSM model theirs, so we throw the modeled classes.
 */
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  AlreadyExistsFault,
  AutoScalingServiceException,
  InvalidNextToken as AutoScalingInvalidNextToken,
  LimitExceededFault,
  ResourceInUseFault,
} from '@aws-sdk/client-auto-scaling';
import {
  InvalidParameterException,
  InvalidRequestException,
  ResourceInUseException,
  ResourceNotFoundException as EksResourceNotFoundException,
  ThrottlingException as EksThrottlingException,
} from '@aws-sdk/client-eks';
import {
  InvalidNextToken,
  ParameterNotFound,
  ThrottlingException as SsmThrottlingException,
  ValidationException as SsmValidationException,
} from '@aws-sdk/client-ssm';
import { STSServiceException } from '@aws-sdk/client-sts';
import { CloudWatchServiceException } from '@aws-sdk/client-cloudwatch';

export type ServiceName = 'ec2' | 'autoscaling' | 'eks' | 'ssm' | 'sts' | 'cloudwatch';

interface Metadata {
  httpStatusCode: number;
  requestId?: string;
  attempts: number;
  totalRetryDelay: number;
}

function metadata(httpStatusCode: number): Metadata {
  return { httpStatusCode, attempts: 1, totalRetryDelay: 0 };
}

/** Raised for every command the sandbox does not model, so a gap fails loudly. */
export class SandboxNotImplementedError extends Error {
  override readonly name = 'SandboxNotImplementedError';
  constructor(readonly service: ServiceName, readonly command: string) {
    super(`${service} ${command} is not implemented in the sandbox (test/sim/aws); add a handler or a fault`);
  }
}

// ---- EC2 ----

/** An EC2 error as the SDK surfaces it: base class, `name` = the wire code. */
export function ec2Error(code: string, message: string, httpStatusCode = 400): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: metadata(httpStatusCode),
    message,
  });
}

// ---- Auto Scaling ----

/** `ValidationError` and the other unmodeled query-protocol codes. */
export function autoScalingError(code: string, message: string, httpStatusCode = 400): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name: code,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: metadata(httpStatusCode),
    message,
  });
}

export function autoScalingValidationError(message: string): AutoScalingServiceException {
  return autoScalingError('ValidationError', message);
}

export function autoScalingAlreadyExists(message: string): AlreadyExistsFault {
  return new AlreadyExistsFault({ message, $metadata: metadata(400) });
}

export function autoScalingResourceInUse(message: string): ResourceInUseFault {
  return new ResourceInUseFault({ message, $metadata: metadata(400) });
}

export function autoScalingInvalidNextToken(): AutoScalingInvalidNextToken {
  return new AutoScalingInvalidNextToken({ message: 'The token provided is not valid.', $metadata: metadata(400) });
}

export function autoScalingLimitExceeded(message: string): LimitExceededFault {
  return new LimitExceededFault({ message, $metadata: metadata(400) });
}

// ---- EKS ----

export function eksNotFound(message: string, names: { clusterName?: string; nodegroupName?: string } = {}) {
  return new EksResourceNotFoundException({ message, $metadata: metadata(404), ...names });
}

export function eksInUse(message: string, names: { clusterName?: string; nodegroupName?: string } = {}) {
  return new ResourceInUseException({ message, $metadata: metadata(409), ...names });
}

export function eksInvalidParameter(message: string, names: { clusterName?: string; nodegroupName?: string } = {}) {
  return new InvalidParameterException({ message, $metadata: metadata(400), ...names });
}

export function eksInvalidRequest(message: string, names: { clusterName?: string; nodegroupName?: string } = {}) {
  return new InvalidRequestException({ message, $metadata: metadata(400), ...names });
}

// ---- SSM ----

export function ssmParameterNotFound(message = ''): ParameterNotFound {
  return new ParameterNotFound({ message, $metadata: metadata(400) });
}

export function ssmValidation(message: string): SsmValidationException {
  return new SsmValidationException({ message, Message: message, $metadata: metadata(400) });
}

export function ssmInvalidNextToken(): InvalidNextToken {
  return new InvalidNextToken({ message: 'The specified token is not valid.', $metadata: metadata(400) });
}

// ---- throttling, for fault injection ----

/**
 * The error each service returns when it throttles, as its SDK client raises it: what the
 * SDK's retry strategy classifies as throttling (and retries), and what reaches the caller
 * once its attempts are spent.
 */
export function throttlingError(service: ServiceName): Error {
  switch (service) {
    case 'ec2':
      return ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
    case 'autoscaling':
      return autoScalingError('Throttling', 'Rate exceeded');
    case 'eks':
      return new EksThrottlingException({ message: 'Rate exceeded', $metadata: metadata(429) });
    case 'ssm':
      return new SsmThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: metadata(400) });
    case 'sts':
      return new STSServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: metadata(400),
        message: 'Rate exceeded',
      });
    case 'cloudwatch':
      // CloudWatch's common error for a throttled request (the SDK retries it as throttling)
      return new CloudWatchServiceException({ name: 'Throttling', message: 'Rate exceeded', $fault: 'client', $metadata: metadata(400) });
  }
}
