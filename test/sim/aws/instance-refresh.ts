/**
 * Amazon EC2 Auto Scaling instance refresh (the Rolling strategy): StartInstanceRefresh,
 * DescribeInstanceRefreshes, CancelInstanceRefresh, RollbackInstanceRefresh, driven by one
 * background tick per refresh on the virtual clock:
 *
 * 1. Pending → InProgress on the first tick ("EC2 Auto Scaling Instance Refresh Started").
 * 2. Each tick counts the healthy capacity: InService, Healthy, not terminating, and — for
 *    instances the refresh launched — past InstanceWarmup. It replaces in waves of
 *    healthy − ceil(desired × MinHealthyPercentage / 100) (rounded up, as documented; at
 *    least one, even at 100 %), taking old instances out through the group's ordinary
 *    termination path, so terminate lifecycle hooks (the service's drain) run; the next wave
 *    starts once the last one's old instances are gone and its replacements are warm.
 * 3. Replacements launch at once from the desired configuration (the group's own launch
 *    template is left alone until the refresh succeeds). A replacement that fails to launch,
 *    or leaves the group before it is InService, fails the refresh (or rolls it back with
 *    AutoRollback).
 * 4. When the share of instances on the desired configuration reaches a checkpoint below
 *    100 %, the refresh pauses for CheckpointDelay ("… Checkpoint Reached" event) and paces
 *    replacements so it never overshoots the next checkpoint.
 * 5. Success: every instance is on the desired configuration and warm; the group's launch
 *    template becomes the desired one. Cancel stops new replacements and ends once the
 *    replacements in flight are done (nothing is rolled back). Rollback replaces the
 *    instances on the desired configuration with the previous one.
 *
 * Simplified, and refused as not modelled (SandboxNotImplementedError): MaxHealthyPercentage
 * above 100 (launch before terminate), the ReplaceRootVolume strategy, mixed instances
 * policies as desired configuration, warm pools, alarms, BakeTime. Replacements launch
 * while the old instance drains (the documented behaviour when MaxHealthyPercentage is
 * omitted) rather than after it is gone. Standby and scale-in protection are ignored. The
 * timers are background timers: `settle()` returns while a refresh waits (drive it with
 * `advance()` or a polling workflow).
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  CancelInstanceRefreshCommand,
  DescribeInstanceRefreshesCommand,
  InstanceRefreshInProgressFault,
  IrreversibleInstanceRefreshFault,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type CancelInstanceRefreshCommandInput,
  type DescribeInstanceRefreshesCommandInput,
  type DescribeInstanceRefreshesCommandOutput,
  type InstanceRefresh,
  type LaunchTemplateSpecification,
  type RefreshPreferences,
  type RollbackInstanceRefreshCommandInput,
  type StartInstanceRefreshCommandInput,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type { AccountState } from './account-state';
import { stamp, type ScalingEngine } from './asg-lifecycle';
import { isTerminating, type GroupInstance, type GroupRecord } from './asg-model';
import { clone } from './clone';
import type { Ec2Service } from './ec2';
import { autoScalingInvalidNextToken, autoScalingValidationError, SandboxNotImplementedError } from './errors';
import { paginate } from './filters';
import { route, type Route } from './routes';

type Out<T> = Omit<T, '$metadata'>;
type Status = NonNullable<InstanceRefresh['Status']>;

const ACTIVE: readonly Status[] = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];
const META = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

/** A launch template pinned to a version number, for matching instances against it. */
interface Target {
  /** As given (may say `$Latest`); what the group is set to on success. */
  spec: LaunchTemplateSpecification;
  templateId: string;
  version: string;
}

/** What a refresh needs of Auto Scaling (autoscaling.ts, which owns the refreshes). */
export interface RefreshedGroups {
  readonly groups: ReadonlyMap<string, GroupRecord>;
  readonly engine: ScalingEngine;
  group(name: string | undefined): GroupRecord;
  updateAutoScalingGroup(input: UpdateAutoScalingGroupCommandInput): unknown;
}

