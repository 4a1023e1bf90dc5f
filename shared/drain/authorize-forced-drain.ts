import { UnverifiedCallerError } from '../errors.js';
import type { DrainTrigger } from '../events/drain.js';

export interface ForcedDrainGrants {
  /** see `RequestGuards.useForcedDrainGrant` */
  use: (grantId: string, instanceId: string, now: Date) => Promise<{ by: string } | undefined>;
}

/**
 * A manual drain with `force` deletes pods past their PodDisruptionBudgets. requestDrain is
 * invoked directly and cannot tell who invoked it, so it forces only on a grant chat-ops
 * wrote after authorizing a person for that instance (used once, within minutes); the
 * requester recorded is the person of the grant, not what the payload says. Every other
 * trigger passes unchanged. A forced request without a valid grant is refused, and nothing
 * is written.
 */
export async function authorizeForcedDrain(trigger: DrainTrigger, grants: ForcedDrainGrants, now: Date): Promise<DrainTrigger> {
  if (!('kind' in trigger) || trigger.kind !== 'manual-drain' || !trigger.force) return trigger;
  const granted = trigger.forceGrant && trigger.instanceId ? await grants.use(trigger.forceGrant, trigger.instanceId, now) : undefined;
  if (!granted) {
    throw new UnverifiedCallerError(
      'no-identity',
      'a forced drain needs a person authorized for it: a direct invocation of requestDrain cannot say who is calling. Ask with `drain <node> --force` from Slack or the CLI, or drain without force. Nothing was started.',
    );
  }
  return { ...trigger, requestedBy: granted.by };
}
