/**
 * The yardstick for cold initialisation: the smallest handler this project's conventions
 * allow — middy with a Powertools Logger, nothing else. Bundled exactly like the functions.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'bare' });

export const handler = middy(async (event: unknown) => {
  logger.info('event', { event });
  return { ok: true };
}).use(injectLambdaContext(logger));
