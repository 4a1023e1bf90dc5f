import type { AwsScope } from '../../aws/clients.js';
import type { CoreV1Api, PolicyV1Api } from '../../kube/api.js';
import { continueByInstance, terminateHookNames } from '../../aws/lifecycle-actions.js';
import { readNodeGroupPolicy } from '../../config/node-group-policy.js';
import { ourHooks } from '../../drain/hook-ownership.js';
import type { DrainRecords, DrainStatus } from '../../aws/drain-records.js';
import { failedLaunches, type GroupSnapshot, isLeaving, setAzRebalance, snapshotGroup, terminateGroupInstance, updateGroup } from '../../aws/auto-scaling-groups.js';
import { launchTimes } from '../../aws/instances.js';
import { dropLatestVersion, setDefaultTemplateVersion } from '../../aws/launch-template-versions.js';
import { ConfigurationError } from '../../errors.js';
import type { SelfManagedRoll } from '../../events/rollout.js';
import type { RolloutPhaseDetail } from '../../events/rollout-events.js';
import { cordonNode, uncordonNode } from '../../kube/drain/cordon-node.js';
import { type BatchDrainPorts, type BatchPass, drainBatchPass, releaseDrains, startDrains } from './drain-batch.js';
import { DRAINED, type Observation, type RollAction, type RollDecision, type RollSettings, type RolloutEventKind, afterOwnActions, decideSelfManaged, healthTargets } from './decide-self-managed.js';
import { type GroupIntent, groupChanges, groupSettingsOf } from '../group-interference.js';
import { checkHealth, type NodeFact, nodesByInstance, readNodes } from '../health-gate.js';
import type { BoundaryVerdict } from '../../fleet/may-start.js';
import type { HealthCriteria } from '../../fleet/workload-health.js';
import { planBatches } from '../plan-batches.js';
import type { RolloutPolicy } from '../rollout-policy.js';

