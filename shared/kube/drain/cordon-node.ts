import type { V1Node, V1Taint } from '../api-types.js';
import { PatchStrategy } from '../api.js';
import { KubernetesUnavailableError } from '../../errors.js';
import { kubeStatus } from '../client.js';
import { KubeCalls, notFoundAs } from './kube-calls.js';
import { resolveDrainSettings, type DrainPorts, type DrainSettings } from './types.js';

/**
 * Cordoning as `kubectl cordon` does it, plus what EKS managed node groups add: the node
 * leaves external load balancers, and carries our NoSchedule taint so that it is clear who
 * cordoned it. Only what is missing is written, and what we added is recorded in an
 * annotation (the taint's key) so that `uncordonNode` takes back exactly that and never a
 * cordon or label someone else had set.
 */

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** What the cordon record (annotation `<taintKey>`) can list; the taint is ours by its key. */
export type CordonAddition = 'unschedulable' | 'exclude-from-external-load-balancers';

const MAX_ATTEMPTS = 4;
const MERGE_PATCH = PatchStrategy.MergePatch;

export interface CordonResult {
  changed: boolean;
  found: boolean;
}

type NodePatch = Record<string, unknown>;

/** What the cordon record on the node says cordonNode added (our taint aside, which is ours by its key). Pure. */
export function recordedCordon(node: V1Node, taintKey: string): Set<CordonAddition> {
  const value = node.metadata?.annotations?.[taintKey] ?? '';
  return new Set(value.split(',').filter((item): item is CordonAddition => item === 'unschedulable' || item === 'exclude-from-external-load-balancers'));
}

export function hasOurTaint(node: V1Node, taintKey: string): boolean {
  return (node.spec?.taints ?? []).some((taint) => taint.key === taintKey && taint.effect === 'NoSchedule');
}

/** Cordoned, and by us: spec.unschedulable and our NoSchedule taint (a person's uncordon clears the first). Pure. */
export function isCordonedByUs(node: V1Node, taintKey: string): boolean {
  return node.spec?.unschedulable === true && hasOurTaint(node, taintKey);
}

/** Taints as a merge patch must send them: the whole list, each with the fields it was read with. */
function plainTaints(taints: readonly V1Taint[]): Record<string, unknown>[] {
  return taints.map((t) => ({
    key: t.key,
    effect: t.effect,
    ...(t.value !== undefined ? { value: t.value } : {}),
    ...(t.timeAdded ? { timeAdded: t.timeAdded } : {}),
  }));
}

/** The merge patch that cordons the node, or undefined when it already is. Pure. */
export function planCordon(node: V1Node, taintKey: string): NodePatch | undefined {
  const metadata: Record<string, unknown> = {};
  const spec: Record<string, unknown> = {};
  const added = recordedCordon(node, taintKey);
  const before = added.size;
  if (node.spec?.unschedulable !== true) {
    spec['unschedulable'] = true;
    added.add('unschedulable');
  }
  // presence is what load balancer controllers look at, whatever the value
  if (node.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] === undefined) {
    metadata['labels'] = { [EXCLUDE_FROM_LB_LABEL]: 'true' };
    added.add('exclude-from-external-load-balancers');
  }
  if (!hasOurTaint(node, taintKey)) {
    spec['taints'] = [...plainTaints(node.spec?.taints ?? []), { key: taintKey, effect: 'NoSchedule' }];
  }
  if (Object.keys(spec).length === 0 && Object.keys(metadata).length === 0) return undefined;
  if (added.size > before) metadata['annotations'] = { [taintKey]: [...added].sort().join(',') };
  // the precondition: a merge patch replaces the taint list whole, so it must not overwrite a concurrent change
  metadata['resourceVersion'] = node.metadata?.resourceVersion;
  return { metadata, ...(Object.keys(spec).length > 0 ? { spec } : {}) };
}

/** The merge patch that takes back what `planCordon` added, or undefined when nothing is left. Pure. */
export function planUncordon(node: V1Node, taintKey: string): NodePatch | undefined {
  const metadata: Record<string, unknown> = {};
  const spec: Record<string, unknown> = {};
  const added = recordedCordon(node, taintKey);
  if (hasOurTaint(node, taintKey)) {
    const others = (node.spec?.taints ?? []).filter((taint) => taint.key !== taintKey);
    spec['taints'] = others.length > 0 ? plainTaints(others) : null;
  }
  if (added.has('unschedulable') && node.spec?.unschedulable === true) spec['unschedulable'] = null;
  if (added.has('exclude-from-external-load-balancers') && node.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) {
    metadata['labels'] = { [EXCLUDE_FROM_LB_LABEL]: null };
  }
  if (node.metadata?.annotations?.[taintKey] !== undefined) metadata['annotations'] = { [taintKey]: null };
  if (Object.keys(spec).length === 0 && Object.keys(metadata).length === 0) return undefined;
  metadata['resourceVersion'] = node.metadata?.resourceVersion;
  return { metadata, ...(Object.keys(spec).length > 0 ? { spec } : {}) };
}

/**
 * Reads the node and patches what `plan` says is missing; a 409 (someone else wrote the
 * node in between) means read again and decide again.
 */
async function reconcileNode(
  ports: DrainPorts,
  calls: KubeCalls,
  nodeName: string,
  verb: string,
  plan: (node: V1Node) => NodePatch | undefined,
): Promise<CordonResult & { node?: V1Node }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const node = await calls.call(`get node ${nodeName}`, () => ports.core.readNode({ name: nodeName }), notFoundAs(null));
    if (!node) return { changed: false, found: false };
    const patch = plan(node);
    if (!patch) return { changed: false, found: true, node };
    const outcome = await calls.call<V1Node | 'gone' | 'conflict'>(
      `${verb} node ${nodeName}`,
      () => ports.core.patchNode({ name: nodeName, body: patch }, MERGE_PATCH),
      (error) => (kubeStatus(error) === 404 ? 'gone' : kubeStatus(error) === 409 ? 'conflict' : undefined),
    );
    if (outcome === 'gone') return { changed: false, found: false };
    if (outcome !== 'conflict') return { changed: true, found: true, node: outcome };
  }
  throw new KubernetesUnavailableError(ports.cluster, `${verb} node ${nodeName}: the node kept changing under us (${MAX_ATTEMPTS} conflicts)`);
}

/**
 * Idempotent: spec.unschedulable=true, label node.kubernetes.io/exclude-from-external-load-balancers=true,
 * our NoSchedule taint. One GET, and a PATCH only when something is missing; conflict-safe
 * (resourceVersion precondition, read again on 409, a few times).
 */
export async function cordonNode(
  ports: DrainPorts,
  nodeName: string,
  settings: Partial<DrainSettings> = {},
  calls: KubeCalls = new KubeCalls(ports.cluster),
): Promise<CordonResult> {
  const { taintKey } = resolveDrainSettings(settings);
  const { changed, found } = await reconcileNode(ports, calls, nodeName, 'cordon', (node) => planCordon(node, taintKey));
  return { changed, found };
}

/**
 * The reverse, for rollbacks: removes our taint, and the cordon and label only if the
 * record says cordonNode added them. Idempotent.
 */
export async function uncordonNode(
  ports: DrainPorts,
  nodeName: string,
  settings: Partial<DrainSettings> = {},
  calls: KubeCalls = new KubeCalls(ports.cluster),
): Promise<CordonResult> {
  const { taintKey } = resolveDrainSettings(settings);
  const { changed, found } = await reconcileNode(ports, calls, nodeName, 'uncordon', (node) => planUncordon(node, taintKey));
  return { changed, found };
}
