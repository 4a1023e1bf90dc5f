import { z } from 'zod';
import { eventBridgeEvent, instanceId } from './eventbridge.js';

const lifecycleActionDetail = <const T extends string>(transition: T) =>
  z.object({
    LifecycleActionToken: z.guid(),
    AutoScalingGroupName: z.string().min(1).max(255),
    LifecycleHookName: z.string().min(1).max(255),
    EC2InstanceId: instanceId,
    LifecycleTransition: z.literal(transition),
    NotificationMetadata: z.string().optional(),
    Origin: z.string().optional(),
    Destination: z.string().optional(),
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
  autoScalingGroupName: z.string().min(1).max(255),
  lifecycleHookName: z.string().min(1).max(255),
  lifecycleActionToken: z.guid(),
  instanceId,
});
export type LifecycleAction = z.infer<typeof LifecycleActionSchema>;
