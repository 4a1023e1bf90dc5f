import * as z from 'zod/mini';
import { clusterName, eventBridgeEvent, placeFields } from './eventbridge.js';
import { ACCOUNT_ID, IMAGE_ID, LAUNCH_TEMPLATE_ID } from '../ids.js';

const amiId = z.string().check(z.regex(IMAGE_ID));

/** `EC2 AMI State Change` (source aws.ec2): a custom AMI became available (or failed, or was disabled). */
export const AmiStateChangeEventSchema = eventBridgeEvent(
  'EC2 AMI State Change',
  'aws.ec2',
  z.object({
    ImageId: amiId,
    State: z.string().check(z.minLength(1), z.maxLength(32)),
    ErrorReason: z.optional(z.string()),
  }),
);

/** `EC2 Image Builder Image State Change` (source aws.imagebuilder). */
export const ImageBuilderStateChangeEventSchema = eventBridgeEvent(
  'EC2 Image Builder Image State Change',
  'aws.imagebuilder',
  z.object({
    'previous-state': z.optional(z.object({ status: z.string() })),
    state: z.object({ status: z.string().check(z.minLength(1), z.maxLength(32)) }),
  }),
);

/** EventBridge Scheduler's invocation carries whatever input the schedule sets: nothing here. */
export const ScheduledDetectionSchema = z.object({ kind: z.literal('scheduled-detection') });

/**
 * Detection asked for by a person (chat, CLI): optionally one cluster or group, optionally a
 * dry run. `accountId`, `region`: only the places of that account and/or region (absent: every
 * place of the fleet, as an absent cluster means every cluster).
 */
export const ManualDetectionSchema = z.object({
  kind: z.literal('detect'),
  ...placeFields,
  cluster: z.optional(clusterName),
  group: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  dryRun: z._default(z.boolean(), false),
  requestedBy: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});

/** An image became available: screened (screenImageEvent) before any detection. */
export const ImageEventSchema = z.union([AmiStateChangeEventSchema, ImageBuilderStateChangeEventSchema]);
export type ImageEvent = z.infer<typeof ImageEventSchema>;

/** The ami-detection workflow, once its debounce window has passed: detection for the window's groups. */
export const DebouncedDetectionSchema = z.object({
  kind: z.literal('debounced-detection'),
  window: z.string().check(z.regex(/^\d{8}T\d{6}Z$/)),
});

export const DetectionTriggerSchema = z.union([DebouncedDetectionSchema, ScheduledDetectionSchema, ManualDetectionSchema]);
export type DetectionTrigger = z.infer<typeof DetectionTriggerSchema>;

/** Input of the ami-rollout workflow's launch template step. */
export const PrepareLaunchTemplateInputSchema = z.object({
  cluster: clusterName,
  group: z.object({
    kind: z.enum(['managed', 'self-managed']),
    name: z.string().check(z.minLength(1), z.maxLength(255)),
    autoScalingGroup: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
    launchTemplate: z.optional(z.object({ id: z.string().check(z.regex(LAUNCH_TEMPLATE_ID)), version: z.int().check(z.positive()) })),
  }),
  target: z.object({
    imageId: amiId,
    imageName: z.optional(z.string().check(z.maxLength(255))),
    release: z.optional(z.string().check(z.maxLength(64))),
    /** the image's owner as resolution read it, for people to see; preflight checks it again from EC2 */
    ownerId: z.optional(z.string().check(z.regex(ACCOUNT_ID))),
    ownerAlias: z.optional(z.string().check(z.maxLength(64))),
  }),
  executionArn: z.optional(z.string()),
});
