import type { SelfManagedRoll } from '../../events/rollout.js';
import type { KubeClients } from '../../kube/client.js';
import { parseWindow } from '../maintenance-window.js';
import { lockKeyOf, type NodeGroupLocks } from '../node-group-lock.js';
import { awayPlace } from '../rollout-place.js';
import { type AnnouncePort, type RollContext, type RollStrategy, selfManagedTarget, type StepOutcome } from '../roll-strategy.js';
import { DEFAULT_ROLL_SETTINGS, afterFailure, type RollDecision, type RollSettings } from './decide-self-managed.js';
import { planSelfManagedRoll, stepSelfManaged, type SelfManagedPorts } from './roll-self-managed.js';

/** A self-managed Auto Scaling group rolled in batches by this service (decide-self-managed.ts). */
export interface SelfManagedStrategyPorts extends Omit<SelfManagedPorts, 'kube' | 'notify' | 'executionArn' | 'maxGracePeriodSeconds' | 'pauseLock' | 'recordIntent'>, AnnouncePort {
  kube: KubeClients;
  locks: Pick<NodeGroupLocks, 'pauseIfUncontrolled' | 'recordIntent'>;
}

export const selfManaged: RollStrategy<SelfManagedRoll, SelfManagedStrategyPorts> = {
  kind: 'self-managed',

  async plan({ input }, ports) {
    const target = selfManagedTarget(input);
    const state = await planSelfManagedRoll(
      {
        cluster: input.cluster,
        autoScalingGroup: target.autoScalingGroup,
        target: { launchTemplateId: target.launchTemplateId, version: target.version },
        originalVersion: target.originalVersion,
        policy: { maxUnavailable: input.policy.maxUnavailable as number | `${number}%`, canary: input.policy.canary, strategy: input.policy.strategy },
      },
      ports,
    );
    return { state, next: 'step', wait: null, summary: `planned ${state.batches.reduce((n, b) => n + b.instanceIds.length, 0)} nodes in ${state.batches.length} batches`, outcome: null };
  },

  step: (state, context, ports) => roll(state, context, ports),

  // a self-managed roll rolls back (decide-self-managed.ts afterFailure)
  afterFailure: (state, error, context, ports) => roll(afterFailure(state, error), context, ports),

  giveUp(state, failure, context, ports) {
    // the rollback failed past every retry: tidy up what can be, and report the rest
    const last = state.phase === 'ended' ? state : { ...state, phase: 'give-up' as const, rollback: { reason: `${state.rollback?.reason ?? 'the rollback failed'}; last: ${failure ?? 'unknown error'}`, attempts: state.rollback?.attempts ?? 0 } };
    return roll(last, context, ports);
  },
};

async function roll(state: SelfManagedRoll, { input, control, intent }: RollContext, ports: SelfManagedStrategyPorts): Promise<StepOutcome> {
  const decision = await stepSelfManaged(state, { cluster: input.cluster, control, settings: settingsFor(input), ...(intent ? { intent } : {}) }, selfManagedPorts(input, ports));
  return fromDecision(decision);
}

function fromDecision(decision: RollDecision): StepOutcome {
  return {
    state: decision.state,
    next: decision.next,
    wait: decision.wait,
    summary: decision.summary,
    outcome: decision.next === 'end' ? (decision.state.end ?? 'finished') : null,
  };
}

function settingsFor(input: RollContext['input']): RollSettings {
  // a rollout a person started with --now outside the window is not held to it; any other is, to its end
  const parsed = input.policy.window && !input.startedBy.startNow ? parseWindow(input.policy.window) : undefined;
  return {
    ...DEFAULT_ROLL_SETTINGS,
    drainTimeoutSeconds: input.policy.drain.drainTimeoutSeconds,
    forceAtDeadline: input.policy.drain.onDrainTimeout === 'force',
    onWindowClose: input.policy.onWindowClose,
    maxPauseSeconds: input.policy.maxPauseSeconds,
    ...(parsed && 'window' in parsed ? { window: parsed.window } : {}),
  };
}

function selfManagedPorts(input: RollContext['input'], ports: SelfManagedStrategyPorts): SelfManagedPorts {
  const key = lockKeyOf(input.cluster, input.group.name, input.place);
  const place = awayPlace(input.place);
  return {
    ...ports,
    kube: async () => {
      const [core, policy] = await Promise.all([ports.kube.core(input.cluster), ports.kube.policy(input.cluster)]);
      return { core, policy };
    },
    pauseLock: (reason) => ports.locks.pauseIfUncontrolled(key, input.executionArn, `eks-node-lifecycle: ${reason}`),
    recordIntent: (intent) => ports.locks.recordIntent(key, input.executionArn, intent),
    ...(place ? { place } : {}),
    executionArn: input.executionArn,
    maxGracePeriodSeconds: input.policy.drain.maxGracePeriodSeconds,
  };
}
