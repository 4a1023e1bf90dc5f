import * as z from 'zod/mini';
import { INVISIBLE_CHARACTER } from '../invisible-characters.js';
import { ExecutionStepsSchema, LineageSchema } from './continuation.js';
import { DrainPolicySchema } from './drain.js';
import { clusterName, instanceId, placeFields } from './eventbridge.js';
import { PrepareLaunchTemplateInputSchema } from './detection.js';
import { EXECUTION_ARN } from '../ids.js';
import { RING_NAME } from '../fleet/promotion-policy.js';
import { SignalResultSchema } from '../fleet/workload-health.js';

/**
 * The ami-rollout workflow's data: what starts it, what each step is given, and the state
 * the roll loop carries from one step to the next. One schema per shape; the TypeScript
 * types are inferred from them, so what a step validates is what the code uses.
 */

const group = PrepareLaunchTemplateInputSchema.shape.group;
const target = PrepareLaunchTemplateInputSchema.shape.target;
const groupName = z.string().check(z.minLength(1), z.maxLength(255));
const executionArn = z.string().check(z.regex(EXECUTION_ARN, 'must be a Step Functions execution ARN'));

/**
 * Where a rollout's step acts, as the workflow hands it on (`$.place`, set at its start from
 * the input's accountId and region: a JSONPath to a field that may be absent would fail the
 * state, so the place travels as one object that is always there). `{}`: the hub's own place;
 * absent (a step of an execution started before places existed): the same.
 */
export const StepPlaceSchema = z.optional(z.object(placeFields));
export type StepPlace = z.infer<typeof StepPlaceSchema>;

/** The launch template step: what detection's PrepareLaunchTemplate input says, in the rollout's place. */
export const PrepareLaunchTemplateStepSchema = z.extend(PrepareLaunchTemplateInputSchema, { place: StepPlaceSchema });

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Input of the ami-rollout workflow: from detection, or from a person (chat, CLI). */
export const RolloutInputSchema = z.object({
  ...placeFields,
  cluster: clusterName,
  group,
  target,
  from: z._default(z.object({ imageId: z.optional(z.string()), release: z.optional(z.string()) }), {}),
  mode: z._default(z.enum(['auto', 'approve']), 'auto'),
  detectedAt: z.optional(z.iso.datetime()),
  /** who asked: detection waits for the maintenance window, a person outside it is refused unless startNow */
  startedBy: z._default(
    z.object({ kind: z.enum(['detection', 'person']), who: z.optional(z.string().check(z.maxLength(200))), startNow: z._default(z.boolean(), false) }),
    { kind: 'detection', startNow: false },
  ),
  /** a person's overrides of the group's tags, for this rollout only */
  overrides: z._default(
    z.object({
      maxUnavailable: z.optional(
        z.union([
          z.int().check(z.positive(), z.lte(1000)),
          z.pipe(
            z.string().check(z.regex(/^(100|[1-9]\d?)%$/, 'must be 1% to 100%')),
            z.transform((v) => v as `${number}%`),
          ),
        ]),
      ),
    }),
    {},
  ),
  /** set by the workflow (its first execution, and the fresh ones it goes on in): kept by BeginRollout, which returns the input */
  lineage: z.optional(LineageSchema),
  /**
   * The release this rollout moves the group to (shared/fleet/release.ts releaseKey) and the
   * group's ring, when known: at every batch boundary the rollout asks the fleet table whether
   * a freeze pauses it or a hold of the release stops it (shared/fleet/may-start.ts
   * atBatchBoundary), and its outcome is recorded for the release's promotion. Absent (a
   * rollout begun before fleet promotion, or of an image no release names): freezes of
   * everything and of its cluster still pause it.
   */
  fleet: z.optional(
    // {} (read as null): the workflow's placeholder when there is none (a JSONPath to an absent
    // field fails its state, and a Pass state cannot produce null)
    z.pipe(z.transform((value: unknown) => (isEmptyObject(value) ? null : value)), z.nullable(z.object({
      release: z.string().check(z.minLength(1), z.maxLength(80)),
      ring: z.optional(z.string().check(z.regex(RING_NAME))),
      /** begun by the promotion to roll a group back off a held release */
      rollbackOf: z.optional(z.string().check(z.minLength(1), z.maxLength(80))),
    }))),
  ),
});
export type RolloutFleet = NonNullable<RolloutInput['fleet']>;
export type RolloutInput = z.infer<typeof RolloutInputSchema>;
/** What starts an execution (detection, chat): the input before its defaults are filled in. */
export type RolloutRequest = z.input<typeof RolloutInputSchema>;

