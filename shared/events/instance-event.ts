import * as z from 'zod/mini';
import { InstanceStateChangeEventSchema } from './instance-state-change.js';
import { LaunchLifecycleActionEventSchema } from './lifecycle-action.js';

/** What the tagging function accepts: an instance that started running, or a launch hook. */
export const InstanceLaunchEventSchema = z.discriminatedUnion('detail-type', [
  InstanceStateChangeEventSchema,
  LaunchLifecycleActionEventSchema,
]);
export type InstanceLaunchEvent = z.infer<typeof InstanceLaunchEventSchema>;

export function instanceIdOf(event: InstanceLaunchEvent): string {
  return event['detail-type'] === 'EC2 Instance State-change Notification' ? event.detail['instance-id'] : event.detail.EC2InstanceId;
}
