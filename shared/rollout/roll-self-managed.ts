import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { CoreV1Api, PolicyV1Api } from '../kube/api.js';
import type { DrainRecords, DrainStatus } from '../aws/drain-records.js';
import { type GroupSnapshot, isLeaving, launchTimes, setAzRebalance, snapshotGroup, terminateGroupInstance, updateGroup } from '../aws/group-capacity.js';
import { ConfigurationError } from '../errors.js';
import type { SelfManagedRoll } from '../events/rollout.js';
import { cordonNode, uncordonNode } from '../kube/drain/cordon-node.js';
import { drainBatchPass, releaseDrains, startDrains } from './drain-batch.js';
import { type Observation, type RollAction, type RollDecision, type RollSettings, type RolloutEventKind, decideSelfManaged } from './decide-self-managed.js';
import { checkHealth, nodesByInstance } from './health-gate.js';
import { planBatches } from './plan-batches.js';
import type { RolloutPolicy } from './rollout-policy.js';

export interface SelfManagedPorts {
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
  kube: { core: CoreV1Api; policy: PolicyV1Api };
  records: DrainRecords;
  /** this rollout: the drains it runs are recorded as its own */
  executionArn: string;
  /** the node group's drain policy: the longest grace period a pod gets */
  maxGracePeriodSeconds: number;
  notify: (event: RolloutEventKind, detail: Record<string, unknown>) => Promise<void>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/**
 * The roll's starting state, read without changing anything: the group's sizes and template
 * version to return to, and the batches (oldest nodes first, canary first).
 */
export async function planSelfManagedRoll(
  input: {
    cluster: string;
    autoScalingGroup: string;
    /** the version to roll onto, and the concrete version the group ran (what a rollback restores) */
    target: { launchTemplateId: string; version: number };
    originalVersion: number;
    policy: Pick<RolloutPolicy, 'maxUnavailable' | 'canary' | 'strategy'>;
  },
  ports: Pick<SelfManagedPorts, 'autoscaling' | 'ec2' | 'now'>,
): Promise<SelfManagedRoll> {
  const group = await snapshotGroup(ports.autoscaling, input.autoScalingGroup);
  if (!group) throw new ConfigurationError(`Auto Scaling group ${input.autoScalingGroup} does not exist`);
  if (group.tags['eks:nodegroup-name']) throw new ConfigurationError(`${input.autoScalingGroup} belongs to EKS managed node group ${group.tags['eks:nodegroup-name']}: EKS rolls it, not this workflow`);
  const target = String(input.target.version);
  const old = group.instances.filter((i) => !isLeaving(i) && i.launchTemplateVersion !== target);
  const times = old.length > 0 ? await launchTimes(ports.ec2, old.map((i) => i.instanceId)) : new Map<string, string>();
  const plan = planBatches(
    old.map((i) => ({ name: i.instanceId, instanceId: i.instanceId, availabilityZone: i.availabilityZone, launchedAt: times.get(i.instanceId) ?? '' })),
    input.policy,
    ports.now(),
    { groupSize: group.desired },
  );
  return {
    kind: 'self-managed',
    phase: 'start',
    original: {
      desired: group.desired,
      min: group.min,
      max: group.max,
      launchTemplate: { id: input.target.launchTemplateId, version: String(input.originalVersion) },
      suspendedAZRebalance: !group.suspendedProcesses.includes('AZRebalance'),
    },
    target: { launchTemplateId: input.target.launchTemplateId, version: target },
    autoScalingGroup: input.autoScalingGroup,
    strategy: input.policy.strategy,
    maxUnavailable: plan.decision === 'roll' ? plan.maxUnavailable : 1,
    batches: plan.decision === 'roll' ? plan.batches.map((b) => ({ canary: b.canary, instanceIds: b.nodes.map((n) => n.instanceId), zones: b.nodes.map((n) => n.availabilityZone) })) : [],
    batchIndex: 0,
    cycle: null,
    // already on the target version when the roll begins (an earlier, aborted rollout's
    // replacements): counted as this roll's own, so a batch never takes them for replacements
    // still on their way
    launched: group.instances.filter((i) => !isLeaving(i) && i.launchTemplateVersion === target).map((i) => i.instanceId),
    cordonedAll: false,
    replaced: 0,
    rollback: null,
    end: null,
  };
}

/** Decisions taken in one invocation at most: each is a few calls, and the loop stops at the first wait. */
const MAX_DECISIONS_PER_STEP = 8;

/**
 * One step of the roll: observe, decide (pure), act; again while the decision says to go on
 * at once. Returns the last decision; its state is what the next step starts from.
 */
export async function stepSelfManaged(
  state: SelfManagedRoll,
  context: { cluster: string; control: 'pause' | 'abort' | null; settings: RollSettings },
  ports: SelfManagedPorts,
): Promise<RollDecision> {
  let current = state;
  let decision: RollDecision | undefined;
  // the group as described at the step's start, with the effects of this step's own calls
  // applied (each answered synchronously): one DescribeAutoScalingGroups serves the step
  let known: GroupSnapshot | undefined;
  for (let n = 0; n < MAX_DECISIONS_PER_STEP; n++) {
    const obs = await observe(current, context, ports, known);
    decision = decideSelfManaged(current, obs, context.settings);
    ports.log('rollout step', { phase: current.phase, next: decision.state.phase, summary: decision.summary, actions: decision.actions.map((a) => a.kind) });
    const pass = await apply(decision.actions, obs.group, context.cluster, ports, current.autoScalingGroup);
    known = obs.group ? afterOwnActions(obs.group, decision.actions) : undefined;
    current = decision.state;
    if (pass && current.cycle) {
      // a drain pass: every node empty goes on at once; otherwise wait as long as its pods take to leave
      const cycle = { ...current.cycle, blockedPasses: pass.blockedPasses(current.cycle.blockedPasses ?? 0), blockers: pass.blockers };
      current = { ...current, cycle };
      decision = { ...decision, state: current, ...(decision.wait ? { wait: { ...decision.wait, seconds: pass.waitSeconds(cycle.blockedPasses) } } : {}) };
      if (pass.done) continue;
    }
    if (decision.next !== 'step') return decision;
  }
  return { ...decision!, next: 'wait', wait: { seconds: 1, phase: 'replacements' } };
}

/**
 * The group after this step's own calls, as their answers say: sizes and template as set,
 * AZRebalance as suspended or resumed, the instances asked to terminate now Terminating (a
 * TerminateInstanceInAutoScalingGroup that returns has started the termination). Instances
 * the group launches appear only at the next step's DescribeAutoScalingGroups, and every
 * decision waits for them then. Pure.
 */
export function afterOwnActions(group: GroupSnapshot, actions: readonly RollAction[]): GroupSnapshot {
  let next = group;
  for (const action of actions) {
    switch (action.kind) {
      case 'update-group':
        next = {
          ...next,
          ...(action.desired !== undefined ? { desired: action.desired } : {}),
          ...(action.min !== undefined ? { min: action.min } : {}),
          ...(action.max !== undefined ? { max: action.max } : {}),
          ...(action.launchTemplate ? { launchTemplate: action.launchTemplate } : {}),
        };
        break;
      case 'az-rebalance': {
        const others = next.suspendedProcesses.filter((p) => p !== 'AZRebalance');
        next = { ...next, suspendedProcesses: action.suspended ? [...others, 'AZRebalance'] : others };
        break;
      }
      case 'terminate': {
        const ids = new Set(action.instanceIds);
        const leaving = next.instances.filter((i) => ids.has(i.instanceId) && !isLeaving(i)).length;
        next = {
          ...next,
          desired: action.decrement ? next.desired - leaving : next.desired,
          instances: next.instances.map((i) => (ids.has(i.instanceId) && !isLeaving(i) ? { ...i, lifecycleState: 'Terminating' } : i)),
        };
        break;
      }
      default:
        break;
    }
  }
  return next;
}

async function observe(state: SelfManagedRoll, context: { cluster: string; control: 'pause' | 'abort' | null }, ports: SelfManagedPorts, unchanged?: GroupSnapshot): Promise<Observation> {
  const group = unchanged ?? (state.phase === 'await-drain' ? null : await describeGroup(ports, state.autoScalingGroup));
  const nodes = await nodesByInstance(ports.kube.core, context.cluster);
  const drains = new Map<string, DrainStatus>();
  if (state.phase === 'await-drain' && state.cycle) {
    for (const id of state.cycle.retire) {
      const record = await ports.records.get(id);
      if (record) drains.set(id, record.status);
    }
  }
  const health = state.phase === 'health' && state.cycle ? await checkHealth(ports.kube.core, context.cluster, state.cycle.replacements, nodes) : null;
  return { group, nodes, drains, health, control: context.control, now: ports.now() };
}

/**
 * `group` is the snapshot the decision was made on: an update sends only what differs from it.
 * Returns what a drain pass found, when the actions ran one.
 */
async function describeGroup(ports: Pick<SelfManagedPorts, 'autoscaling'>, name: string): Promise<GroupSnapshot> {
  const group = await snapshotGroup(ports.autoscaling, name);
  if (!group) throw new ConfigurationError(`Auto Scaling group ${name} disappeared during the rollout`);
  return group;
}

async function apply(actions: readonly RollAction[], observed: GroupSnapshot | null, cluster: string, ports: SelfManagedPorts, groupName: string): Promise<Awaited<ReturnType<typeof drainBatchPass>> | undefined> {
  // only a drain's poll goes without the group, and it changes nothing of it
  const group = observed ?? (actions.some((a) => a.kind === 'update-group') ? await describeGroup(ports, groupName) : null);
  const drainPorts = { core: ports.kube.core, policy: ports.kube.policy, cluster, now: ports.now };
  let pass: Awaited<ReturnType<typeof drainBatchPass>> | undefined;
  for (const action of actions) {
    switch (action.kind) {
      case 'update-group': {
        const { kind: _kind, ...want } = action;
        await updateGroup(ports.autoscaling, group!, want);
        break;
      }
      case 'az-rebalance':
        await setAzRebalance(ports.autoscaling, groupName, action.suspended);
        break;
      case 'cordon':
        for (const node of action.nodes) await cordonNode(drainPorts, node);
        break;
      case 'uncordon':
        for (const node of action.nodes) await uncordonNode(drainPorts, node);
        await releaseDrains(action.instanceIds, ports);
        break;
      case 'drain':
        await startDrains(action.instanceIds, cluster, ports);
        break;
      case 'drain-pass':
        pass = await drainBatchPass(action.nodes, action.mode, drainPorts, ports);
        break;
      case 'terminate':
        for (const id of action.instanceIds) await terminateGroupInstance(ports.autoscaling, id, action.decrement);
        break;
      case 'notify':
        await ports.notify(action.event, action.detail);
        break;
    }
  }
  return pass;
}
