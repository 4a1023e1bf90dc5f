import * as z from 'zod/mini';
import { eventBridgeEvent, instanceId } from './eventbridge.js';

const lifecycleActionDetail = <const T extends string>(transition: T) =>
  z.object({
    LifecycleActionToken: z.guid(),
    AutoScalingGroupName: z.string().check(z.minLength(1), z.maxLength(255)),
    LifecycleHookName: z.string().check(z.minLength(1), z.maxLength(255)),
    EC2InstanceId: instanceId,
    LifecycleTransition: z.literal(transition),
    NotificationMetadata: z.optional(z.string()),
    Origin: z.optional(z.string()),
    Destination: z.optional(z.string()),
  });

/** `EC2 Instance-launch Lifecycle Action` (source aws.autoscaling). */
export const LaunchLifecycleActionEventSchema = eventBridgeEvent(
  'EC2 Instance-launch Lifecycle Action',
  'aws.autoscaling',
  lifecycleActionDetail('autoscaling:EC2_INSTANCE_LAUNCHING'),
);

/** `EC2 Instance-terminate Lifecycle Action` (source aws.autoscaling). */
export const TerminateLifecycleActionEventSchema = eventBridgeEvent(
  'EC2 Instance-terminate Lifecycle Action',
  'aws.autoscaling',
  lifecycleActionDetail('autoscaling:EC2_INSTANCE_TERMINATING'),
);

export type LaunchLifecycleActionEvent = z.infer<typeof LaunchLifecycleActionEventSchema>;
export type TerminateLifecycleActionEvent = z.infer<typeof TerminateLifecycleActionEventSchema>;

/** The part of a lifecycle action the workflows carry around. */
export const LifecycleActionSchema = z.object({
  autoScalingGroupName: z.string().check(z.minLength(1), z.maxLength(255)),
  lifecycleHookName: z.string().check(z.minLength(1), z.maxLength(255)),
  lifecycleActionToken: z.guid(),
  instanceId,
});
export type LifecycleAction = z.infer<typeof LifecycleActionSchema>;
