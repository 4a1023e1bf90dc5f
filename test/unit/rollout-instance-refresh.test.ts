import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../../shared/aws/clients';
import { startInstanceRefresh } from '../../shared/aws/instance-refresh';
import {
  decideRefresh,
  minimumHealthy,
  refreshPreferences,
  stepInstanceRefresh,
  type RefreshObservation,
  type RefreshPorts,
  type RefreshState,
  type RefreshStep,
} from '../../shared/rollout/instance-refresh/instance-refresh';
import { resolveMaxUnavailable } from '../../shared/rollout/plan-batches';
import type { SignalResult } from '../../shared/fleet/workload-health';
import { beforeStart, refreshOutcome } from '../../shared/rollout/instance-refresh/instance-refresh-strategy';
import type { RefreshRoll } from '../../shared/events/rollout';
import { isTerminating, type LifecycleActionDetail, SimAccount, VirtualClock } from '@eks-node-lifecycle/sandbox';

describe('refreshPreferences', () => {
  const cases: [string, Parameters<typeof refreshPreferences>[0], Partial<ReturnType<typeof refreshPreferences>>][] = [
    ['10 nodes, max-unavailable 1 → 90 %', { desired: 10, maxUnavailable: 1, canary: 1, warmupSeconds: 60, checkpointDelaySeconds: 900 }, { MinHealthyPercentage: 90, CheckpointPercentages: [10, 100], CheckpointDelay: 900 }],
    ['10 nodes, 20 % → 80 %', { desired: 10, maxUnavailable: '20%', canary: 0, warmupSeconds: 60, checkpointDelaySeconds: 900 }, { MinHealthyPercentage: 80 }],
    ['3 nodes, 1 → 66 % (ceil(1.98) = 2 kept)', { desired: 3, maxUnavailable: 1, canary: 1, warmupSeconds: 0, checkpointDelaySeconds: 600 }, { MinHealthyPercentage: 66, CheckpointPercentages: [33, 100] }],
    ['250 nodes, 1 → 100 % (99 % would let 3 go)', { desired: 250, maxUnavailable: 1, canary: 0, warmupSeconds: 0, checkpointDelaySeconds: 0 }, { MinHealthyPercentage: 100 }],
    ['canary of the whole group → checkpoint capped at 99', { desired: 4, maxUnavailable: 4, canary: 4, warmupSeconds: 0, checkpointDelaySeconds: 60 }, { MinHealthyPercentage: 0, CheckpointPercentages: [99, 100] }],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const prefs = refreshPreferences(input);
      assert.deepEqual({ ...prefs, ...expected }, prefs);
      assert.equal(prefs.SkipMatching, true);
      assert.equal(prefs.MaxHealthyPercentage, 100);
      assert.equal(prefs.InstanceWarmup, input.warmupSeconds);
    });
  }

  it('has no checkpoint without a canary', () => {
    const prefs = refreshPreferences({ desired: 10, maxUnavailable: 2, canary: 0, warmupSeconds: 30, checkpointDelaySeconds: 900 });
    assert.equal(prefs.CheckpointPercentages, undefined);
    assert.equal(prefs.CheckpointDelay, undefined);
  });

  const maxUnavailable = fc.oneof(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 1, max: 100 }).map((p) => `${p}%` as const));

  it('never lets Auto Scaling keep fewer than desired − max-unavailable healthy, and lets it progress', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), maxUnavailable, (desired, mu) => {
        const k = resolveMaxUnavailable(mu, desired);
        const { MinHealthyPercentage: min } = refreshPreferences({ desired, maxUnavailable: mu, canary: 0, warmupSeconds: 0, checkpointDelaySeconds: 0 });
        const kept = minimumHealthy(desired, min);
        assert.ok(min >= 0 && min <= 100);
        assert.ok(kept >= desired - k, `desired ${desired}, k ${k}: ${min}% keeps ${kept}`);
        // progress: at least one may go; at 100 % Auto Scaling still replaces one at a time (documented), which is ≤ k
        assert.ok(kept <= desired - 1 || min === 100, `desired ${desired}, k ${k}: ${min}% keeps ${kept}`);
        // up to 100 nodes a percentage step is at most one node: exactly k go at once
        if (desired <= 100 && k < desired) assert.equal(kept, desired - k);
      }),
      { numRuns: 10_000 },
    );
  });

  it('puts the checkpoint where exactly the canary has been replaced (groups up to 100)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100 }).chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: 1, max: d - 1 }))), ([desired, canary]) => {
        const cp = refreshPreferences({ desired, maxUnavailable: 1, canary, warmupSeconds: 0, checkpointDelaySeconds: 60 }).CheckpointPercentages![0]!;
        if (cp === 99) return; // capped: pauses later than the canary, never earlier
        const percent = (replaced: number) => Math.floor((100 * replaced) / desired);
        assert.ok(percent(canary) >= cp, 'the canary reaches it');
        assert.ok(percent(canary - 1) < cp, 'one node fewer does not');
        assert.ok(Math.ceil((cp * desired) / 100) <= canary, 'pacing to it never replaces more than the canary');
      }),
      { numRuns: 10_000 },
    );
  });
});

