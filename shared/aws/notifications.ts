import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SERVICE_EVENT_SOURCE } from '../events/eventbridge.js';
import { metricsOfEvent, recordMetrics } from '../metrics/metrics.js';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';

const eventBridgeOf = (scope: AwsScope) => clientOf(scope, EventBridgeClient);

/**
 * One of the service's own events on the default bus (events/service-events.ts): what the
 * chat-ops renderer and anyone else (alarms, audit) subscribe to.
 */
export async function publishEvent(scope: AwsScope, detailType: string, detail: object, resources: string[] = []): Promise<void> {
  const out = await callAws('events:PutEvents', () =>
    eventBridgeOf(scope).send(new PutEventsCommand({ Entries: [{ Source: SERVICE_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), Resources: resources }] })),
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const entry = out.Entries?.find((e) => e.ErrorCode);
    throw Object.assign(new Error(`PutEvents failed: ${entry?.ErrorCode} ${entry?.ErrorMessage}`), { name: 'InternalFailure' });
  }
  // the metrics an event stands for are counted once it is published (a retried step publishes again: so does its count)
  recordMetrics(metricsOfEvent(detailType, detail as Record<string, unknown>));
}
