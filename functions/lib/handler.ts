import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { NodeLifecycleError } from '../../shared/errors.js';
import { parseUntrusted } from '../../shared/schema-issues.js';
import { installLambdaMetrics } from './metrics.js';

/**
 * The conventions every function follows:
 * 1. Powertools Logger, structured JSON, with the Lambda context and correlation keys
 *    (cluster, instance id, execution ARN) appended per invocation;
 * 2. the input parsed by a zod schema from `shared/events/`: a mismatch is an
 *    `InvalidInputError` before anything else runs, so bad input changes nothing;
 * 3. errors are thrown, never turned into strings, so that the workflow's Retry/Catch
 *    (which match the error's `name`) decide what happens next.
 */
export const logger = new Logger({ serviceName: 'eks-node-lifecycle' });
installLambdaMetrics();

/** The `log` port the domain's orchestrations take: an info record with attributes. */
export function logInfo(message: string, attributes: Record<string, unknown> = {}): void {
  logger.info(message, attributes);
}

export type CorrelationKeys = Partial<Record<'cluster' | 'instanceId' | 'nodegroup' | 'autoScalingGroup' | 'executionArn', string>>;

export interface HandlerSpec<S extends z.core.$ZodType, R> {
  schema: S;
  correlate?: (input: z.infer<S>) => CorrelationKeys;
  run: (input: z.infer<S>, context: Context) => Promise<R>;
}

export function parseInput<S extends z.core.$ZodType>(schema: S, event: unknown): z.infer<S> {
  return parseUntrusted(schema, event);
}

export function lambdaHandler<S extends z.core.$ZodType, R>(spec: HandlerSpec<S, R>) {
  return middy(async function handle(event: unknown, context: Context): Promise<R> {
    const input = parseInput(spec.schema, event);
    const keys = spec.correlate?.(input) ?? {};
    logger.appendKeys(Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined)));
    return spec.run(input, context);
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      onError: function logTypedError(request) {
        const error = request.error;
        if (error instanceof NodeLifecycleError) {
          logger.warn(error.message, { errorName: error.name, retryable: error.retryable });
        } else {
          logger.error('unexpected error', { error: error as Error });
        }
      },
    });
}
