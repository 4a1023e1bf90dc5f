import { createHash } from 'node:crypto';
import type { FleetRecords, PromoteRequest } from '../aws/fleet-records.js';
import type { PromotionProgressDetail } from '../events/promotion-events.js';
import { describeScope, type FreezeScope } from '../fleet/freeze.js';
import { type ActionResult, holdRelease, promoteTo, releaseHold } from '../fleet/promotion-actions.js';
import type { PromotionPolicy } from '../fleet/promotion-policy.js';
import { currentRing, type PromotionState } from '../fleet/promotion-state.js';
import { type AccessPolicy, authorize, displayNameOf } from './access-policy.js';
import { mentionsAsText } from './mentions.js';
import { NO_CLUSTER } from './audit-log.js';
import { doneReply, notDoneReply, refusedReply } from './command-replies.js';
import { frozenReply, liven, personText, promotionsReply, promotionStatusReply, ringViews, unfrozenReply } from './promotion-replies.js';
import type { Command, Principal, Reply } from './types.js';

/**
 * The fleet promotion commands (issue 21): `freeze`/`unfreeze`, `promotions`, `promotion
 * status`, `hold`, `release`, `promote --to`, and `approve`/`deny` of a promote request. The
 * decisions are fleet/'s (promotion-actions.ts, freeze.ts); this reads the fleet table, checks
 * who may, stores what they return and tells the promotion's thread.
 *
 * Who may: a freeze of one cluster needs act on it; of a ring or everything, act on `*` (a
 * ring's clusters are not known without reading every group, and freezing them all is a
 * fleet-wide act). hold, release and promote change a release everywhere: act on `*`.
 * Skipping soak always needs a second person: `promote` records a request (`prm-…`) that
 * someone else with approve on `*` answers; the requester never. Approving entry into a ring
 * that waits for approval has no requester (the promotion asked): `promote --to` that very
 * ring is the approval, for anyone with approve on `*`.
 *
 * The promotion's workflow re-reads the stored state at each decision: a release or a promote
 * takes effect at its next decision (a workflow that ended on a hold is restarted by the
 * workflow's own wiring, not by chat).
 */
export type FleetStore = Pick<FleetRecords, 'freezes' | 'setFreeze' | 'liftFreeze' | 'promotions' | 'promotion' | 'savePromotion' | 'approveRing' | 'ringApprovals' | 'outcomes' | 'requestPromote' | 'promoteRequest' | 'takePromoteRequest'>;

export interface PromotionPorts {
  records: FleetStore;
  /** the promotion policy (SSM); undefined while it is not set */
  policy: () => Promise<PromotionPolicy | undefined>;
  /** a `Promotion Progress` event, into the promotion's thread */
  publish: (detail: PromotionProgressDetail) => Promise<void>;
}

export interface PromotionAsk {
  principal: Principal;
  policy: AccessPolicy;
  promotions: PromotionPorts | undefined;
  requestId: string;
  now: () => Date;
}

export interface PromotionActed {
  reply: Reply;
  clusters: string[];
  refused?: boolean;
}

export type PromotionCommand = Extract<Command, { name: 'freeze' | 'unfreeze' | 'promotions' | 'promotion' | 'hold' | 'release' | 'promote' }>;

/** How long a promote request waits for a second person (as a rollout's approval does). */
export const PROMOTE_REQUEST_TTL_SECONDS = 24 * 3600;
/** Writes tried before giving up when the workflow keeps changing the promotion under us. */
const SAVE_ATTEMPTS = 5;
/** The audit trail's partition for what concerns the whole fleet. */
const FLEET = [NO_CLUSTER];

export async function runPromotionCommand(command: PromotionCommand, ask: PromotionAsk): Promise<PromotionActed> {
  const ports = ask.promotions;
  if (!ports) return { reply: notDoneReply('Fleet promotion is not set up in this deployment (no fleet table)'), clusters: FLEET };
  switch (command.name) {
    case 'freeze':
    case 'unfreeze':
      return freezeCommand(command, ask, ports);
    case 'promotions':
      return { reply: promotionsReply((await ports.records.promotions()).map((p) => p.state)), clusters: FLEET };
    case 'promotion':
      return promotionStatus(command.release, ask, ports);
    case 'hold': {
      const refusal = mayOnFleet(ask, 'act');
      if (refusal) return refusal;
      return change(command.release, 'held', (state, now) => holdRelease(state, { reason: command.reason, by: displayOf(ask) }, now), ask, ports);
    }
    case 'release': {
      const refusal = mayOnFleet(ask, 'act');
      if (refusal) return refusal;
      return change(command.release, 'released', (state, now) => releaseHold(state, { by: displayOf(ask) }, now), ask, ports);
    }
    case 'promote':
      return promote(command, ask, ports);
  }
}