export interface RefreshRecord {
  refresh: InstanceRefresh & { InstanceRefreshId: string; AutoScalingGroupName: string; Status: Status };
  /** the configuration instances are being moved to (swapped to `previous` by a rollback) */
  target: Target;
  /** the group's configuration when the refresh started */
  previous: Target | undefined;
  preferences: Required<Pick<RefreshPreferences, 'MinHealthyPercentage' | 'InstanceWarmup' | 'SkipMatching' | 'CheckpointDelay' | 'AutoRollback'>> & { CheckpointPercentages: number[] };
  /** instances this refresh launched, with the virtual time each was first seen InService */
  launched: Map<string, number | undefined>;
  /** old instances this refresh took out of service */
  terminated: Set<string>;
  /** checkpoints not yet reached, ascending, below `finalPercentage` */
  checkpoints: number[];
  /** the last checkpoint (100 without checkpoints): the refresh succeeds once it is reached */
  finalPercentage: number;
  /** failed launch activities from this virtual time on fail the refresh */
  watchFrom: number;
  pausedUntil?: number;
  startedAt: number;
  timer?: { cancel(): void };
  seq: number;
}

export class InstanceRefreshes {
  /** Virtual durations; tests may shorten them. */
  readonly timings = {
    tickMs: 5_000,
    /** a replacement not InService by then fails the refresh (AWS retries a blocked refresh for an hour) */
    replacementTimeoutMs: 60 * 60_000,
  };
  readonly records: RefreshRecord[] = [];
  private seq = 0;

  constructor(
    private readonly account: AccountState,
    private readonly ec2: Ec2Service,
    private readonly autoscaling: RefreshedGroups,
  ) {}

  active(groupName: string): RefreshRecord | undefined {
    return this.records.find((r) => r.refresh.AutoScalingGroupName === groupName && ACTIVE.includes(r.refresh.Status));
  }

  // ---- commands ----

