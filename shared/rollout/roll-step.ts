import type { RollStepInput, RollStepResult, RollState, SelfManagedRoll } from '../events/rollout.js';
import type { AwsScope } from '../aws/clients.js';
import { stepTaken } from '../workflow/continuation.js';
import type { GroupIntent } from './group-interference.js';
import { ConfigurationError } from '../errors.js';
import { DEFAULT_ROLL_SETTINGS, afterFailure, type RollDecision, type RollSettings } from './decide-self-managed.js';
import { stepInstanceRefresh, refreshPreferences } from './instance-refresh.js';
import { stepManagedUpdate } from './managed-update.js';
import { lockKeyOf, type NodeGroupLocks } from './node-group-lock.js';
import { planSelfManagedRoll, stepSelfManaged, type SelfManagedPorts } from './roll-self-managed.js';
import type { RolloutEventName } from './rollout-events.js';
import { checkHealth, nodesByInstance } from './health-gate.js';
import type { KubeClients } from '../kube/client.js';
import { snapshotGroup } from '../aws/auto-scaling-groups.js';
import { parseWindow } from './maintenance-window.js';

export interface RollStepPorts extends Omit<SelfManagedPorts, 'kube' | 'notify' | 'executionArn' | 'maxGracePeriodSeconds' | 'pauseLock' | 'recordIntent'> {
  aws: AwsScope;
  kube: KubeClients;
  locks: NodeGroupLocks;
  /** `once`: announced once per rollout (see runRollStep) */
  notify: (event: RolloutEventName, detail: Record<string, unknown>, once?: string) => Promise<void>;
}

/** The lock is renewed at every step: a rollout that stops stepping loses it within the hour. */
const LEASE_SECONDS = 3600;

/**
 * One call of the ami-rollout roll loop, whatever the group:
 * 1. renew the group's lock (LockLostError: someone else may be changing the group, stop);
 *    read a person's pause/abort from it;
 * 2. first call: plan, changing nothing — the batches of a self-managed group, or the start
 *    of an EKS managed update or an instance refresh;
 * 3. after a failed call (the workflow's Catch): a self-managed roll rolls back; the others
 *    report the failure;
 * 4. otherwise one step of the group's roll, which says whether to go on now, after a wait,
 *    or end.
 */
export async function runRollStep(input: RollStepInput, ports: RollStepPorts): Promise<RollStepResult> {
  const result = await rollStep(input, ports);
  // counted per execution: past the limit, a step about to wait has the rollout go on in a fresh execution
  return { ...result, here: stepTaken(input.roll?.here, result.next === 'wait') };
}

/** What a step decides; the workflow's count of steps is added by runRollStep. */
type StepOutcome = Omit<RollStepResult, 'here'>;

