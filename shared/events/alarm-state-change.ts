import * as z from 'zod/mini';
import { eventBridgeEvent } from './eventbridge.js';

/** CloudWatch's event for an alarm changing state (the stack's alarms: scripts/deploy/monitoring.cjs). */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

const state = z.object({ value: z.string(), reason: z.optional(z.string()) });

/**
 * The fields chat reads of it
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 */
export const AlarmStateChangeDetailSchema = z.object({
  alarmName: z.string().check(z.minLength(1), z.maxLength(255)),
  state,
  previousState: z.optional(state),
  configuration: z.optional(z.object({ description: z.optional(z.string()) })),
});
export type AlarmStateChange = z.infer<typeof AlarmStateChangeDetailSchema>;

export const AlarmStateChangeEventSchema = eventBridgeEvent(ALARM_STATE_CHANGE, 'aws.cloudwatch', AlarmStateChangeDetailSchema);
