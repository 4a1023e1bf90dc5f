import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  type RefreshPreferences,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { ConfigurationError } from '../errors.js';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

const autoScaling = (scope: AwsScope) => clientOf(scope, AutoScalingClient);

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

/**
 * Starts a Rolling refresh of `group` onto `target`, or adopts the refresh already running
 * with the same desired configuration (a retry after a lost response). A running refresh
 * with another configuration is somebody else's: ConfigurationError, nothing changed.
 */
export async function startInstanceRefresh(
  scope: AwsScope,
  group: string,
  target: RefreshTarget,
  preferences: RefreshPreferences,
): Promise<{ refreshId: string; adopted: boolean }> {
  const running = await activeRefresh(scope, group);
  if (running) return adoptOrRefuse(group, running, target);
  try {
    const out = await callAws('autoscaling:StartInstanceRefresh', () =>
      autoScaling(scope).send(
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
    const raced = await activeRefresh(scope, group);
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
export async function activeRefresh(scope: AwsScope, group: string): Promise<RefreshView | undefined> {
  const out = await callAws('autoscaling:DescribeInstanceRefreshes', () =>
    autoScaling(scope).send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group })),
  );
  const found = (out.InstanceRefreshes ?? []).find((r) => ACTIVE.has(r.Status ?? ''));
  return found ? view(found) : undefined;
}

export async function describeInstanceRefresh(scope: AwsScope, group: string, refreshId: string): Promise<RefreshView | undefined> {
  const out = await callAws('autoscaling:DescribeInstanceRefreshes', () =>
    autoScaling(scope).send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, InstanceRefreshIds: [refreshId] })),
  );
  const found = out.InstanceRefreshes?.find((r) => r.InstanceRefreshId === refreshId);
  return found ? view(found) : undefined;
}

/** Cancels the group's active refresh; `null` when none is active (already ended: nothing to do). */
export async function cancelInstanceRefresh(scope: AwsScope, group: string): Promise<{ refreshId: string } | null> {
  try {
    const out = await callAws('autoscaling:CancelInstanceRefresh', () => autoScaling(scope).send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: group })));
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

export async function rollbackInstanceRefresh(scope: AwsScope, group: string): Promise<RollbackResult> {
  try {
    const out = await callAws('autoscaling:RollbackInstanceRefresh', () => autoScaling(scope).send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: group })));
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
