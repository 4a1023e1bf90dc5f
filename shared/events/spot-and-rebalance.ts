import * as z from 'zod/mini';
import { eventBridgeEvent, instanceId } from './eventbridge.js';

/** `EC2 Spot Instance Interruption Warning` (source aws.ec2): two minutes' notice. */
export const SpotInterruptionWarningEventSchema = eventBridgeEvent(
  'EC2 Spot Instance Interruption Warning',
  'aws.ec2',
  z.object({
    'instance-id': instanceId,
    'instance-action': z.enum(['terminate', 'stop', 'hibernate']),
  }),
);

/** `EC2 Instance Rebalance Recommendation` (source aws.ec2): elevated risk of interruption. */
export const RebalanceRecommendationEventSchema = eventBridgeEvent(
  'EC2 Instance Rebalance Recommendation',
  'aws.ec2',
  z.object({ 'instance-id': instanceId }),
);

export type SpotInterruptionWarningEvent = z.infer<typeof SpotInterruptionWarningEventSchema>;
export type RebalanceRecommendationEvent = z.infer<typeof RebalanceRecommendationEventSchema>;
