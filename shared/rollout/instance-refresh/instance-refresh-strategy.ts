import { snapshotGroup } from '../../aws/auto-scaling-groups.js';
import type { AwsScope } from '../../aws/clients.js';
import { ConfigurationError } from '../../errors.js';
import type { RefreshRoll } from '../../events/rollout.js';
import type { KubeClients } from '../../kube/client.js';
import { checkHealth, nodesByInstance } from '../health-gate.js';
import { type AnnouncePort, type Announcement, endOnFailure, type RollStrategy, selfManagedTarget, type StepOutcome, targetImage } from '../roll-strategy.js';
import { DEFAULT_ROLL_SETTINGS } from '../self-managed/decide-self-managed.js';
import { refreshPreferences, type RefreshStep, stepInstanceRefresh } from './instance-refresh.js';

/** `strategy=instance-refresh`: Auto Scaling replaces a self-managed group's instances; the steps watch, and gate the canary. */
export interface InstanceRefreshStrategyPorts extends AnnouncePort {
  aws: AwsScope;
  kube: KubeClients;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export const instanceRefresh: RollStrategy<RefreshRoll, InstanceRefreshStrategyPorts> = {
  kind: 'instance-refresh',

  async plan({ input }, ports) {
    const { autoScalingGroup } = selfManagedTarget(input);
    await ports.notify('planned', { strategy: 'instance-refresh', summary: `${input.cluster}/${input.group.name}: instance refresh onto ${targetImage(input)}` }, 'planned');
    return { state: { kind: 'instance-refresh', autoScalingGroup, refresh: null, end: null, reason: null }, next: 'step', wait: null, summary: 'starting an instance refresh', outcome: null };
  },

  async step(state, { input }, ports) {
    const lt = input.launchTemplate;
    if (!lt.launchTemplateId) throw new ConfigurationError('an instance refresh needs the launch template version prepared for the new image');
    const core = await ports.kube.core(input.cluster);
    const group = await snapshotGroup(ports.aws, state.autoScalingGroup);
    const step = await stepInstanceRefresh(
      {
        autoScalingGroup: state.autoScalingGroup,
        launchTemplate: { id: lt.launchTemplateId, version: lt.version },
        preferences: refreshPreferences({
          desired: group?.desired ?? 1,
          maxUnavailable: input.policy.maxUnavailable as number | `${number}%`,
          canary: input.policy.canary,
          warmupSeconds: 60,
          checkpointDelaySeconds: DEFAULT_ROLL_SETTINGS.healthTimeoutSeconds,
        }),
        state: state.refresh,
      },
      {
        aws: ports.aws,
        now: ports.now,
        log: ports.log,
        checkHealth: async (ids) => {
          const verdict = await checkHealth(core, input.cluster, ids, await nodesByInstance(core, input.cluster));
          return verdict.verdict === 'healthy' ? { verdict: 'healthy' } : { verdict: 'pending', reason: verdict.reason };
        },
      },
    );
    const { outcome, announce } = refreshOutcome(state, step);
    if (announce) await ports.notify(announce.event, announce.detail, announce.once);
    return outcome;
  },

  afterFailure: (state, error, _context, ports) => endOnFailure(state, error, ports),
};

/** What a step of the refresh means for the roll, and what it announces. Pure. */
export function refreshOutcome(previous: RefreshRoll, step: RefreshStep): { outcome: StepOutcome; announce?: Announcement } {
  if (step.kind === 'wait') {
    return { outcome: { state: { ...previous, refresh: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'instance-refresh' }, summary: `${step.phase}: ${step.percentageComplete}% complete, ${step.instancesToUpdate} to update`, outcome: null } };
  }
  const outcome = step.kind === 'succeeded' ? 'finished' : step.kind;
  const reason = step.kind === 'succeeded' ? null : step.reason;
  return {
    outcome: { state: { ...previous, refresh: step.state, end: outcome, reason }, next: 'end', wait: null, summary: reason ?? 'instance refresh succeeded: every node runs the new image', outcome },
    announce: { event: outcome, detail: reason ? { reason } : {}, once: 'end' },
  };
}
