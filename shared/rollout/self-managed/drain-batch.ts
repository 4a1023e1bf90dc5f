import { snapshotGroup } from '../../aws/auto-scaling-groups.js';
import type { AwsScope } from '../../aws/clients.js';
import type { DrainRecord, DrainRecords, DrainStatus } from '../../aws/drain-records.js';
import { readNodeGroupPolicy } from '../../config/node-group-policy.js';
import { leaseHolds, leaseUntil, ownerAlive } from '../../drain/drain-owner.js';
import { openActions } from '../../drain/lifecycle-actions.js';
import { endDrain, keepDrainAlive } from '../../drain/own-drain.js';
import { metricsOfDrainEnd, metricsOfForcedPods, recordMetrics } from '../../metrics/metrics.js';
import { forcedReport } from '../../drain/run-drain-step.js';
import { startNodeDrain } from '../../drain/start-node-drain.js';
import { AwsTransientError, ConfigurationError } from '../../errors.js';
import type { ForcedPodReport } from '../../events/drain.js';
import { drainPass } from '../../kube/drain/drain-pass.js';
import { forcePass } from '../../kube/drain/force-pass.js';
import { nextPassDelaySeconds } from '../../kube/drain/next-wait.js';
import type { DrainPorts, DrainProgress } from '../../kube/drain/types.js';

/**
 * A rollout drains its batch itself: the drain engine's passes (the same as node-drain's:
 * cordon, evictions within PodDisruptionBudgets, grace periods capped) run from the roll's
 * steps over every node of the batch, and the waits between passes are the rollout's own
 * Wait states. One loop per batch instead of a node-drain execution per node.
 *
 * Each instance's drain record says the rollout owns its drain (and renews its lease as it
 * passes), so any other trigger for the instance (a spot warning, a terminate hook) joins it
 * rather than starting another. A terminate hook that joins — a scale-in choosing a node the
 * rollout drains — is the rollout's to honour, as node-drain would: every pass heartbeats it
 * when due, and the end of the node's drain completes it with CONTINUE. The terminate hook of
 * the rollout's own termination finds the node drained and is completed at once.
 */
export interface BatchDrainPorts {
  records: DrainRecords;
  /** the group's place: keeps alive and completes the lifecycle actions that join the rollout's drains */
  aws: AwsScope;
  /** the hub's (Step Functions: whether another drain's owner still runs, the hand-over to node-drain); absent: `aws`, the hub's own place */
  hub?: AwsScope;
  executionArn: string;
  maxGracePeriodSeconds: number;
  /**
   * the node-drain state machine: the hand-over of a drain the rollout cannot finish
   * (functions/roll-step.ts wires it; a step that needs it without it fails with ConfigurationError)
   */
  nodeDrainStateMachineArn?: string;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

const MAX_ATTEMPTS = 5;

function stepFunctions(ports: BatchDrainPorts): { aws: AwsScope; nodeDrainStateMachineArn: string } {
  if (!ports.nodeDrainStateMachineArn) throw new ConfigurationError('the rollout needs NODE_DRAIN_STATE_MACHINE_ARN to hand over a drain');
  return { aws: ports.hub ?? ports.aws, nodeDrainStateMachineArn: ports.nodeDrainStateMachineArn };
}

function keepsChanging(instanceId: string): AwsTransientError {
  return new AwsTransientError('dynamodb:UpdateItem', { cause: new Error(`the drain record of ${instanceId} kept changing under the rollout`) });
}

/** Notes the rollout's drain of each instance (idempotent: a retried step finds its own drains running). */
export async function startDrains(instanceIds: readonly string[], cluster: string, ports: BatchDrainPorts): Promise<void> {
  for (const instanceId of instanceIds) await claimDrain(instanceId, cluster, ports);
}

/**
 * Makes the rollout the owner of the instance's drain — unless another drain that still runs
 * owns it (the rollout waits for that one); a drain whose owner's lease lapsed and whose
 * execution is not RUNNING is taken over. Whether the rollout owns it now.
 */
async function claimDrain(instanceId: string, cluster: string, ports: BatchDrainPorts, seen?: DrainRecord): Promise<boolean> {
  let record = seen ?? (await ports.records.get(instanceId));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const now = ports.now();
    if (record?.status === 'running') {
      if (record.executionArn === ports.executionArn) return true;
      if (leaseHolds(record, now) || (await ownerAlive(record, now, ports.hub ?? ports.aws))) {
        ports.log('instance already being drained: the rollout waits for that drain', { instanceId, executionArn: record.executionArn });
        return false;
      }
      ports.log('the drain of the instance has a dead owner: the rollout takes it over', { instanceId, executionArn: record.executionArn });
    }
    const generation = record ? record.generation + 1 : 0;
    const written = await ports.records.write(instanceId, record, { cluster, trigger: 'rollout', status: 'running', generation, executionArn: ports.executionArn, leaseUntil: leaseUntil(now) }, now);
    if (written) return true;
    record = await ports.records.get(instanceId);
  }
  throw keepsChanging(instanceId);
}