  start(input: StartInstanceRefreshCommandInput): { InstanceRefreshId: string } {
    const group = this.autoscaling.group(input.AutoScalingGroupName);
    if (input.Strategy !== undefined && input.Strategy !== 'Rolling') throw new SandboxNotImplementedError('autoscaling', `StartInstanceRefresh (Strategy ${input.Strategy})`);
    if (input.DesiredConfiguration?.MixedInstancesPolicy) throw new SandboxNotImplementedError('autoscaling', 'StartInstanceRefresh (DesiredConfiguration.MixedInstancesPolicy)');
    if (this.active(group.name)) {
      throw new InstanceRefreshInProgressFault({ message: `An Instance Refresh is already in progress and blocks the execution of this Instance Refresh for AutoScalingGroup ${group.name}.`, $metadata: META });
    }
    const p = input.Preferences ?? {};
    const min = p.MinHealthyPercentage ?? 90;
    if (min < 0 || min > 100) throw autoScalingValidationError(`MinHealthyPercentage ${min} is not valid: it must be between 0 and 100.`);
    if (p.MaxHealthyPercentage !== undefined) {
      if (p.MinHealthyPercentage === undefined) throw autoScalingValidationError('You must specify MinHealthyPercentage when you specify MaxHealthyPercentage.');
      if (p.MaxHealthyPercentage < 100 || p.MaxHealthyPercentage > 200) throw autoScalingValidationError(`MaxHealthyPercentage ${p.MaxHealthyPercentage} is not valid: it must be between 100 and 200.`);
      if (p.MaxHealthyPercentage - min > 100) throw autoScalingValidationError('The difference between MaxHealthyPercentage and MinHealthyPercentage cannot be greater than 100.');
      if (p.MaxHealthyPercentage > 100) throw new SandboxNotImplementedError('autoscaling', 'StartInstanceRefresh (MaxHealthyPercentage above 100: launch before terminate)');
    }
    const checkpoints = p.CheckpointPercentages ?? [];
    if (p.CheckpointDelay !== undefined && checkpoints.length === 0) throw autoScalingValidationError('CheckpointDelay requires CheckpointPercentages.');
    for (let i = 0; i < checkpoints.length; i++) {
      const c = checkpoints[i]!;
      if (!Number.isInteger(c) || c < 1 || c > 100 || (i > 0 && c <= checkpoints[i - 1]!)) {
        throw autoScalingValidationError('CheckpointPercentages must be unique integers between 1 and 100 in ascending order.');
      }
    }
    if (p.AlarmSpecification || p.BakeTime) throw new SandboxNotImplementedError('autoscaling', 'StartInstanceRefresh (AlarmSpecification, BakeTime)');

    const previous = this.pin(group.launchTemplate);
    const target = input.DesiredConfiguration?.LaunchTemplate ? this.pin(input.DesiredConfiguration.LaunchTemplate, true) : previous;
    if (!target) throw new SandboxNotImplementedError('autoscaling', 'StartInstanceRefresh on a group without a launch template');
    if (p.AutoRollback && !this.reversible(input.DesiredConfiguration?.LaunchTemplate, group.launchTemplate)) {
      throw autoScalingValidationError('AutoRollback is not supported without a desired configuration, or when the group or the desired configuration uses $Latest or $Default.');
    }
    const now = this.account.clock.now();
    const id = this.account.ids.uuid();
    const record: RefreshRecord = {
      refresh: {
        InstanceRefreshId: id,
        AutoScalingGroupName: group.name,
        Status: 'Pending',
        StartTime: new Date(now),
        PercentageComplete: 0,
        InstancesToUpdate: 0,
        Strategy: 'Rolling',
        Preferences: {
          MinHealthyPercentage: min,
          ...(p.MaxHealthyPercentage !== undefined ? { MaxHealthyPercentage: p.MaxHealthyPercentage } : {}),
          InstanceWarmup: p.InstanceWarmup ?? group.healthCheckGracePeriod,
          SkipMatching: p.SkipMatching ?? false,
          AutoRollback: p.AutoRollback ?? false,
          ...(checkpoints.length ? { CheckpointPercentages: [...checkpoints], CheckpointDelay: p.CheckpointDelay ?? 3600 } : {}),
          ScaleInProtectedInstances: p.ScaleInProtectedInstances ?? 'Ignore',
          StandbyInstances: p.StandbyInstances ?? 'Ignore',
        },
        ...(input.DesiredConfiguration ? { DesiredConfiguration: clone(input.DesiredConfiguration) } : {}),
      },
      target,
      previous,
      preferences: {
        MinHealthyPercentage: min,
        InstanceWarmup: p.InstanceWarmup ?? group.healthCheckGracePeriod,
        SkipMatching: p.SkipMatching ?? false,
        CheckpointDelay: p.CheckpointDelay ?? 3600,
        AutoRollback: p.AutoRollback ?? false,
        CheckpointPercentages: [...checkpoints],
      },
      launched: new Map(),
      terminated: new Set(),
      checkpoints: checkpoints.slice(0, -1),
      finalPercentage: checkpoints.at(-1) ?? 100,
      watchFrom: now,
      startedAt: now,
      seq: this.seq++,
    };
    this.records.push(record);
    this.note(record, `instance refresh ${id} requested (to ${target.templateId} version ${target.version}, MinHealthyPercentage ${min}${checkpoints.length ? `, checkpoints ${checkpoints.join('/')} every ${record.preferences.CheckpointDelay} s` : ''})`);
    this.schedule(record);
    return { InstanceRefreshId: id };
  }

  describe(input: DescribeInstanceRefreshesCommandInput): Out<DescribeInstanceRefreshesCommandOutput> {
    const group = this.autoscaling.group(input.AutoScalingGroupName);
    if (input.MaxRecords !== undefined && (input.MaxRecords < 1 || input.MaxRecords > 100)) {
      throw autoScalingValidationError(`1 validation error detected: Value '${input.MaxRecords}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`);
    }
    const ids = input.InstanceRefreshIds ?? [];
    const records = this.records
      .filter((r) => r.refresh.AutoScalingGroupName === group.name && (ids.length === 0 || ids.includes(r.refresh.InstanceRefreshId)))
      .sort((a, b) => b.startedAt - a.startedAt || b.seq - a.seq);
    const { page, nextToken } = paginate(records, input.MaxRecords ?? 50, input.NextToken, () => autoScalingInvalidNextToken());
    return { InstanceRefreshes: page.map((r) => clone(r.refresh)), NextToken: nextToken };
  }

