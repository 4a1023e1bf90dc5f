/**
 * How an Auto Scaling group moves instances through their lifecycle on the virtual clock:
 *
 * 1. `reconcile` compares healthy, non-terminating instances with the desired capacity and
 *    launches or terminates the difference (launches spread across Availability Zones,
 *    scale-in by the Default termination policy), honouring suspended processes and the
 *    group's backoff after failed launches.
 * 2. A launch resolves the group's launch template version at that moment. With launch
 *    hooks the instance waits in Pending:Wait (one lifecycle action per hook, each with its
 *    own token and EventBridge event); CONTINUE → Pending:Proceed → InService once EC2 says
 *    running; ABANDON (or a timeout with DefaultResult ABANDON) terminates the instance and
 *    counts as a failed launch.
 * 3. A termination with terminate hooks waits in Terminating:Wait; any result (or a
 *    timeout) proceeds: Terminating:Proceed → EC2 termination → the instance leaves the group.
 * 4. Heartbeats push an action's timeout forward by HeartbeatTimeout, never past its global
 *    timeout of min(48 h, 100 × HeartbeatTimeout).
 */
import type { Activity, LaunchTemplateSpecification } from '@aws-sdk/client-auto-scaling';
import type { AccountState } from './account-state';
import {
  globalTimeoutSeconds,
  isTerminating,
  LAUNCHING,
  launchBackoffMs,
  TERMINATING,
  type GroupInstance,
  type GroupRecord,
  type LifecycleAction,
  type LifecycleResult,
  type Transition,
} from './asg-model';
import type { Ec2Service } from './ec2';
import type { LifecycleActionDetail } from './events';
import type { InstanceRecord, InstanceStateName } from './instances';

export class ScalingEngine {
  /** instance id → group name, for instances a group launched. */
  private readonly owner = new Map<string, string>();

  constructor(
    private readonly account: AccountState,
    private readonly ec2: Ec2Service,
    private readonly groups: Map<string, GroupRecord>,
  ) {
    ec2.instances.onStateChange((record, previous) => this.onInstanceState(record, previous));
  }

  groupOf(instanceId: string): GroupRecord | undefined {
    const name = this.owner.get(instanceId);
    return name === undefined ? undefined : this.groups.get(name);
  }

  /** Coalesces capacity checks: one pass shortly after whatever changed. */
  schedule(group: GroupRecord, delayMs = 1_000, options: { background?: boolean } = {}): void {
    const due = this.account.clock.now() + delayMs;
    if (group.reconcileTimer && group.reconcileTimer.due <= due) return;
    group.reconcileTimer?.cancel();
    group.reconcileTimer = this.account.clock.at(due, () => {
      group.reconcileTimer = undefined;
      this.reconcile(group);
    }, options);
  }

  private active(group: GroupRecord): GroupInstance[] {
    return [...group.instances.values()].filter((i) => !isTerminating(i.lifecycleState) && i.health === 'Healthy');
  }

  reconcile(group: GroupRecord): void {
    if (!this.groups.has(group.name)) return;
    const now = this.account.clock.now();
    if (group.deleting) {
      for (const instance of group.instances.values()) this.startTermination(group, instance, 'the group is being deleted', { hooks: false });
      if (group.instances.size === 0) this.groups.delete(group.name);
      return;
    }
    const active = this.active(group);
    if (active.length < group.desired && !group.suspended.has('Launch')) {
      if (now < group.nextLaunchAt) {
        // a retry after failures is background: a group that can never launch must not
        // keep `settle()` running forever
        this.schedule(group, group.nextLaunchAt - now, { background: true });
        return;
      }
      const missing = group.desired - active.length;
      for (let i = 0; i < missing; i++) {
        if (!this.launchOne(group, active.length + i)) break;
      }
    } else if (active.length > group.desired && !group.suspended.has('Terminate')) {
      const victims = this.pickScaleInVictims(group, active.length - group.desired);
      for (const victim of victims) {
        this.startTermination(group, victim, `${group.lastCapacityChange}  At ${stamp(now)} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${active.length} to ${group.desired}.`);
      }
    }
  }

