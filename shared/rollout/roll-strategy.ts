import type { RollState, RollStepInput, RollStepResult } from '../events/rollout.js';
import { ConfigurationError } from '../errors.js';
import type { GroupIntent } from './group-interference.js';
import type { RolloutEventName, RolloutPhaseDetail } from '../events/rollout-events.js';

/**
 * One way of rolling a node group onto a new image, behind the interface the roll step
 * dispatches to (after Karpenter's disruption `Method`): a new strategy is a new folder
 * beside managed-update/, instance-refresh/ and self-managed/, and one line in roll-step.ts.
 * Each strategy keeps its decisions pure and its side effects in its own step.
 */
export interface RollStrategy<S extends RollState, P> {
  readonly kind: S['kind'];
  /** the first call: the roll's starting state and its announcement; changes nothing in the group */
  plan(context: RollContext, ports: P): Promise<StepOutcome>;
  /** one step from `state`: go on now, after a wait, or end */
  step(state: S, context: RollContext, ports: P): Promise<StepOutcome>;
  /** the previous step failed past its retries (the workflow's Catch) */
  afterFailure(state: S, error: string, context: RollContext, ports: P): Promise<StepOutcome>;
  /** recovering from a failure failed past every retry: tidy up what can be; without it, one more failure */
  giveUp?(state: S, failure: string | undefined, context: RollContext, ports: P): Promise<StepOutcome>;
}

/** What a step decides; the workflow's count of steps is added by the dispatcher. */
export type StepOutcome = Omit<RollStepResult, 'here'>;

/** What a step knows besides the roll's state. */
export interface RollContext {
  input: RollStepInput;
  /** a person's pause or abort, read from the group's lock */
  control: 'pause' | 'abort' | null;
  /** what this rollout's last group-changing step was changing (kept in the lock) */
  intent?: GroupIntent;
}

/** The announcements of a strategy; `once`: announced once per rollout (the lock keeps what was said). */
export interface AnnouncePort {
  notify: <P extends RolloutEventName>(event: P, detail: RolloutPhaseDetail<P>, once?: string) => Promise<void>;
}

/** An announcement a pure decision asks for; its strategy's step makes it. */
export type Announcement = { [P in RolloutEventName]: { event: P; detail: RolloutPhaseDetail<P>; once?: string } }[RolloutEventName];

/** Strategies that roll an EKS update or a refresh cannot undo a failed step: they report it and end. */
export async function endOnFailure<S extends RollState>(state: S, error: string, ports: AnnouncePort): Promise<StepOutcome> {
  await ports.notify('failed', { reason: error }, 'end');
  return { state: { ...state, end: 'failed' } as RollState, next: 'end', wait: null, summary: `failed: ${error}`, outcome: 'failed' };
}

/** The Auto Scaling group a self-managed strategy rolls, and the launch template version prepared for it. */
export function selfManagedTarget(input: RollStepInput): { autoScalingGroup: string; launchTemplateId: string; version: number; originalVersion: number } {
  const lt = input.launchTemplate;
  if (!lt.launchTemplateId || !input.group.launchTemplate) throw new ConfigurationError(`self-managed group ${input.group.name} has no launch template to roll onto`);
  return { autoScalingGroup: input.group.autoScalingGroup ?? input.group.name, launchTemplateId: lt.launchTemplateId, version: lt.version, originalVersion: input.group.launchTemplate.version };
}

/** What the plan announces: the image the group rolls onto, by its most human name. */
export function targetImage(input: RollStepInput): string {
  return input.target.release ?? input.target.imageName ?? input.target.imageId;
}