export const RolloutPolicySchema = z.object({
  maxUnavailable: z.union([z.int().check(z.positive()), z.string().check(z.regex(/^\d{1,3}%$/))]),
  canary: z.int().check(z.nonnegative()),
  strategy: z.enum(['surge', 'minimal']),
  approval: z.boolean(),
  selfManagedStrategy: z.enum(['batches', 'instance-refresh']),
  window: z.optional(z.string()),
  /** when the window closes mid-rollout: wait for it to open again, or end the rollout there */
  onWindowClose: z._default(z.enum(['wait', 'end']), 'wait'),
  /** a pause longer than this ends the rollout (tag max-pause; 7 days when a rollout began without it) */
  maxPauseSeconds: z._default(z.int().check(z.gte(3600), z.lte(30 * 86_400)), 7 * 86_400),
  /** the group's configuration problems (malformed tags, a drain timeout shorter than the grace period cap), reported with the plan */
  problems: z.optional(z.array(z.string().check(z.maxLength(500))).check(z.maxLength(20))),
  drain: DrainPolicySchema,
});
export type RolloutPolicyInput = z.infer<typeof RolloutPolicySchema>;

/**
 * BeginRollout: the workflow input as it came (defaults not yet filled in) and the execution
 * that asks for the lock. The step returns the input with its defaults, so every later state
 * can name any field.
 */
export const BeginRolloutInputSchema = z.object({ input: RolloutInputSchema, executionArn });

const launchTemplateResult = z.union([
  z.object({ launchTemplateId: z.string(), version: z.int().check(z.positive()), created: z.boolean(), pruned: z.array(z.number()), family: z.string() }),
  z.object({ launchTemplateId: z.null(), reason: z.string() }),
]);

const instanceIds = z.array(instanceId).check(z.maxLength(2000));

/** One replacement cycle: launch fresh instances, drain the ones they replace, terminate those. */
export const CycleSchema = z.object({
  kind: z.enum(['batch', 'rollback']),
  /** instances this cycle takes out (old nodes, or in a rollback the new ones) */
  retire: instanceIds,
  /** instances in the group when the cycle began: anything else is a replacement */
  known: instanceIds,
  replacements: instanceIds,
  /** how many replacements the cycle waits for */
  expect: z.int().check(z.nonnegative()),
  /** when the current phase must be over (replacements Ready, drains done, health) */
  deadline: z.iso.datetime(),
  /** when the cycle asked for its replacements (how long a boot takes is learned from it) */
  launchedAt: z.optional(z.iso.datetime()),
  /** the drain's deadline passed and the policy says force: passes delete what budgets still block */
  forcing: z.optional(z.boolean()),
  /** drain passes in a row that were blocked and evicted nothing (the wait backs off) */
  blockedPasses: z.optional(z.int().check(z.nonnegative())),
  /** what the last drain pass could not evict, for the report if the drain fails */
  blockers: z.optional(z.array(z.string().check(z.maxLength(300))).check(z.maxLength(20))),
  /** pods this cycle's forced passes deleted, `ns/pod (PodDisruptionBudget ns/name)` */
  forced: z.optional(z.array(z.string().check(z.maxLength(300))).check(z.maxLength(50))),
});
export type Cycle = z.infer<typeof CycleSchema>;

/** Sizes and launch template setting of an Auto Scaling group, as a rollout sets and compares them. */
export const GroupSettingsSchema = z.object({
  desired: z.int().check(z.nonnegative()),
  min: z.int().check(z.nonnegative()),
  max: z.int().check(z.nonnegative()),
  launchTemplate: z.optional(z.object({ id: z.string(), version: z.string() })),
});
export type GroupSettings = z.infer<typeof GroupSettingsSchema>;

const ROLL_PHASES = [
  'start',
  'launch',
  'await-replacements',
  'cordon',
  'drain',
  'await-drain',
  'terminate',
  'await-terminated',
  'health',
  'batch-done',
] as const;