  // ---- launching ----

  /** One launch attempt across AZs (least populated first) and instance type overrides. */
  private launchOne(group: GroupRecord, currentCapacity: number): boolean {
    const { clock } = this.account;
    const ec2 = this.ec2;
    const spec = this.launchSpec(group);
    const overrides = group.mixedInstancesPolicy?.LaunchTemplate?.Overrides?.filter((o) => o.InstanceType) ?? [];
    const attempts = overrides.length ? overrides : [undefined];
    const subnetsByZone = this.zonesByPopulation(group);
    let lastError: Error | undefined;
    let market: 'spot' | 'on-demand' = 'on-demand';
    for (const { subnetId } of subnetsByZone) {
      for (const override of attempts) {
        try {
          market = this.nextMarket(group);
          const [record] = ec2.instances.launch({
            launchTemplate: override?.LaunchTemplateSpecification ?? spec,
            ...(override?.InstanceType ? { instanceType: override.InstanceType } : {}),
            market,
            subnetId,
            groupTags: group.tags.filter((t) => t.PropagateAtLaunch).map((t) => ({ Key: t.Key, Value: t.Value ?? '' })),
            systemTags: [{ Key: 'aws:autoscaling:groupName', Value: group.name }],
            count: 1,
            requesterId: 'autoscaling',
          });
          this.adopt(group, record!, spec, currentCapacity);
          return true;
        } catch (error) {
          lastError = error as Error;
          // only capacity errors are worth another zone or type; anything else fails the launch
          if ((error as Error).name !== 'InsufficientInstanceCapacity') break;
        }
      }
      if (lastError && lastError.name !== 'InsufficientInstanceCapacity') break;
    }
    // as Auto Scaling words it since it launches through EC2 Fleet: the market, the EC2 error
    // code, its message (InsufficientInstanceCapacity names the type and the zones that have it)
    const message = `Could not launch ${market === 'spot' ? 'Spot' : 'On-Demand'} Instances. ${lastError?.name ?? 'UnknownError'} - ${lastError?.message ?? 'unknown error'} Launching EC2 instance failed.`;
    const activity = this.activity(group, {
      Description: `Launching a new EC2 instance.  Status Reason: ${message}`,
      Cause: `${group.lastCapacityChange}  At ${stamp(clock.now())} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${currentCapacity} to ${group.desired}.`,
      StatusCode: 'Failed',
      StatusMessage: message,
      EndTime: clock.date(),
      Progress: 100,
    });
    this.launchFailed(group, activity, `launch failed: ${message}`);
    return false;
  }

  /**
   * On-Demand or Spot for the next launch, from the mixed instances distribution: the
   * On-Demand base first, then OnDemandPercentageAboveBaseCapacity of the rest.
   */
  private nextMarket(group: GroupRecord): 'spot' | 'on-demand' {
    const distribution = group.mixedInstancesPolicy?.InstancesDistribution;
    if (!distribution) return 'on-demand';
    const base = distribution.OnDemandBaseCapacity ?? 0;
    const percentage = distribution.OnDemandPercentageAboveBaseCapacity ?? 100;
    const active = this.active(group).map((i) => this.ec2.instances.get(i.instanceId)?.instance.InstanceLifecycle === 'spot');
    const onDemand = active.filter((spot) => !spot).length;
    if (onDemand < base) return 'on-demand';
    const aboveBase = active.length - base + 1;
    return (onDemand - base + 1) / aboveBase <= percentage / 100 ? 'on-demand' : 'spot';
  }

  private launchSpec(group: GroupRecord): LaunchTemplateSpecification {
    return group.launchTemplate ?? group.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification ?? {};
  }

