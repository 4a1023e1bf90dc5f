import type { AwsScope } from '../aws/clients.js';
import type { DrainRecords } from '../aws/drain-records.js';
import type { InstanceView } from '../aws/instances.js';
import { describeNodegroupTags } from '../aws/nodegroups.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import type { ServiceMode } from '../config/service-config.js';
import type { DrainObserved } from '../events/observed.js';
import { AwsTransientError, InvalidInputError } from '../errors.js';
import type { DrainTrigger, DrainTriggerKind } from '../events/drain.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import type { KubeClients } from '../kube/client.js';
import { checkDrainedNode } from '../kube/drain/drained-node.js';
import { findNodeForInstance } from '../kube/find-node.js';
import { listTerminationHandlerPods, NTH_MANAGED_TAG, type TerminationHandlerSighting, terminationHandlerFor } from '../kube/neighbours.js';
import { findInstanceOwner } from '../ownership/find-owner.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import { decideDrainRequest, lookupsFor, type RequestFacts } from './decide-request.js';
import { hookOwnership } from './hook-ownership.js';
import { ownerAlive } from './drain-owner.js';
import { noteLifecycleAction } from './lifecycle-actions.js';
import { observeDrain } from './observe-drain.js';
import { completeOpenActions } from './own-drain.js';
import { startNodeDrain } from './start-node-drain.js';