/**
 * A paused roll: by a person (at a batch boundary), by a change someone else made to the group
 * (wherever the roll was: it goes on from there once a person resumes), or by the maintenance
 * window (closed at a batch boundary: it goes on when the window opens).
 */
export const PauseSchema = z.object({
  kind: z.enum(['person', 'interference', 'window', 'freeze']),
  since: z.iso.datetime(),
  /** the phase the roll goes on from; `next-batch`: the next batch */
  resume: z.enum([...ROLL_PHASES, 'next-batch']),
  /** interference: what changed, in words (`desired moved from 5 to 7`) */
  changes: z.optional(z.array(z.string().check(z.maxLength(300))).check(z.maxLength(10))),
  /** window: when it opens again */
  opensAt: z.optional(z.iso.datetime()),
  /** freeze: the freeze, in words (who, why, since when) */
  reason: z.optional(z.string().check(z.maxLength(500))),
});
export type Pause = z.infer<typeof PauseSchema>;

export const RollbackCauseSchema = z.enum(['failed-health', 'held']);

export const SelfManagedRollSchema = z.object({
  kind: z.literal('self-managed'),
  phase: z.enum([
    ...ROLL_PHASES,
    'paused',
    'rollback',
    'finish',
    'give-up',
    'ended',
  ]),
  original: z.object({
    desired: z.int().check(z.nonnegative()),
    min: z.int().check(z.nonnegative()),
    max: z.int().check(z.nonnegative()),
    /** the version the group's instances ran, as a number: what a rollback launches */
    launchTemplate: z.object({ id: z.string(), version: z.string() }),
    /** the group's own setting when it named no number: restored at the end, whatever the end */
    launchTemplateSetting: z.optional(z.enum(['$Latest', '$Default'])),
    /** true when the rollout suspended AZRebalance (and so must resume it) */
    suspendedAZRebalance: z.boolean(),
  }),
  /**
   * The group as this rollout last left it (sizes and template setting). A step that finds it
   * otherwise knows someone else changed it: it pauses (or, rolling back, adopts the change),
   * and never writes the other party's fields back.
   */
  expected: z.optional(GroupSettingsSchema),
  /** why the roll is paused, and where it goes on from */
  pause: z.optional(PauseSchema),
  /** instances this rollout drained and asked to terminate, followed until they leave the group (their terminate hooks) */
  terminated: z.optional(z.array(z.object({ instanceId, at: z.iso.datetime() })).check(z.maxLength(1000))),
  /** the launch template was set outside this rollout: the end leaves it as it was set */
  foreignTemplate: z.optional(z.object({ id: z.string(), version: z.string() })),
  /** the sizes the rollout planned with, and how far others moved them (uncapped): `original` is their sum made valid */
  adoption: z.optional(
    z.object({
      planned: z.object({ desired: z.int().check(z.nonnegative()), min: z.int().check(z.nonnegative()), max: z.int().check(z.nonnegative()) }),
      shift: z.object({ desired: z.int(), min: z.int(), max: z.int() }),
    }),
  ),
  /** changes made to the group by others and adopted, for the report */
  adopted: z.optional(z.array(z.string().check(z.maxLength(300))).check(z.maxLength(20))),
  /** pods a forced drain deleted (`ns/pod (PodDisruptionBudget ns/name)`), for the report */
  forced: z.optional(z.array(z.string().check(z.maxLength(300))).check(z.maxLength(50))),
  /** why the roll ended early when no person asked (the maintenance window closed, a pause that lasted too long) */
  endReason: z.optional(z.string().check(z.maxLength(500))),
  /** what a rollback that could not finish left behind, each with the command that finishes it */
  left: z.optional(z.array(z.string().check(z.maxLength(600))).check(z.maxLength(40))),
  target: z.object({ launchTemplateId: z.string(), version: z.string() }),
  autoScalingGroup: groupName,
  strategy: z.enum(['surge', 'minimal']),
  maxUnavailable: z.int().check(z.positive()),
  batches: z.array(z.object({ canary: z.boolean(), instanceIds, zones: z.array(z.string()) })).check(z.maxLength(2000)),
  batchIndex: z.int().check(z.nonnegative()),
  cycle: z.nullable(CycleSchema),
  /** every instance this rollout launched on the new template version */
  launched: instanceIds,
  cordonedAll: z.boolean(),
  /** how long a batch's replacements took to become Ready nodes, learned from the last batch: the next waits that long before it looks */
  bootSeconds: z.optional(z.number().check(z.nonnegative())),
  replaced: z.int().check(z.nonnegative()),
  rollback: z.nullable(
    z.object({
      reason: z.string(),
      attempts: z.int().check(z.nonnegative()),
      announced: z.optional(z.boolean()),
      /** why the rollout rolls back when it is not a failed step: the batch gate saw workloads regress, or a hold of the release stopped it */
      cause: z.optional(RollbackCauseSchema),
      /** failed-health: the signals that regressed, with their numbers, for the events */
      signals: z.optional(z.array(SignalResultSchema).check(z.maxLength(8))),
    }),
  ),
  /** set when the roll is over: the step after the loop reports it */
  end: z.nullable(z.enum(['finished', 'rolled-back', 'aborted', 'rollback-failed'])),
});
export type SelfManagedRoll = z.infer<typeof SelfManagedRollSchema>;