  /** Subnets ordered by how few active instances their AZ holds (ties: configured order). */
  private zonesByPopulation(group: GroupRecord): { subnetId: string; zone: string }[] {
    const counts = new Map<string, number>();
    for (const i of this.active(group)) counts.set(i.availabilityZone, (counts.get(i.availabilityZone) ?? 0) + 1);
    const seen = new Set<string>();
    const subnets = group.subnetIds
      .map((subnetId, order) => ({ subnetId, order, zone: this.ec2.subnets.get(subnetId)?.subnet.AvailabilityZone ?? '' }))
      .filter((s) => (seen.has(s.zone) ? false : (seen.add(s.zone), true)));
    return subnets.sort((a, b) => (counts.get(a.zone) ?? 0) - (counts.get(b.zone) ?? 0) || a.order - b.order);
  }

  private adopt(group: GroupRecord, record: InstanceRecord, spec: LaunchTemplateSpecification, currentCapacity: number): void {
    const { clock } = this.account;
    const id = record.instance.InstanceId;
    const instance: GroupInstance = {
      instanceId: id,
      instanceType: record.instance.InstanceType ?? '',
      availabilityZone: record.instance.Placement?.AvailabilityZone ?? '',
      subnetId: record.instance.SubnetId ?? '',
      imageId: record.instance.ImageId ?? '',
      lifecycleState: 'Pending',
      health: 'Healthy',
      ...(record.launchTemplate
        ? { launchTemplate: { LaunchTemplateId: record.launchTemplate.id, LaunchTemplateName: record.launchTemplate.name, Version: String(record.launchTemplate.version) } }
        : spec.LaunchTemplateId || spec.LaunchTemplateName ? { launchTemplate: spec } : {}),
      protectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
      launchedAt: clock.now(),
      actions: new Map(),
      activity: this.activity(group, {
        Description: `Launching a new EC2 instance: ${id}`,
        Cause: `${group.lastCapacityChange}  At ${stamp(clock.now())} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${currentCapacity} to ${group.desired}.`,
        StatusCode: 'InProgress',
        Progress: 30,
        Details: JSON.stringify({ 'Subnet ID': record.instance.SubnetId, 'Availability Zone': record.instance.Placement?.AvailabilityZone }),
      }),
    };
    group.instances.set(id, instance);
    this.owner.set(id, group.name);
    this.account.note('autoscaling', `${group.name}: launching ${id} in ${instance.availabilityZone} from ${describeTemplate(instance.launchTemplate)}`, id);
    if (this.hooksFor(group, LAUNCHING).length > 0) this.enterWait(group, instance, LAUNCHING);
  }

  private launchFailed(group: GroupRecord, activity: Activity, why: string): void {
    const now = this.account.clock.now();
    group.launchFailures += 1;
    group.nextLaunchAt = now + launchBackoffMs(group.launchFailures);
    this.account.note('autoscaling', `${group.name}: ${why}; next launch attempt in ${Math.round((group.nextLaunchAt - now) / 1000)} s`);
    this.publishActivity(group, 'EC2 Instance Launch Unsuccessful', activity);
    this.schedule(group, group.nextLaunchAt - now, { background: true });
  }

  private becomeInService(group: GroupRecord, instance: GroupInstance): void {
    instance.lifecycleState = 'InService';
    Object.assign(instance.activity, { StatusCode: 'Successful', Progress: 100, EndTime: this.account.clock.date() });
    group.launchFailures = 0;
    group.nextLaunchAt = 0;
    this.account.note('autoscaling', `${group.name}: ${instance.instanceId} is InService`, instance.instanceId);
    this.publishActivity(group, 'EC2 Instance Launch Successful', instance.activity, instance.instanceId);
  }

  // ---- terminating ----