async function rollStep(input: RollStepInput, ports: RollStepPorts): Promise<StepOutcome> {
  const now = ports.now();
  const key = lockKeyOf(input.cluster, input.group.name);
  const previous = input.roll?.state ?? null;
  // what held the last drain pass back, for status and -w, in the renewal's own write
  const blockedBy = (previous as { cycle?: { blockers?: string[] } | null } | null)?.cycle?.blockers ?? [];
  const lock = await ports.locks.renew(key, input.executionArn, LEASE_SECONDS, now, blockedBy);
  const control = lock.control ?? null;
  const lt = input.launchTemplate;
  // each announcement once per rollout: a step that runs again (a retry, a rollback cycle) does not repeat it
  const announced = new Set(lock.announced ?? []);
  const notifyOnce = async (event: RolloutEventName, detail: Record<string, unknown>, once?: string): Promise<void> => {
    if (once !== undefined && announced.has(once)) return;
    // the plan says what is wrong with the group's configuration, where the operator reads it
    await ports.notify(event, event === 'planned' && input.policy.problems?.length ? { ...detail, problems: input.policy.problems } : detail);
    if (once === undefined) return;
    await ports.locks.markAnnounced(key, input.executionArn, once);
    announced.add(once);
  };
  const steps = { ...ports, notify: notifyOnce };

  if (!previous) return plan(input, steps);
  const failure = input.failure ? `${input.failure.Error ?? 'Error'}: ${input.failure.Cause ?? ''}`.slice(0, 1000) : undefined;
  if (input.giveUp && previous.kind === 'self-managed') {
    // the rollback failed past every retry: tidy up what can be, and report the rest
    const state: SelfManagedRoll = previous.phase === 'ended' ? previous : { ...previous, phase: 'give-up', rollback: { reason: `${previous.rollback?.reason ?? 'the rollback failed'}; last: ${failure ?? 'unknown error'}`, attempts: previous.rollback?.attempts ?? 0 } };
    return fromDecision(await stepSelfManaged(state, { cluster: input.cluster, control, settings: settingsFor(input), ...(lock.intent ? { intent: lock.intent } : {}) }, selfManagedPorts(input, steps)));
  }
  if (failure && input.roll) return afterStepFailure(previous, failure, input, steps, control, lock.intent);

  switch (previous.kind) {
    case 'self-managed':
      return fromDecision(await stepSelfManaged(previous, { cluster: input.cluster, control, settings: settingsFor(input), ...(lock.intent ? { intent: lock.intent } : {}) }, selfManagedPorts(input, steps)));
    case 'managed': {
      const step = await stepManagedUpdate(
        {
          cluster: input.cluster,
          nodegroup: input.group.name,
          launchTemplate: lt.launchTemplateId ? { id: lt.launchTemplateId, version: lt.version } : null,
          ...(input.target.release ? { releaseVersion: input.target.release } : {}),
          state: previous.managed,
          clientRequestToken: clientToken(input.executionArn),
        },
        { aws: ports.aws, kube: () => Promise.resolve(ports.kube), now: ports.now, log: ports.log },
      );
      if (control) ports.log('pause and abort do not apply to an EKS managed update already under way', { control });
      if (step.kind === 'wait') {
        return { state: { ...previous, managed: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'nodegroup-update' }, summary: step.detail ?? step.phase, outcome: null };
      }
      if (step.kind === 'succeeded') {
        await ports.notify('finished', { updateId: step.updateId }, 'end');
        return { state: { ...previous, managed: step.state, end: 'finished' }, next: 'end', wait: null, summary: `EKS update ${step.updateId} succeeded: every node runs the new image`, outcome: 'finished' };
      }
      await ports.notify('failed', { report: step.report, summary: `${input.cluster}/${input.group.name}: ${step.report.summary}` }, 'end');
      return { state: { ...previous, managed: step.state, end: 'failed', report: step.report as unknown as Record<string, unknown> }, next: 'end', wait: null, summary: step.report.summary, outcome: 'failed' };
    }
    case 'instance-refresh': {
      if (!lt.launchTemplateId) throw new ConfigurationError('an instance refresh needs the launch template version prepared for the new image');
      const core = await ports.kube.core(input.cluster);
      const group = await snapshotGroup(ports.aws, previous.autoScalingGroup);
      const step = await stepInstanceRefresh(
        {
          autoScalingGroup: previous.autoScalingGroup,
          launchTemplate: { id: lt.launchTemplateId, version: lt.version },
          preferences: refreshPreferences({
            desired: group?.desired ?? 1,
            maxUnavailable: input.policy.maxUnavailable as number | `${number}%`,
            canary: input.policy.canary,
            warmupSeconds: 60,
            checkpointDelaySeconds: DEFAULT_ROLL_SETTINGS.healthTimeoutSeconds,
          }),
          state: previous.refresh,
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
      if (step.kind === 'wait') {
        return { state: { ...previous, refresh: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'instance-refresh' }, summary: `${step.phase}: ${step.percentageComplete}% complete, ${step.instancesToUpdate} to update`, outcome: null };
      }
      const outcome = step.kind === 'succeeded' ? 'finished' : step.kind;
      const reason = step.kind === 'succeeded' ? null : step.reason;
      await ports.notify(outcome, reason ? { reason } : {}, 'end');
      return { state: { ...previous, refresh: step.state, end: outcome, reason }, next: 'end', wait: null, summary: reason ?? 'instance refresh succeeded: every node runs the new image', outcome };
    }
  }
}

async function plan(input: RollStepInput, ports: RollStepPorts): Promise<StepOutcome> {
  const lt = input.launchTemplate;
  const image = input.target.release ?? input.target.imageName ?? input.target.imageId;
  if (input.group.kind === 'managed') {
    await ports.notify('planned', { strategy: 'eks-managed-update', summary: `${input.cluster}/${input.group.name}: EKS managed node group update onto ${image}` }, 'planned');
    return { state: { kind: 'managed', managed: null, end: null, report: null }, next: 'step', wait: null, summary: 'starting the EKS managed node group update', outcome: null };
  }
  if (!lt.launchTemplateId || !input.group.launchTemplate) throw new ConfigurationError(`self-managed group ${input.group.name} has no launch template to roll onto`);
  const autoScalingGroup = input.group.autoScalingGroup ?? input.group.name;
  if (input.policy.selfManagedStrategy === 'instance-refresh') {
    await ports.notify('planned', { strategy: 'instance-refresh', summary: `${input.cluster}/${input.group.name}: instance refresh onto ${image}` }, 'planned');
    return { state: { kind: 'instance-refresh', autoScalingGroup, refresh: null, end: null, reason: null }, next: 'step', wait: null, summary: 'starting an instance refresh', outcome: null };
  }
  const state = await planSelfManagedRoll(
    {
      cluster: input.cluster,
      autoScalingGroup,
      target: { launchTemplateId: lt.launchTemplateId, version: lt.version },
      originalVersion: input.group.launchTemplate.version,
      policy: { maxUnavailable: input.policy.maxUnavailable as number | `${number}%`, canary: input.policy.canary, strategy: input.policy.strategy },
    },
    ports,
  );
  return { state, next: 'step', wait: null, summary: `planned ${state.batches.reduce((n, b) => n + b.instanceIds.length, 0)} nodes in ${state.batches.length} batches`, outcome: null };
}

async function afterStepFailure(previous: RollState, error: string, input: RollStepInput, ports: RollStepPorts, control: 'pause' | 'abort' | null, intent: GroupIntent | undefined): Promise<StepOutcome> {
  ports.log('rollout step failed', { error, kind: previous.kind });
  if (previous.kind !== 'self-managed') {
    await ports.notify('failed', { reason: error }, 'end');
    return { state: { ...previous, end: 'failed' } as RollState, next: 'end', wait: null, summary: `failed: ${error}`, outcome: 'failed' };
  }
  const state: SelfManagedRoll = afterFailure(previous, error);
  return fromDecision(await stepSelfManaged(state, { cluster: input.cluster, control, settings: settingsFor(input), ...(intent ? { intent } : {}) }, selfManagedPorts(input, ports)));
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

function settingsFor(input: RollStepInput): RollSettings {
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

function selfManagedPorts(input: RollStepInput, ports: RollStepPorts & { notify: SelfManagedPorts['notify'] }): SelfManagedPorts {
  const key = lockKeyOf(input.cluster, input.group.name);
  return {
    ...ports,
    kube: async () => {
      const [core, policy] = await Promise.all([ports.kube.core(input.cluster), ports.kube.policy(input.cluster)]);
      return { core, policy };
    },
    pauseLock: (reason) => ports.locks.pauseIfUncontrolled(key, input.executionArn, `eks-node-lifecycle: ${reason}`),
    recordIntent: (intent) => ports.locks.recordIntent(key, input.executionArn, intent),
    executionArn: input.executionArn,
    maxGracePeriodSeconds: input.policy.drain.maxGracePeriodSeconds,
  };
}

/** EKS clientRequestToken: ≤ 64 characters, the same for every retry of this execution. */
function clientToken(executionArn: string): string {
  const name = executionArn.split(':').at(-1) ?? executionArn;
  return name.length <= 64 ? name : name.slice(name.length - 64);
}