export interface RequestDrainPorts {
  aws: AwsScope;
  records: DrainRecords;
  managedClusters: ManagedClusters;
  nodeDrainStateMachineArn: string;
  /** node name → instance id, for manual requests by node name */
  instanceOfNode: (cluster: string, nodeName: string) => Promise<string | undefined>;
  /** the clusters' Kubernetes API: is a node drained long ago still drained? (observe mode: what would a drain do?) */
  kube: Pick<KubeClients, 'core' | 'policy'>;
  /** observe: the drain is decided and reported (`Node Drain Observed`), not started (config/observe.ts) */
  mode?: ServiceMode;
  publish?: (detailType: string, detail: object) => Promise<void>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export type RequestDrainOutcome =
  | { outcome: 'ignored'; instanceId?: string; reason: string }
  | { outcome: 'started' | 'joined' | 'completed-now'; instanceId: string; cluster: string; executionName?: string; reason?: string }
  | { outcome: 'observed'; instanceId: string; cluster: string; observed: DrainObserved };

interface Normalized {
  kind: DrainTriggerKind;
  instanceId?: string;
  nodeName?: string;
  cluster?: string;
  groupName?: string;
  lifecycleAction?: LifecycleAction;
  eventTime?: Date;
  force?: boolean;
  rolloutExecutionArn?: string;
}

function normalize(trigger: DrainTrigger): Normalized {
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
 * 4. decide, once (pure): start (or take over), join the running drain, complete the
 *    lifecycle actions at once, or ignore;
 * 5. act: note the trigger and its lifecycle action in the record — conditionally on the record
 *    as observed; if it changed meanwhile (the drain ended, another trigger started one), back
 *    to 3 — and start the execution, named `drain-<instance>-<generation>`.
 * In observe mode, 3–5 are a report instead (observe-drain.ts): the trigger decided as for an
 * instance never drained, and what a drain would do to its node now — no record, no execution.
 */
export async function requestDrain(trigger: DrainTrigger, ports: RequestDrainPorts): Promise<RequestDrainOutcome> {
  const request = normalize(trigger);
  const ignore = (reason: string, instanceId?: string): RequestDrainOutcome => {
    ports.log('drain request ignored', { instanceId, reason, trigger: request.kind });
    return instanceId ? { outcome: 'ignored', instanceId, reason } : { outcome: 'ignored', reason };
  };

  // 1.
  const instanceId = request.instanceId ?? (await ports.instanceOfNode(request.cluster!, request.nodeName!));
  if (!instanceId) return ignore(`node ${request.nodeName} is not in cluster ${request.cluster}`);
  const owner = await findInstanceOwner(ports, instanceId, request.groupName);
  if (!owner) return ignore('instance not found', instanceId);
  if (owner.decision.decision === 'ignore') return ignore(owner.decision.reason, instanceId);
  const { cluster } = owner.decision;
  if (request.cluster && request.cluster !== cluster) {
    throw new InvalidInputError([{ path: 'cluster', message: `instance ${instanceId} belongs to cluster ${cluster}, not ${request.cluster}` }]);
  }

  // 2.
  const groupTags = owner.group?.tags ?? {};
  const nodegroupTags = owner.decision.nodegroup ? await describeNodegroupTags(ports.aws, cluster, owner.decision.nodegroup) : {};
  const { policy, problems } = readNodeGroupPolicy({ ...groupTags, ...nodegroupTags });
  if (problems.length > 0) ports.log('node group policy problems', { problems });
  if (request.lifecycleAction) {
    const hook = hookOwnership(request.lifecycleAction.lifecycleHookName, 'terminate', policy.hooks);
    if (!hook.ours) return ignore(hook.reason, instanceId);
  }
  const warned = request.kind === 'spot-interruption' || (request.kind === 'rebalance' && policy.onRebalance === 'drain');
  const terminationHandler = warned ? await terminationHandlerOn(cluster, owner.instance, groupTags, ports) : undefined;
  if (request.kind === 'spot-interruption' && !terminationHandler) {
    // on whatever the group's tags say: the instance goes in two minutes, drained or not
    ports.log('spot interruption: draining an owned node before it goes', { instanceId, cluster });
  }
  const drainPolicy = request.force ? { ...policy.drain, onDrainTimeout: 'force' as const } : policy.drain;

  if (ports.mode === 'observe') {
    const decision = decideDrainRequest({ record: undefined, trigger: request.kind, bringsLifecycleAction: request.lifecycleAction !== undefined, onRebalance: policy.onRebalance, now: ports.now() });
    if (decision.action === 'ignore') return ignore(decision.reason, instanceId);
    const observed = await observeDrain({ kind: request.kind, policy: drainPolicy, ...(request.lifecycleAction ? { lifecycleAction: request.lifecycleAction } : {}) }, { instance: owner.instance, cluster }, ports);
    return { outcome: 'observed', instanceId, cluster, observed };
  }

  for (let round = 1; round <= MAX_ROUNDS; round++) {
    // 3.
    const now = ports.now();
    const record = await ports.records.get(instanceId);
    const lookups = lookupsFor(record, now, request.lifecycleAction !== undefined);
    const facts: RequestFacts = {
      record,
      trigger: request.kind,
      bringsLifecycleAction: request.lifecycleAction !== undefined,
      onRebalance: policy.onRebalance,
      now,
      ...(terminationHandler ? { terminationHandler } : {}),
      ...(lookups.owner ? { ownerRunning: await ownerAlive(record!, now, ports.aws, { verify: true }) } : {}),
      ...(lookups.node ? { node: await nodeNow(cluster, owner.instance, ports) } : {}),
    };
    // 4.
    const decision = decideDrainRequest(facts);
    // 5.
    const actions = request.lifecycleAction ? noteLifecycleAction(record?.lifecycleActions ?? [], request.lifecycleAction, request.eventTime ?? now) : undefined;
    const note = { cluster, trigger: request.kind, ...(actions ? { lifecycleActions: actions } : {}) };
    switch (decision.action) {
      case 'ignore':
        return ignore(decision.reason, instanceId);
      case 'join': {
        if (!(await ports.records.write(instanceId, record, note, now))) continue;
        ports.log('drain already running', { instanceId, cluster, reason: decision.reason, executionArn: record?.executionArn });
        return { outcome: 'joined', instanceId, cluster, reason: decision.reason };
      }
      case 'complete-now': {
        const noted = await ports.records.write(instanceId, record, note, now);
        if (!noted) continue;
        const { completed } = await completeOpenActions(noted, ports);
        ports.log('lifecycle actions completed: the node is still drained', { instanceId, cluster, reason: decision.reason, actions: completed });
        return { outcome: 'completed-now', instanceId, cluster, reason: decision.reason };
      }
      case 'start': {
        const started = await startNodeDrain(
          record,
          {
            cluster,
            instanceId,
            trigger: request.kind,
            generation: decision.generation,
            policy: drainPolicy,
            ...(request.eventTime ? { eventTime: request.eventTime } : {}),
            ...(request.rolloutExecutionArn ? { rolloutExecutionArn: request.rolloutExecutionArn } : {}),
            ...(actions ? { lifecycleActions: actions } : {}),
          },
          ports,
        );
        if (!started) continue;
        if (record) ports.log('drain started afresh', { instanceId, cluster, reason: decision.reason });
        return { outcome: started.started ? 'started' : 'joined', instanceId, cluster, executionName: started.executionName, reason: decision.reason };
      }
    }
  }
  throw new AwsTransientError('dynamodb:UpdateItem', { cause: new Error(`the drain record of ${instanceId} kept changing under the request`) });
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