  cancel(input: CancelInstanceRefreshCommandInput): { InstanceRefreshId: string } {
    const group = this.autoscaling.group(input.AutoScalingGroupName);
    const record = this.active(group.name);
    if (!record || (record.refresh.Status !== 'Pending' && record.refresh.Status !== 'InProgress')) {
      throw new ActiveInstanceRefreshNotFoundFault({ message: `No in progress or pending Instance Refresh found for Auto Scaling group ${group.name}`, $metadata: META });
    }
    this.setStatus(record, 'Cancelling', 'Cancellation requested by user. Waiting for in-flight replacements to finish.');
    this.schedule(record, 0);
    return { InstanceRefreshId: record.refresh.InstanceRefreshId };
  }

  rollback(input: RollbackInstanceRefreshCommandInput): { InstanceRefreshId: string } {
    const group = this.autoscaling.group(input.AutoScalingGroupName);
    const record = this.active(group.name);
    if (!record || (record.refresh.Status !== 'Pending' && record.refresh.Status !== 'InProgress')) {
      throw new ActiveInstanceRefreshNotFoundFault({ message: `No in progress or pending Instance Refresh found for Auto Scaling group ${group.name}`, $metadata: META });
    }
    if (!this.reversible(record.refresh.DesiredConfiguration?.LaunchTemplate, record.previous?.spec) || !record.previous) {
      throw new IrreversibleInstanceRefreshFault({
        message: 'The instance refresh cannot be rolled back: it has no desired configuration, or the group or the desired configuration uses $Latest or $Default.',
        $metadata: META,
      });
    }
    this.startRollback(record, 'Rollback requested by user.');
    return { InstanceRefreshId: record.refresh.InstanceRefreshId };
  }

  routes(): Route[] {
    return [
      route('autoscaling', StartInstanceRefreshCommand, (i) => this.start(i)),
      route('autoscaling', DescribeInstanceRefreshesCommand, (i) => this.describe(i)),
      route('autoscaling', CancelInstanceRefreshCommand, (i) => this.cancel(i)),
      route('autoscaling', RollbackInstanceRefreshCommand, (i) => this.rollback(i)),
    ];
  }

  // ---- the engine ----

  private schedule(record: RefreshRecord, delayMs = this.timings.tickMs): void {
    record.timer?.cancel();
    record.timer = this.account.clock.after(delayMs, () => this.tick(record), { background: true });
  }

