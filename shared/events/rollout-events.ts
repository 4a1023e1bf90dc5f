import * as z from 'zod/mini';
import { clusterName, placeFields } from './eventbridge.js';
import { FinishDetailSchema, RollbackCauseSchema, RolloutOutcomeSchema } from './rollout.js';
import { SignalResultSchema } from '../fleet/workload-health.js';
import { ROLLOUT_EVENTS, type RolloutEventName } from './rollout-event-names.js';

/**
 * What a rollout publishes on the default bus (source `eks-node-lifecycle`), one detail-type
 * per phase so a rule can pick what it cares about. The same schemas type what the publishers
 * hand to the notifier (rollout/rollout-events.ts) and parse what chat reads
 * (chatops/rollout-replies.ts).
 *
 * Required: what says which rollout and phase an event is about. The rest is optional: a
 * reader shows what is there and leaves out what is not.
 */
export { ROLLOUT_EVENTS, type RolloutEventName } from './rollout-event-names.js';

/** The image a rollout rolls onto. An approval's events know only its label, which `imageId` then holds. */
export const RolloutTargetSchema = z.object({
  imageId: z.string(),
  imageName: z.optional(z.string()),
  release: z.optional(z.string()),
  ownerId: z.optional(z.string()),
  ownerAlias: z.optional(z.string()),
});

/** What every rollout event says, filled in by the rollout's notifier. */
export const RolloutAboutSchema = z.object({
  /** the cluster's account and region: set for a member's (or another hub region's) cluster, absent for the hub's own */
  ...placeFields,
  cluster: clusterName,
  group: z.string().check(z.minLength(1)),
  /** `managed`, `self-managed`, or `node group` when the notifier of an approval does not know */
  groupKind: z.string(),
  target: RolloutTargetSchema,
  executionArn: z.string().check(z.minLength(1)),
  at: z.iso.datetime(),
  /** for people: `<cluster>/<group>: …` */
  summary: z.optional(z.string()),
});
export type RolloutAbout = z.infer<typeof RolloutAboutSchema>;

const count = z.int().check(z.nonnegative());
const texts = z.array(z.string());
/** pods a forced drain deleted past their budget: `ns/pod (PodDisruptionBudget ns/name)` */
const forced = z.optional(texts);
/** changes others made to the group during the rollout, kept */
const adopted = z.optional(texts);
const progress = { batch: z.optional(count), of: z.optional(count), replaced: z.optional(count), forced };
/** why a rollout rolled back besides a failed step, and the health signals that regressed with their numbers */
const why = { cause: z.optional(RollbackCauseSchema), signals: z.optional(z.array(SignalResultSchema)) };
const ending = { replaced: z.optional(count), remainingOld: z.optional(count), reason: z.optional(z.string()), forced, adopted, ...why };
/** how FinishRollout reports a way out the roll did not announce */
const finish = { outcome: z.optional(RolloutOutcomeSchema), detail: z.optional(FinishDetailSchema) };

/** An EKS managed node group update that failed, explained (rollout/explain-update-failure.ts). */
export const ManagedFailureReportSchema = z.object({
  updateId: z.string(),
  status: z.enum(['Failed', 'Cancelled']),
  errors: z.array(z.object({ code: z.string(), message: z.string(), resourceIds: z.array(z.string()) })),
  reasons: texts,
  blockers: z.optional(z.array(z.object({ pod: z.string(), pdb: z.string(), disruptionsAllowed: z.number() }))),
  summary: z.string(),
});
export type ManagedFailureReport = z.infer<typeof ManagedFailureReportSchema>;

