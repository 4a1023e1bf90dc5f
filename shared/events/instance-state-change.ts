import * as z from 'zod/mini';
import { eventBridgeEvent, instanceId } from './eventbridge.js';

/** `EC2 Instance State-change Notification` (source aws.ec2). */
export const InstanceStateChangeEventSchema = eventBridgeEvent(
  'EC2 Instance State-change Notification',
  'aws.ec2',
  z.object({
    'instance-id': instanceId,
    state: z.enum(['pending', 'running', 'shutting-down', 'stopping', 'stopped', 'terminated']),
  }),
);

export type InstanceStateChangeEvent = z.infer<typeof InstanceStateChangeEventSchema>;
