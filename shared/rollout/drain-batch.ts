import type { DrainRecords, DrainStatus } from '../aws/drain-records.js';
import { drainPass } from '../kube/drain/drain-pass.js';
import { forcePass } from '../kube/drain/force-pass.js';
import { nextPassDelaySeconds } from '../kube/drain/next-wait.js';
import type { DrainPorts, DrainProgress } from '../kube/drain/types.js';

/**
 * A rollout drains its batch itself: the drain engine's passes (the same as node-drain's:
 * cordon, evictions within PodDisruptionBudgets, grace periods capped) run from the roll's
 * steps over every node of the batch, and the waits between passes are the rollout's own
 * Wait states. One loop per batch instead of a node-drain execution per node.
 *
 * Each instance's drain record says the rollout owns its drain, so any other trigger for the
 * instance (a spot warning, the terminate hook) joins it rather than starting another, and the
 * terminate hook that follows finds the node drained and is completed at once.
 */
export interface BatchDrainPorts {
  records: DrainRecords;
  executionArn: string;
  maxGracePeriodSeconds: number;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** Notes the rollout's drain of each instance (idempotent: a retried step finds its own drains running). */
export async function startDrains(instanceIds: readonly string[], cluster: string, ports: BatchDrainPorts): Promise<void> {
  for (const instanceId of instanceIds) {
    const record = await ports.records.get(instanceId);
    if (record?.status === 'running') {
      if (record.executionArn !== ports.executionArn) ports.log('instance already being drained: the rollout waits for that drain', { instanceId, executionArn: record.executionArn });
      continue;
    }
    const generation = record ? record.generation + 1 : 0;
    await ports.records.note(instanceId, { cluster, trigger: 'rollout', start: { generation, executionArn: ports.executionArn } }, ports.now());
  }
}

export interface BatchPass {
  /** no node left to drain in this pass (all finished, none waiting on another drain) */
  done: boolean;
  /** what could not be evicted, as `namespace/pod (PodDisruptionBudget namespace/name)` */
  blockers: string[];
  /** the count of passes in a row that were blocked and evicted nothing */
  blockedPasses: (previous: number) => number;
  /** how long to wait before the next pass */
  waitSeconds: (blockedPasses: number) => number;
}

/** One pass over each node the rollout is draining; a node that is empty (or gone) ends its drain. */
export async function drainBatchPass(nodes: readonly { instanceId: string; nodeName: string | null }[], mode: 'evict' | 'force', kube: DrainPorts, ports: BatchDrainPorts): Promise<BatchPass> {
  const draining: DrainProgress[] = [];
  let waitingOnOthers = false;
  for (const { instanceId, nodeName } of nodes) {
    const record = await ports.records.get(instanceId);
    if (record?.status !== 'running') continue;
    if (record.executionArn !== ports.executionArn) {
      waitingOnOthers = true;
      continue;
    }
    const progress = nodeName ? await (mode === 'force' ? forcePass : drainPass)(kube, nodeName, { maxGracePeriodSeconds: ports.maxGracePeriodSeconds }) : null;
    if (progress?.phase === 'draining') {
      draining.push(progress);
      continue;
    }
    const status: DrainStatus = !progress || progress.phase === 'node-gone' ? 'node-gone' : mode === 'force' ? 'forced' : 'drained';
    await ports.records.finish(instanceId, status, ports.executionArn, ports.now());
  }
  const blocked = draining.flatMap((p) => p.blocked);
  const evictedAny = draining.some((p) => p.evicted.length > 0);
  return {
    done: draining.length === 0 && !waitingOnOthers,
    blockers: blocked.slice(0, 20).map((b) => `${b.pod.namespace}/${b.pod.name} (${b.pdb ? `PodDisruptionBudget ${b.pdb.namespace}/${b.pdb.name}` : b.message})`.slice(0, 300)),
    blockedPasses: (previous) => (blocked.length > 0 && !evictedAny ? previous + 1 : 0),
    waitSeconds: (blockedPasses) => Math.min(...draining.map((p) => nextPassDelaySeconds(p, blockedPasses)), waitingOnOthers ? 15 : Infinity),
  };
}

/**
 * The rollout's finished drains of nodes it puts back in service (a rollback or abort
 * uncordons them): their records must no longer say drained, or a later terminate hook would
 * be completed at once, on a node full of pods again.
 */
export async function releaseDrains(instanceIds: readonly string[], ports: BatchDrainPorts): Promise<void> {
  for (const instanceId of instanceIds) await ports.records.release(instanceId, ports.executionArn, ports.now());
}
