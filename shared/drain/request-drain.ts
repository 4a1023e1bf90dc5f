import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { completeLifecycleAction } from '../aws/auto-scaling.js';
import type { DrainRecords } from '../aws/drain-records.js';
import { describeNodegroupTags } from '../aws/nodegroups.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import { readNodeGroupPolicy } from '../config/node-group-policy.js';
import { InvalidInputError, LifecycleActionGoneError } from '../errors.js';
import type { DrainTrigger, DrainTriggerKind, NodeDrainInput } from '../events/drain.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import { findInstanceOwner, groupTagValues } from '../ownership/find-owner.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import { decideDrainRequest, drainDeadline, drainExecutionName } from './decide-request.js';

export interface RequestDrainPorts {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  eks: EKSClient;
  sfn: SFNClient;
  records: DrainRecords;
  managedClusters: ManagedClusters;
  nodeDrainStateMachineArn: string;
  /** node name → instance id, for manual requests by node name */
  instanceOfNode: (cluster: string, nodeName: string) => Promise<string | undefined>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export type RequestDrainOutcome =
  | { outcome: 'ignored'; instanceId?: string; reason: string }
  | { outcome: 'started' | 'joined' | 'completed-now'; instanceId: string; cluster: string; executionName?: string; reason?: string };

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
      return { kind: 'spot-interruption', instanceId: trigger.detail['instance-id'], eventTime: new Date(trigger.time) };
    case 'EC2 Instance Rebalance Recommendation':
      return { kind: 'rebalance', instanceId: trigger.detail['instance-id'], eventTime: new Date(trigger.time) };
  }
}

/**
 * Turns any drain trigger into at most one running drain per instance.
 *
 * 1. find the instance (by node name for a manual request) and its owning cluster; not ours: ignore;
 * 2. read the node group's policy from its tags;
 * 3. decide against the instance's drain record (pure): start, join the running drain,
 *    complete a late lifecycle action at once, or ignore;
 * 4. note the trigger (and its lifecycle action) in the record, then start the execution,
 *    named `drain-<instance>-<generation>`; ExecutionAlreadyExists means it is under way.
 */
export async function requestDrain(trigger: DrainTrigger, ports: RequestDrainPorts): Promise<RequestDrainOutcome> {
  const request = normalize(trigger);
  const ignore = (reason: string, instanceId?: string): RequestDrainOutcome => {
    ports.log('drain request ignored', { instanceId, reason, trigger: request.kind });
    return instanceId ? { outcome: 'ignored', instanceId, reason } : { outcome: 'ignored', reason };
  };

  const instanceId = request.instanceId ?? (await ports.instanceOfNode(request.cluster!, request.nodeName!));
  if (!instanceId) return ignore(`node ${request.nodeName} is not in cluster ${request.cluster}`);
  const now = ports.now();
  const record = await ports.records.get(instanceId);
  const completeNow = async (action: LifecycleAction, cluster: string, reason: string): Promise<RequestDrainOutcome> => {
    await completeLifecycleAction(ports.autoscaling, action, 'CONTINUE').catch((error: unknown) => {
      if (!(error instanceof LifecycleActionGoneError)) throw error;
    });
    ports.log('lifecycle action completed: node already drained', { instanceId, cluster, reason });
    return { outcome: 'completed-now', instanceId, cluster, reason };
  };
  // the terminate hook of a node this service drained (a rollout's batch, an earlier trigger):
  // the record names the cluster, so nothing needs looking up again
  if (request.lifecycleAction && record && (record.status === 'drained' || record.status === 'forced') && !request.cluster) {
    const decision = decideDrainRequest({ record, trigger: request.kind, bringsLifecycleAction: true, onRebalance: 'drain' });
    if (decision.action === 'complete-now') {
      await ports.records.note(instanceId, { cluster: record.cluster, trigger: request.kind, lifecycleAction: request.lifecycleAction }, now);
      return completeNow(request.lifecycleAction, record.cluster, decision.reason);
    }
  }
  const owner = await findInstanceOwner(ports, instanceId, request.groupName);
  if (!owner) return ignore('instance not found', instanceId);
  if (owner.decision.decision === 'ignore') return ignore(owner.decision.reason, instanceId);
  const { cluster } = owner.decision;
  if (request.cluster && request.cluster !== cluster) {
    throw new InvalidInputError([{ path: 'cluster', message: `instance ${instanceId} belongs to cluster ${cluster}, not ${request.cluster}` }]);
  }

  const groupTags = owner.group ? groupTagValues(owner.group) : {};
  const nodegroupTags = owner.decision.nodegroup ? await describeNodegroupTags(ports.eks, cluster, owner.decision.nodegroup) : {};
  const { policy, problems } = readNodeGroupPolicy({ ...groupTags, ...nodegroupTags });
  if (problems.length > 0) ports.log('node group policy problems', { problems });

  const decision = decideDrainRequest({ record, trigger: request.kind, bringsLifecycleAction: request.lifecycleAction !== undefined, onRebalance: policy.onRebalance });
  switch (decision.action) {
    case 'ignore':
      return ignore(decision.reason, instanceId);
    case 'join': {
      const noted = await ports.records.note(instanceId, { cluster, trigger: request.kind, lifecycleAction: request.lifecycleAction }, now);
      // the drain may have ended between our read and our write: then nobody else will complete it
      if (noted.status === 'running' || !request.lifecycleAction) {
        ports.log('drain already running', { instanceId, cluster, reason: decision.reason });
        return { outcome: 'joined', instanceId, cluster, reason: decision.reason };
      }
      return completeNow(request.lifecycleAction, cluster, `the node was drained meanwhile (${noted.status})`);
    }
    case 'complete-now':
      await ports.records.note(instanceId, { cluster, trigger: request.kind, lifecycleAction: request.lifecycleAction }, now);
      return completeNow(request.lifecycleAction!, cluster, decision.reason);
    case 'start': {
      const executionName = drainExecutionName(instanceId, decision.generation);
      const executionArn = `${ports.nodeDrainStateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
      await ports.records.note(instanceId, { cluster, trigger: request.kind, lifecycleAction: request.lifecycleAction, start: { generation: decision.generation, executionArn } }, now);
      const drainPolicy = request.force ? { ...policy.drain, onDrainTimeout: 'force' as const } : policy.drain;
      const input: NodeDrainInput = {
        cluster,
        instanceId,
        trigger: request.kind,
        deadline: drainDeadline({ trigger: request.kind, now, eventTime: request.eventTime, drainTimeoutSeconds: drainPolicy.drainTimeoutSeconds }).toISOString(),
        policy: drainPolicy,
        startedAt: now.toISOString(),
        ...(request.rolloutExecutionArn ? { rolloutExecutionArn: request.rolloutExecutionArn } : {}),
      };
      const started = await startExecutionOnce(ports.sfn, ports.nodeDrainStateMachineArn, executionName, input);
      ports.log(started.started ? 'drain started' : 'drain already under way', { instanceId, cluster, executionArn: started.executionArn, trigger: request.kind });
      return { outcome: started.started ? 'started' : 'joined', instanceId, cluster, executionName };
    }
  }
}
