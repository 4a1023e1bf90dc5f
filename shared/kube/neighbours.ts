import { KARPENTER_KEYS } from '../ownership/resolve-cluster.js';
import type { V1Node, V1Pod } from './api-types.js';
import type { CoreV1Api } from './api.js';
import { callKube } from './client.js';

/**
 * Other tools that drain the same nodes: the AWS Node Termination Handler and Karpenter. The
 * detections are pure, over objects listed beforehand (one list per question, never one call
 * per pod); the two readers below make those lists.
 *
 * The Node Termination Handler (https://github.com/aws/aws-node-termination-handler, README
 * "Installation and Configuration"; its Helm chart's values `enableSqsTerminationDraining`,
 * `checkASGTagBeforeDraining` and `managedAsgTag`) runs in one of two modes:
 * - IMDS: a DaemonSet whose pod on each node polls the instance metadata for spot interruption
 *   notices (and, when enabled, rebalance recommendations) and drains that node;
 * - queue processor: a Deployment that reads EventBridge events (ASG lifecycle, spot
 *   interruption, rebalance, state change) from an SQS queue and drains the nodes of
 *   instances whose Auto Scaling group carries the managed tag
 *   `aws-node-termination-handler/managed` (the chart's `managedAsgTag` default; checked
 *   unless `checkASGTagBeforeDraining=false`, which this service cannot see).
 * Both run pods labelled `app.kubernetes.io/name=aws-node-termination-handler` (the chart's
 * selector labels); which mode a pod serves is told by its owner: a DaemonSet, or a
 * ReplicaSet (a Deployment's). What it drains on is in its container's environment, as the
 * chart writes its values: `ENABLE_SPOT_INTERRUPTION_DRAINING` (default true) and
 * `ENABLE_REBALANCE_DRAINING` (default false: a rebalance recommendation is only watched, or
 * cordoned at most) — a value it reads from elsewhere (a ConfigMap) counts as its default.
 */
export const NTH_POD_SELECTOR = 'app.kubernetes.io/name=aws-node-termination-handler';
export const NTH_MANAGED_TAG = 'aws-node-termination-handler/managed';

/** Karpenter labels the nodes it launches with their NodePool, as it tags their instances (resolve-cluster.ts). */
export const KARPENTER_NODEPOOL_LABEL = KARPENTER_KEYS[0];

export type TerminationHandlerMode = 'imds' | 'queue-processor';

export interface TerminationHandlerSighting {
  mode: TerminationHandlerMode;
  /** `its DaemonSet pod kube-system/aws-node-termination-handler-x7k2p runs on ip-10-0-1-5…`: what was seen */
  evidence: string;
  /** the warnings it drains the node on */
  drains: { spotInterruption: boolean; rebalance: boolean };
}

function running(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

function ownerKind(pod: V1Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((o) => o.controller)?.kind ?? pod.metadata?.ownerReferences?.[0]?.kind;
}

/** A boolean of the handler's environment, as its config reads it (strconv.ParseBool); absent or not literal: `fallback`. */
function envFlag(pod: V1Pod, name: string, fallback: boolean): boolean {
  const value = pod.spec?.containers?.flatMap((c) => c.env ?? []).find((e) => e.name === name)?.value?.trim().toLowerCase();
  if (value === undefined) return fallback;
  return ['1', 't', 'true'].includes(value) ? true : ['0', 'f', 'false'].includes(value) ? false : fallback;
}

function drainsOn(pod: V1Pod): TerminationHandlerSighting['drains'] {
  return { spotInterruption: envFlag(pod, 'ENABLE_SPOT_INTERRUPTION_DRAINING', true), rebalance: envFlag(pod, 'ENABLE_REBALANCE_DRAINING', false) };
}

function podName(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/**
 * Does the Node Termination Handler drain these nodes when their instance is interrupted?
 * IMDS mode: one of its DaemonSet's pods runs on one of `nodeNames`; queue-processor mode: a
 * pod of its Deployment runs (anywhere) and the Auto Scaling group carries the managed tag.
 * `pods` are the handler's pods (NTH_POD_SELECTOR). Pure.
 */
export function terminationHandlerFor(pods: readonly V1Pod[], group: { nodeNames: readonly string[]; groupTags: Readonly<Record<string, string>> }): TerminationHandlerSighting | undefined {
  const live = pods.filter(running);
  const onNodes = live.find((p) => ownerKind(p) === 'DaemonSet' && p.spec?.nodeName !== undefined && group.nodeNames.includes(p.spec.nodeName));
  if (onNodes) return { mode: 'imds', evidence: `its DaemonSet pod ${podName(onNodes)} runs on ${onNodes.spec!.nodeName}`, drains: drainsOn(onNodes) };
  if (!Object.hasOwn(group.groupTags, NTH_MANAGED_TAG)) return undefined;
  const processor = live.find((p) => ownerKind(p) !== 'DaemonSet');
  if (processor) return { mode: 'queue-processor', evidence: `its queue processor ${podName(processor)} runs and the Auto Scaling group is tagged ${NTH_MANAGED_TAG}`, drains: drainsOn(processor) };
  return undefined;
}

/** The Karpenter NodePool of a node, or undefined when Karpenter did not launch it. Pure. */
export function karpenterNodePool(node: Pick<V1Node, 'metadata'>): string | undefined {
  const labels = node.metadata?.labels ?? {};
  const label = KARPENTER_KEYS.find((key) => labels[key] !== undefined);
  return label === undefined ? undefined : labels[label];
}

/**
 * The handler's pods a question needs, in one list: those on one node (IMDS mode; a field
 * selector keeps the answer to a pod or none), or — when the group carries the managed tag, so
 * a queue processor may be the one — all of them, capped.
 */
export async function listTerminationHandlerPods(core: CoreV1Api, cluster: string, scope: { nodeName?: string; everywhere?: boolean }): Promise<V1Pod[]> {
  if (!scope.everywhere && !scope.nodeName) return [];
  const list = await callKube(cluster, 'list termination handler pods', () =>
    core.listPodForAllNamespaces({ labelSelector: NTH_POD_SELECTOR, ...(scope.everywhere ? { limit: 500 } : { fieldSelector: `spec.nodeName=${scope.nodeName}` }) }),
  );
  return list.items;
}

/** Nodes Karpenter launched, in one list (a label selector). */
export async function listKarpenterNodes(core: CoreV1Api, cluster: string): Promise<V1Node[]> {
  const list = await callKube(cluster, 'list Karpenter nodes', () => core.listNode({ labelSelector: KARPENTER_NODEPOOL_LABEL }));
  return list.items;
}