  private tick(record: RefreshRecord): void {
    record.timer = undefined;
    const group = this.autoscaling.groups.get(record.refresh.AutoScalingGroupName);
    if (!group || group.deleting) return this.end(record, 'Failed', 'The Auto Scaling group was deleted.');
    const now = this.account.clock.now();
    if (record.refresh.Status === 'Pending') {
      this.setStatus(record, 'InProgress');
      this.publish(record, group, 'EC2 Auto Scaling Instance Refresh Started', {});
    }
    this.observe(record, group, now);
    const view = this.count(record, group, now);
    this.progress(record, group, view);

    const failure = this.launchFailure(record, group, now);
    if (failure && record.refresh.Status !== 'RollbackInProgress') {
      if (record.preferences.AutoRollback && record.previous && record.refresh.Status === 'InProgress') {
        this.startRollback(record, `Automatic rollback: ${failure}`);
        return;
      }
      return this.end(record, 'Failed', failure);
    }
    if (failure) return this.end(record, 'RollbackFailed', failure);

    const status = record.refresh.Status;
    if (status === 'Cancelling') {
      if (view.inFlight === 0) return this.end(record, 'Cancelled', 'Cancelled by user request.');
      return this.schedule(record);
    }
    const reachedFinal = status === 'InProgress' && view.percentage >= record.finalPercentage;
    if ((view.remaining === 0 || reachedFinal) && view.inFlight === 0) {
      if (status === 'RollbackInProgress') return this.end(record, 'RollbackSuccessful', 'The instance refresh was rolled back: every instance is on the previous configuration.');
      return this.succeed(record, group);
    }
    if (record.pausedUntil !== undefined) {
      if (now < record.pausedUntil) return this.schedule(record, Math.min(this.timings.tickMs, record.pausedUntil - now));
      delete record.pausedUntil;
      record.refresh.StatusReason = undefined;
    }
    // 4. a checkpoint: pause once the replacements up to it are in and warm
    const next = status === 'InProgress' ? record.checkpoints[0] : undefined;
    if (next !== undefined && view.percentage >= next && view.inFlight === 0) {
      record.checkpoints = record.checkpoints.filter((c) => c > view.percentage);
      record.pausedUntil = now + record.preferences.CheckpointDelay * 1000;
      record.refresh.StatusReason = `Waiting for checkpoint delay: checkpoint ${next}% reached (${view.percentage}% of the group replaced); the instance refresh continues in ${record.preferences.CheckpointDelay} seconds.`;
      this.note(record, `checkpoint ${next}% reached at ${view.percentage}%; pausing ${record.preferences.CheckpointDelay} s`);
      this.publish(record, group, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached', { CheckpointPercentage: String(next), CheckpointDelay: String(record.preferences.CheckpointDelay) });
      return this.schedule(record, Math.min(this.timings.tickMs, record.preferences.CheckpointDelay * 1000));
    }
    this.replace(record, group, view, next ?? (status === 'InProgress' && record.finalPercentage < 100 ? record.finalPercentage : undefined));
    this.schedule(record);
  }

  /** Notes when each replacement is first seen InService (warm-up starts then). */
  private observe(record: RefreshRecord, group: GroupRecord, now: number): void {
    for (const [id, inServiceAt] of record.launched) {
      const instance = group.instances.get(id);
      if (inServiceAt === undefined && instance?.lifecycleState === 'InService') record.launched.set(id, now);
    }
  }

  private count(record: RefreshRecord, group: GroupRecord, now: number) {
    const warmupMs = record.preferences.InstanceWarmup * 1000;
    const live = [...group.instances.values()].filter((i) => !isTerminating(i.lifecycleState));
    const warm = (i: GroupInstance) => {
      if (!record.launched.has(i.instanceId)) return true;
      const at = record.launched.get(i.instanceId);
      return at !== undefined && now - at >= warmupMs;
    };
    const healthy = live.filter((i) => i.lifecycleState === 'InService' && i.health === 'Healthy' && warm(i));
    const onTarget = (i: GroupInstance) => this.matches(i, record.target);
    // without SkipMatching every instance the refresh did not launch is replaced, matching or not
    const stale = live.filter((i) => (record.preferences.SkipMatching || record.refresh.Status === 'RollbackInProgress' ? !onTarget(i) : !record.launched.has(i.instanceId)));
    const done = healthy.filter((i) => !stale.includes(i) && onTarget(i)).length;
    const replacing = live.filter((i) => record.launched.has(i.instanceId) && !healthy.includes(i)).length;
    const leaving = [...record.terminated].filter((id) => group.instances.has(id)).length;
    const total = Math.max(group.desired, 1);
    return {
      healthy: healthy.length,
      stale,
      remaining: stale.length + replacing,
      replacing,
      inFlight: replacing + leaving,
      percentage: Math.min(100, Math.floor((100 * done) / total)),
      done,
      desired: group.desired,
    };
  }

  private progress(record: RefreshRecord, group: GroupRecord, view: ReturnType<InstanceRefreshes['count']>): void {
    if (record.refresh.Status === 'RollbackInProgress') {
      // documented: during a rollback PercentageComplete goes back down to zero
      const forward = record.refresh.DesiredConfiguration?.LaunchTemplate ? this.pin(record.refresh.DesiredConfiguration.LaunchTemplate) : undefined;
      const onNew = forward ? [...group.instances.values()].filter((i) => !isTerminating(i.lifecycleState) && this.matches(i, forward)).length : 0;
      record.refresh.PercentageComplete = Math.floor((100 * onNew) / Math.max(group.desired, 1));
      return;
    }
    record.refresh.PercentageComplete = view.percentage;
    record.refresh.InstancesToUpdate = view.remaining;
  }

  /** 2. Takes old instances out while healthy capacity allows; 3. launches their replacements. */
  private replace(record: RefreshRecord, group: GroupRecord, view: ReturnType<InstanceRefreshes['count']>, checkpoint: number | undefined): void {
    const floor = Math.ceil((view.desired * record.preferences.MinHealthyPercentage) / 100);
    const candidates = [...view.stale];
    // waves: the next one starts when the last one's replacements are warm and its old
    // instances are gone (their terminate hooks, i.e. the drain, done)
    if (view.inFlight > 0) return this.waiting(record, group);
    // documented: even at 100 % one instance is replaced at a time
    let budget = Math.max(1, view.healthy - floor);
    if (checkpoint !== undefined) {
      // never overshoot the next checkpoint
      const needed = Math.ceil((checkpoint * view.desired) / 100) - view.done - view.replacing;
      budget = Math.min(budget, Math.max(0, needed));
    }
    if (budget <= 0 || candidates.length === 0) return;
    if (record.refresh.Status !== 'RollbackInProgress') delete record.refresh.StatusReason;
    // oldest first, a stable order
    const victims = candidates.sort((a, b) => a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId)).slice(0, budget);
    const now = stamp(this.account.clock.now());
    for (const victim of victims) {
      record.terminated.add(victim.instanceId);
      this.autoscaling.engine.startTermination(group, victim, `At ${now} an instance was taken out of service in response to an instance refresh.  At ${now} instance ${victim.instanceId} was selected for termination.`);
    }
    this.note(record, `replacing ${victims.map((v) => v.instanceId).join(', ')} (healthy ${view.healthy}, floor ${floor})`);
    this.launchReplacements(record, group);
  }

