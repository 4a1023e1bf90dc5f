import {
  type AutoScalingClient,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  paginateDescribeAutoScalingGroups,
} from '@aws-sdk/client-auto-scaling';
import { callAws } from '../aws/call.js';
import { POLICY_TAG_PREFIX } from '../config/node-group-policy.js';
import { type ManagedClusters, resolveCluster } from '../ownership/resolve-cluster.js';

/**
 * Installs the terminate lifecycle hook that drains need, on self-managed groups that opted
 * in with the tag `eks-node-lifecycle/drain=on` and have no terminate hook of their own.
 * Managed node groups are left alone (EKS drains their nodes itself).
 *
 * The hook: heartbeat timeout 300 s (the drain keeps it alive every 150 s for as long as the
 * group's drain-timeout allows), default result CONTINUE — if the service were down, the
 * instance still terminates after five minutes, as it would have without a hook.
 */
export const INSTALLED_HOOK = { name: 'eks-node-lifecycle-drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' } as const;
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

export interface GroupFacts {
  name: string;
  tags: Record<string, string>;
  hasTerminateHook: boolean;
}

export type HookPlan = { group: string; action: 'install' } | { group: string; action: 'skip'; reason: string };

/** Pure: which opted-in groups get the hook. */
export function planTerminateHooks(groups: readonly GroupFacts[], managed: ManagedClusters): HookPlan[] {
  return groups.map((g) => {
    if (g.tags[`${POLICY_TAG_PREFIX}drain`] !== 'on') return { group: g.name, action: 'skip', reason: 'not opted in' };
    if (g.tags['eks:nodegroup-name']) return { group: g.name, action: 'skip', reason: 'a managed node group: EKS drains its nodes' };
    const owner = resolveCluster({ instanceTags: {}, groupTags: g.tags }, managed);
    if (owner.decision === 'ignore') return { group: g.name, action: 'skip', reason: owner.reason };
    if (g.hasTerminateHook) return { group: g.name, action: 'skip', reason: 'already has a terminate hook' };
    return { group: g.name, action: 'install' };
  });
}

export async function ensureTerminateHooks(ports: { autoscaling: AutoScalingClient; managedClusters: ManagedClusters }): Promise<HookPlan[]> {
  const groups: GroupFacts[] = [];
  const pages = paginateDescribeAutoScalingGroups(
    { client: ports.autoscaling, pageSize: 100 },
    { Filters: [{ Name: `tag:${POLICY_TAG_PREFIX}drain`, Values: ['on'] }] },
  );
  for await (const page of pages) {
    for (const g of page.AutoScalingGroups ?? []) {
      const name = g.AutoScalingGroupName!;
      const hooks = await callAws('autoscaling:DescribeLifecycleHooks', () => ports.autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name })));
      groups.push({
        name,
        tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
        hasTerminateHook: (hooks.LifecycleHooks ?? []).some((h) => h.LifecycleTransition === TERMINATING),
      });
    }
  }
  const plan = planTerminateHooks(groups, ports.managedClusters);
  for (const step of plan) {
    if (step.action !== 'install') continue;
    await callAws('autoscaling:PutLifecycleHook', () =>
      ports.autoscaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: step.group,
          LifecycleHookName: INSTALLED_HOOK.name,
          LifecycleTransition: TERMINATING,
          HeartbeatTimeout: INSTALLED_HOOK.heartbeatTimeoutSeconds,
          DefaultResult: INSTALLED_HOOK.defaultResult,
        }),
      ),
    );
  }
  return plan;
}
