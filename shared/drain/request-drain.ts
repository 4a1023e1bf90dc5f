import type { AwsScope } from '../aws/clients.js';
import type { DrainRecords } from '../aws/drain-records.js';
import type { Place } from '../aws/places.js';
import type { InstanceView } from '../aws/instances.js';
import { describeNodegroupTags } from '../aws/nodegroups.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import type { ServiceMode } from '../config/service-config.js';
import type { DrainObserved } from '../events/observed.js';
import { AwsTransientError, InvalidInputError } from '../errors.js';
import type { DrainTrigger, ManualUncordonRequest } from '../events/drain.js';
import { checkDrainedNode } from '../kube/drain/drained-node.js';
import { findNodeForInstance } from '../kube/find-node.js';
import { listTerminationHandlerPods, NTH_MANAGED_TAG, type TerminationHandlerSighting, terminationHandlerFor } from '../kube/neighbours.js';
import { findInstanceOwner } from '../ownership/find-owner.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import { type DrainRequest, type DrainRequestFacts, type DrainRequestPlan, lookupsFor, planDrainRequest, type RequestFacts, type RequestScope } from './decide-request.js';
import { hookOwnership } from './hook-ownership.js';
import { ownerAlive } from './drain-owner.js';
import { type ObserveDrainPorts, observeDrain } from './observe-drain.js';
import { completeOpenActions } from './own-drain.js';
import { startNodeDrain } from './start-node-drain.js';

/**
 * A drain request's ports are those of the instance's place: `aws` acts there (EC2, Auto
 * Scaling, EKS; a member's role), `kube` reaches its clusters, `records` are its drain records;
 * `hub` is the hub's own scope, where the drains run (Step Functions).
 */
export interface RequestDrainPorts extends ObserveDrainPorts {
  hub: AwsScope;
  /** the instance's drain records: the hub table, keyed for the place (DrainRecords.at) */
  records: DrainRecords;
  managedClusters: ManagedClusters;
  nodeDrainStateMachineArn: string;
  /** node name → instance id, for manual requests by node name */
  instanceOfNode: (cluster: string, nodeName: string) => Promise<string | undefined>;
  /** observe: the drain is decided and reported (`Node Drain Observed`), not started (config/observe.ts) */
  mode?: ServiceMode;
}

export type RequestDrainOutcome =
  | { outcome: 'ignored'; instanceId?: string; reason: string }
  | { outcome: 'started' | 'joined' | 'completed-now'; instanceId: string; cluster: string; executionName?: string; reason?: string }
  | { outcome: 'observed'; instanceId: string; cluster: string; observed: DrainObserved };

function normalize(trigger: DrainTrigger): DrainRequest {
  if ('kind' in trigger && trigger.kind === 'rollout-drain') {
    return { kind: 'rollout', instanceId: trigger.instanceId, cluster: trigger.cluster, rolloutExecutionArn: trigger.rolloutExecutionArn };
  }
  if ('kind' in trigger) {
    return { kind: 'manual', instanceId: trigger.instanceId, nodeName: trigger.nodeName, cluster: trigger.cluster, force: trigger.force };
  }
  switch (trigger['detail-type']) {
    case 'EC2 Instance-terminate Lifecycle Action':
      return {
        kind: 'terminate-hook',
        instanceId: trigger.detail.EC2InstanceId,
        groupName: trigger.detail.AutoScalingGroupName,
        eventTime: new Date(trigger.time),
        lifecycleAction: {
          autoScalingGroupName: trigger.detail.AutoScalingGroupName,
          lifecycleHookName: trigger.detail.LifecycleHookName,
          lifecycleActionToken: trigger.detail.LifecycleActionToken,
          instanceId: trigger.detail.EC2InstanceId,
        },
      };
    case 'EC2 Spot Instance Interruption Warning':
      return { kind: 'spot-interruption', instanceId: trigger.detail['instance-id'], ...timeOf(trigger.time) };
    case 'EC2 Instance Rebalance Recommendation':
      return { kind: 'rebalance', instanceId: trigger.detail['instance-id'], eventTime: new Date(trigger.time) };
  }
}

/** An event's time, when it is one (the documentation's spot sample says `yyyy-mm-ddThh:mm:ssZ`): else the drain counts from now. */
function timeOf(text: string): { eventTime?: Date } {
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? {} : { eventTime: time };
}

/**
 * Where a trigger says its instance lives: an AWS event, the account and region of its
 * envelope (a member's events are forwarded to the hub's bus as they are); a request, its
 * `accountId` and `region` (absent: the hub's own).
 */
