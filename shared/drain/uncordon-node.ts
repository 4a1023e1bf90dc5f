import type { DrainRecord } from '../aws/drain-records.js';
import type { ManualUncordonRequest } from '../events/drain.js';
import type { V1Node } from '../kube/api-types.js';
import { EXCLUDE_FROM_LB_LABEL, hasOurTaint, recordedCordon, uncordonNode } from '../kube/drain/cordon-node.js';
import { DEFAULT_DRAIN_SETTINGS } from '../kube/drain/types.js';
import { findNodeForInstance } from '../kube/find-node.js';
import { findInstanceOwner } from '../ownership/find-owner.js';
import { InvalidInputError } from '../errors.js';
import { ownerAlive } from './drain-owner.js';
import type { RequestDrainPorts } from './request-drain.js';

/**
 * `uncordon NODE`: takes back exactly what a drain added to the node — our NoSchedule taint,
 * and the cordon and the load-balancer exclusion label only where the node's cordon record
 * (the annotation cordonNode writes) says the drain added them. A cordon, label or taint that
 * was there before (someone else's) stays.
 */

export interface UncordonFacts {
  /** the instance's drain record, if it was ever drained */
  record: DrainRecord | undefined;
  /** a `running` record's owner still runs (asked only then) */
  ownerRunning?: boolean;
  node: V1Node | undefined;
  taintKey: string;
}

export type UncordonDecision =
  | { decision: 'refuse'; reason: string }
  | { decision: 'nothing-to-do'; reason: string; kept: string[] }
  | { decision: 'uncordon'; nodeName: string; takeBack: string[]; kept: string[] };

export const CORDON_WORDS = {
  taint: (key: string) => `the taint ${key}:NoSchedule`,
  cordon: 'the cordon (spec.unschedulable)',
  label: `the label ${EXCLUDE_FROM_LB_LABEL}`,
} as const;

/** Pure: refuse while a drain of the node runs; otherwise what of the drain's marks to take back, and what stays (not the drain's). */
export function decideUncordon(facts: UncordonFacts): UncordonDecision {
  const { record, node, taintKey } = facts;
  if (record?.status === 'running' && facts.ownerRunning !== false) {
    const by = record.executionArn ? ` (execution ${record.executionArn.split(':').pop()})` : '';
    return { decision: 'refuse', reason: `a drain of ${record.instanceId} is running${by}: uncordon once it has ended` };
  }
  if (!node?.metadata?.name) return { decision: 'nothing-to-do', reason: 'the node is not in the cluster (any more)', kept: [] };
  const added = recordedCordon(node, taintKey);
  const takeBack: string[] = [];
  const kept: string[] = [];
  if (hasOurTaint(node, taintKey)) takeBack.push(CORDON_WORDS.taint(taintKey));
  if (node.spec?.unschedulable === true) (added.has('unschedulable') ? takeBack : kept).push(added.has('unschedulable') ? CORDON_WORDS.cordon : `${CORDON_WORDS.cordon}: it was there before the drain`);
  if (node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) (added.has('exclude-from-external-load-balancers') ? takeBack : kept).push(added.has('exclude-from-external-load-balancers') ? CORDON_WORDS.label : `${CORDON_WORDS.label}: it was there before the drain`);
  const recordLeft = node.metadata.annotations?.[taintKey] !== undefined;
  if (takeBack.length === 0 && !recordLeft) return { decision: 'nothing-to-do', reason: 'nothing a drain added is on the node', kept };
  return { decision: 'uncordon', nodeName: node.metadata.name, takeBack, kept };
}

export type UncordonOutcome =
  | { outcome: 'refused'; instanceId: string; cluster?: string; reason: string }
  | { outcome: 'nothing-to-do'; instanceId: string; cluster: string; nodeName?: string; reason: string; kept: string[] }
  | { outcome: 'uncordoned'; instanceId: string; cluster: string; nodeName: string; tookBack: string[]; kept: string[] };

export type UncordonPorts = Pick<RequestDrainPorts, 'aws' | 'hub' | 'records' | 'managedClusters' | 'kube' | 'now' | 'log'>;

/**
 * 1. find the instance's owner: a node of Karpenter or of no cluster the service knows is refused;
 * 2. read its drain record and, if it says running, ask Step Functions whether the owner still runs;
 * 3. find its Node (providerID);
 * 4. decide (pure);
 * 5. patch the node (uncordonNode: conflict-safe, re-plans from the node as read, idempotent).
 */
export async function uncordonInstance(request: ManualUncordonRequest, ports: UncordonPorts): Promise<UncordonOutcome> {
  const { instanceId } = request;
  // 1.
  const owner = await findInstanceOwner(ports, instanceId);
  if (!owner) return { outcome: 'refused', instanceId, reason: `instance ${instanceId} not found` };
  if (owner.decision.decision === 'ignore') return { outcome: 'refused', instanceId, reason: owner.decision.reason };
  const { cluster } = owner.decision;
  if (cluster !== request.cluster) throw new InvalidInputError([{ path: 'cluster', message: `instance ${instanceId} belongs to cluster ${cluster}, not ${request.cluster}` }]);
  // 2.
  const now = ports.now();
  const record = await ports.records.get(instanceId);
  const ownerRunning = record?.status === 'running' ? await ownerAlive(record, now, ports.hub, { verify: true }) : undefined;
  // 3.
  const core = await ports.kube.core(cluster);
  const node = await findNodeForInstance(core, cluster, owner.instance);
  // 4.
  const taintKey = DEFAULT_DRAIN_SETTINGS.taintKey;
  const decision = decideUncordon({ record, ...(ownerRunning !== undefined ? { ownerRunning } : {}), node, taintKey });
  const audit = { instanceId, cluster, requestedBy: request.requestedBy, decision: decision.decision };
  switch (decision.decision) {
    case 'refuse':
      ports.log('uncordon refused', { ...audit, reason: decision.reason });
      return { outcome: 'refused', instanceId, cluster, reason: decision.reason };
    case 'nothing-to-do':
      ports.log('uncordon: nothing to take back', { ...audit, reason: decision.reason });
      return { outcome: 'nothing-to-do', instanceId, cluster, ...(node?.metadata?.name ? { nodeName: node.metadata.name } : {}), reason: decision.reason, kept: decision.kept };
    case 'uncordon': {
      // 5.
      const done = await uncordonNode({ core, policy: await ports.kube.policy(cluster), cluster }, decision.nodeName, { taintKey });
      if (!done.found) return { outcome: 'nothing-to-do', instanceId, cluster, reason: 'the node left the cluster meanwhile', kept: [] };
      ports.log('node uncordoned', { ...audit, nodeName: decision.nodeName, tookBack: decision.takeBack, kept: decision.kept });
      return { outcome: 'uncordoned', instanceId, cluster, nodeName: decision.nodeName, tookBack: decision.takeBack, kept: decision.kept };
    }
  }
}