/** A refusal unless the principal has `level` on `*` (the access policy's entry for every cluster). */
function mayOnFleet(ask: PromotionAsk, level: 'act' | 'approve'): PromotionActed | undefined {
  const allowed = authorize(ask.policy, ask.principal, level, '*');
  return allowed.allowed ? undefined : { reply: refusedReply(allowed.reason), clusters: FLEET, refused: true };
}

/**
 * Who did it, as the records keep them: the access policy's name for them, else a Slack user
 * as `<@U…>` (plain text: promotion-replies.ts makes it a live mention again when it shows a
 * `by`), an IAM caller by ARN.
 */
function displayOf(ask: Pick<PromotionAsk, 'principal' | 'policy'>): string {
  return mentionsAsText(displayNameOf(ask.policy, ask.principal.id)).slice(0, 200);
}

async function freezeCommand(command: Extract<Command, { name: 'freeze' | 'unfreeze' }>, ask: PromotionAsk, ports: PromotionPorts): Promise<PromotionActed> {
  const clusters = command.scope.kind === 'cluster' ? [command.scope.cluster] : FLEET;
  const allowed = authorize(ask.policy, ask.principal, 'act', command.scope.kind === 'cluster' ? command.scope.cluster : '*');
  if (!allowed.allowed) return { reply: refusedReply(allowed.reason), clusters, refused: true };
  const by = displayOf(ask);
  if (command.name === 'unfreeze') {
    const lifted = await ports.records.liftFreeze(command.scope);
    return { reply: lifted ? unfrozenReply(lifted, by) : notDoneReply(`Nothing is frozen at ${describeScope(command.scope)}`, frozenHint(command.scope)), clusters };
  }
  const replaced = (await ports.records.freezes()).some((f) => describeScope(f.scope) === describeScope(command.scope));
  const freeze = { scope: command.scope, reason: command.reason, by, since: ask.now().toISOString() };
  await ports.records.setFreeze(freeze);
  return { reply: frozenReply(freeze, replaced), clusters };
}

function frozenHint(scope: FreezeScope): string[] {
  return [`\`status\` lists every freeze; ${scope.kind === 'all' ? 'a ring or a cluster may be frozen on its own' : 'unfreeze names the scope as it was frozen'}.`];
}

async function promotionStatus(key: string, ask: PromotionAsk, ports: PromotionPorts): Promise<PromotionActed> {
  const stored = await ports.records.promotion(key);
  if (!stored) return { reply: notDoneReply(`No promotion ${key}`, ['`promotions` lists them.']), clusters: FLEET };
  const [outcomes, approvals, policy] = await Promise.all([ports.records.outcomes(key), ports.records.ringApprovals(key), readPolicy(ports)]);
  const rings = ringViews(stored.state, outcomes, policy, approvals, ask.now());
  return { reply: promotionStatusReply(stored.state, rings, policy !== undefined), clusters: FLEET };
}

/** The policy, or undefined when it cannot be read: `promotion status` still shows what is stored. */
async function readPolicy(ports: PromotionPorts): Promise<PromotionPolicy | undefined> {
  try {
    return await ports.policy();
  } catch {
    return undefined;
  }
}

type Change = (state: PromotionState, now: Date) => ActionResult;

/**
 * Applies a person's change to the stored promotion and saves it at the version read; when the
 * workflow wrote in between, reads again and decides again (SAVE_ATTEMPTS at most). Then tells
 * the promotion's thread.
 */
async function change(key: string, kind: 'held' | 'released' | 'promoted', apply: Change, ask: PromotionAsk, ports: PromotionPorts, by?: string): Promise<PromotionActed> {
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const stored = await ports.records.promotion(key);
    if (!stored) return { reply: notDoneReply(`No promotion ${key}`, ['`promotions` lists them.']), clusters: FLEET };
    const now = ask.now();
    const result = apply(stored.state, now);
    if (!result.ok) return { reply: notDoneReply(`Nothing changed: ${result.reason}`), clusters: FLEET };
    if ((await ports.records.savePromotion(result.state, stored.version, now.toISOString())) === undefined) continue;
    const ring = kind === 'promoted' ? currentRing(result.state)?.ring : currentRing(stored.state)?.ring;
    await ports.publish({ key, release: result.state.release, kind, ...(ring ? { ring } : {}), at: now.toISOString(), detail: result.detail, rings: result.state.rings, ...(result.state.hold ? { hold: result.state.hold } : {}), by: by ?? displayOf(ask) });
    return { reply: doneReply(`${kind === 'held' ? ':octagonal_sign:' : kind === 'released' ? ':arrow_forward:' : ':fast_forward:'} ${liven(result.detail, by ?? displayOf(ask))}`, NEXT[kind]), clusters: FLEET };
  }
  return { reply: notDoneReply(`${key} kept changing while this was applied (${SAVE_ATTEMPTS} tries); nothing was changed`, ['Try again.']), clusters: FLEET };
}

