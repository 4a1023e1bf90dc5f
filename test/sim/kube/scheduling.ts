import { isNodeReady, isPodActive, type KubeNode, type Pod, type Taint, type Toleration } from './types.js';

/**
 * The default scheduler reduced to what a drain exercises: a pod goes only to a Ready,
 * uncordoned node whose NoSchedule/NoExecute taints it tolerates and whose labels satisfy
 * its nodeSelector; among those, the least loaded wins (ties by name, so runs repeat).
 * Resource requests and affinities are not modelled.
 */

/** v1.Toleration.ToleratesTaint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (!toleration.key && toleration.operator !== 'Exists') return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

export function toleratesAll(tolerations: readonly Toleration[] | undefined, taints: readonly Taint[], effects: readonly string[]): boolean {
  return taints
    .filter((taint) => effects.includes(taint.effect))
    .every((taint) => (tolerations ?? []).some((toleration) => tolerates(toleration, taint)));
}

/** The taint a cordoned node carries (the node lifecycle controller adds it for spec.unschedulable). */
export const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export type Fit = { fits: true } | { fits: false; reason: string };

export function fitsNode(pod: Pod, node: KubeNode, options: { ignoreReadiness?: boolean } = {}): Fit {
  if (!options.ignoreReadiness && !isNodeReady(node)) return { fits: false, reason: 'node(s) were not ready' };
  const taints = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable) {
    if (!toleratesAll(pod.spec.tolerations, [UNSCHEDULABLE_TAINT], ['NoSchedule'])) return { fits: false, reason: 'node(s) were unschedulable' };
  }
  if (!toleratesAll(pod.spec.tolerations, taints, ['NoSchedule', 'NoExecute'])) return { fits: false, reason: "node(s) had untolerated taint(s)" };
  for (const [key, value] of Object.entries(pod.spec.nodeSelector ?? {})) {
    if (node.metadata.labels?.[key] !== value) return { fits: false, reason: "node(s) didn't match Pod's node affinity/selector" };
  }
  return { fits: true };
}

export type Placement = { placed: true; node: string } | { placed: false; message: string };

/** Picks a node for the pod, or explains, as the scheduler's FailedScheduling message does, why none fits. */
export function placePod(pod: Pod, nodes: readonly KubeNode[], pods: readonly Pod[]): Placement {
  const load = new Map<string, number>();
  for (const p of pods) if (p.spec.nodeName && isPodActive(p)) load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
  const reasons = new Map<string, number>();
  const candidates: KubeNode[] = [];
  for (const node of nodes) {
    const fit = fitsNode(pod, node);
    if (fit.fits) candidates.push(node);
    else reasons.set(fit.reason, (reasons.get(fit.reason) ?? 0) + 1);
  }
  candidates.sort((a, b) => (load.get(a.metadata.name!) ?? 0) - (load.get(b.metadata.name!) ?? 0) || a.metadata.name!.localeCompare(b.metadata.name!));
  const chosen = candidates[0];
  if (chosen) return { placed: true, node: chosen.metadata.name! };
  const why = [...reasons.entries()].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
  return { placed: false, message: `0/${nodes.length} nodes are available${why ? `: ${why}` : ''}.` };
}