export const ManagedRollSchema = z.object({
  kind: z.literal('managed'),
  managed: z.nullable(
    z.object({
      phase: z.enum(['config', 'await-config', 'version', 'await-version', 'await-rollback']),
      configUpdateId: z.optional(z.string()),
      updateId: z.optional(z.string()),
      startedAt: z.string(),
      /** a freeze held the update before it started: since when (the update starts when it is lifted) */
      frozenSince: z.optional(z.string()),
      /** the new nodes' workloads regressed: why, the signals, and the update that takes the group back */
      rollback: z.optional(
        z.object({
          reason: z.string(),
          cause: RollbackCauseSchema,
          signals: z.optional(z.array(SignalResultSchema).check(z.maxLength(8))),
          updateId: z.optional(z.string()),
        }),
      ),
    }),
  ),
  /** refused: a hold of the release stopped it before the update started (nothing changed) */
  end: z.nullable(z.enum(['finished', 'failed', 'rolled-back', 'refused'])),
  report: z.nullable(z.record(z.string(), z.unknown())),
});
export type ManagedRoll = z.infer<typeof ManagedRollSchema>;

export const RefreshRollSchema = z.object({
  kind: z.literal('instance-refresh'),
  autoScalingGroup: groupName,
  refresh: z.nullable(
    z.object({
      refreshId: z.nullable(z.string()),
      startedAt: z.string(),
      checkpointHealthChecked: z.boolean(),
      rollbackReason: z.optional(z.string()),
      /** why we rolled back besides an unready canary: workloads regressed, or a hold of the release */
      cause: z.optional(RollbackCauseSchema),
      /** failed-health: the signals that regressed, with their numbers, for the events */
      signals: z.optional(z.array(SignalResultSchema).check(z.maxLength(8))),
    }),
  ),
  /** a freeze covering the group before the refresh started: when it was first seen (the refresh waits) */
  frozenSince: z.optional(z.string()),
  /** refused: a hold of the release stopped it before it started (nothing changed) */
  end: z.nullable(z.enum(['finished', 'failed', 'rolled-back', 'refused'])),
  reason: z.nullable(z.string()),
});
export type RefreshRoll = z.infer<typeof RefreshRollSchema>;

export const RollStateSchema = z.discriminatedUnion('kind', [SelfManagedRollSchema, ManagedRollSchema, RefreshRollSchema]);
export type RollState = z.infer<typeof RollStateSchema>;

/** What the roll step returns: the state, and whether to call again now, after a wait, or end. */
export const RollStepResultSchema = z.object({
  state: RollStateSchema,
  next: z.enum(['step', 'wait', 'end']),
  wait: z.nullable(z.object({ seconds: z.int().check(z.nonnegative()), phase: z.enum(['replacements', 'drains', 'terminations', 'health', 'paused', 'window', 'nodegroup-update', 'instance-refresh']) })),
  /** for people: where the roll is */
  summary: z.string(),
  /** the end, for FinishRollout: finished | rolled-back | aborted | failed | rollback-failed */
  outcome: z.nullable(z.string()),
  /** steps in this execution; `continue`: about to wait, the rollout goes on in a fresh execution */
  here: z._default(ExecutionStepsSchema, { steps: 0, continue: false }),
});
export type RollStepResult = z.infer<typeof RollStepResultSchema>;

function isFirstMarker(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length === 1 && (value as { first?: unknown }).first === true;
}

