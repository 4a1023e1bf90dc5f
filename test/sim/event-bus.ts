import { randomUUID } from 'node:crypto';
import type { AwsEvent } from './aws/events.js';
import type { VirtualClock } from './clock.js';
import { matchesPattern } from './event-pattern.js';
import type { SimLambda } from './lambda.js';
import type { ServerlessModel } from './serverless-config.js';

/**
 * The default event bus: routes each event to the functions whose EventBridge patterns in
 * serverless.yml match it, and invokes them asynchronously as Lambda does — on failure it
 * retries up to the function's `maximumRetryAttempts` (after 1 and 2 minutes), then hands
 * the event to the on-failure destination (`failed`), so nothing is lost.
 */
/** an event on the bus: the envelope every AWS service event carries */
export type BusEvent = AwsEvent<unknown>;

export interface Delivery {
  event: BusEvent;
  function: string;
  attempts: number;
  outcome: 'succeeded' | 'failed' | 'pending';
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
  /** settles when the delivery has succeeded or gone to the on-failure destination */
  done: Promise<void>;
}

export class SimEventBus {
  readonly deliveries: Delivery[] = [];
  /** the on-failure destination (an SQS queue in AWS) */
  readonly failed: Delivery[] = [];

  constructor(
    private readonly model: ServerlessModel,
    private readonly clock: VirtualClock,
    private readonly lambda: SimLambda,
  ) {}

  /** Builds the envelope EventBridge adds around a detail. */
  envelope(partial: Pick<BusEvent, 'detail-type' | 'source' | 'detail'> & Partial<BusEvent>): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      account: this.model.accountId,
      time: new Date(Math.floor(this.clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      region: this.model.region,
      resources: [],
      ...partial,
    };
  }

  /** PutEvents: returns the deliveries it started. */
  put(event: BusEvent): Delivery[] {
    const targets = this.model.functions.filter((fn) => fn.eventPatterns.some((p) => matchesPattern(p, event)));
    return targets.map((fn) => {
      const delivery: Delivery = { event, function: fn.key, attempts: 0, outcome: 'pending', done: Promise.resolve() };
      this.deliveries.push(delivery);
      const run = this.clock.actor(async () => {
        for (;;) {
          delivery.attempts++;
          try {
            // the delivery waits off the clock: the invocation is an actor of its own, which may sleep on it
            delivery.result = await this.clock.waitFor(this.lambda.invoke(fn.key, event));
            delivery.outcome = 'succeeded';
            return;
          } catch (error) {
            delivery.error = { errorType: (error as Error).name, errorMessage: (error as Error).message };
            if (delivery.attempts > fn.maximumRetryAttempts) {
              delivery.outcome = 'failed';
              this.failed.push(delivery);
              return;
            }
            await this.clock.sleep(60_000 * delivery.attempts);
          }
        }
      });
      delivery.done = run;
      return delivery;
    });
  }
}
