import { AwsTransientError, type NodeLifecycleError } from '../errors.js';

const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServerException',
  // DynamoDB's throttling (the locks, drains and chat-ops tables): its own name, not ThrottlingException
  'ProvisionedThroughputExceededException',
]);

/** true when an AWS error is worth retrying later (throttling, server faults, timeouts) */
export function isTransientAwsError(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown };
  return TRANSIENT.has(e?.name ?? '') || e?.$fault === 'server' || e?.$retryable !== undefined;
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