  private waiting(record: RefreshRecord, group: GroupRecord): void {
    if (record.refresh.Status !== 'InProgress') return;
    const now = this.account.clock.now();
    const warming = [...record.launched].find(([id, at]) => at !== undefined && now - at < record.preferences.InstanceWarmup * 1000 && group.instances.has(id));
    record.refresh.StatusReason = warming
      ? `Waiting for instances to warm up before continuing. For example: ${warming[0]} is warming up.`
      : 'Waiting for replaced instances to finish terminating (lifecycle hooks) and their replacements to launch.';
  }

  /**
   * Launches from the target configuration now, not from the group's template: the group is
   * pointed at the target for the length of one synchronous reconcile (which resolves the
   * template as it launches), then put back, so DescribeAutoScalingGroups never shows it.
   */
  private launchReplacements(record: RefreshRecord, group: GroupRecord): void {
    const before = new Set(group.instances.keys());
    const shown = group.launchTemplate;
    group.launchTemplate = { LaunchTemplateId: record.target.templateId, Version: record.target.version };
    try {
      this.autoscaling.engine.reconcile(group);
    } finally {
      if (shown) group.launchTemplate = shown;
      else delete group.launchTemplate;
    }
    for (const id of group.instances.keys()) if (!before.has(id)) record.launched.set(id, undefined);
  }

  /** A replacement that failed to launch or left before InService; one stuck past the timeout. */
  private launchFailure(record: RefreshRecord, group: GroupRecord, now: number): string | undefined {
    for (const [id, inServiceAt] of record.launched) {
      if (inServiceAt !== undefined) continue;
      const instance = group.instances.get(id);
      if (!instance || isTerminating(instance.lifecycleState)) {
        return `Instance ${id} failed to launch or was terminated before it became InService. See the scaling activities for details.`;
      }
      if (now - instance.launchedAt > this.timings.replacementTimeoutMs) return `Instance ${id} did not become InService within ${this.timings.replacementTimeoutMs / 60_000} minutes.`;
    }
    // a launch attempt that produced no instance at all (EC2 error): the group's last activity says why
    const failed = group.activities.find((a) => a.StatusCode === 'Failed' && (a.StartTime?.getTime() ?? 0) >= record.watchFrom && a.Description?.startsWith('Launching'));
    return failed ? `Failed to launch a replacement: ${failed.StatusMessage ?? 'unknown error'}` : undefined;
  }