/** One call of the roll loop. `failure` is set when the previous call failed (Catch): the step rolls back. */
export const RollStepInputSchema = z.extend(RolloutInputSchema, {
  place: StepPlaceSchema,
  executionArn,
  policy: RolloutPolicySchema,
  launchTemplate: launchTemplateResult,
  /** the previous step's result; before the first step the workflow has only a marker (`{ first: true }`) */
  roll: z.pipe(
    z.transform((value: unknown) => (isFirstMarker(value) ? null : value)),
    z.nullable(RollStepResultSchema),
  ),
  failure: z.optional(z.nullable(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }))),
  /** the rollback failed past every retry (the workflow's Catch): tidy up what can be, and list the rest */
  giveUp: z.optional(z.boolean()),
});
export type RollStepInput = z.infer<typeof RollStepInputSchema>;

/** The preflight step: read only. */
export const PreflightInputSchema = z.object({
  place: StepPlaceSchema,
  cluster: clusterName,
  group,
  target,
  surge: z.int().check(z.nonnegative(), z.lte(1000)),
  executionArn: z.optional(executionArn),
});

/** Every way a rollout ends; FinishRollout releases the lock and says so. */
export const RolloutOutcomeSchema = z.enum([
  'finished',
  'rolled-back',
  'aborted',
  'failed',
  'rollback-failed',
  'refused',
  'preflight-failed',
  'rejected',
  'approval-expired',
  'launch-template-invalid',
]);
export type RolloutOutcome = z.infer<typeof RolloutOutcomeSchema>;

/** A step's error as the workflow's Catch hands it on (`$.error`). */
export const StepErrorSchema = z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) });

/** The preflight step's report (`$.preflight`); only the failed checks are shown. */
export const PreflightReportSchema = z.object({
  ok: z.optional(z.boolean()),
  summary: z.optional(z.string()),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.optional(z.string()), fix: z.optional(z.string()) })),
});

/** What the step before the end found: the roll's last summary, a preflight report (tried before an error: both are objects), an error. */
export const FinishDetailSchema = z.nullable(z.union([z.string(), PreflightReportSchema, StepErrorSchema]));
export type FinishDetail = z.infer<typeof FinishDetailSchema>;

export const FinishRolloutInputSchema = z.object({
  place: StepPlaceSchema,
  cluster: clusterName,
  group,
  target,
  executionArn,
  outcome: RolloutOutcomeSchema,
  detail: z.optional(FinishDetailSchema),
  /** a rollout of a release: its end is recorded for the release's promotion (the roll loop's ends) */
  fleet: z.optional(RolloutInputSchema.shape.fleet),
  from: z.optional(RolloutInputSchema.shape.from),
});
export type FinishRolloutInput = z.infer<typeof FinishRolloutInputSchema>;

/** The approval gate's callback task: the token Step Functions waits on. */
export const RequestApprovalInputSchema = z.object({
  taskToken: z.string().check(z.minLength(1), z.maxLength(4096)),
  place: StepPlaceSchema,
  cluster: clusterName,
  group,
  target,
  from: RolloutInputSchema.shape.from,
  executionArn,
  plan: z.looseObject({ summary: z.string() }),
  /** who started the rollout: they may not approve it */
  startedBy: RolloutInputSchema.shape.startedBy,
});
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;

/** Chat and CLI: approve, reject, pause, resume or abort the rollout of a group. */
export const RolloutControlRequestSchema = z.object({
  kind: z.literal('rollout-control'),
  /** the cluster's place; absent: the hub's own */
  ...placeFields,
  cluster: clusterName,
  group: groupName,
  action: z.enum(['approve', 'reject', 'pause', 'resume', 'abort']),
  requestedBy: z.string().check(z.minLength(1), z.maxLength(200)),
  // shown in chat and kept with the approval: as visible as a typed --reason (the grammar's rule)
  reason: z.optional(z.string().check(z.maxLength(500), z.refine((text) => !INVISIBLE_CHARACTER.test(text), 'must hold no invisible character (a control, U+200B, a tag character, a bidi override)'))),
  /** resume: the number of the pause it ends (the lock counts pauses); a resume for another pause is refused */
  pause: z.optional(z.int().check(z.positive())),
});
export type RolloutControlRequest = z.infer<typeof RolloutControlRequestSchema>;