const crashLoop = { signal: 'crash-loops', status: 'regressed', detail: '2 pods', evidence: [] } as unknown as SignalResult;
const regressedHealth = { verdict: 'regressed' as const, reason: 'workloads regressed on the new nodes: crash-loops: 2 pods', signals: [crashLoop] };

describe('decideRefresh', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const state: RefreshState = { refreshId: 'r-1', startedAt: '2026-11-21T09:00:00Z', checkpointHealthChecked: false };
  const checked: RefreshState = { ...state, checkpointHealthChecked: true };
  const refresh = (status: string, extra: Partial<NonNullable<RefreshObservation['refresh']>> = {}) =>
    ({ refreshId: 'r-1', status, percentageComplete: 0, instancesToUpdate: 10, ...extra }) as NonNullable<RefreshObservation['refresh']>;
  const paused = refresh('InProgress', { percentageComplete: 10, statusReason: 'Waiting for checkpoint delay: checkpoint 10% reached' });

  const table: [string, RefreshObservation, RefreshState, Record<string, unknown>][] = [
    ['waits while Pending', { refresh: refresh('Pending'), checkpointPercentage: 10 }, state, { kind: 'wait', phase: 'refresh-in-progress', seconds: 30 }],
    ['waits while InProgress before the checkpoint', { refresh: refresh('InProgress', { percentageComplete: 0 }), checkpointPercentage: 10 }, state, { kind: 'wait', phase: 'refresh-in-progress' }],
    ['asks for the health gate at the checkpoint', { refresh: paused, checkpointPercentage: 10 }, state, { kind: 'check-health' }],
    ['keeps waiting at the checkpoint while the gate is pending', { refresh: paused, checkpointPercentage: 10, health: { verdict: 'pending' } }, state, { kind: 'wait', phase: 'refresh-checkpoint', state }],
    ['records a healthy gate and waits out the checkpoint', { refresh: paused, checkpointPercentage: 10, health: { verdict: 'healthy' } }, state, { kind: 'wait', phase: 'refresh-checkpoint', state: checked }],
    ['rolls back on an unhealthy gate', { refresh: paused, checkpointPercentage: 10, health: { verdict: 'unhealthy', reason: 'node x NotReady' } }, state, { kind: 'roll-back', reason: 'canary health gate failed: node x NotReady' }],
    ['does not gate twice', { refresh: paused, checkpointPercentage: 10 }, checked, { kind: 'wait', phase: 'refresh-checkpoint', state: checked }],
    ['rolls back a refresh that moved past the checkpoint ungated (fail closed)', { refresh: refresh('InProgress', { percentageComplete: 20 }), checkpointPercentage: 10 }, state, { kind: 'roll-back' }],
    ['waits without a checkpoint', { refresh: refresh('InProgress', { percentageComplete: 70 }) }, state, { kind: 'wait', phase: 'refresh-in-progress' }],
    ['succeeds once Successful and gated', { refresh: refresh('Successful', { percentageComplete: 100 }), checkpointPercentage: 10 }, checked, { kind: 'succeeded' }],
    ['gates a refresh that skipped its checkpoint before calling it a success', { refresh: refresh('Successful', { percentageComplete: 100 }), checkpointPercentage: 10 }, state, { kind: 'check-health' }],
    ['fails (cannot roll back) a finished refresh whose gate is unhealthy', { refresh: refresh('Successful'), checkpointPercentage: 10, health: { verdict: 'unhealthy', reason: 'pods CrashLoopBackOff' } }, state, { kind: 'failed', reason: 'canary health gate failed: pods CrashLoopBackOff' }],
    ['fails with the status reason', { refresh: refresh('Failed', { statusReason: 'launch failed' }) }, state, { kind: 'failed', reason: 'instance refresh r-1 failed: launch failed' }],
    ['reports a cancel by someone else as failed', { refresh: refresh('Cancelled') }, state, { kind: 'failed', reason: 'instance refresh r-1 was cancelled' }],
    ['waits through our rollback', { refresh: refresh('RollbackInProgress') }, { ...state, rollbackReason: 'why' }, { kind: 'wait' }],
    ['reports the rollback with our reason', { refresh: refresh('RollbackSuccessful', { rollbackReason: 'Rollback requested by user.' }) }, { ...state, rollbackReason: 'canary health gate failed: x' }, { kind: 'rolled-back', reason: 'canary health gate failed: x' }],
    ['reports a failed rollback', { refresh: refresh('RollbackFailed', { statusReason: 'boom' }) }, state, { kind: 'failed', reason: 'rollback of instance refresh r-1 failed: boom' }],
    ['fails when the refresh is gone', { refresh: undefined }, state, { kind: 'failed', reason: 'instance refresh r-1 not found' }],
    // workloads (health-gate.ts) and the fleet (may-start.ts atBatchBoundary)
    ['rolls back when the canary\'s workloads regressed at the checkpoint', { refresh: paused, checkpointPercentage: 10, health: regressedHealth }, state, { kind: 'roll-back', reason: 'health gate: workloads regressed on the new nodes: crash-loops: 2 pods', state: { ...state, cause: 'failed-health', signals: [crashLoop] } }],
    ['rolls back a regression seen at a poll past the gate (the watch)', { refresh: refresh('InProgress', { percentageComplete: 60 }), checkpointPercentage: 10, health: regressedHealth }, checked, { kind: 'roll-back', state: { ...checked, cause: 'failed-health', signals: [crashLoop] } }],
    ['fails (cannot roll back) a finished refresh whose workloads regressed', { refresh: refresh('Successful'), checkpointPercentage: 10, health: regressedHealth }, state, { kind: 'failed', reason: 'health gate: workloads regressed on the new nodes: crash-loops: 2 pods' }],
    ['keeps waiting at the checkpoint on insufficient data (pending readiness)', { refresh: paused, checkpointPercentage: 10, health: { verdict: 'pending', reason: 'pods not Running/Ready' } }, state, { kind: 'wait', phase: 'refresh-checkpoint', state }],
    ['rolls back a running refresh whose release is held (stopped)', { refresh: refresh('InProgress', { percentageComplete: 30 }), boundary: { verdict: 'stop', hold: {} as never, reason: 'rel is held: crash loops in dev' } }, checked, { kind: 'roll-back', reason: 'stopped: rel is held: crash loops in dev', state: { ...checked, cause: 'held' } }],
    ['goes on under a freeze (a running refresh cannot pause)', { refresh: refresh('InProgress', { percentageComplete: 30 }), boundary: { verdict: 'pause', freeze: {} as never, reason: 'frozen: all' } }, checked, { kind: 'wait', phase: 'refresh-in-progress' }],
    ['does not roll back twice: a hold during our rollback waits', { refresh: refresh('RollbackInProgress'), boundary: { verdict: 'stop', hold: {} as never, reason: 'held' } }, { ...state, rollbackReason: 'x' }, { kind: 'wait' }],
  ];
  for (const [name, observation, s, expected] of table) {
    it(name, () => {
      const decision = decideRefresh(observation, s, now) as unknown as Record<string, unknown>;
      assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, decision[k]])), expected);
    });
  }
});