export function placeOfTrigger(trigger: DrainTrigger | ManualUncordonRequest): Partial<Place> {
  if ('kind' in trigger) return { ...(trigger.accountId ? { accountId: trigger.accountId } : {}), ...(trigger.region ? { region: trigger.region } : {}) };
  return { accountId: trigger.account, region: trigger.region };
}

/** Rounds of observe-decide-act before giving up (retryably) on a record that keeps changing. */
const MAX_ROUNDS = 4;

/**
 * Turns any drain trigger into at most one running drain per instance.
 *
 * 1. find the instance (by node name for a manual request) and its owning cluster; not ours: ignore;
 * 2. read the node group's policy from its tags; a terminate hook that is not the service's
 *    (another tool's: hook-ownership.ts) is left alone — no drain, no heartbeat, no completion;
 *    a spot or rebalance warning looks (one list) for the Node Termination Handler draining
 *    the node on it, and leaves the drain to it (decide-request.ts);
 * 3. observe the instance's drain record and, as it asks, check what it claims: the owner of
 *    a running drain whose lease lapsed (DescribeExecution), the node of a finished one
 *    (cordoned by us, nothing to evict);
 * 4. decide, once (planDrainRequest, pure): start (or take over), join the running drain,
 *    complete the lifecycle actions at once, or ignore — with what each writes;
 * 5. act: note the trigger and its lifecycle action in the record — conditionally on the record
 *    as observed; if it changed meanwhile (the drain ended, another trigger started one), back
 *    to 3 — and start the execution, named `drain-<instance>-<generation>`.
 * In observe mode, 3–5 are a report instead (observe-drain.ts): the trigger decided as for an
 * instance never drained, and what a drain would do to its node now — no record, no execution.
 */
export async function requestDrain(trigger: DrainTrigger, ports: RequestDrainPorts): Promise<RequestDrainOutcome> {
  const request = normalize(trigger);
  // 1.–2.
  const scope = await observeScope(request, ports);
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    // 3.
    const facts = await observeRound(request, scope, ports);
    // 4.
    const plan = planDrainRequest(facts);
    // 5.
    const outcome = await carryOut(plan, facts, ports);
    if (outcome) return outcome;
  }
  throw new AwsTransientError('dynamodb:UpdateItem', { cause: new Error(`the drain record of ${scope.instanceId} kept changing under the request`) });
}

/** Steps 1–2: whose the instance is and under which policy; each lookup only while the instance may still be ours. */
async function observeScope(request: DrainRequest, ports: RequestDrainPorts): Promise<RequestScope> {
  const instanceId = request.instanceId ?? (await ports.instanceOfNode(request.cluster!, request.nodeName!));
  if (!instanceId) return { scope: 'not-ours', reason: `node ${request.nodeName} is not in cluster ${request.cluster}` };
  const owner = await findInstanceOwner(ports, instanceId, request.groupName);
  if (!owner) return { scope: 'not-ours', instanceId, reason: 'instance not found' };
  if (owner.decision.decision === 'ignore') return { scope: 'not-ours', instanceId, reason: owner.decision.reason };
  const { cluster } = owner.decision;
  if (request.cluster && request.cluster !== cluster) return { scope: 'wrong-cluster', instanceId, cluster, asked: request.cluster };

  const groupTags = owner.group?.tags ?? {};
  const nodegroupTags = owner.decision.nodegroup ? await describeNodegroupTags(ports.aws, cluster, owner.decision.nodegroup) : {};
  const { policy, problems } = readNodeGroupPolicy({ ...groupTags, ...nodegroupTags });
  if (problems.length > 0) ports.log('node group policy problems', { problems });
  if (request.lifecycleAction) {
    const hook = hookOwnership(request.lifecycleAction.lifecycleHookName, 'terminate', policy.hooks);
    if (!hook.ours) return { scope: 'not-ours', instanceId, reason: hook.reason };
  }
  // observe mode reports the drain as the service would start it, with or without the handler
  const warned = ports.mode !== 'observe' && (request.kind === 'spot-interruption' || (request.kind === 'rebalance' && policy.onRebalance === 'drain'));
  const terminationHandler = warned ? await terminationHandlerOn(cluster, owner.instance, groupTags, ports) : undefined;
  if (request.kind === 'spot-interruption' && !terminationHandler) {
    // on whatever the group's tags say: the instance goes in two minutes, drained or not
    ports.log('spot interruption: draining an owned node before it goes', { instanceId, cluster });
  }
  return { scope: 'ours', instanceId, cluster, instance: owner.instance, policy, ...(terminationHandler ? { terminationHandler } : {}) };
}

