import { z } from 'zod';
import { clusterName, eventBridgeEvent } from './eventbridge.js';

/** `EC2 AMI State Change` (source aws.ec2): a custom AMI became available (or failed, or was disabled). */
export const AmiStateChangeEventSchema = eventBridgeEvent(
  'EC2 AMI State Change',
  'aws.ec2',
  z.object({
    ImageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/),
    State: z.string().min(1).max(32),
    ErrorReason: z.string().optional(),
  }),
);

/** `EC2 Image Builder Image State Change` (source aws.imagebuilder). */
export const ImageBuilderStateChangeEventSchema = eventBridgeEvent(
  'EC2 Image Builder Image State Change',
  'aws.imagebuilder',
  z.object({
    'previous-state': z.object({ status: z.string() }).optional(),
    state: z.object({ status: z.string().min(1).max(32) }),
  }),
);

/** EventBridge Scheduler's invocation carries whatever input the schedule sets: nothing here. */
export const ScheduledDetectionSchema = z.object({ kind: z.literal('scheduled-detection') });

/** Detection asked for by a person (chat, CLI): optionally one cluster or group, optionally a dry run. */
export const ManualDetectionSchema = z.object({
  kind: z.literal('detect'),
  cluster: clusterName.optional(),
  group: z.string().min(1).max(255).optional(),
  dryRun: z.boolean().default(false),
  requestedBy: z.string().min(1).max(200).optional(),
});

export const DetectionTriggerSchema = z.union([AmiStateChangeEventSchema, ImageBuilderStateChangeEventSchema, ScheduledDetectionSchema, ManualDetectionSchema]);
export type DetectionTrigger = z.infer<typeof DetectionTriggerSchema>;

/** Input of the ami-rollout workflow's launch template step. */
export const PrepareLaunchTemplateInputSchema = z.object({
  cluster: clusterName,
  group: z.object({
    kind: z.enum(['managed', 'self-managed']),
    name: z.string().min(1).max(255),
    autoScalingGroup: z.string().min(1).max(255).optional(),
    launchTemplate: z.object({ id: z.string().regex(/^lt-[0-9a-f]{8,17}$/), version: z.number().int().positive() }).optional(),
  }),
  target: z.object({
    imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/),
    imageName: z.string().max(255).optional(),
    release: z.string().max(64).optional(),
  }),
  executionArn: z.string().optional(),
});