export interface SelfManagedPorts extends BatchDrainPorts {
  aws: AwsScope;
  /** the cluster's API, reached only when a step needs it (a tidy-up goes on without it) */
  kube: () => Promise<{ core: CoreV1Api; policy: PolicyV1Api }>;
  records: DrainRecords;
  /** Step Functions and the node-drain workflow: a drain the rollout cannot finish (its hook open) is handed to it */
  nodeDrainStateMachineArn: string;
  /** `once`: announced once per rollout, however often the step runs (the lock keeps what was said) */
  notify: <P extends RolloutEventKind>(event: P, detail: RolloutPhaseDetail<P>, once?: string) => Promise<void>;
  /** the roll paused itself: the lock says so, and a person's `resume` goes on */
  pauseLock: (reason: string) => Promise<void>;
  /** keeps what the step is about to change in the group, before it writes it (see NodeGroupLockRecord.intent) */
  recordIntent: (intent: GroupIntent) => Promise<void>;
  /** the thresholds of the batch's workload health gate (the promotion policy's for the group's ring and cluster, else the defaults) */
  healthCriteria: () => Promise<HealthCriteria>;
  /** the fleet's word at a batch boundary: a freeze pauses, a hold of the release stops */
  atBatchBoundary: () => Promise<BoundaryVerdict>;
  /** the group's outcome for its release in the fleet table (does nothing for a rollout of no release) */
  recordOutcome: (state: 'failed-health' | 'stopped', detail: string) => Promise<void>;
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
    /** the version to roll onto, and the concrete version the group ran when the rollout was planned (what a rollback launches) */
    target: { launchTemplateId: string; version: number };
    originalVersion: number;
    policy: Pick<RolloutPolicy, 'maxUnavailable' | 'canary' | 'strategy'>;
  },
  ports: Pick<SelfManagedPorts, 'aws' | 'now'>,
): Promise<SelfManagedRoll> {
  const group = await snapshotGroup(ports.aws, input.autoScalingGroup);
  if (!group) throw new ConfigurationError(`Auto Scaling group ${input.autoScalingGroup} does not exist`);
  if (group.tags['eks:nodegroup-name']) throw new ConfigurationError(`${input.autoScalingGroup} belongs to EKS managed node group ${group.tags['eks:nodegroup-name']}: EKS rolls it, not this workflow`);
  const target = String(input.target.version);
  const old = group.instances.filter((i) => !isLeaving(i) && i.launchTemplateVersion !== target);
  const times = old.length > 0 ? await launchTimes(ports.aws, old.map((i) => i.instanceId)) : new Map<string, string>();
  const plan = planBatches(
    old.map((i) => ({ name: i.instanceId, instanceId: i.instanceId, availabilityZone: i.availabilityZone, launchedAt: times.get(i.instanceId) ?? '' })),
    input.policy,
    ports.now(),
    { groupSize: group.desired },
  );
  // the group's own setting comes back at the end: `$Latest`/`$Default` as such, a number as the
  // number it names now (the version may have moved since detection resolved it)
  const setting = group.launchTemplate?.version;
  const symbolic = setting === '$Latest' || setting === '$Default' ? setting : undefined;
  const pinned = setting !== undefined && /^\d+$/.test(setting) ? setting : String(input.originalVersion);
  return {
    kind: 'self-managed',
    phase: 'start',
    original: {
      desired: group.desired,
      min: group.min,
      max: group.max,
      launchTemplate: { id: input.target.launchTemplateId, version: pinned },
      ...(symbolic ? { launchTemplateSetting: symbolic } : {}),
      suspendedAZRebalance: !group.suspendedProcesses.includes('AZRebalance'),
    },
    expected: groupSettingsOf(group),
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
  context: { cluster: string; control: 'pause' | 'abort' | null; settings: RollSettings; intent?: GroupIntent },
  ports: SelfManagedPorts,
): Promise<RollDecision> {
  let current = state;
  let intent = context.intent;
  let decision: RollDecision | undefined;
  // the group as described at the step's start, with the effects of this step's own calls
  // applied (each answered synchronously): one DescribeAutoScalingGroups serves the step
  let known: GroupSnapshot | undefined;
  for (let n = 0; n < MAX_DECISIONS_PER_STEP; n++) {
    const obs = { ...(await observe(current, context, ports, known)), ...(intent ? { intent } : {}) };
    decision = decideSelfManaged(current, obs, context.settings);
    // 1. what the decision makes of the group is kept before the group is written
    if (obs.group && !decision.tidy) {
      const change = { from: groupSettingsOf(obs.group), to: groupSettingsOf(afterOwnActions(obs.group, decision.actions)) };
      if (groupChanges(change.from, change.to).length > 0) {
        await ports.recordIntent(change);
        intent = change;
      }
    }
    ports.log('rollout step', { phase: current.phase, next: decision.state.phase, summary: decision.summary, actions: decision.actions.map((a) => a.kind) });
    if (decision.tidy) decision = { ...decision, state: { ...decision.state, left: await tidy(decision, obs, context.cluster, ports) } };
    const pass = decision.tidy ? undefined : await apply(decision.actions, obs, context.cluster, ports, current.autoScalingGroup);
    known = obs.group ? afterOwnActions(obs.group, decision.actions) : undefined;
    current = decision.state;
    if (pass && current.cycle) {
      // a drain pass: every node empty goes on at once; otherwise wait as long as its pods take to leave
      const forced = pass.forced.map((f) => `${f.pod}${f.pdb ? ` (PodDisruptionBudget ${f.pdb})` : ''}`.slice(0, 300));
      const cycle = { ...current.cycle, blockedPasses: pass.blockedPasses(current.cycle.blockedPasses ?? 0), blockers: pass.blockers, ...(forced.length > 0 ? { forced: [...(current.cycle.forced ?? []), ...forced].slice(-50) } : {}) };
      current = { ...current, cycle, ...(forced.length > 0 ? { forced: [...(current.forced ?? []), ...forced].slice(-50) } : {}) };
      decision = { ...decision, state: current, ...(decision.wait ? { wait: { ...decision.wait, seconds: pass.waitSeconds(cycle.blockedPasses) } } : {}) };
      if (pass.done) continue;
    }
    if (decision.next !== 'step') return decision;
  }
  return { ...decision!, next: 'wait', wait: { seconds: 1, phase: 'replacements' } };
}

async function observe(state: SelfManagedRoll, context: { cluster: string; control: 'pause' | 'abort' | null }, ports: SelfManagedPorts, unchanged?: GroupSnapshot): Promise<Observation> {
  if (state.phase === 'give-up') return observeWhatCan(state, context, ports);
  const group = unchanged ?? (state.phase === 'await-drain' ? null : await describeGroup(ports, state.autoScalingGroup));
  const { core } = await ports.kube();
  const listed = await readNodes(core, context.cluster);
  const nodes = listed.byInstance;
  const drains = new Map<string, DrainStatus>();
  if (state.phase === 'await-drain' && state.cycle) {
    for (const id of state.cycle.retire) {
      const record = await ports.records.get(id);
      if (record) drains.set(id, record.status);
    }
  }
  const ownDrained = group ? await drainedByUs(state, group, ports) : undefined;
  const now = ports.now();
  // the batch's new nodes, readiness and workloads: one LIST of nodes (above) and one of pods
  const health = state.phase === 'health' && state.cycle && group ? await checkHealth(core, context.cluster, healthTargets(state, group), listed, { criteria: await ports.healthCriteria(), oldInstanceIds: oldInstances(state, group), now }) : null;
  const atBoundary = state.phase === 'batch-done' || (state.phase === 'paused' && state.pause?.kind === 'freeze');
  const boundary = atBoundary ? await ports.atBatchBoundary() : undefined;
  // late replacements: what Auto Scaling says of its launches, so the reason is its, not a guess
  const late = state.phase === 'await-replacements' && state.cycle && now.toISOString() > state.cycle.deadline;
  const launchFailures = late ? await failedLaunches(ports.aws, state.autoScalingGroup, new Date(state.cycle!.launchedAt ?? state.cycle!.deadline)) : undefined;
  return { group, nodes, drains, health, ...(boundary ? { boundary } : {}), ...(launchFailures ? { launchFailures } : {}), ...(ownDrained?.size ? { ownDrained } : {}), control: context.control, now };
}

/** The group's instances still on the previous image: their pods are the health gate's restart baseline. */
function oldInstances(state: SelfManagedRoll, group: GroupSnapshot): string[] {
  const launched = new Set(state.launched);
  return group.instances.filter((i) => !isLeaving(i) && i.launchTemplateVersion !== state.target.version && !launched.has(i.instanceId)).map((i) => i.instanceId);
}

/**
 * The batches' instances waiting on a terminate hook that this rollout drained but does not
 * know it terminated (a step died between the two): their drain records, read only for them.
 */
async function drainedByUs(state: SelfManagedRoll, group: GroupSnapshot, ports: SelfManagedPorts): Promise<Set<string>> {
  const planned = new Set(state.batches.flatMap((b) => b.instanceIds));
  const followed = new Set((state.terminated ?? []).map((t) => t.instanceId));
  const found = new Set<string>();
  for (const i of group.instances) {
    if (i.lifecycleState !== 'Terminating:Wait' || !planned.has(i.instanceId) || followed.has(i.instanceId)) continue;
    const record = await ports.records.get(i.instanceId);
    if (record && DRAINED.has(record.status) && record.executionArn === ports.executionArn) found.add(i.instanceId);
  }
  return found;
}

/** A tidy-up looks at what it can: the group, the nodes; what it cannot read it leaves as it is, and says so. */
async function observeWhatCan(state: SelfManagedRoll, context: { cluster: string; control: 'pause' | 'abort' | null }, ports: SelfManagedPorts): Promise<Observation> {
  const unobserved: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      ports.log('rollout tidy-up could not read', { what, error: (error as Error).message });
      unobserved.push(`${what} (${(error as Error).name}: ${(error as Error).message.slice(0, 200)})`);
      return undefined;
    }
  };
  const group = (await attempt(`Auto Scaling group ${state.autoScalingGroup}`, () => describeGroup(ports, state.autoScalingGroup))) ?? null;
  const nodes = (await attempt(`the nodes of cluster ${context.cluster}`, async () => nodesByInstance((await ports.kube()).core, context.cluster))) ?? new Map<string, NodeFact>();
  return { group, nodes, drains: new Map(), health: null, unobserved, control: context.control, now: ports.now() };
}