  /** The Default termination policy: balance AZs, then oldest launch template, then oldest instance. */
  private pickScaleInVictims(group: GroupRecord, count: number): GroupInstance[] {
    const victims: GroupInstance[] = [];
    const remaining = this.active(group);
    for (let n = 0; n < count; n++) {
      const candidates = remaining.filter((i) => !i.protectedFromScaleIn);
      if (candidates.length === 0) break;
      const perZone = new Map<string, number>();
      for (const i of remaining) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
      const busiest = Math.max(...candidates.map((i) => perZone.get(i.availabilityZone) ?? 0));
      const inZone = candidates.filter((i) => perZone.get(i.availabilityZone) === busiest);
      inZone.sort((a, b) => templateAge(a) - templateAge(b) || a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId));
      const victim = inZone[0]!;
      victims.push(victim);
      remaining.splice(remaining.indexOf(victim), 1);
    }
    return victims;
  }

  startTermination(group: GroupRecord, instance: GroupInstance, cause: string, options: { hooks?: boolean } = {}): Activity {
    if (isTerminating(instance.lifecycleState)) return instance.activity;
    // an instance still waiting on launch hooks loses those actions
    for (const action of instance.actions.values()) action.timer.cancel();
    instance.actions.clear();
    if (instance.activity.StatusCode === 'InProgress' || instance.activity.StatusCode === 'MidLifecycleAction') {
      Object.assign(instance.activity, { StatusCode: 'Cancelled', EndTime: this.account.clock.date(), Progress: 100 });
    }
    instance.lifecycleState = 'Terminating';
    instance.activity = this.activity(group, {
      Description: `Terminating EC2 instance: ${instance.instanceId}`,
      Cause: cause,
      StatusCode: 'InProgress',
      Progress: 0,
      Details: JSON.stringify({ 'Subnet ID': instance.subnetId, 'Availability Zone': instance.availabilityZone }),
    });
    this.account.note('autoscaling', `${group.name}: terminating ${instance.instanceId} (${cause.split('  ').pop()})`, instance.instanceId);
    const ec2State = this.ec2.instances.get(instance.instanceId)?.instance.State.Name;
    const alive = ec2State === 'pending' || ec2State === 'running';
    if (options.hooks !== false && alive && this.hooksFor(group, TERMINATING).length > 0) this.enterWait(group, instance, TERMINATING);
    else this.proceedTermination(group, instance);
    this.schedule(group);
    return instance.activity;
  }

  private proceedTermination(group: GroupRecord, instance: GroupInstance): void {
    instance.lifecycleState = 'Terminating:Proceed';
    const record = this.ec2.instances.get(instance.instanceId);
    const state = record?.instance.State.Name;
    if (state === 'pending' || state === 'running') this.ec2.instances.terminate([instance.instanceId]);
    else if (state === 'terminated' || !record) this.removeInstance(group, instance);
  }

  private removeInstance(group: GroupRecord, instance: GroupInstance): void {
    if (!group.instances.delete(instance.instanceId)) return;
    if (instance.activity.StatusCode === 'InProgress' || instance.activity.StatusCode === 'MidLifecycleAction') {
      Object.assign(instance.activity, { StatusCode: 'Successful', Progress: 100, EndTime: this.account.clock.date() });
    }
    if (instance.activity.Description?.startsWith('Terminating')) {
      this.publishActivity(group, 'EC2 Instance Terminate Successful', instance.activity, instance.instanceId);
    }
    this.account.note('autoscaling', `${group.name}: ${instance.instanceId} left the group`, instance.instanceId);
    this.schedule(group);
  }

  // ---- lifecycle hooks ----

  private hooksFor(group: GroupRecord, transition: Transition) {
    return [...group.hooks.values()].filter((h) => h.LifecycleTransition === transition);
  }

  private enterWait(group: GroupRecord, instance: GroupInstance, transition: Transition): void {
    const { clock, ids } = this.account;
    instance.lifecycleState = transition === LAUNCHING ? 'Pending:Wait' : 'Terminating:Wait';
    instance.activity.StatusCode = transition === LAUNCHING ? 'MidLifecycleAction' : 'InProgress';
    for (const hook of this.hooksFor(group, transition)) {
      const now = clock.now();
      const action: LifecycleAction = {
        token: ids.uuid(),
        hook: { ...hook },
        transition,
        instanceId: instance.instanceId,
        startedAt: now,
        globalDeadline: now + globalTimeoutSeconds(hook.HeartbeatTimeout) * 1000,
        timer: { due: 0, cancel: () => undefined },
      };
      action.timer = this.expiryTimer(group, instance, action, now + hook.HeartbeatTimeout * 1000);
      instance.actions.set(hook.LifecycleHookName, action);
      const detail: LifecycleActionDetail = {
        LifecycleActionToken: action.token,
        AutoScalingGroupName: group.name,
        LifecycleHookName: hook.LifecycleHookName,
        EC2InstanceId: instance.instanceId,
        LifecycleTransition: transition,
        ...(hook.NotificationMetadata !== undefined ? { NotificationMetadata: hook.NotificationMetadata } : {}),
        Origin: transition === LAUNCHING ? 'EC2' : 'AutoScalingGroup',
        Destination: transition === LAUNCHING ? 'AutoScalingGroup' : 'EC2',
      };
      const detailType = transition === LAUNCHING ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action';
      this.account.publish(detailType, 'aws.autoscaling', [group.arn], detail);
      this.account.note('autoscaling', `${group.name}: ${instance.instanceId} is ${instance.lifecycleState} on hook ${hook.LifecycleHookName} (token ${action.token}, heartbeat ${hook.HeartbeatTimeout} s, default ${hook.DefaultResult})`, instance.instanceId);
    }
  }

  /** Background: an unattended hook must not keep the world running on its own. */
  private expiryTimer(group: GroupRecord, instance: GroupInstance, action: LifecycleAction, due: number) {
    return this.account.clock.at(Math.min(due, action.globalDeadline), () => {
      if (instance.actions.get(action.hook.LifecycleHookName) !== action) return;
      const why = this.account.clock.now() >= action.globalDeadline ? 'global timeout' : 'heartbeat timeout';
      this.account.note('autoscaling', `${group.name}: lifecycle action ${action.token} on ${instance.instanceId} reached its ${why}; applying DefaultResult ${action.hook.DefaultResult}`, instance.instanceId);
      this.complete(group, instance, action, action.hook.DefaultResult as LifecycleResult, why);
    }, { background: true });
  }

  heartbeat(group: GroupRecord, instance: GroupInstance, action: LifecycleAction): void {
    action.timer.cancel();
    action.timer = this.expiryTimer(group, instance, action, this.account.clock.now() + action.hook.HeartbeatTimeout * 1000);
  }

  complete(group: GroupRecord, instance: GroupInstance, action: LifecycleAction, result: LifecycleResult, why: string): void {
    action.timer.cancel();
    instance.actions.delete(action.hook.LifecycleHookName);
    this.account.note('autoscaling', `${group.name}: ${action.hook.LifecycleHookName} on ${instance.instanceId} completed with ${result} (${why})`, instance.instanceId);
    if (action.transition === LAUNCHING) {
      if (result === 'ABANDON') {
        for (const other of instance.actions.values()) other.timer.cancel();
        instance.actions.clear();
        const message = `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ${action.token} was abandoned: Lifecycle Action Completed with ABANDON Result`;
        Object.assign(instance.activity, { StatusCode: 'Cancelled', StatusMessage: message, EndTime: this.account.clock.date(), Progress: 100 });
        const activity = instance.activity;
        // an abandoned launch goes straight to termination, without terminate hooks
        instance.lifecycleState = 'Terminating';
        instance.activity = this.activity(group, {
          Description: `Terminating EC2 instance: ${instance.instanceId}`,
          Cause: `At ${stamp(this.account.clock.now())} an instance was taken out of service in response to a lifecycle action being abandoned.`,
          StatusCode: 'InProgress',
          Progress: 0,
        });
        this.proceedTermination(group, instance);
        this.launchFailed(group, activity, `launch of ${instance.instanceId} abandoned`);
      } else if (instance.actions.size === 0) {
        instance.lifecycleState = 'Pending:Proceed';
        if (this.ec2.instances.get(instance.instanceId)?.instance.State.Name === 'running') {
          this.account.clock.after(1_000, () => {
            if (instance.lifecycleState === 'Pending:Proceed' && group.instances.has(instance.instanceId)) this.becomeInService(group, instance);
          });
        }
      }
    } else if (result === 'ABANDON' || instance.actions.size === 0) {
      for (const other of instance.actions.values()) other.timer.cancel();
      instance.actions.clear();
      this.proceedTermination(group, instance);
    }
  }

  /** What happens when a hook is deleted under an active action (AWS documents this). */
  abandonActionsOfHook(group: GroupRecord, hookName: string): void {
    for (const instance of group.instances.values()) {
      const action = instance.actions.get(hookName);
      if (action) this.complete(group, instance, action, action.transition === LAUNCHING ? 'ABANDON' : 'CONTINUE', 'hook deleted');
    }
  }

  // ---- EC2 events ----

  private onInstanceState(record: InstanceRecord, _previous: InstanceStateName | undefined): void {
    const group = this.groupOf(record.instance.InstanceId);
    const instance = group?.instances.get(record.instance.InstanceId);
    if (!group || !instance) return;
    const state = record.instance.State.Name;
    if (state === 'running') {
      if (instance.lifecycleState === 'Pending' || instance.lifecycleState === 'Pending:Proceed') this.becomeInService(group, instance);
    } else if (state === 'shutting-down' || state === 'terminated') {
      if (!isTerminating(instance.lifecycleState)) {
        // terminated behind the group's back (TerminateInstances, Spot): the health check
        // marks it unhealthy and the group replaces it
        instance.health = 'Unhealthy';
        this.startTermination(group, instance, `At ${stamp(this.account.clock.now())} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`, { hooks: false });
      }
      if (state === 'terminated') this.removeInstance(group, instance);
    }
  }

  // ---- activities and events ----

  activity(group: GroupRecord, fields: Partial<Activity> & Pick<Activity, 'Cause' | 'StatusCode'>): Activity {
    const activity: Activity = {
      ActivityId: this.account.ids.uuid(),
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      StartTime: this.account.clock.date(),
      Details: '{}',
      ...fields,
    };
    group.activities.unshift(activity);
    return activity;
  }

  private publishActivity(group: GroupRecord, detailType: string, activity: Activity, instanceId?: string): void {
    this.account.publish(detailType, 'aws.autoscaling', [group.arn, ...(instanceId ? [this.ec2.instances.arn(instanceId)] : [])], {
      Origin: 'EC2',
      Destination: 'AutoScalingGroup',
      StatusCode: activity.StatusCode,
      AutoScalingGroupName: group.name,
      ActivityId: activity.ActivityId,
      Details: JSON.parse(activity.Details ?? '{}') as Record<string, unknown>,
      RequestId: activity.ActivityId,
      StatusMessage: activity.StatusMessage ?? '',
      EndTime: activity.EndTime?.toISOString() ?? this.account.clock.iso(),
      ...(instanceId ? { EC2InstanceId: instanceId } : {}),
      StartTime: activity.StartTime?.toISOString(),
      Cause: activity.Cause,
      Description: activity.Description,
    });
  }
}

function templateAge(instance: GroupInstance): number {
  return Number(instance.launchTemplate?.Version ?? Number.MAX_SAFE_INTEGER);
}

function describeTemplate(spec: LaunchTemplateSpecification | undefined): string {
  if (!spec) return 'no launch template';
  return `${spec.LaunchTemplateName ?? spec.LaunchTemplateId} version ${spec.Version}`;
}

/** `2026-11-21T09:00:00Z`, the timestamp style of activity causes. */
export function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
