import {
  type AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  type RefreshPreferences,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { ConfigurationError } from '../errors.js';
import { callAws } from './call.js';

/**
 * Auto Scaling instance refresh, thin and safe to repeat: a retried step that already
 * started its refresh adopts it instead of failing on InstanceRefreshInProgress.
 */

/** Statuses in which Auto Scaling refuses to start another refresh on the group. */
const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

export interface RefreshTarget {
  launchTemplateId: string;
  version: number;
}

export interface RefreshView {
  refreshId: string;
  status: NonNullable<InstanceRefresh['Status']>;
  statusReason?: string;
  percentageComplete: number;
  instancesToUpdate: number;
  /** the desired configuration's template and version, when the refresh has one */
  target?: { launchTemplateId?: string; version?: string };
  rollbackReason?: string;
  startTime?: string;
  endTime?: string;
}

export interface GroupInstanceView {
  instanceId: string;
  lifecycleState: string;
  healthy: boolean;
  launchTemplateId?: string;
  version?: string;
}

export interface RefreshGroupView {
  name: string;
  tags: Record<string, string>;
  launchTemplate?: { launchTemplateId?: string; version?: string };
  desired: number;
  instances: GroupInstanceView[];
}

export async function describeRefreshGroup(autoscaling: AutoScalingClient, name: string): Promise<RefreshGroupView | undefined> {
  const out = await callAws('autoscaling:DescribeAutoScalingGroups', () =>
    autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
  );
  const group = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
  if (!group) return undefined;
  const spec = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return {
    name,
    tags: Object.fromEntries((group.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? ''])),
    ...(spec ? { launchTemplate: { ...(spec.LaunchTemplateId ? { launchTemplateId: spec.LaunchTemplateId } : {}), ...(spec.Version ? { version: spec.Version } : {}) } } : {}),
    desired: group.DesiredCapacity ?? 0,
    instances: (group.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? '',
      healthy: (i.HealthStatus ?? '').toLowerCase() === 'healthy',
      ...(i.LaunchTemplate?.LaunchTemplateId ? { launchTemplateId: i.LaunchTemplate.LaunchTemplateId } : {}),
      ...(i.LaunchTemplate?.Version ? { version: i.LaunchTemplate.Version } : {}),
    })),
  };
}

/**
 * Starts a Rolling refresh of `group` onto `target`, or adopts the refresh already running
 * with the same desired configuration (a retry after a lost response). A running refresh
 * with another configuration is somebody else's: ConfigurationError, nothing changed.
 */
export async function startInstanceRefresh(
  autoscaling: AutoScalingClient,
  group: string,
  target: RefreshTarget,
  preferences: RefreshPreferences,
): Promise<{ refreshId: string; adopted: boolean }> {
  const running = await activeRefresh(autoscaling, group);
  if (running) return adoptOrRefuse(group, running, target);
  try {
    const out = await callAws('autoscaling:StartInstanceRefresh', () =>
      autoscaling.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: group,
          Strategy: 'Rolling',
          DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: target.launchTemplateId, Version: String(target.version) } },
          Preferences: preferences,
        }),
      ),
    );
    if (!out.InstanceRefreshId) throw new Error(`StartInstanceRefresh on ${group} returned no InstanceRefreshId`);
    return { refreshId: out.InstanceRefreshId, adopted: false };
  } catch (error) {
    // a refresh started between our describe and our start (a concurrent retry)
    if ((error as Error).name !== 'InstanceRefreshInProgressFault') throw error;
    const raced = await activeRefresh(autoscaling, group);
    if (!raced) throw error;
    return adoptOrRefuse(group, raced, target);
  }
}

function adoptOrRefuse(group: string, running: RefreshView, target: RefreshTarget): { refreshId: string; adopted: true } {
  const same = running.target?.launchTemplateId === target.launchTemplateId && running.target?.version === String(target.version);
  if (same && (running.status === 'Pending' || running.status === 'InProgress')) return { refreshId: running.refreshId, adopted: true };
  const theirs = running.target ? `${running.target.launchTemplateId ?? '?'} version ${running.target.version ?? '?'}` : 'no desired configuration';
  throw new ConfigurationError(
    `Auto Scaling group ${group} already has instance refresh ${running.refreshId} (${running.status}, ${theirs}); ` +
      `it is not ours (${target.launchTemplateId} version ${target.version}): wait for it to finish or cancel it`,
  );
}

/** The newest refresh of the group that blocks a new one, if any. */
export async function activeRefresh(autoscaling: AutoScalingClient, group: string): Promise<RefreshView | undefined> {
  const out = await callAws('autoscaling:DescribeInstanceRefreshes', () =>
    autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group })),
  );
  const found = (out.InstanceRefreshes ?? []).find((r) => ACTIVE.has(r.Status ?? ''));
  return found ? view(found) : undefined;
}

export async function describeInstanceRefresh(autoscaling: AutoScalingClient, group: string, refreshId: string): Promise<RefreshView | undefined> {
  const out = await callAws('autoscaling:DescribeInstanceRefreshes', () =>
    autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, InstanceRefreshIds: [refreshId] })),
  );
  const found = out.InstanceRefreshes?.find((r) => r.InstanceRefreshId === refreshId);
  return found ? view(found) : undefined;
}

/** Cancels the group's active refresh; `null` when none is active (already ended: nothing to do). */
export async function cancelInstanceRefresh(autoscaling: AutoScalingClient, group: string): Promise<{ refreshId: string } | null> {
  try {
    const out = await callAws('autoscaling:CancelInstanceRefresh', () => autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: group })));
    return { refreshId: out.InstanceRefreshId ?? '' };
  } catch (error) {
    if ((error as Error).name === 'ActiveInstanceRefreshNotFoundFault') return null;
    throw error;
  }
}

export type RollbackResult =
  | { kind: 'rolling-back'; refreshId: string }
  | { kind: 'not-active' }
  /** Auto Scaling cannot roll this refresh back (no desired configuration, or `$Latest`/`$Default` versions) */
  | { kind: 'irreversible'; reason: string };

export async function rollbackInstanceRefresh(autoscaling: AutoScalingClient, group: string): Promise<RollbackResult> {
  try {
    const out = await callAws('autoscaling:RollbackInstanceRefresh', () => autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: group })));
    return { kind: 'rolling-back', refreshId: out.InstanceRefreshId ?? '' };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ActiveInstanceRefreshNotFoundFault') return { kind: 'not-active' };
    if (name === 'IrreversibleInstanceRefreshFault') return { kind: 'irreversible', reason: (error as Error).message };
    throw error;
  }
}

function view(r: InstanceRefresh): RefreshView {
  const spec = r.DesiredConfiguration?.LaunchTemplate;
  return {
    refreshId: r.InstanceRefreshId ?? '',
    status: r.Status ?? 'Pending',
    ...(r.StatusReason ? { statusReason: r.StatusReason } : {}),
    percentageComplete: r.PercentageComplete ?? 0,
    instancesToUpdate: r.InstancesToUpdate ?? 0,
    ...(spec ? { target: { ...(spec.LaunchTemplateId ? { launchTemplateId: spec.LaunchTemplateId } : {}), ...(spec.Version ? { version: spec.Version } : {}) } } : {}),
    ...(r.RollbackDetails?.RollbackReason ? { rollbackReason: r.RollbackDetails.RollbackReason } : {}),
    ...(r.StartTime ? { startTime: r.StartTime.toISOString() } : {}),
    ...(r.EndTime ? { endTime: r.EndTime.toISOString() } : {}),
  };
}