/**
 * `group` is the snapshot the decision was made on: an update sends only what differs from it.
 * Returns what a drain pass found, when the actions ran one.
 */
async function describeGroup(ports: Pick<SelfManagedPorts, 'aws'>, name: string): Promise<GroupSnapshot> {
  const group = await snapshotGroup(ports.aws, name);
  if (!group) throw new ConfigurationError(`Auto Scaling group ${name} disappeared during the rollout`);
  return group;
}

async function apply(actions: readonly RollAction[], obs: Observation, cluster: string, ports: SelfManagedPorts, groupName: string): Promise<BatchPass | undefined> {
  // only a drain's poll goes without the group, and it changes nothing of it
  const group = obs.group ?? (actions.some((a) => a.kind === 'update-group') ? await describeGroup(ports, groupName) : null);
  const kube = actions.some((a) => a.kind === 'cordon' || a.kind === 'uncordon' || a.kind === 'drain-pass') ? await ports.kube() : undefined;
  const drainPorts = { core: kube?.core as CoreV1Api, policy: kube?.policy as PolicyV1Api, cluster, now: ports.now };
  let pass: BatchPass | undefined;
  for (const action of actions) {
    switch (action.kind) {
      case 'update-group': {
        const { kind: _kind, ...want } = action;
        await updateGroup(ports.aws, group!, want);
        break;
      }
      case 'az-rebalance':
        await setAzRebalance(ports.aws, groupName, action.suspended);
        break;
      case 'cordon':
        for (const node of action.nodes) await cordonNode(drainPorts, node);
        break;
      case 'uncordon': {
        // first the drains: one whose terminate hook is open is handed to a drain of its own,
        // and its node (leaving the group anyway) stays cordoned
        const { handedOver: ids } = await releaseDrains(action.instanceIds, ports);
        const handedOver = new Set(ids.map((id) => obs.nodes.get(id)?.name));
        for (const node of action.nodes) if (!handedOver.has(node)) await uncordonNode(drainPorts, node);
        break;
      }
      case 'drain':
        await startDrains(action.instanceIds, cluster, ports);
        break;
      case 'drain-pass':
        pass = await drainBatchPass(action.nodes, action.mode, drainPorts, ports);
        break;
      case 'terminate':
        for (const id of action.instanceIds) await terminateGroupInstance(ports.aws, id, action.decrement);
        break;
      case 'complete-hooks':
        await completeHooksOfDrained(action.instanceIds, groupName, (group ?? (await describeGroup(ports, groupName)))?.tags ?? {}, ports);
        break;
      case 'set-default-version':
        await setDefaultTemplateVersion(ports.aws, action.launchTemplateId, action.version);
        break;
      case 'drop-version': {
        const outcome = await dropLatestVersion(ports.aws, action.launchTemplateId, action.version);
        if (outcome !== 'dropped' && outcome !== 'gone') ports.log('launch template version kept', { launchTemplateId: action.launchTemplateId, version: action.version, why: outcome });
        break;
      }
      case 'pause-lock':
        await ports.pauseLock(action.reason);
        break;
      case 'outcome':
        await ports.recordOutcome(action.state, action.detail);
        break;
      case 'notify':
        await ports.notify(action.event, action.detail, action.once);
        break;
    }
  }
  return pass;
}

