import type { RollState, RollStepInput, RollStepResult } from '../events/rollout.js';
import { stepTaken } from '../workflow/continuation.js';
import { instanceRefresh, type InstanceRefreshStrategyPorts } from './instance-refresh/instance-refresh-strategy.js';
import { managedUpdate, type ManagedUpdateStrategyPorts } from './managed-update/managed-update-strategy.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import type { RollContext, RollStrategy, StepOutcome } from './roll-strategy.js';
import type { RolloutEventName, RolloutPhaseDetail } from '../events/rollout-events.js';
import { selfManaged, type SelfManagedStrategyPorts } from './self-managed/self-managed-strategy.js';

export interface RollStepPorts extends ManagedUpdateStrategyPorts, InstanceRefreshStrategyPorts, Omit<SelfManagedStrategyPorts, 'locks'> {
  locks: NodeGroupLocks;
  /** `once`: announced once per rollout (see runRollStep) */
  notify: <P extends RolloutEventName>(event: P, detail: RolloutPhaseDetail<P>, once?: string) => Promise<void>;
}

/** Every strategy, by the kind of roll state it carries. */
const STRATEGIES: { [K in RollState['kind']]: RollStrategy<Extract<RollState, { kind: K }>, RollStepPorts> } = {
  managed: managedUpdate,
  'instance-refresh': instanceRefresh,
  'self-managed': selfManaged,
};

/** The strategy that rolls a group: EKS's own update for a managed group, the group's tag for a self-managed one. */
function chooseStrategy(input: RollStepInput): RollStrategy<RollState, RollStepPorts> {
  if (input.group.kind === 'managed') return strategyOf('managed');
  return strategyOf(input.policy.selfManagedStrategy === 'instance-refresh' ? 'instance-refresh' : 'self-managed');
}

function strategyOf<S extends RollState>(kind: S['kind']): RollStrategy<S, RollStepPorts> {
  return STRATEGIES[kind] as unknown as RollStrategy<S, RollStepPorts>;
}

/** The lock is renewed at every step: a rollout that stops stepping loses it within the hour. */
const LEASE_SECONDS = 3600;

/**
 * One call of the ami-rollout roll loop, whatever the group:
 * 1. renew the group's lock (LockLostError: someone else may be changing the group, stop);
 *    read a person's pause/abort from it;
 * 2. first call: the chosen strategy plans, changing nothing;
 * 3. after a failed call (the workflow's Catch): the roll's strategy answers the failure (a
 *    self-managed roll rolls back, the others report it); past every retry, it gives up;
 * 4. otherwise one step of the roll's strategy, which says whether to go on now, after a
 *    wait, or end.
 */
export async function runRollStep(input: RollStepInput, ports: RollStepPorts): Promise<RollStepResult> {
  const result = await rollStep(input, ports);
  // counted per execution: past the limit, a step about to wait has the rollout go on in a fresh execution
  return { ...result, here: stepTaken(input.roll?.here, result.next === 'wait') };
}

async function rollStep(input: RollStepInput, ports: RollStepPorts): Promise<StepOutcome> {
  const now = ports.now();
  const key = lockKeyOf(input.cluster, input.group.name, input.place);
  const previous = input.roll?.state ?? null;
  // 1. what held the last drain pass back, for status and -w, in the renewal's own write
  const blockedBy = (previous as { cycle?: { blockers?: string[] } | null } | null)?.cycle?.blockers ?? [];
  const lock = await ports.locks.renew(key, input.executionArn, LEASE_SECONDS, now, blockedBy);
  // each announcement once per rollout: a step that runs again (a retry, a rollback cycle) does not repeat it
  const announced = new Set(lock.announced ?? []);
  const notifyOnce = async <P extends RolloutEventName>(event: P, detail: RolloutPhaseDetail<P>, once?: string): Promise<void> => {
    if (once !== undefined && announced.has(once)) return;
    // the plan says what is wrong with the group's configuration, where the operator reads it
    await ports.notify(event, event === 'planned' && input.policy.problems?.length ? { ...detail, problems: input.policy.problems } : detail);
    if (once === undefined) return;
    await ports.locks.markAnnounced(key, input.executionArn, once);
    announced.add(once);
  };
  const steps = { ...ports, notify: notifyOnce };
  const context: RollContext = { input, control: lock.control ?? null, ...(lock.intent ? { intent: lock.intent } : {}) };

  // 2.
  if (!previous) return chooseStrategy(input).plan(context, steps);
  const strategy = strategyOf<RollState>(previous.kind);
  // 3.
  const failure = input.failure ? `${input.failure.Error ?? 'Error'}: ${input.failure.Cause ?? ''}`.slice(0, 1000) : undefined;
  if (input.giveUp && strategy.giveUp) return strategy.giveUp(previous, failure, context, steps);
  if (failure && input.roll) {
    ports.log('rollout step failed', { error: failure, kind: previous.kind });
    return strategy.afterFailure(previous, failure, context, steps);
  }
  // 4.
  return strategy.step(previous, context, steps);
}
