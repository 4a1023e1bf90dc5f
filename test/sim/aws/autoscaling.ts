/**
 * Amazon EC2 Auto Scaling: groups, tags, lifecycle hooks and actions, and the commands
 * that drive them. The instance lifecycle itself (launch, wait states, termination,
 * timeouts) is in asg-lifecycle.ts.
 */
import {
  CompleteLifecycleActionCommand,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DeleteLifecycleHookCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeLifecycleHookTypesCommand,
  DescribeScalingActivitiesCommand,
  DescribeTagsCommand,
  PutLifecycleHookCommand,
  RecordLifecycleActionHeartbeatCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type CompleteLifecycleActionCommandInput,
  type CreateAutoScalingGroupCommandInput,
  type CreateOrUpdateTagsCommandInput,
  type DeleteAutoScalingGroupCommandInput,
  type DeleteLifecycleHookCommandInput,
  type DeleteTagsCommandInput,
  type DescribeAutoScalingGroupsCommandInput,
  type DescribeAutoScalingGroupsCommandOutput,
  type DescribeAutoScalingInstancesCommandInput,
  type DescribeAutoScalingInstancesCommandOutput,
  type DescribeLifecycleHooksCommandInput,
  type DescribeLifecycleHooksCommandOutput,
  type DescribeScalingActivitiesCommandInput,
  type DescribeScalingActivitiesCommandOutput,
  type DescribeTagsCommandInput,
  type DescribeTagsCommandOutput,
  type LaunchTemplateSpecification,
  type LifecycleHookSpecification,
  type PutLifecycleHookCommandInput,
  type RecordLifecycleActionHeartbeatCommandInput,
  type SetDesiredCapacityCommandInput,
  type SetInstanceProtectionCommandInput,
  type TagDescription,
  type TerminateInstanceInAutoScalingGroupCommandInput,
  type TerminateInstanceInAutoScalingGroupCommandOutput,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type { AccountState } from './account-state';
import { ScalingEngine, stamp } from './asg-lifecycle';
import {
  globalTimeoutSeconds,
  HOOK_LIMITS,
  isTerminating,
  LAUNCHING,
  TERMINATING,
  type GroupInstance,
  type GroupRecord,
  type LifecycleAction,
  type LifecycleResult,
  type Transition,
} from './asg-model';
import type { Ec2Service } from './ec2';
import { autoScalingAlreadyExists, autoScalingInvalidNextToken, autoScalingLimitExceeded, autoScalingResourceInUse, autoScalingValidationError } from './errors';
import { globToRegExp, paginate } from './filters';
import { InstanceRefreshes } from './instance-refresh';
import { clone } from './clone';
import { route, type Route } from './routes';

type Out<T> = Omit<T, '$metadata'>;

const PROCESSES = ['Launch', 'Terminate', 'AddToLoadBalancer', 'AlarmNotification', 'AZRebalance', 'HealthCheck', 'InstanceRefresh', 'ReplaceUnhealthy', 'ScheduledActions'];

export class AutoScalingService {
  readonly groups = new Map<string, GroupRecord>();
  readonly engine: ScalingEngine;
  readonly refreshes: InstanceRefreshes;

  constructor(
    private readonly account: AccountState,
    private readonly ec2: Ec2Service,
  ) {
    this.engine = new ScalingEngine(account, ec2, this.groups);
    this.refreshes = new InstanceRefreshes(account, ec2, this);
  }

  group(name: string | undefined): GroupRecord {
    const group = name === undefined ? undefined : this.groups.get(name);
    if (!group || group.deleting) throw autoScalingValidationError(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return group;
  }

  /** The group instance (and group) an instance id belongs to, if any. */
  findInstance(instanceId: string): { group: GroupRecord; instance: GroupInstance } | undefined {
    const group = this.engine.groupOf(instanceId);
    const instance = group?.instances.get(instanceId);
    return group && instance ? { group, instance } : undefined;
  }

  // ---- groups ----

  createAutoScalingGroup(input: CreateAutoScalingGroupCommandInput): Record<string, never> {
    const name = input.AutoScalingGroupName ?? '';
    if (!name) throw autoScalingValidationError('1 validation error detected: Value null at \'autoScalingGroupName\' failed to satisfy constraint: Member must not be null');
    if (this.groups.has(name)) throw autoScalingAlreadyExists(`AutoScalingGroup by this name already exists - A group with the name ${name} already exists`);
    const sources = [input.LaunchTemplate, input.MixedInstancesPolicy, input.LaunchConfigurationName, input.InstanceId].filter((s) => s !== undefined);
    if (sources.length !== 1) {
      throw autoScalingValidationError('Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.');
    }
    if (input.LaunchConfigurationName || input.InstanceId) {
      throw autoScalingValidationError('The sandbox models launch templates only (launch configurations are deprecated).');
    }
    this.validateTemplate(input.LaunchTemplate ?? input.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification);
    const min = input.MinSize ?? 0;
    const max = input.MaxSize ?? 0;
    const desired = input.DesiredCapacity ?? min;
    validateSizes(min, max, desired);
    const subnetIds = this.subnets(input.VPCZoneIdentifier);
    const now = this.account.clock.now();
    const group: GroupRecord = {
      name,
      arn: `arn:aws:autoscaling:${this.account.region}:${this.account.accountId}:autoScalingGroup:${this.account.ids.uuid()}:autoScalingGroupName/${name}`,
      createdTime: new Date(now),
      ...(input.LaunchTemplate ? { launchTemplate: clone(input.LaunchTemplate) } : {}),
      ...(input.MixedInstancesPolicy ? { mixedInstancesPolicy: clone(input.MixedInstancesPolicy) } : {}),
      min,
      max,
      desired,
      subnetIds,
      tags: (input.Tags ?? []).map((t) => ({ ResourceId: name, ResourceType: 'auto-scaling-group', Key: t.Key, Value: t.Value ?? '', PropagateAtLaunch: t.PropagateAtLaunch ?? false })),
      hooks: new Map(),
      instances: new Map(),
      activities: [],
      healthCheckType: input.HealthCheckType ?? 'EC2',
      healthCheckGracePeriod: input.HealthCheckGracePeriod ?? 0,
      defaultCooldown: input.DefaultCooldown ?? 300,
      terminationPolicies: input.TerminationPolicies ?? ['Default'],
      newInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn ?? false,
      capacityRebalance: input.CapacityRebalance ?? false,
      ...(input.MaxInstanceLifetime !== undefined ? { maxInstanceLifetime: input.MaxInstanceLifetime } : {}),
      suspended: new Set(),
      launchFailures: 0,
      nextLaunchAt: 0,
      lastCapacityChange: `At ${stamp(now)} a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}.`,
      deleting: false,
    };
    // hooks given at creation are in place before the first launch: no instance escapes them
    for (const spec of input.LifecycleHookSpecificationList ?? []) this.putHook(group, { ...spec, AutoScalingGroupName: name });
    this.groups.set(name, group);
    this.account.note('autoscaling', `created group ${name} (min ${min}, max ${max}, desired ${desired})`);
    this.engine.schedule(group);
    return {};
  }

  updateAutoScalingGroup(input: UpdateAutoScalingGroupCommandInput): Record<string, never> {
    const group = this.group(input.AutoScalingGroupName);
    const min = input.MinSize ?? group.min;
    const max = input.MaxSize ?? group.max;
    let desired = input.DesiredCapacity ?? group.desired;
    // documented: a new MinSize above, or MaxSize below, the current size moves desired with it
    if (input.DesiredCapacity === undefined) {
      if (input.MinSize !== undefined && desired < min) desired = min;
      if (input.MaxSize !== undefined && desired > max) desired = max;
    }
    validateSizes(min, max, desired);
    if (input.LaunchTemplate && input.MixedInstancesPolicy) {
      throw autoScalingValidationError('Valid requests must contain either LaunchTemplate, LaunchConfigurationName or MixedInstancesPolicy parameter.');
    }
    if (input.LaunchTemplate) {
      this.validateTemplate(input.LaunchTemplate);
      group.launchTemplate = clone(input.LaunchTemplate);
      delete group.mixedInstancesPolicy;
    }
    if (input.MixedInstancesPolicy) {
      this.validateTemplate(input.MixedInstancesPolicy.LaunchTemplate?.LaunchTemplateSpecification);
      group.mixedInstancesPolicy = clone(input.MixedInstancesPolicy);
      delete group.launchTemplate;
    }
    if (input.VPCZoneIdentifier !== undefined) group.subnetIds = this.subnets(input.VPCZoneIdentifier);
    if (input.HealthCheckType !== undefined) group.healthCheckType = input.HealthCheckType;
    if (input.HealthCheckGracePeriod !== undefined) group.healthCheckGracePeriod = input.HealthCheckGracePeriod;
    if (input.DefaultCooldown !== undefined) group.defaultCooldown = input.DefaultCooldown;
    if (input.TerminationPolicies !== undefined) group.terminationPolicies = input.TerminationPolicies;
    if (input.NewInstancesProtectedFromScaleIn !== undefined) group.newInstancesProtectedFromScaleIn = input.NewInstancesProtectedFromScaleIn;
    if (input.CapacityRebalance !== undefined) group.capacityRebalance = input.CapacityRebalance;
    if (input.MaxInstanceLifetime !== undefined) group.maxInstanceLifetime = input.MaxInstanceLifetime;
    this.resize(group, min, max, desired, 'a user request update of AutoScalingGroup constraints');
    return {};
  }

  setDesiredCapacity(input: SetDesiredCapacityCommandInput): Record<string, never> {
    const group = this.group(input.AutoScalingGroupName);
    const desired = input.DesiredCapacity ?? group.desired;
    if (desired > group.max) throw autoScalingValidationError(`New SetDesiredCapacity value ${desired} is above max value ${group.max} for the AutoScalingGroup.`);
    if (desired < group.min) throw autoScalingValidationError(`New SetDesiredCapacity value ${desired} is below min value ${group.min} for the AutoScalingGroup.`);
    this.resize(group, group.min, group.max, desired, 'a user request explicitly set group desired capacity');
    return {};
  }

  private resize(group: GroupRecord, min: number, max: number, desired: number, what: string): void {
    const before = group.desired;
    group.min = min;
    group.max = max;
    group.desired = desired;
    if (before !== desired) {
      group.lastCapacityChange = `At ${stamp(this.account.clock.now())} ${what} changing the desired capacity from ${before} to ${desired}.`;
      this.account.note('autoscaling', `${group.name}: desired capacity ${before} → ${desired}`);
    }
    this.engine.schedule(group);
  }

  deleteAutoScalingGroup(input: DeleteAutoScalingGroupCommandInput): Record<string, never> {
    const group = this.group(input.AutoScalingGroupName);
    if (group.instances.size > 0 && !input.ForceDelete) {
      throw autoScalingResourceInUse('You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.');
    }
    group.deleting = true;
    group.desired = 0;
    this.engine.schedule(group, 0);
    return {};
  }

  describeAutoScalingGroups(input: DescribeAutoScalingGroupsCommandInput): Out<DescribeAutoScalingGroupsCommandOutput> {
    const names = input.AutoScalingGroupNames ?? [];
    let groups = [...this.groups.values()].filter((g) => names.length === 0 || names.includes(g.name));
    for (const filter of input.Filters ?? []) {
      const values = filter.Values ?? [];
      const name = filter.Name ?? '';
      groups = groups.filter((g) => {
        if (name === 'tag-key') return g.tags.some((t) => values.includes(t.Key ?? ''));
        if (name === 'tag-value') return g.tags.some((t) => values.includes(t.Value ?? ''));
        if (name.startsWith('tag:')) return g.tags.some((t) => t.Key === name.slice(4) && values.includes(t.Value ?? ''));
        throw autoScalingValidationError(`Filter name ${name} is not valid. Valid filter names are tag-key, tag-value and tag:<key>.`);
      });
    }
    if (input.MaxRecords !== undefined && (input.MaxRecords < 1 || input.MaxRecords > 100)) {
      throw autoScalingValidationError(`1 validation error detected: Value '${input.MaxRecords}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`);
    }
    const { page, nextToken } = paginate(groups, input.MaxRecords ?? 50, input.NextToken, invalidToken);
    return { AutoScalingGroups: page.map((g) => this.view(g, input.IncludeInstances !== false)), NextToken: nextToken };
  }

  view(group: GroupRecord, includeInstances = true): AutoScalingGroup {
    const zones = [...new Set(group.subnetIds.map((id) => this.ec2.subnets.get(id)?.subnet.AvailabilityZone ?? ''))];
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      ...(group.launchTemplate ? { LaunchTemplate: clone(group.launchTemplate) } : {}),
      ...(group.mixedInstancesPolicy ? { MixedInstancesPolicy: clone(group.mixedInstancesPolicy) } : {}),
      MinSize: group.min,
      MaxSize: group.max,
      DesiredCapacity: group.desired,
      DefaultCooldown: group.defaultCooldown,
      AvailabilityZones: zones,
      LoadBalancerNames: [],
      TargetGroupARNs: [],
      HealthCheckType: group.healthCheckType,
      HealthCheckGracePeriod: group.healthCheckGracePeriod,
      Instances: includeInstances
        ? [...group.instances.values()].map((i) => ({
            InstanceId: i.instanceId,
            InstanceType: i.instanceType,
            AvailabilityZone: i.availabilityZone,
            LifecycleState: i.lifecycleState,
            HealthStatus: i.health,
            ...(i.launchTemplate ? { LaunchTemplate: clone(i.launchTemplate) } : {}),
            ImageId: i.imageId,
            ProtectedFromScaleIn: i.protectedFromScaleIn,
          }))
        : [],
      CreatedTime: group.createdTime,
      SuspendedProcesses: [...group.suspended].map((p) => ({ ProcessName: p, SuspensionReason: `User suspended at ${stamp(this.account.clock.now())}` })),
      VPCZoneIdentifier: group.subnetIds.join(','),
      EnabledMetrics: [],
      ...(group.deleting ? { Status: 'Delete in progress' } : {}),
      Tags: clone(group.tags),
      TerminationPolicies: [...group.terminationPolicies],
      NewInstancesProtectedFromScaleIn: group.newInstancesProtectedFromScaleIn,
      ServiceLinkedRoleARN: `arn:aws:iam::${this.account.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      ...(group.maxInstanceLifetime !== undefined ? { MaxInstanceLifetime: group.maxInstanceLifetime } : {}),
      CapacityRebalance: group.capacityRebalance,
      TrafficSources: [],
    };
  }

  describeAutoScalingInstances(input: DescribeAutoScalingInstancesCommandInput): Out<DescribeAutoScalingInstancesCommandOutput> {
    const ids = input.InstanceIds ?? [];
    if (ids.length > 50) throw autoScalingValidationError('The number of instance ids that may be passed in is 50.');
    const all = [...this.groups.values()].flatMap((g) => [...g.instances.values()].map((i) => ({ g, i })));
    const selected = ids.length ? all.filter(({ i }) => ids.includes(i.instanceId)) : all;
    const { page, nextToken } = paginate(selected, input.MaxRecords ?? 50, input.NextToken, invalidToken);
    return {
      AutoScalingInstances: page.map(({ g, i }) => ({
        InstanceId: i.instanceId,
        InstanceType: i.instanceType,
        AutoScalingGroupName: g.name,
        AvailabilityZone: i.availabilityZone,
        LifecycleState: i.lifecycleState,
        // this API spells health in capitals, unlike DescribeAutoScalingGroups
        HealthStatus: i.health.toUpperCase(),
        ...(i.launchTemplate ? { LaunchTemplate: clone(i.launchTemplate) } : {}),
        ImageId: i.imageId,
        ProtectedFromScaleIn: i.protectedFromScaleIn,
      })),
      NextToken: nextToken,
    };
  }

  terminateInstanceInAutoScalingGroup(input: TerminateInstanceInAutoScalingGroupCommandInput): Out<TerminateInstanceInAutoScalingGroupCommandOutput> {
    const found = this.findInstance(input.InstanceId ?? '');
    if (!found || found.group.deleting) throw autoScalingValidationError(`Instance Id not found - No managed instance found for instance ID: ${input.InstanceId}`);
    const { group, instance } = found;
    if (isTerminating(instance.lifecycleState)) return { Activity: clone(instance.activity) };
    if (input.ShouldDecrementDesiredCapacity) {
      if (group.desired - 1 < group.min) {
        throw autoScalingValidationError(`Currently, desiredCapacity is ${group.desired} and minSize is ${group.min}. Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
      }
      group.desired -= 1;
    }
    const now = stamp(this.account.clock.now());
    const cause = input.ShouldDecrementDesiredCapacity
      ? `At ${now} instance ${instance.instanceId} was taken out of service in response to a user request, shrinking the capacity from ${group.desired + 1} to ${group.desired}.`
      : `At ${now} instance ${instance.instanceId} was taken out of service in response to a user request.`;
    const activity = this.engine.startTermination(group, instance, cause);
    return { Activity: clone(activity) };
  }

  setInstanceProtection(input: SetInstanceProtectionCommandInput): Record<string, never> {
    const group = this.group(input.AutoScalingGroupName);
    for (const id of input.InstanceIds ?? []) {
      const instance = group.instances.get(id);
      if (!instance) throw autoScalingValidationError(`The instance ${id} is not part of Auto Scaling group ${group.name}.`);
      instance.protectedFromScaleIn = input.ProtectedFromScaleIn ?? false;
    }
    return {};
  }

  suspendProcesses(name: string | undefined, processes: string[] | undefined, suspend: boolean): Record<string, never> {
    const group = this.group(name);
    const list = processes?.length ? processes : PROCESSES;
    for (const p of list) {
      if (!PROCESSES.includes(p)) throw autoScalingValidationError(`Process name ${p} is not valid.`);
      if (suspend) group.suspended.add(p);
      else group.suspended.delete(p);
    }
    if (!suspend) this.engine.schedule(group);
    return {};
  }

  describeScalingActivities(input: DescribeScalingActivitiesCommandInput): Out<DescribeScalingActivitiesCommandOutput> {
    const groups = input.AutoScalingGroupName ? [this.group(input.AutoScalingGroupName)] : [...this.groups.values()];
    let activities = groups.flatMap((g) => g.activities);
    if (input.ActivityIds?.length) activities = activities.filter((a) => input.ActivityIds!.includes(a.ActivityId ?? ''));
    activities.sort((a, b) => b.StartTime!.getTime() - a.StartTime!.getTime());
    const { page, nextToken } = paginate(activities, input.MaxRecords ?? 100, input.NextToken, invalidToken);
    return { Activities: clone(page), NextToken: nextToken };
  }

  // ---- tags ----

  createOrUpdateTags(input: CreateOrUpdateTagsCommandInput): Record<string, never> {
    for (const tag of input.Tags ?? []) {
      if (tag.ResourceType !== undefined && tag.ResourceType !== 'auto-scaling-group') {
        throw autoScalingValidationError(`Invalid resource type ${tag.ResourceType}; only auto-scaling-group is supported.`);
      }
      if (tag.Key?.toLowerCase().startsWith('aws:')) throw autoScalingValidationError(`Tag keys starting with 'aws:' are reserved: ${tag.Key}`);
      const group = this.group(tag.ResourceId);
      const existing = group.tags.find((t) => t.Key === tag.Key);
      const next: TagDescription = { ResourceId: group.name, ResourceType: 'auto-scaling-group', Key: tag.Key, Value: tag.Value ?? '', PropagateAtLaunch: tag.PropagateAtLaunch ?? false };
      if (existing) Object.assign(existing, next);
      else group.tags.push(next);
      if (group.tags.length > 50) throw autoScalingLimitExceeded(`The maximum number of tags per Auto Scaling group (50) has been exceeded.`);
    }
    return {};
  }

  deleteTags(input: DeleteTagsCommandInput): Record<string, never> {
    for (const tag of input.Tags ?? []) {
      const group = this.group(tag.ResourceId);
      group.tags = group.tags.filter((t) => t.Key !== tag.Key);
    }
    return {};
  }

  describeTags(input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> {
    let tags = [...this.groups.values()].flatMap((g) => g.tags);
    for (const filter of input.Filters ?? []) {
      const values = filter.Values ?? [];
      const pick: Record<string, (t: TagDescription) => string | undefined> = {
        'auto-scaling-group': (t) => t.ResourceId,
        key: (t) => t.Key,
        value: (t) => t.Value,
        'propagate-at-launch': (t) => String(t.PropagateAtLaunch),
      };
      const get = pick[filter.Name ?? ''];
      if (!get) throw autoScalingValidationError(`Filter name ${filter.Name} is not valid.`);
      tags = tags.filter((t) => values.some((v) => globToRegExp(v).test(get(t) ?? '')));
    }
    const { page, nextToken } = paginate(tags, input.MaxRecords ?? 100, input.NextToken, invalidToken);
    return { Tags: clone(page), NextToken: nextToken };
  }

  // ---- lifecycle hooks ----

  putLifecycleHook(input: PutLifecycleHookCommandInput): Record<string, never> {
    this.putHook(this.group(input.AutoScalingGroupName), input);
    return {};
  }

  private putHook(group: GroupRecord, input: PutLifecycleHookCommandInput | (LifecycleHookSpecification & { AutoScalingGroupName: string })): void {
    const name = input.LifecycleHookName ?? '';
    if (!/^[A-Za-z0-9\-_/]{1,255}$/.test(name)) throw autoScalingValidationError(`Lifecycle hook name ${name} is not valid.`);
    const existing = group.hooks.get(name);
    const transition = (input.LifecycleTransition ?? existing?.LifecycleTransition) as Transition | undefined;
    if (transition !== LAUNCHING && transition !== TERMINATING) {
      throw autoScalingValidationError(`Invalid Lifecycle Transition: ${transition ?? 'null'}. Valid values are autoscaling:EC2_INSTANCE_LAUNCHING and autoscaling:EC2_INSTANCE_TERMINATING.`);
    }
    const heartbeat = input.HeartbeatTimeout ?? existing?.HeartbeatTimeout ?? HOOK_LIMITS.defaultHeartbeat;
    if (heartbeat < HOOK_LIMITS.minHeartbeat || heartbeat > HOOK_LIMITS.maxHeartbeat) {
      throw autoScalingValidationError(`Heartbeat timeout ${heartbeat} is not valid: it must be between ${HOOK_LIMITS.minHeartbeat} and ${HOOK_LIMITS.maxHeartbeat} seconds.`);
    }
    const result = input.DefaultResult ?? existing?.DefaultResult ?? 'ABANDON';
    if (result !== 'CONTINUE' && result !== 'ABANDON') throw autoScalingValidationError(`Invalid DefaultResult ${result}: must be CONTINUE or ABANDON.`);
    if (!existing && group.hooks.size >= 50) throw autoScalingLimitExceeded('The maximum number of lifecycle hooks per Auto Scaling group (50) has been exceeded.');
    const metadata = input.NotificationMetadata ?? existing?.NotificationMetadata;
    const target = input.NotificationTargetARN ?? existing?.NotificationTargetARN;
    const role = input.RoleARN ?? existing?.RoleARN;
    group.hooks.set(name, {
      LifecycleHookName: name,
      AutoScalingGroupName: group.name,
      LifecycleTransition: transition,
      HeartbeatTimeout: heartbeat,
      GlobalTimeout: globalTimeoutSeconds(heartbeat),
      DefaultResult: result,
      ...(metadata !== undefined ? { NotificationMetadata: metadata } : {}),
      ...(target !== undefined ? { NotificationTargetARN: target } : {}),
      ...(role !== undefined ? { RoleARN: role } : {}),
    });
  }

  describeLifecycleHooks(input: DescribeLifecycleHooksCommandInput): Out<DescribeLifecycleHooksCommandOutput> {
    const group = this.group(input.AutoScalingGroupName);
    const names = input.LifecycleHookNames ?? [];
    const hooks = [...group.hooks.values()].filter((h) => names.length === 0 || names.includes(h.LifecycleHookName));
    return { LifecycleHooks: clone(hooks) };
  }

  deleteLifecycleHook(input: DeleteLifecycleHookCommandInput): Record<string, never> {
    const group = this.group(input.AutoScalingGroupName);
    const name = input.LifecycleHookName ?? '';
    if (!group.hooks.has(name)) throw autoScalingValidationError(`No Lifecycle Hook found with name ${name} for group ${group.name}`);
    group.hooks.delete(name);
    this.engine.abandonActionsOfHook(group, name);
    return {};
  }

  private findAction(input: { AutoScalingGroupName?: string | undefined; LifecycleHookName?: string | undefined; LifecycleActionToken?: string | undefined; InstanceId?: string | undefined }): { group: GroupRecord; instance: GroupInstance; action: LifecycleAction } {
    const group = this.group(input.AutoScalingGroupName);
    const hookName = input.LifecycleHookName ?? '';
    if (!group.hooks.has(hookName)) throw autoScalingValidationError(`No Lifecycle Hook found with name ${hookName} for group ${group.name}`);
    if (input.LifecycleActionToken === undefined && input.InstanceId === undefined) {
      throw autoScalingValidationError('Either LifecycleActionToken or InstanceId must be specified.');
    }
    for (const instance of group.instances.values()) {
      const action = instance.actions.get(hookName);
      if (!action) continue;
      if (input.LifecycleActionToken !== undefined ? action.token === input.LifecycleActionToken : action.instanceId === input.InstanceId) {
        return { group, instance, action };
      }
    }
    throw autoScalingValidationError(
      input.LifecycleActionToken !== undefined
        ? `No active Lifecycle Action found with token ${input.LifecycleActionToken}`
        : `No active Lifecycle Action found with instance ID ${input.InstanceId}`,
    );
  }

  completeLifecycleAction(input: CompleteLifecycleActionCommandInput): Record<string, never> {
    const result = input.LifecycleActionResult;
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw autoScalingValidationError(`Invalid LifecycleActionResult ${result ?? 'null'}: must be CONTINUE or ABANDON.`);
    }
    const { group, instance, action } = this.findAction(input);
    this.engine.complete(group, instance, action, result as LifecycleResult, 'CompleteLifecycleAction');
    return {};
  }

  recordLifecycleActionHeartbeat(input: RecordLifecycleActionHeartbeatCommandInput): Record<string, never> {
    const { group, instance, action } = this.findAction(input);
    this.engine.heartbeat(group, instance, action);
    return {};
  }

  // ---- helpers ----

  private validateTemplate(spec: LaunchTemplateSpecification | undefined): void {
    if (!spec) throw autoScalingValidationError('You must use a valid fully-formed launch template.');
    try {
      const record = this.ec2.launchTemplates.find(spec);
      this.ec2.launchTemplates.resolveVersion(record, spec.Version);
    } catch (error) {
      throw autoScalingValidationError(`You must use a valid fully-formed launch template. ${(error as Error).message}`);
    }
  }

  private subnets(vpcZoneIdentifier: string | undefined): string[] {
    const ids = (vpcZoneIdentifier ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) throw autoScalingValidationError('At least one Availability Zone or VPC Subnet is required.');
    for (const id of ids) {
      if (!this.ec2.subnets.has(id)) throw autoScalingValidationError(`The subnet ID '${id}' does not exist`);
    }
    return ids;
  }

  routes(): Route[] {
    return [
      route('autoscaling', CreateAutoScalingGroupCommand, (i) => this.createAutoScalingGroup(i)),
      route('autoscaling', UpdateAutoScalingGroupCommand, (i) => this.updateAutoScalingGroup(i)),
      route('autoscaling', DeleteAutoScalingGroupCommand, (i) => this.deleteAutoScalingGroup(i)),
      route('autoscaling', SetDesiredCapacityCommand, (i) => this.setDesiredCapacity(i)),
      route('autoscaling', DescribeAutoScalingGroupsCommand, (i) => this.describeAutoScalingGroups(i)),
      route('autoscaling', DescribeAutoScalingInstancesCommand, (i) => this.describeAutoScalingInstances(i)),
      route('autoscaling', TerminateInstanceInAutoScalingGroupCommand, (i) => this.terminateInstanceInAutoScalingGroup(i)),
      route('autoscaling', SetInstanceProtectionCommand, (i) => this.setInstanceProtection(i)),
      route('autoscaling', SuspendProcessesCommand, (i) => this.suspendProcesses(i.AutoScalingGroupName, i.ScalingProcesses, true)),
      route('autoscaling', ResumeProcessesCommand, (i) => this.suspendProcesses(i.AutoScalingGroupName, i.ScalingProcesses, false)),
      route('autoscaling', DescribeScalingActivitiesCommand, (i) => this.describeScalingActivities(i)),
      route('autoscaling', CreateOrUpdateTagsCommand, (i) => this.createOrUpdateTags(i)),
      route('autoscaling', DeleteTagsCommand, (i) => this.deleteTags(i)),
      route('autoscaling', DescribeTagsCommand, (i) => this.describeTags(i)),
      route('autoscaling', PutLifecycleHookCommand, (i) => this.putLifecycleHook(i)),
      route('autoscaling', DescribeLifecycleHooksCommand, (i) => this.describeLifecycleHooks(i)),
      route('autoscaling', DescribeLifecycleHookTypesCommand, () => ({ LifecycleHookTypes: [LAUNCHING, TERMINATING] })),
      route('autoscaling', DeleteLifecycleHookCommand, (i) => this.deleteLifecycleHook(i)),
      route('autoscaling', CompleteLifecycleActionCommand, (i) => this.completeLifecycleAction(i)),
      route('autoscaling', RecordLifecycleActionHeartbeatCommand, (i) => this.recordLifecycleActionHeartbeat(i)),
      ...this.refreshes.routes(),
    ];
  }
}

function validateSizes(min: number, max: number, desired: number): void {
  if (min > max) throw autoScalingValidationError(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
  if (desired < min || desired > max) {
    throw autoScalingValidationError(`Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`);
  }
}

function invalidToken(): Error {
  return autoScalingInvalidNextToken();
}