/**
 * The backup for a terminate hook of an instance this rollout drained and terminated that
 * nobody completed: only while its drain record says drained, forced or node-gone (nothing
 * left to protect); by instance id, since the action's token never reached us. Only the
 * service's own hooks (drain/hook-ownership.ts): another tool's is that tool's to complete.
 */
async function completeHooksOfDrained(instanceIds: readonly string[], group: string, groupTags: Readonly<Record<string, string>>, ports: SelfManagedPorts): Promise<void> {
  const all = await terminateHookNames(ports.aws, group);
  const hooks = ourHooks(all, 'terminate', readNodeGroupPolicy(groupTags).policy.hooks);
  if (hooks.length < all.length) ports.log('terminate hooks of other tools left alone', { group, hooks: all.filter((h) => !hooks.includes(h)) });
  for (const instanceId of instanceIds) {
    const status = (await ports.records.get(instanceId))?.status;
    if (status !== 'drained' && status !== 'forced' && status !== 'node-gone') {
      ports.log('terminate hook left to its drain', { instanceId, status: status ?? 'no record' });
      continue;
    }
    const completed: string[] = [];
    for (const hook of hooks) if (await continueByInstance(ports.aws, group, hook, instanceId)) completed.push(hook);
    ports.log('terminate hooks nobody completed, completed by the rollout that drained the node', { instanceId, completed });
  }
}