const NEXT: Record<'held' | 'released' | 'promoted', string[]> = {
  held: ['nothing starts this release anywhere; running rollouts of it stop at their next batch boundary'],
  released: ['the promotion goes on at its next decision'],
  promoted: ['the promotion enters the ring at its next decision'],
};

async function promote(command: Extract<Command, { name: 'promote' }>, ask: PromotionAsk, ports: PromotionPorts): Promise<PromotionActed> {
  const stored = await ports.records.promotion(command.release);
  if (!stored) return { reply: notDoneReply(`No promotion ${command.release}`, ['`promotions` lists them.']), clusters: FLEET };
  const at = currentRing(stored.state);
  // the promotion waits for a person to let it into exactly this ring: promote is that approval
  if (at?.ring === command.ring && at.status === 'awaiting-approval') {
    const refusal = mayOnFleet(ask, 'approve');
    if (refusal) return refusal;
    const now = ask.now();
    const by = displayOf(ask);
    if (!(await ports.records.approveRing(command.release, { ring: command.ring, by, at: now.toISOString() }))) return { reply: notDoneReply(`Ring ${command.ring} of ${command.release} is approved already`), clusters: FLEET };
    await ports.publish({ key: command.release, release: stored.state.release, kind: 'promoted', ring: command.ring, at: now.toISOString(), detail: `entering ring ${command.ring} approved by ${by}`, rings: stored.state.rings, by });
    return { reply: doneReply(`:white_check_mark: ${command.release}: entering ring ${command.ring} approved`, ['the promotion enters the ring at its next decision']), clusters: FLEET };
  }
  // skipping soak: a second person decides
  const refusal = mayOnFleet(ask, 'act');
  if (refusal) return refusal;
  const policy = await ports.policy();
  if (!policy) return { reply: notDoneReply('No promotion policy is set: there are no rings to promote to'), clusters: FLEET };
  const now = ask.now();
  const trial = promoteTo(stored.state, policy, { ring: command.ring, by: displayOf(ask) }, now);
  if (!trial.ok) return { reply: notDoneReply(`Nothing changed: ${trial.reason}`), clusters: FLEET };
  const request: PromoteRequest = { id: promoteRequestId(ask.requestId), key: command.release, ring: command.ring, by: ask.principal.id, byDisplay: displayOf(ask), at: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + PROMOTE_REQUEST_TTL_SECONDS };
  await ports.records.requestPromote(request);
  return {
    reply: doneReply(`:raised_hand: Promote ${command.release} to ${command.ring}: waiting for a second person`, [`someone else with approve access on * answers: \`approve ${request.id}\` (or \`deny ${request.id}\`)`, `the request expires ${new Date(request.expiresAt * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`], `request ${request.id}`),
    clusters: FLEET,
  };
}

/** `prm-` and 12 hex characters of the request id: a retried command asks once. */
export function promoteRequestId(requestId: string): string {
  return `prm-${createHash('sha256').update(requestId).digest('hex').slice(0, 12)}`;
}

/** `approve prm-…` / `deny prm-…`: a second person answers a promote request; its requester never approves it. */
export async function answerPromoteRequest(id: string, decision: 'approve' | 'deny', reason: string | undefined, ask: PromotionAsk): Promise<PromotionActed> {
  const ports = ask.promotions;
  if (!ports) return { reply: notDoneReply('Fleet promotion is not set up in this deployment (no fleet table)'), clusters: FLEET };
  const request = await ports.records.promoteRequest(id);
  const now = ask.now();
  if (!request || request.expiresAt <= now.getTime() / 1000) return { reply: notDoneReply(`No promote request ${id} is waiting`, ['It was answered, or it expired (after 24 hours).']), clusters: FLEET };
  const refusal = mayOnFleet(ask, 'approve');
  if (refusal) return refusal;
  if (decision === 'approve' && request.by === ask.principal.id) return { reply: notDoneReply(`:no_entry: You asked to promote ${request.key} to ${request.ring}: someone else must approve it`), clusters: FLEET, refused: true };
  // only one of two people answering at once takes it
  if (!(await ports.records.takePromoteRequest(id))) return { reply: notDoneReply(`Promote request ${id} was answered already`), clusters: FLEET };
  const by = displayOf(ask);
  if (decision === 'deny') return { reply: doneReply(`:no_entry_sign: Denied: promote ${request.key} to ${request.ring}`, [`by ${personText(by)}${reason ? `: ${reason}` : ''}`], `request ${id}`), clusters: FLEET };
  const policy = await ports.policy();
  if (!policy) return { reply: notDoneReply('No promotion policy is set: there are no rings to promote to'), clusters: FLEET };
  const promotedBy = `${request.byDisplay}, approved by ${by}`.slice(0, 200);
  return change(request.key, 'promoted', (state, at) => promoteTo(state, policy, { ring: request.ring, by: promotedBy }, at), ask, ports, promotedBy);
}
