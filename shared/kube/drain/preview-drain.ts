import type { V1Pod, V1PodDisruptionBudget } from '../api-types.js';
import { readNode } from '../find-node.js';
import { planWithinBudgets } from './blockers.js';
import { KubeCalls } from './kube-calls.js';
import { listBudgets, listNodePods } from './node-pods.js';
import { selectPodsToDrain } from './pod-filters.js';
import { type Blocker, type DrainPorts, type DrainProgress, podRef, type PodRef } from './types.js';

/**
 * What a drain pass would do to a node right now, without doing it (observe mode): the pods
 * it would ask to evict, those a PodDisruptionBudget would hold back, those it leaves alone.
 * Reads only — the node, its pods (one list), the budgets (one list) — then the pass's own
 * selection (pod-filters.ts) and budget planning (blockers.ts). No cordon, no eviction.
 */
export interface DrainPreview {
  nodeFound: boolean;
  evict: PodRef[];
  blocked: Blocker[];
  skipped: DrainProgress['skipped'];
  /** already terminating: waited for, never evicted again */
  terminating: PodRef[];
}

export async function previewDrain(ports: DrainPorts, nodeName: string): Promise<DrainPreview> {
  const calls = new KubeCalls(ports.cluster);
  const node = await readNode(ports.core, ports.cluster, nodeName);
  if (!node) return { nodeFound: false, evict: [], blocked: [], skipped: [], terminating: [] };
  const pods = await listNodePods(ports, calls, nodeName);
  const candidates = selectPodsToDrain(pods).evict;
  const budgets = candidates.length > 0 ? await listBudgets(ports, calls, candidates) : [];
  return decidePreview(pods, budgets);
}

/** Pure: the pass's selection, then as many of each budget's pods as it allows now. */
export function decidePreview(pods: readonly V1Pod[], budgets: readonly V1PodDisruptionBudget[]): DrainPreview {
  const selection = selectPodsToDrain(pods);
  const plan = planWithinBudgets(selection.evict, budgets);
  return { nodeFound: true, evict: plan.ask.map(podRef), blocked: plan.blocked, skipped: selection.skipped, terminating: selection.terminating.map(podRef) };
}