/** Step 3: the drain record and what it asks to be checked (lookupsFor); nothing when no drain can follow or in observe mode. */
async function observeRound(request: DrainRequest, scope: RequestScope, ports: RequestDrainPorts): Promise<DrainRequestFacts> {
  const now = ports.now();
  const base = { request, scope, observeOnly: ports.mode === 'observe', now };
  if (scope.scope !== 'ours' || base.observeOnly) return base;
  const record = await ports.records.get(scope.instanceId);
  const lookups = lookupsFor(record, now, request.lifecycleAction !== undefined);
  return {
    ...base,
    drain: {
      record,
      ...(lookups.owner ? { ownerRunning: await ownerAlive(record!, now, ports.hub, { verify: true }) } : {}),
      ...(lookups.node ? { node: await nodeNow(scope.cluster, scope.instance, ports) } : {}),
    },
  };
}

/** Step 5: the plan carried out. Undefined when the record changed under a write: observe and decide again. */
async function carryOut(plan: DrainRequestPlan, facts: DrainRequestFacts, ports: RequestDrainPorts): Promise<RequestDrainOutcome | undefined> {
  const { request, scope } = facts;
  const instanceId = scope.instanceId;
  if (plan.action === 'ignore') {
    ports.log('drain request ignored', { instanceId, reason: plan.reason, trigger: request.kind });
    return instanceId ? { outcome: 'ignored', instanceId, reason: plan.reason } : { outcome: 'ignored', reason: plan.reason };
  }
  if (plan.action === 'reject') throw new InvalidInputError([{ path: plan.path, message: plan.message }]);
  if (scope.scope !== 'ours') throw new Error(`a ${plan.action} plan for an instance that is not ours`);
  const { cluster } = scope;
  const record = facts.drain?.record;
  switch (plan.action) {
    case 'observe': {
      const observed = await observeDrain({ kind: request.kind, policy: plan.policy, ...(request.lifecycleAction ? { lifecycleAction: request.lifecycleAction } : {}) }, { instance: scope.instance, cluster }, ports);
      return { outcome: 'observed', instanceId: scope.instanceId, cluster, observed };
    }
    case 'join': {
      if (!(await ports.records.write(scope.instanceId, record, plan.note, facts.now))) return undefined;
      ports.log('drain already running', { instanceId, cluster, reason: plan.reason, executionArn: record?.executionArn });
      return { outcome: 'joined', instanceId: scope.instanceId, cluster, reason: plan.reason };
    }
    case 'complete-now': {
      const noted = await ports.records.write(scope.instanceId, record, plan.note, facts.now);
      if (!noted) return undefined;
      const { completed } = await completeOpenActions(noted, ports);
      ports.log('lifecycle actions completed: the node is still drained', { instanceId, cluster, reason: plan.reason, actions: completed });
      return { outcome: 'completed-now', instanceId: scope.instanceId, cluster, reason: plan.reason };
    }
    case 'start': {
      const started = await startNodeDrain(record, plan.start, ports);
      if (!started) return undefined;
      if (plan.afresh) ports.log('drain started afresh', { instanceId, cluster, reason: plan.reason });
      return { outcome: started.started ? 'started' : 'joined', instanceId: scope.instanceId, cluster, executionName: started.executionName, reason: plan.reason };
    }
  }
}

/**
 * The Node Termination Handler draining this instance's node on a spot or rebalance warning, if
 * seen (one list: kube/neighbours.ts). Not seen for sure — the API did not answer — means the
 * service drains: two drains of a dying node cost less than none.
 */
async function terminationHandlerOn(cluster: string, instance: InstanceView, groupTags: Record<string, string>, ports: Pick<RequestDrainPorts, 'kube' | 'log'>): Promise<TerminationHandlerSighting | undefined> {
  const nodeName = instance.privateDnsName;
  try {
    const core = await ports.kube.core(cluster);
    const pods = await listTerminationHandlerPods(core, cluster, { ...(nodeName ? { nodeName } : {}), everywhere: Object.hasOwn(groupTags, NTH_MANAGED_TAG) });
    return terminationHandlerFor(pods, { nodeNames: nodeName ? [nodeName] : [], groupTags });
  } catch (error) {
    ports.log('could not look for the Node Termination Handler: draining', { instanceId: instance.instanceId, cluster, error: (error as Error)?.message });
    return undefined;
  }
}

/** The node of a finished drain as it is now: still drained (or gone), or back in service. */
async function nodeNow(cluster: string, instance: InstanceView, ports: Pick<RequestDrainPorts, 'kube'>): Promise<NonNullable<RequestFacts['node']>> {
  if (instance.state === 'shutting-down' || instance.state === 'terminated') return { drained: true };
  const core = await ports.kube.core(cluster);
  const node = await findNodeForInstance(core, cluster, instance);
  if (!node) return { drained: true };
  const check = await checkDrainedNode({ core, cluster }, node);
  return check.state === 'drained' ? { drained: true } : { drained: false, reason: check.reason };
}
