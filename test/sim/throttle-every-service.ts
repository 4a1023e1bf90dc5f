import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { ThrottlingException as EventBridgeThrottlingException } from '@aws-sdk/client-eventbridge';
import { TooManyRequestsException } from '@aws-sdk/client-lambda';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { ACCOUNT_SERVICES, type SimAccount } from './aws/account.js';
import { randomThrottling, type RandomThrottlingOptions, type ThrottlingTally } from './aws/random-faults.js';
import { installSdkGate, type SdkService } from './sdk-gate.js';

/**
 * A seeded share of every AWS call the product makes throttled, each with its service's own
 * error: the simulated account's services through `account.faults` (random-faults.ts), per
 * attempt, the SDK's own retries running; and the rest at the SDK's door (sdk-gate.ts), per
 * call, `attemptsPerCall` standing in for the retries the sandbox bypasses there — DynamoDB
 * (`ProvisionedThroughputExceededException`, what a table over its throughput answers, on-demand
 * tables included), Step Functions and EventBridge (`ThrottlingException`), Lambda
 * (`TooManyRequestsException`). One seed and one tally for all of them. `restore()` before the
 * world stops.
 */
const metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

export function throttleEveryService(world: { account: SimAccount }, rate: number, options: RandomThrottlingOptions): { tally: ThrottlingTally; restore(): void } {
  const { rule, throttles, threw, tally } = randomThrottling(rate, options);
  world.account.faults.set('*', rule);
  // what the account's callers saw: a call whose every attempt the rule throttled
  const unsubscribe = world.account.onCallEnd((call, error) => {
    if (!threw(error)) return;
    const key = `${call.service}:${call.command}`;
    tally.throttled.set(key, (tally.throttled.get(key) ?? 0) + 1);
  });
  const removeGate = installSdkGate((call) => (ACCOUNT_SERVICES.has(call.service) || !throttles(call.service, call.command) ? 'pass' : throttlingError(call.service)));
  return {
    tally,
    restore() {
      world.account.faults.delete('*');
      unsubscribe();
      removeGate();
    },
  };
}

function throttlingError(service: SdkService): Error {
  switch (service) {
    case 'dynamodb':
      return new ProvisionedThroughputExceededException({
        message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        $metadata: metadata,
      });
    case 'events':
      return new EventBridgeThrottlingException({ message: 'Rate exceeded', $metadata: metadata });
    case 'lambda':
      return new TooManyRequestsException({ message: 'Rate Exceeded.', Reason: 'CallerRateLimitExceeded', $metadata: { ...metadata, httpStatusCode: 429 } });
    default:
      return new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: metadata });
  }
}