/**
 * A give-up's actions, each tried whatever the others do; what fails is added to the report's
 * `left`, with the command that finishes it. The announcement goes last, with everything left.
 */
async function tidy(decision: RollDecision, obs: Observation, cluster: string, ports: SelfManagedPorts): Promise<string[]> {
  const left = [...(decision.state.left ?? [])];
  const group = decision.state.autoScalingGroup;
  for (const action of decision.actions) {
    if (action.kind === 'notify') {
      await ports.notify(action.event, { ...action.detail, left }, action.once);
      continue;
    }
    try {
      await apply([action], obs, cluster, ports, group);
    } catch (error) {
      ports.log('rollout tidy-up step failed', { action: action.kind, error: (error as Error).message });
      left.push(`${commandToFinish(action, group, cluster)} — not done: ${(error as Error).name}: ${(error as Error).message.slice(0, 200)}`);
    }
  }
  return left.slice(0, 40);
}

/** What a person runs to do by hand what a tidy-up could not. Pure. */
export function commandToFinish(action: RollAction, group: string, cluster: string): string {
  switch (action.kind) {
    case 'update-group': {
      const parts = [
        action.desired !== undefined ? `--desired-capacity ${action.desired}` : '',
        action.min !== undefined ? `--min-size ${action.min}` : '',
        action.max !== undefined ? `--max-size ${action.max}` : '',
        action.launchTemplate ? `--launch-template LaunchTemplateId=${action.launchTemplate.id},Version='${action.launchTemplate.version}'` : '',
      ].filter(Boolean);
      return `aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${group} ${parts.join(' ')}`;
    }
    case 'az-rebalance':
      return `aws autoscaling ${action.suspended ? 'suspend' : 'resume'}-processes --auto-scaling-group-name ${group} --scaling-processes AZRebalance`;
    case 'uncordon':
      return action.nodes
        .map((n) => `kubectl --context ${cluster} uncordon ${n} && kubectl --context ${cluster} taint nodes ${n} eks-node-lifecycle/draining:NoSchedule- && kubectl --context ${cluster} label nodes ${n} node.kubernetes.io/exclude-from-external-load-balancers-`)
        .join('; ');
    case 'drop-version':
      return `aws ec2 delete-launch-template-versions --launch-template-id ${action.launchTemplateId} --versions ${action.version}`;
    case 'set-default-version':
      return `aws ec2 modify-launch-template --launch-template-id ${action.launchTemplateId} --default-version ${action.version}`;
    default:
      return action.kind;
  }
}