export interface BatchPass {
  /** no node left to drain in this pass (all finished, none waiting on another drain) */
  done: boolean;
  /** what could not be evicted, as `namespace/pod (PodDisruptionBudget namespace/name)` */
  blockers: string[];
  /** the pods a force pass deleted past their budgets, with the budget (`namespace/name`) that had blocked each when known */
  forced: ForcedPodReport[];
  /** the count of passes in a row that were blocked and evicted nothing */
  blockedPasses: (previous: number) => number;
  /** how long to wait before the next pass (never past the next heartbeat a joined hook needs) */
  waitSeconds: (blockedPasses: number) => number;
}

/**
 * One pass over each node the rollout is draining:
 * 1. its drain record: another live drain's node is waited for; a dead owner's is taken over;
 * 2. before any Kubernetes call, the rollout's lease and the heartbeats of the lifecycle
 *    actions that joined the drain (when due);
 * 3. the engine's pass (evict, or force);
 * 4. a node that is empty (or gone) ends its drain: recorded, and every open lifecycle action
 *    completed with CONTINUE.
 */
export async function drainBatchPass(nodes: readonly { instanceId: string; nodeName: string | null }[], mode: 'evict' | 'force', kube: DrainPorts, ports: BatchDrainPorts): Promise<BatchPass> {
  const draining: DrainProgress[] = [];
  const forced: ForcedPodReport[] = [];
  let waitingOnOthers = false;
  let nextHeartbeat = Number.POSITIVE_INFINITY;
  for (const { instanceId, nodeName } of nodes) {
    // 1.
    const record = await ports.records.get(instanceId);
    if (record?.status !== 'running') continue;
    if (record.executionArn !== ports.executionArn && !(await claimDrain(instanceId, record.cluster, ports, record))) {
      waitingOnOthers = true;
      continue;
    }
    // 2.
    const kept = await keepDrainAlive(instanceId, ports.executionArn, ports);
    if (!kept) {
      waitingOnOthers = true;
      continue;
    }
    if (kept.next) nextHeartbeat = Math.min(nextHeartbeat, kept.next.at.getTime());
    // 3.
    const progress = nodeName ? await (mode === 'force' ? forcePass : drainPass)(kube, nodeName, { maxGracePeriodSeconds: ports.maxGracePeriodSeconds }) : null;
    forced.push(...(progress?.forced ?? []).map(forcedReport));
    recordMetrics(metricsOfForcedPods(record.cluster, progress?.forced?.length ?? 0));
    if (progress?.phase === 'draining') {
      draining.push(progress);
      continue;
    }
    // 4.
    const status: DrainStatus = !progress || progress.phase === 'node-gone' ? 'node-gone' : mode === 'force' ? 'forced' : 'drained';
    await endDrain(instanceId, ports.executionArn, status, ports);
    recordMetrics(metricsOfDrainEnd(record.cluster, status));
  }
  const blocked = draining.flatMap((p) => p.blocked);
  const evictedAny = draining.some((p) => p.evicted.length > 0);
  const untilHeartbeat = Math.max(1, Math.ceil((nextHeartbeat - ports.now().getTime()) / 1000));
  return {
    done: draining.length === 0 && !waitingOnOthers,
    blockers: blocked.slice(0, 20).map((b) => `${b.pod.namespace}/${b.pod.name} (${b.pdb ? `PodDisruptionBudget ${b.pdb.namespace}/${b.pdb.name}` : b.message})`.slice(0, 300)),
    forced,
    blockedPasses: (previous) => (blocked.length > 0 && !evictedAny ? previous + 1 : 0),
    waitSeconds: (blockedPasses) => Math.min(...draining.map((p) => nextPassDelaySeconds(p, blockedPasses)), waitingOnOthers ? 15 : Infinity, untilHeartbeat),
  };
}

