import type { Context } from 'aws-lambda';

export function lambdaContext(name = 'test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Handler tests assert behaviour, not log lines: keep the runner's output readable. */
export function quietLogs(): void {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
}
