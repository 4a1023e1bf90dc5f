import { type AwsScope, awsScope } from '../../shared/aws/clients.js';

/**
 * A scope whose DynamoDB client reaches a test's dynalite: through the SDK's standard
 * `AWS_ENDPOINT_URL_DYNAMODB`, as the sandbox's clients do (read at a client's first request,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). One table a test file.
 */
export function dynaliteScope(endpoint: string): AwsScope {
  process.env['AWS_ENDPOINT_URL_DYNAMODB'] = endpoint;
  return awsScope({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}