/**
 * The rollout puts nodes back in service (a rollback or abort uncordons them). The drains it
 * owns no longer hold — or a later terminate hook would be completed at once, on a node full
 * of pods again — and are released. Except:
 * - a record with an open lifecycle action: a scale-in chose that node, it is leaving the
 *   group. It is neither released nor to be uncordoned: its drain is handed over to a
 *   node-drain execution (trigger terminate-hook, the next generation, which becomes the
 *   owner, keeps the hooks alive and completes them once the pods are gone);
 * - a node another drain that still runs owns: left to that drain.
 * Returns those instances: their nodes stay cordoned.
 */
export async function releaseDrains(instanceIds: readonly string[], ports: BatchDrainPorts): Promise<{ handedOver: string[] }> {
  const handedOver: string[] = [];
  for (const instanceId of instanceIds) if (await releaseDrain(instanceId, ports)) handedOver.push(instanceId);
  if (handedOver.length > 0) ports.log('drains left running: their nodes are leaving their group or are another drain\'s', { handedOver });
  return { handedOver };
}

/** Whether the instance's drain goes on elsewhere (its node must stay cordoned). */
async function releaseDrain(instanceId: string, ports: BatchDrainPorts): Promise<boolean> {
  let record = await ports.records.get(instanceId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!record) return false;
    const now = ports.now();
    const mine = record.executionArn === ports.executionArn;
    if (record.status === 'running' && !mine && (leaseHolds(record, now) || (await ownerAlive(record, now, ports.hub ?? ports.aws)))) return true;
    if (openActions(record).length > 0) {
      if (await handOver(record, ports)) return true;
    } else {
      if (!mine || record.status === 'failed') return false;
      if (await ports.records.write(instanceId, record, { status: 'failed' }, now)) return false;
    }
    record = await ports.records.get(instanceId);
  }
  throw keepsChanging(instanceId);
}

/** A node-drain takes the drain over, with the group's own drain policy (its tags, as requestDrain reads them). */
async function handOver(record: DrainRecord, ports: BatchDrainPorts): Promise<boolean> {
  const [action] = openActions(record);
  const group = await snapshotGroup(ports.aws, action!.autoScalingGroupName);
  const { policy } = readNodeGroupPolicy(group?.tags ?? {});
  const started = await startNodeDrain(
    record,
    { cluster: record.cluster, instanceId: record.instanceId, trigger: 'terminate-hook', generation: record.generation + 1, policy: policy.drain, rolloutExecutionArn: ports.executionArn },
    { records: ports.records, ...stepFunctions(ports), now: ports.now, log: ports.log },
  );
  if (started) ports.log('drain handed over to node-drain: a scale-in chose the node', { instanceId: record.instanceId, executionArn: started.executionArn });
  return started !== undefined;
}
