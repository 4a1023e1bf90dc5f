import { type BeginDecision, lockKeyOf, type NodeGroupLocks } from '../rollout/node-group-lock.js';
import { executionName } from './command-replies.js';

/**
 * How long a chat or CLI `rollout` waits for the rollout's first step (Begin) to decide,
 * after StartExecution: Begin is one short Lambda step (a few reads and the lock), so it
 * decides within a second or two unless Step Functions or Lambda is retrying it. The bound is
 * far within the chat functions' timeout (60 s, serverless.yml) and Slack's response_url,
 * which takes answers for 30 minutes (https://api.slack.com/interactivity/handling#message_responses);
 * past it the reply says so honestly and the rollout thread carries on.
 */
export const BEGIN_WAIT_MS = 10_000;
/** Between two reads of the decision: one GetItem each, the first soon, then less often. */
const POLL_MS = [250, 250, 500, 500, 1000] as const;

export type BeginOutcome =
  | { kind: 'decided'; decision: BeginDecision; approvalId?: string }
  /** Begin had not decided within the bound (it may still be retrying) */
  | { kind: 'undecided' };

export interface AwaitBeginPorts {
  locks: Pick<NodeGroupLocks, 'beginDecision' | 'get'>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Waits, bounded, for what Begin decided for the rollout `executionArn` (it records it; see
 * begin-rollout.ts). A rollout that waits for approval is followed a little further, until its
 * approval gate has named the approval on the group's lock, so the reply can name it.
 */
export async function awaitBeginDecision(
  rollout: { executionArn: string; cluster: string; group: string; /** the group's lock, when not `lockKeyOf(cluster, group)` (a member's: fleet-clusters.ts lockKeyAt) */ lockKey?: string },
  ports: AwaitBeginPorts,
  boundMs: number = BEGIN_WAIT_MS,
): Promise<BeginOutcome> {
  const deadline = ports.now().getTime() + boundMs;
  let decision: BeginDecision | undefined;
  for (let poll = 0; ; poll++) {
    decision ??= await ports.locks.beginDecision(rollout.executionArn);
    if (decision && !(decision.decision === 'proceed' && decision.approval)) return { kind: 'decided', decision };
    if (decision) {
      const lock = await ports.locks.get(rollout.lockKey ?? lockKeyOf(rollout.cluster, rollout.group));
      if (lock?.owner === rollout.executionArn && lock.approvalId) return { kind: 'decided', decision, approvalId: lock.approvalId };
    }
    const wait = POLL_MS[Math.min(poll, POLL_MS.length - 1)]!;
    if (ports.now().getTime() + wait > deadline) return decision ? { kind: 'decided', decision } : { kind: 'undecided' };
    await ports.sleep(wait);
  }
}

/** `2026-11-21 22:00 UTC`. */
export function utcMinute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The first line of the reply to a person's `rollout`, from what Begin decided (pure):
 * `started` only when it runs now.
 */
export function beginHeadline(who: string, outcome: BeginOutcome): { ok: boolean; title: string; next?: string } {
  if (outcome.kind === 'undecided') return { ok: true, title: `:hourglass_flowing_sand: Rollout of ${who} accepted, not yet started: progress follows in the thread` };
  const d = outcome.decision;
  switch (d.decision) {
    case 'refused':
      return { ok: false, title: `:no_entry: Rollout of ${who} refused: ${d.reason}` };
    case 'already-rolling':
      return { ok: false, title: `${who} is already being rolled by another rollout (${executionName(d.heldBy)}); nothing new was started` };
    case 'proceed': {
      const window = d.startAt ? `the maintenance window until ${utcMinute(d.startAt)}` : undefined;
      if (d.approval) {
        const approval = outcome.approvalId ? ` (approval ${outcome.approvalId})` : '';
        return { ok: true, title: `:raised_hand: Rollout of ${who} is waiting for approval${approval}`, ...(window ? { next: `once approved, it waits for ${window}` } : {}) };
      }
      if (window) return { ok: true, title: `:hourglass_flowing_sand: Rollout of ${who} is waiting for ${window}` };
      return { ok: true, title: `:rocket: Rollout of ${who} started` };
    }
  }
}
