import * as z from 'zod/mini';
import { eventBridgeEvent, instanceId } from './eventbridge.js';

/**
 * `EC2 Spot Instance Interruption Warning` (source aws.ec2): two minutes' notice
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
 * The page's own sample holds placeholders — `"time": "yyyy-mm-ddThh:mm:ssZ"`,
 * `"instance-action": "action"` — and is accepted as it stands: an interruption is coming
 * whatever the action (the documented ones are hibernate, stop and terminate), and a time
 * that is not one is read as the moment the warning arrived (request-drain.ts), which only
 * moves the drain's deadline, never skips the drain.
 */
export const SpotInterruptionWarningEventSchema = z.extend(
  eventBridgeEvent(
    'EC2 Spot Instance Interruption Warning',
    'aws.ec2',
    z.object({
      'instance-id': instanceId,
      'instance-action': z.string().check(z.minLength(1), z.maxLength(64)),
    }),
  ),
  { time: z.string().check(z.maxLength(64)) },
);

/** `EC2 Instance Rebalance Recommendation` (source aws.ec2): elevated risk of interruption. */
export const RebalanceRecommendationEventSchema = eventBridgeEvent(
  'EC2 Instance Rebalance Recommendation',
  'aws.ec2',
  z.object({ 'instance-id': instanceId }),
);

export type SpotInterruptionWarningEvent = z.infer<typeof SpotInterruptionWarningEventSchema>;
export type RebalanceRecommendationEvent = z.infer<typeof RebalanceRecommendationEventSchema>;
