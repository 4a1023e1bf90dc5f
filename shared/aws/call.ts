import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { AwsTransientError, type NodeLifecycleError } from '../errors.js';

/**
 * Error codes AWS documents as worth trying again that the SDK's classifier does not know by
 * name. It knows most of them by their HTTP status (500, 502, 503, 504); these are named here
 * for the ones that come with a 4xx, or without a status at all.
 * - EC2: the server errors, and a tag written by two requests at once ("retry your request")
 *   — https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 * - Auto Scaling: the common server errors, and "You already have a pending update"
 *   (`ResourceContention` on the wire, `ResourceContentionFault` as the SDK names it)
 *   — https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html
 * - DynamoDB: the exceptions its table marks "OK to retry? Yes" that are not throttling
 *   — https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 * - EKS, SSM: their modelled server faults.
 */
const RETRYABLE_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'ConcurrentTagAccess',
  'ResourceContentionFault',
  'InternalServerError',
  'TransactionConflictException',
  'ReplicatedWriteConflictException',
  'ServerException',
  'ServiceUnavailableException',
  'InternalServerException',
]);

/**
 * True when an AWS error is worth trying again later: what the SDK's own retry strategy would
 * have retried (@smithy/core/retry, the very functions the standard strategy classifies with:
 * throttling, 500/502/503/504, timeouts, ECONNRESET, ECONNREFUSED, EPIPE, ETIMEDOUT, EAI_AGAIN,
 * ENOTFOUND, a response cut off mid-body, the `$retryable` trait), any other server error, and
 * the codes above. Not `isClockSkewError`: its list holds `AccessDeniedException`, which for
 * most services is IAM saying no (the SDK corrects a skewed clock itself, and an error it
 * corrected is transient already).
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SdkError;
  return isThrottlingError(e) || isTransientError(e) || isServerError(e) || e.$fault === 'server' || RETRYABLE_CODES.has(e.name);
}

/**
 * Runs one AWS call. Errors named in `known` become the typed error it builds; transient
 * failures (left over after the SDK's own retries) become `AwsTransientError` so the
 * workflow retries the step; anything else is rethrown unchanged.
 */
export async function callAws<T>(
  operation: string,
  call: () => Promise<T>,
  known: Record<string, (error: Error) => NodeLifecycleError | null> = {},
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = (error as Error)?.name ?? '';
    const mapped = known[name]?.(error as Error);
    if (mapped) {
      (mapped as Error).cause ??= error;
      throw mapped;
    }
    if (isTransientAwsError(error)) throw new AwsTransientError(operation, { cause: error });
    throw error;
  }
}

/**
 * A DynamoDB conditional write: its output when it happened, undefined when its condition
 * failed (someone else got there first, or the state is not what the write requires).
 */
export async function conditionalWrite<T>(operation: string, write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await callAws(operation, write);
  } catch (error) {
    if ((error as Error)?.name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
}