// ---- the step against the simulated Auto Scaling group ----

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

async function sandbox(t: { after: (fn: () => void) => void }, options: { version?: string; desired?: number } = {}) {
  const clock = new VirtualClock();
  let account!: SimAccount;
  account = new SimAccount({
    clock,
    // the service's drain on the terminate hook, done in 30 s
    emit: (event) => {
      if (event['detail-type'] !== 'EC2 Instance-terminate Lifecycle Action') return;
      const d = event.detail as unknown as LifecycleActionDetail;
      clock.after(30_000, () => account.autoscaling.completeLifecycleAction({ AutoScalingGroupName: d.AutoScalingGroupName, LifecycleHookName: d.LifecycleHookName, LifecycleActionToken: d.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' }));
    },
  }).bind();
  t.after(() => account.restore());
  account.seedVpc();
  account.eks.addCluster({ name: 'prod', version: '1.31' });
  const desired = options.desired ?? 4;
  const group = account.createSelfManagedGroup({
    cluster: 'prod', name: 'web', desired, min: desired, max: desired, launchTemplateVersion: options.version ?? '1',
    hooks: { terminate: { heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
  });
  await clock.advance(60_000);
  const v2 = account.ec2.launchTemplates.createVersion({ LaunchTemplateId: group.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { InstanceType: 'm5.xlarge' } });
  const version = v2.LaunchTemplateVersion!.VersionNumber!;
  const aws = awsScope(config);
  const live = () => [...account.autoscaling.group('web').instances.values()].filter((i) => !isTerminating(i.lifecycleState));
  const logs: string[] = [];
  const gateCalls: string[][] = [];
  const ports = (verdict: 'healthy' | 'unhealthy') => ({
    aws,
    now: () => clock.date(),
    log: (m: string) => void logs.push(m),
    checkHealth: async (ids: string[]) => {
      gateCalls.push(ids);
      return verdict === 'healthy' ? { verdict } : { verdict, reason: `node of ${ids[0]} NotReady` };
    },
  });
  const preferences = refreshPreferences({ desired, maxUnavailable: 1, canary: 1, warmupSeconds: 30, checkpointDelaySeconds: 600 });
  const input = { autoScalingGroup: 'web', launchTemplate: { id: group.launchTemplateId, version }, preferences };

  /** Runs the step as the workflow would: call, wait `seconds`, call again. */
  async function run(verdict: 'healthy' | 'unhealthy', extra: Partial<RefreshPorts> = {}): Promise<{ end: RefreshStep; steps: RefreshStep[] }> {
    const steps: RefreshStep[] = [];
    let state: RefreshState | null = null;
    for (let i = 0; i < 500; i++) {
      const step = await stepInstanceRefresh({ ...input, state }, { ...ports(verdict), ...extra });
      steps.push(step);
      if (step.kind !== 'wait') return { end: step, steps };
      state = step.state;
      await clock.advance(step.seconds * 1000);
    }
    throw new Error('the refresh never ended');
  }
  return { clock, account, group, version, aws, live, logs, gateCalls, input, run };
}

describe('stepInstanceRefresh (sandbox)', () => {
  it('starts the refresh, gates the canary at the checkpoint, and succeeds with every instance on the new version', async (t) => {
    const { account, group, version, live, gateCalls, run } = await sandbox(t);
    const old = live().map((i) => i.instanceId);
    const { end, steps } = await run('healthy');
    assert.equal(end.kind, 'succeeded');
    assert.ok(end.state.checkpointHealthChecked);
    assert.equal(gateCalls.length, 1, 'the gate ran once');
    assert.equal(gateCalls[0]!.length, 1, 'on the one canary instance');
    assert.ok(!old.includes(gateCalls[0]![0]!));
    assert.ok(steps.some((s) => s.kind === 'wait' && s.phase === 'refresh-checkpoint'));
    assert.deepEqual(live().map((i) => i.launchTemplate?.Version), Array(4).fill(String(version)));
    assert.equal(account.autoscaling.group('web').launchTemplate?.Version, String(version));
    assert.equal(account.autoscaling.group('web').launchTemplate?.LaunchTemplateId, group.launchTemplateId);
    const starts = account.calls.filter((c) => c.command === 'StartInstanceRefresh');
    assert.equal(starts.length, 1);
    assert.deepEqual((starts[0]!.input as { Preferences: unknown }).Preferences, { MinHealthyPercentage: 75, MaxHealthyPercentage: 100, SkipMatching: true, InstanceWarmup: 30, CheckpointPercentages: [25, 100], CheckpointDelay: 600 });
  });

  it('rolls the group back when the canary is unhealthy: every instance ends on the old version', async (t) => {
    const { account, live, run } = await sandbox(t);
    const { end } = await run('unhealthy');
    assert.equal(end.kind, 'rolled-back');
    assert.match((end as { reason: string }).reason, /canary health gate failed: node of i-\w+ NotReady/);
    assert.deepEqual(live().map((i) => i.launchTemplate?.Version), ['1', '1', '1', '1']);
    assert.equal(account.autoscaling.group('web').launchTemplate?.Version, '1');
    assert.equal(account.calls.filter((c) => c.command === 'RollbackInstanceRefresh').length, 1);
  });

  it('rolls back when the replaced instances\' workloads regress past the gate (the watch): every instance ends on the old version', async (t) => {
    const { account, live, run } = await sandbox(t);
    const watched: string[][] = [];
    // the watch sees a regression once two instances are replaced (after the canary gate passed)
    const watchHealth = async (ids: string[], old: string[]) => {
      watched.push(ids);
      assert.equal(ids.length + old.length, 4, 'the new instances and the baseline are the group\'s InService instances');
      return ids.length >= 2 ? regressedHealth : { verdict: 'pending' as const };
    };
    const { end } = await run('healthy', { watchHealth });
    assert.equal(end.kind, 'rolled-back');
    assert.deepEqual([end.state.cause, end.state.signals], ['failed-health', [crashLoop]]);
    assert.match((end as { reason: string }).reason, /health gate: workloads regressed/);
    assert.ok(watched.length >= 1);
    assert.deepEqual(live().map((i) => i.launchTemplate?.Version), ['1', '1', '1', '1']);
    assert.equal(account.calls.filter((c) => c.command === 'RollbackInstanceRefresh').length, 1);
  });

  it('rolls back a running refresh when its release is held (the fleet, looked at every poll)', async (t) => {
    const { account, live, run } = await sandbox(t);
    let polls = 0;
    const atBatchBoundary = async () => (++polls >= 3 ? { verdict: 'stop' as const, hold: {} as never, reason: 'rel is held' } : { verdict: 'continue' as const });
    const { end } = await run('healthy', { atBatchBoundary });
    assert.equal(end.kind, 'rolled-back');
    assert.equal(end.state.cause, 'held');
    assert.equal((end as { reason: string }).reason, 'stopped: rel is held');
    assert.deepEqual(live().map((i) => i.launchTemplate?.Version), ['1', '1', '1', '1']);
    assert.equal(account.calls.filter((c) => c.command === 'RollbackInstanceRefresh').length, 1);
  });

  it('cancels and fails with the reason when Auto Scaling cannot roll back ($Latest)', async (t) => {
    const { account, clock, run } = await sandbox(t, { version: '$Latest' });
    const { end } = await run('unhealthy');
    await clock.advance(10 * 60_000);
    assert.equal(end.kind, 'failed');
    assert.match((end as { reason: string }).reason, /canary health gate failed.*cannot roll this refresh back.*cancelled/);
    assert.equal(account.calls.filter((c) => c.command === 'CancelInstanceRefresh').length, 1);
    assert.equal(account.autoscaling.refreshes.records[0]!.refresh.Status, 'Cancelled');
  });

  it('refuses an EKS managed node group\'s Auto Scaling group before any write', async (t) => {
    const { account, input, aws } = await sandbox(t);
    account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 2 });
    const asgName = account.eks.requireNodegroup('prod', 'general').autoScalingGroupName;
    await assert.rejects(
      stepInstanceRefresh({ ...input, autoScalingGroup: asgName, state: null }, { aws, now: () => new Date(), log: () => undefined, checkHealth: async () => ({ verdict: 'healthy' }) }),
      (error: Error) => error.name === 'ConfigurationError' && /managed node group general/.test(error.message),
    );
    assert.equal(account.calls.filter((c) => c.command === 'StartInstanceRefresh').length, 0);
  });

  it('has nothing to do when the group and every instance already run the target version', async (t) => {
    const { account, input, aws, group } = await sandbox(t);
    const step = await stepInstanceRefresh({ ...input, launchTemplate: { id: group.launchTemplateId, version: 1 }, state: null }, { aws, now: () => new Date(), log: () => undefined, checkHealth: async () => ({ verdict: 'healthy' }) });
    assert.deepEqual([step.kind, step.state.refreshId], ['succeeded', null]);
    assert.equal(account.calls.filter((c) => c.command === 'StartInstanceRefresh').length, 0);
  });

  it('adopts its own running refresh on a retry and refuses somebody else\'s', async (t) => {
    const { account, aws, group, version, input } = await sandbox(t);
    const first = await startInstanceRefresh(aws, 'web', { launchTemplateId: group.launchTemplateId, version }, input.preferences);
    const again = await startInstanceRefresh(aws, 'web', { launchTemplateId: group.launchTemplateId, version }, input.preferences);
    assert.deepEqual(again, { refreshId: first.refreshId, adopted: true });
    assert.equal(first.adopted, false);
    await assert.rejects(startInstanceRefresh(aws, 'web', { launchTemplateId: group.launchTemplateId, version: 1 }, input.preferences), { name: 'ConfigurationError' });
    assert.equal(account.calls.filter((c) => c.command === 'StartInstanceRefresh' && !c.error).length, 1);
  });

  it('adopts when a concurrent start wins the race (InstanceRefreshInProgressFault after an empty describe)', async (t) => {
    const { account, aws, group, version, input } = await sandbox(t);
    // the first describe sees nothing; a concurrent retry starts the refresh before our start lands
    let raced = false;
    account.faults.set('StartInstanceRefresh', (i) => {
      if (raced) return undefined;
      raced = true;
      account.autoscaling.refreshes.start(i as ConstructorParameters<typeof StartInstanceRefreshCommand>[0]);
      return undefined;
    });
    const result = await startInstanceRefresh(aws, 'web', { launchTemplateId: group.launchTemplateId, version }, input.preferences);
    assert.equal(result.adopted, true);
    assert.equal(account.autoscaling.refreshes.records.length, 1);
  });
});

describe('the instance refresh strategy and the fleet', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const roll: RefreshRoll = { kind: 'instance-refresh', autoScalingGroup: 'web', refresh: null, end: null, reason: null };

  it('holds a refresh not started yet while a freeze covers the group, and starts it when lifted', () => {
    const frozen = beforeStart(roll, { verdict: 'pause', freeze: {} as never, reason: 'frozen: everything' }, now)!;
    assert.deepEqual([frozen.outcome.next, frozen.outcome.wait?.phase, frozen.outcome.state.kind === 'instance-refresh' && frozen.outcome.state.frozenSince], ['wait', 'paused', now.toISOString()]);
    assert.equal(frozen.announce?.event, 'paused');
    assert.equal(frozen.record, undefined);
    // a later look keeps when the freeze was first seen (one announcement)
    const again = beforeStart(frozen.outcome.state as RefreshRoll, { verdict: 'pause', freeze: {} as never, reason: 'frozen' }, new Date(now.getTime() + 180_000))!;
    assert.equal(again.announce?.once, `paused:${now.toISOString()}`);
    assert.equal(beforeStart(roll, { verdict: 'continue' }, now), undefined);
  });

  it('ends a refresh not started yet when its release is held: refused (nothing changed), recorded stopped', () => {
    const held = beforeStart(roll, { verdict: 'stop', hold: {} as never, reason: 'rel is held' }, now)!;
    assert.deepEqual([held.outcome.next, held.outcome.outcome], ['end', 'refused']);
    assert.deepEqual(held.record, { state: 'stopped', detail: 'stopped before the instance refresh started: rel is held' });
  });

  it('records failed-health once, when the rollback is asked for, and announces it with the signals', () => {
    const asked = { refreshId: 'r-1', startedAt: now.toISOString(), checkpointHealthChecked: true, rollbackReason: 'health gate: crash loops', cause: 'failed-health' as const, signals: [crashLoop] };
    const first = refreshOutcome({ ...roll, refresh: { ...asked, rollbackReason: undefined, cause: undefined, signals: undefined } }, { kind: 'wait', state: asked, seconds: 30, phase: 'refresh-in-progress', percentageComplete: 50, instancesToUpdate: 2 });
    assert.deepEqual(first.record, { state: 'failed-health', detail: 'health gate: crash loops' });
    assert.deepEqual(first.announce, { event: 'rolling-back', detail: { reason: 'health gate: crash loops', cause: 'failed-health', signals: [crashLoop] }, once: 'rolling-back' });
    const later = refreshOutcome(first.outcome.state as RefreshRoll, { kind: 'rolled-back', state: asked, reason: asked.rollbackReason });
    assert.equal(later.record, undefined);
    assert.deepEqual(later.announce?.detail, { reason: 'health gate: crash loops', cause: 'failed-health', signals: [crashLoop] });
    assert.equal(later.outcome.outcome, 'rolled-back');
  });

  it('records stopped for a hold', () => {
    const asked = { refreshId: 'r-1', startedAt: now.toISOString(), checkpointHealthChecked: true, rollbackReason: 'stopped: held', cause: 'held' as const };
    assert.deepEqual(refreshOutcome({ ...roll, refresh: { ...asked, rollbackReason: undefined } }, { kind: 'wait', state: asked, seconds: 30, phase: 'refresh-in-progress', percentageComplete: 50, instancesToUpdate: 2 }).record, { state: 'stopped', detail: 'stopped: held' });
  });
});
