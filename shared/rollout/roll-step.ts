import type { RollState, RollStepInput, RollStepResult } from '../events/rollout.js';
import { stepTaken } from '../workflow/continuation.js';
import { instanceRefresh, type InstanceRefreshStrategyPorts } from './instance-refresh/instance-refresh-strategy.js';
import { managedUpdate, type ManagedUpdateStrategyPorts } from './managed-update/managed-update-strategy.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import type { RollContext, RollStrategy, StepOutcome } from './roll-strategy.js';
import type { RolloutEventName, RolloutPhaseDetail } from '../events/rollout-events.js';
import { selfManaged, type SelfManagedStrategyPorts } from './self-managed/self-managed-strategy.js';
import type { GroupOutcome } from '../aws/fleet-records.js';
import { atBatchBoundary, type FleetView } from '../fleet/may-start.js';
import { criteriaFor, type PromotionPolicy } from '../fleet/promotion-policy.js';
import { DEFAULT_HEALTH_CRITERIA } from '../fleet/workload-health.js';
import { groupRefOf, outcomeRecord } from './fleet-outcome.js';

/** The fleet, as a rollout sees it: freezes and holds at its batch boundaries, its outcome for the release, the health thresholds. */
export interface RolloutFleetPorts {
  view: () => Promise<FleetView>;
  recordOutcome: (release: string, outcome: GroupOutcome) => Promise<void>;
  /** the promotion policy, or none configured (then the default thresholds) */
  policy: () => Promise<PromotionPolicy | undefined>;
}

/** The ports a strategy gets from the fleet (fleetPortsOf), not from the step's caller. */
type FleetPortKeys = 'healthCriteria' | 'atBatchBoundary' | 'recordOutcome';

export interface RollStepPorts extends Omit<ManagedUpdateStrategyPorts, FleetPortKeys>, Omit<InstanceRefreshStrategyPorts, FleetPortKeys>, Omit<SelfManagedStrategyPorts, 'locks' | FleetPortKeys> {
  locks: NodeGroupLocks;
  fleet: RolloutFleetPorts;
  /** `once`: announced once per rollout (see runRollStep) */
  notify: <P extends RolloutEventName>(event: P, detail: RolloutPhaseDetail<P>, once?: string) => Promise<void>;
}

/** Every strategy, by the kind of roll state it carries. */
/** What a strategy is given: the step's ports, with the fleet as this rollout sees it. */
type StrategyPorts = RollStepPorts & ReturnType<typeof fleetPortsOf>;

const STRATEGIES: { [K in RollState['kind']]: RollStrategy<Extract<RollState, { kind: K }>, StrategyPorts> } = {
  managed: managedUpdate,
  'instance-refresh': instanceRefresh,
  'self-managed': selfManaged,
};

/** The strategy that rolls a group: EKS's own update for a managed group, the group's tag for a self-managed one. */
function chooseStrategy(input: RollStepInput): RollStrategy<RollState, StrategyPorts> {
  if (input.group.kind === 'managed') return strategyOf('managed');
  return strategyOf(input.policy.selfManagedStrategy === 'instance-refresh' ? 'instance-refresh' : 'self-managed');
}

function strategyOf<S extends RollState>(kind: S['kind']): RollStrategy<S, StrategyPorts> {
  return STRATEGIES[kind] as unknown as RollStrategy<S, StrategyPorts>;
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
  const steps = { ...ports, notify: notifyOnce, ...fleetPortsOf(input, ports) };
  const context: RollContext = { input, control: lock.control ?? null, ...(lock.intent ? { intent: lock.intent } : {}) };

  // 2. planned (nothing changed yet, the lock held): the group is rolling onto the release
  if (!previous) {
    const planned = await chooseStrategy(input).plan(context, steps);
    await steps.recordOutcome('rolling', planned.summary);
    return planned;
  }
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

/**
 * The fleet as one rollout sees it. The health thresholds: the promotion policy's for the
 * group's ring (if any) and cluster, else the defaults. The boundary: atBatchBoundary with the
 * rollout's release and ring; without them, only a freeze of everything or of its cluster
 * applies (no release to hold). The outcome: recorded only for a rollout of a release.
 */
export function fleetPortsOf(input: RollStepInput, ports: Pick<RollStepPorts, 'fleet' | 'now'>) {
  const fleet = input.fleet ?? undefined;
  const ref = groupRefOf(input);
  const membership = fleet?.ring ? ({ kind: 'ring', ring: fleet.ring, index: -1, from: 'group' } as const) : ({ kind: 'none' } as const);
  return {
    healthCriteria: async () => {
      const policy = await ports.fleet.policy();
      return policy ? criteriaFor(policy, fleet?.ring ?? '', input.cluster) : DEFAULT_HEALTH_CRITERIA;
    },
    atBatchBoundary: async () => {
      const view = await ports.fleet.view();
      return fleet ? atBatchBoundary({ ref, membership }, fleet.release, view) : atBatchBoundary({ ref, membership }, '', { freezes: view.freezes, promotions: [] });
    },
    recordOutcome: async (state: GroupOutcome['state'], detail: string) => {
      if (fleet) await ports.fleet.recordOutcome(fleet.release, outcomeRecord(input, fleet, state, detail, ports.now()));
    },
  };
}
