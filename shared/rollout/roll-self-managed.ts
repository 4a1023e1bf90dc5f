import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { CoreV1Api, PolicyV1Api } from '../kube/api.js';
import type { DrainRecords, DrainStatus } from '../aws/drain-records.js';
import { type GroupSnapshot, isLeaving, launchTimes, setAzRebalance, snapshotGroup, terminateGroupInstance, updateGroup } from '../aws/group-capacity.js';
import { ConfigurationError } from '../errors.js';
import type { SelfManagedRoll } from '../events/rollout.js';
import { cordonNode, uncordonNode } from '../kube/drain/cordon-node.js';
import { type Observation, type RollAction, type RollDecision, type RollSettings, type RolloutEventKind, decideSelfManaged } from './decide-self-managed.js';
import { checkHealth, nodesByInstance } from './health-gate.js';
import { planBatches } from './plan-batches.js';
import type { RolloutPolicy } from './rollout-policy.js';

export interface SelfManagedPorts {
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
  kube: { core: CoreV1Api; policy: PolicyV1Api };
  records: DrainRecords;
  /** starts (or joins) the node-drain of an instance, as a rollout trigger */
  requestDrain: (instanceId: string) => Promise<void>;
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
    launched: [],
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
  for (let n = 0; n < MAX_DECISIONS_PER_STEP; n++) {
    const obs = await observe(current, context, ports);
    decision = decideSelfManaged(current, obs, context.settings);
    ports.log('rollout step', { phase: current.phase, next: decision.state.phase, summary: decision.summary, actions: decision.actions.map((a) => a.kind) });
    await apply(decision.actions, obs.group, context.cluster, ports);
    current = decision.state;
    if (decision.next !== 'step') return decision;
  }
  return { ...decision!, next: 'wait', wait: { seconds: 1, phase: 'replacements' } };
}

async function observe(state: SelfManagedRoll, context: { cluster: string; control: 'pause' | 'abort' | null }, ports: SelfManagedPorts): Promise<Observation> {
  const group = await snapshotGroup(ports.autoscaling, state.autoScalingGroup);
  if (!group) throw new ConfigurationError(`Auto Scaling group ${state.autoScalingGroup} disappeared during the rollout`);
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

/** `group` is the snapshot the decision was made on: an update sends only what differs from it. */
async function apply(actions: readonly RollAction[], group: GroupSnapshot, cluster: string, ports: SelfManagedPorts): Promise<void> {
  const drainPorts = { core: ports.kube.core, policy: ports.kube.policy, cluster, now: ports.now };
  for (const action of actions) {
    switch (action.kind) {
      case 'update-group': {
        const { kind: _kind, ...want } = action;
        await updateGroup(ports.autoscaling, group, want);
        break;
      }
      case 'az-rebalance':
        await setAzRebalance(ports.autoscaling, group.name, action.suspended);
        break;
      case 'cordon':
        for (const node of action.nodes) await cordonNode(drainPorts, node);
        break;
      case 'uncordon':
        for (const node of action.nodes) await uncordonNode(drainPorts, node);
        break;
      case 'drain':
        for (const id of action.instanceIds) await ports.requestDrain(id);
        break;
      case 'terminate':
        for (const id of action.instanceIds) await terminateGroupInstance(ports.autoscaling, id, action.decrement);
        break;
      case 'notify':
        await ports.notify(action.event, action.detail);
        break;
    }
  }
}