  private startRollback(record: RefreshRecord, reason: string): void {
    const previous = record.previous!;
    record.refresh.RollbackDetails = {
      RollbackReason: reason,
      RollbackStartTime: this.account.clock.date(),
      PercentageCompleteOnRollback: record.refresh.PercentageComplete ?? 0,
      InstancesToUpdateOnRollback: record.refresh.InstancesToUpdate ?? 0,
    };
    record.target = previous;
    record.watchFrom = this.account.clock.now();
    record.launched.clear();
    record.terminated.clear();
    record.checkpoints = [];
    delete record.pausedUntil;
    this.setStatus(record, 'RollbackInProgress', reason);
    this.schedule(record, 0);
  }

  private succeed(record: RefreshRecord, group: GroupRecord): void {
    const spec = record.refresh.DesiredConfiguration?.LaunchTemplate;
    if (spec) this.autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: group.name, LaunchTemplate: clone(spec) });
    record.refresh.PercentageComplete = 100;
    record.refresh.InstancesToUpdate = 0;
    this.end(record, 'Successful', undefined);
    this.publish(record, group, 'EC2 Auto Scaling Instance Refresh Succeeded', {});
  }

  private end(record: RefreshRecord, status: Status, reason: string | undefined): void {
    record.timer?.cancel();
    record.timer = undefined;
    record.refresh.EndTime = this.account.clock.date();
    this.setStatus(record, status, reason);
    if (status === 'Failed' || status === 'Cancelled' || status === 'RollbackFailed' || status === 'RollbackSuccessful') {
      const group = this.autoscaling.groups.get(record.refresh.AutoScalingGroupName);
      const type = { Failed: 'Failed', Cancelled: 'Cancelled', RollbackFailed: 'Rollback Failed', RollbackSuccessful: 'Rollback Succeeded' }[status];
      if (group) this.publish(record, group, `EC2 Auto Scaling Instance Refresh ${type}`, {});
    }
  }

  private setStatus(record: RefreshRecord, status: Status, reason?: string): void {
    record.refresh.Status = status;
    if (reason === undefined) delete record.refresh.StatusReason;
    else record.refresh.StatusReason = reason;
    this.note(record, `${status}${reason ? `: ${reason}` : ''}`);
  }

  // ---- helpers ----

  /** Resolves a template reference to its id and version number (ValidationError if unknown). */
  private pin(spec: LaunchTemplateSpecification | undefined, validate = false): Target | undefined {
    if (!spec) return undefined;
    try {
      const record = this.ec2.launchTemplates.find(spec);
      const version = this.ec2.launchTemplates.resolveVersion(record, spec.Version);
      return { spec: clone(spec), templateId: record.template.LaunchTemplateId!, version: String(version.VersionNumber) };
    } catch (error) {
      if (!validate) return undefined;
      throw autoScalingValidationError(`You must use a valid fully-formed launch template. ${(error as Error).message}`);
    }
  }

  private reversible(desired: LaunchTemplateSpecification | undefined, current: LaunchTemplateSpecification | undefined): boolean {
    const pinned = (v: string | undefined) => v !== undefined && /^\d+$/.test(v);
    return desired !== undefined && pinned(desired.Version) && pinned(current?.Version);
  }

  private matches(instance: GroupInstance, target: Target): boolean {
    return instance.launchTemplate?.LaunchTemplateId === target.templateId && instance.launchTemplate?.Version === target.version;
  }

  private note(record: RefreshRecord, message: string): void {
    this.account.note('autoscaling', `${record.refresh.AutoScalingGroupName}: instance refresh ${record.refresh.InstanceRefreshId.slice(0, 8)}: ${message}`);
  }

  private publish(record: RefreshRecord, group: GroupRecord, detailType: string, extra: Record<string, string>): void {
    this.account.publish(detailType, 'aws.autoscaling', [group.arn], { InstanceRefreshId: record.refresh.InstanceRefreshId, AutoScalingGroupName: group.name, ...extra });
  }
}