/** What each phase adds to what every rollout event says. */
const PHASES = {
  planned: z.object({
    strategy: z.optional(z.enum(['surge', 'minimal', 'eks-managed-update', 'instance-refresh'])),
    nodes: z.optional(count),
    maxUnavailable: z.optional(z.int().check(z.positive())),
    /** a self-managed roll's batches, canary first */
    batches: z.optional(z.array(z.object({ canary: z.boolean(), nodes: count }))),
    /** the group's configuration problems */
    problems: z.optional(texts),
  }),
  'approval-requested': z.object({
    /** `apr-…`: what the buttons carry; never the task token */
    approvalId: z.optional(z.string()),
    expiresAt: z.optional(z.iso.datetime()),
    /** a principal id, or `detection` */
    requestedBy: z.string(),
    plan: z.object({ summary: z.string() }),
    from: z.object({ imageId: z.optional(z.string()), release: z.optional(z.string()) }),
  }),
  approved: z.object({ approvalId: z.string(), approvedBy: z.string(), requestedAt: z.optional(z.iso.datetime()) }),
  'canary-passed': z.object(progress),
  'batch-finished': z.object(progress),
  paused: z.object({
    /** a person's pause has none */
    reason: z.optional(z.enum(['interference', 'window', 'freeze'])),
    /** interference: what changed, in words */
    changes: z.optional(texts),
    /** window: when it opens again */
    opensAt: z.optional(z.iso.datetime()),
    afterBatch: z.optional(count),
    message: z.optional(z.string()),
  }),
  resumed: z.object({ batch: z.optional(count), adopted }),
  'rolling-back': z.object({ reason: z.string(), ...why }),
  'rolled-back': z.object(ending),
  aborted: z.object(ending),
  finished: z.object({
    ...ending,
    /** an EKS managed update's id */
    updateId: z.optional(z.string()),
    startedAt: z.optional(z.iso.datetime()),
    batches: z.optional(count),
    of: z.optional(count),
  }),
  'rollback-failed': z.object({
    ...ending,
    ...finish,
    /** what a person must finish, each with its command */
    left: z.optional(texts),
  }),
  failed: z.object({ ...finish, reason: z.optional(z.string()), report: z.optional(ManagedFailureReportSchema), ...why }),
  declined: z.object({
    ...finish,
    /** `already-rolling`, or why it was refused, in words */
    reason: z.optional(z.string()),
    /** already-rolling: the execution that holds the group */
    heldBy: z.optional(z.string()),
  }),
} as const;

function rolloutEvent<const P extends RolloutEventName>(phase: P) {
  return z.extend(PHASES[phase], { ...RolloutAboutSchema.shape, phase: z.literal(phase) });
}

/** Every rollout event's detail, by detail-type. */
export const ROLLOUT_EVENT_SCHEMAS = {
  'Rollout Planned': rolloutEvent('planned'),
  'Rollout Approval Requested': rolloutEvent('approval-requested'),
  'Rollout Approved': rolloutEvent('approved'),
  'Rollout Canary Passed': rolloutEvent('canary-passed'),
  'Rollout Batch Finished': rolloutEvent('batch-finished'),
  'Rollout Paused': rolloutEvent('paused'),
  'Rollout Resumed': rolloutEvent('resumed'),
  'Rollout Rolling Back': rolloutEvent('rolling-back'),
  'Rollout Rolled Back': rolloutEvent('rolled-back'),
  'Rollout Aborted': rolloutEvent('aborted'),
  'Rollout Finished': rolloutEvent('finished'),
  'Rollout Rollback Failed': rolloutEvent('rollback-failed'),
  'Rollout Failed': rolloutEvent('failed'),
  'Rollout Declined': rolloutEvent('declined'),
} as const satisfies { [P in RolloutEventName as (typeof ROLLOUT_EVENTS)[P]]: unknown };

/** A rollout event's detail as read: `phase` tells which. */
export type RolloutEventDetail = z.output<(typeof ROLLOUT_EVENT_SCHEMAS)[keyof typeof ROLLOUT_EVENT_SCHEMAS]>;
export type RolloutPhaseOf<P extends RolloutEventName> = Extract<RolloutEventDetail, { phase: P }>;

/** What a publisher gives for a phase; the notifier adds what every rollout event says. */
export type RolloutPhaseDetail<P extends RolloutEventName> = P extends RolloutEventName ? z.input<(typeof PHASES)[P]> & { summary?: string | undefined } : never;

/** One announcement: a phase and its detail. */
export type RolloutNotice = { [P in RolloutEventName]: { event: P; detail: RolloutPhaseDetail<P> } }[RolloutEventName];

/** The port a rollout step announces through: the phases it may announce, each with its detail. */
export type RolloutNotify<Phases extends RolloutEventName = RolloutEventName> = <P extends Phases>(event: P, detail: RolloutPhaseDetail<P>) => Promise<void>;
