import type { AwsScope } from '../aws/clients.js';
import { type Place, placeKey } from '../aws/places.js';
import { listGroupsTagged } from '../aws/auto-scaling-groups.js';
import { lifecycleHooksOf, putTerminateHook } from '../aws/lifecycle-actions.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import type { ServiceMode } from '../config/service-config.js';
import { POLICY_TAG_PREFIX, tagValue } from '../config/tag-vocabulary.js';
import { observedEvent } from '../events/observed.js';
import type { PublishServiceEvent } from '../events/service-events.js';
import { type ManagedClusters, resolveCluster } from '../ownership/resolve-cluster.js';

/**
 * Installs the terminate lifecycle hook that drains need, on self-managed groups that opted
 * in with the tag `eks-node-lifecycle/drain=on` and have no terminate hook the service may
 * answer: its own, or one the group names in `eks-node-lifecycle/terminate-hook`. Another
 * tool's terminate hook is that tool's (hook-ownership.ts) and does not count.
 * Managed node groups are left alone (EKS drains their nodes itself).
 *
 * The hook: heartbeat timeout 300 s (the drain keeps it alive every 150 s for as long as the
 * group's drain-timeout allows), default result CONTINUE — if the service were down, the
 * instance still terminates after five minutes, as it would have without a hook.
 */
export const INSTALLED_HOOK = { name: 'eks-node-lifecycle-drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' } as const;

export interface GroupFacts {
  name: string;
  tags: Record<string, string>;
  /** the names of the group's terminate hooks, whoever's */
  terminateHooks: string[];
}

export type HookPlan = { group: string; action: 'install' } | { group: string; action: 'skip'; reason: string };

/** Pure: which opted-in groups get the hook. */
export function planTerminateHooks(groups: readonly GroupFacts[], managed: ManagedClusters): HookPlan[] {
  return groups.map((g) => {
    if (tagValue(g.tags, 'drain') !== 'on') return { group: g.name, action: 'skip', reason: 'not opted in' };
    if (g.tags['eks:nodegroup-name']) return { group: g.name, action: 'skip', reason: 'a managed node group: EKS drains its nodes' };
    const owner = resolveCluster({ instanceTags: {}, groupTags: g.tags }, managed);
    if (owner.decision === 'ignore') return { group: g.name, action: 'skip', reason: owner.reason };
    // the hook names of the group's tag (not ourHooks: hook-ownership.ts imports this module's INSTALLED_HOOK)
    const ours = g.terminateHooks.filter((h) => h === INSTALLED_HOOK.name || readNodeGroupPolicy(g.tags).policy.hooks.terminate.includes(h));
    if (ours.length > 0) return { group: g.name, action: 'skip', reason: `already has the service's terminate hook ${ours.join(', ')}` };
    return { group: g.name, action: 'install' };
  });
}

export interface EnsureHooksPorts {
  aws: AwsScope;
  managedClusters: ManagedClusters;
  /** observe: the hooks it would install are reported (`Terminate Hooks Observed`), not installed */
  mode?: ServiceMode;
  publish?: PublishServiceEvent;
  now?: () => Date;
}

export async function ensureTerminateHooks(ports: EnsureHooksPorts): Promise<HookPlan[]> {
  const groups: GroupFacts[] = [];
  // every group carrying the key: a value in another case (`On`) is read as on, and a tag filter's values compare exactly
  for (const g of await listGroupsTagged(ports.aws, `${POLICY_TAG_PREFIX}drain`)) {
    groups.push({ name: g.name, tags: g.tags, terminateHooks: (await lifecycleHooksOf(ports.aws, g.name)).terminate });
  }
  const plan = planTerminateHooks(groups, ports.managedClusters);
  if (ports.mode === 'observe') {
    const install = plan.flatMap((p) => (p.action === 'install' ? [p.group] : []));
    if (install.length === 0 || !ports.publish) return plan;
    const hook = `${INSTALLED_HOOK.name} (heartbeat ${INSTALLED_HOOK.heartbeatTimeoutSeconds} s, default ${INSTALLED_HOOK.defaultResult})`;
    const { detailType, detail } = observedEvent('hooks', {
      mode: 'observe',
      observedBy: 'service',
      groups: install,
      wouldDo: install.map((g) => `PutLifecycleHook ${hook} on ${g}`),
      summary: `observe mode: would install the terminate hook ${INSTALLED_HOOK.name} on ${install.join(', ')}; nothing was changed`,
      at: (ports.now ?? (() => new Date()))().toISOString(),
    });
    await ports.publish(detailType, detail);
    return plan;
  }
  for (const step of plan) {
    if (step.action !== 'install') continue;
    await putTerminateHook(ports.aws, step.group, INSTALLED_HOOK);
  }
  return plan;
}

/** One place's hooks: its plan, or why the place could not be looked at (a member whose role is missing). */
export type PlaceHooks = { place?: Place; plan: HookPlan[] } | { place?: Place; error: string };

/**
 * The terminate hooks of every place of the fleet (the hub's first), each in its own scope and
 * with its own clusters; a place that fails (AssumeRole refused, an SCP, throttling past the
 * retries) is reported with its error and does not stop the others.
 */
export async function ensureTerminateHooksInFleet<P extends { place?: Place }>(places: readonly P[], portsOf: (where: P) => EnsureHooksPorts): Promise<PlaceHooks[]> {
  const results: PlaceHooks[] = [];
  for (const where of places) {
    const { place } = where;
    try {
      results.push({ ...(place ? { place } : {}), plan: await ensureTerminateHooks(portsOf(where)) });
    } catch (error) {
      if (!place) throw error;
      results.push({ place, error: `${placeKey(place)}: ${(error as Error)?.message ?? String(error)}` });
    }
  }
  return results;
}
