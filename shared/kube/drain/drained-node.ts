import type { V1Node } from '../api-types.js';
import { isCordonedByUs } from './cordon-node.js';
import { KubeCalls } from './kube-calls.js';
import { listNodePods } from './node-pods.js';
import { selectPodsToDrain } from './pod-filters.js';
import { type DrainPorts, DEFAULT_DRAIN_SETTINGS } from './types.js';

/**
 * Whether a node a drain finished is still as that drain left it — what a `drained` record is
 * worth days later: cordoned by us (spec.unschedulable and our taint; a person's uncordon or a
 * rollback's clears them) and nothing on it that a drain would evict or wait for (the
 * engine's own pod filters). Read only: one list of the node's pods.
 */
export type DrainedNode = { state: 'drained' } | { state: 'not-drained'; reason: string };

export async function checkDrainedNode(ports: Pick<DrainPorts, 'core' | 'cluster'>, node: V1Node): Promise<DrainedNode> {
  const name = node.metadata?.name ?? '';
  if (!isCordonedByUs(node, DEFAULT_DRAIN_SETTINGS.taintKey)) return { state: 'not-drained', reason: `node ${name} is no longer cordoned by this service` };
  const selection = selectPodsToDrain(await listNodePods(ports, new KubeCalls(ports.cluster), name));
  const left = selection.evict.length + selection.terminating.length;
  return left === 0 ? { state: 'drained' } : { state: 'not-drained', reason: `node ${name} has ${left} pod${left === 1 ? '' : 's'} to drain again` };
}
