import type { RolloutPolicy } from './rollout-policy.js';

/**
 * Which nodes are replaced together, in what order. Pure: input → plan.
 *
 * - Oldest nodes first (launch time, then name for a stable order), like Karpenter's drift.
 * - The first batch is the canary (`policy.canary` nodes, 0 = none): the workflow waits for
 *   it to succeed before it touches the rest.
 * - Every batch holds at most the resolved max-unavailable: N, or N% of the group rounded
 *   UP like PodDisruptionBudgets, at least 1. The canary is capped by it too: budgets fail
 *   closed, so `canary=3 max-unavailable=1` gives a canary of one node.
 * - Each replacement launches in its node's Availability Zone, so zonal spread (and EBS
 *   volumes pinned to a zone) survive the rollout.
 * - `surge` launches replacements before the old nodes go (`launchFirst: true`), `minimal`
 *   terminates first — EKS's DEFAULT and MINIMAL update strategies.
 */
export interface NodeToRoll {
  name: string;
  instanceId: string;
  availabilityZone: string;
  launchedAt: Date | string;
}

export interface BatchNode {
  name: string;
  instanceId: string;
  availabilityZone: string;
  launchedAt: string;
  /** where its replacement must launch: always its own zone */
  replacementAvailabilityZone: string;
}

export interface Batch {
  /** 0-based position in the rollout */
  index: number;
  canary: boolean;
  /** true: launch the replacements, wait for them Ready, then drain and terminate (surge) */
  launchFirst: boolean;
  nodes: BatchNode[];
}

export type BatchPlan =
  | { decision: 'nothing-to-do'; reason: string }
  | { decision: 'roll'; batches: Batch[]; maxUnavailable: number; plannedAt: string };

export type BatchPolicy = Pick<RolloutPolicy, 'maxUnavailable' | 'canary' | 'strategy'>;

/**
 * `nodes` are the nodes to replace. A percentage resolves against `options.groupSize` (the
 * group's desired capacity) when given, otherwise against the number of nodes to replace.
 */
export function planBatches(nodes: readonly NodeToRoll[], policy: BatchPolicy, now: Date, options: { groupSize?: number } = {}): BatchPlan {
  if (nodes.length === 0) return { decision: 'nothing-to-do', reason: 'no node to replace: every node runs the target image' };

  const seen = new Set<string>();
  const ordered = nodes
    .filter((n) => !seen.has(n.instanceId) && seen.add(n.instanceId))
    .map((n) => ({ node: n, launched: launchTime(n.launchedAt) }))
    .sort((a, b) => a.launched - b.launched || compare(a.node.name, b.node.name) || compare(a.node.instanceId, b.node.instanceId))
    .map(({ node, launched }): BatchNode => ({
      name: node.name,
      instanceId: node.instanceId,
      availabilityZone: node.availabilityZone,
      launchedAt: launched > -8.64e15 ? new Date(launched).toISOString() : String(node.launchedAt),
      replacementAvailabilityZone: node.availabilityZone,
    }));

  const k = resolveMaxUnavailable(policy.maxUnavailable, options.groupSize ?? ordered.length);
  const { canarySize } = batchShape(ordered.length, k, policy.canary);
  const launchFirst = policy.strategy === 'surge';

  const groups: { canary: boolean; nodes: BatchNode[] }[] = [];
  if (canarySize > 0) groups.push({ canary: true, nodes: ordered.slice(0, canarySize) });
  for (let i = canarySize; i < ordered.length; i += k) groups.push({ canary: false, nodes: ordered.slice(i, i + k) });

  return {
    decision: 'roll',
    batches: groups.map((g, index) => ({ index, canary: g.canary, launchFirst, nodes: g.nodes })),
    maxUnavailable: k,
    plannedAt: now.toISOString(),
  };
}

/**
 * The canary and the number of batches `planBatches` makes for `nodes` nodes at most `k` at a
 * time: a canary of at most `k`, then batches of `k`. (`plan` shows it before any node is listed.)
 */
export function batchShape(nodes: number, k: number, canary: number): { canarySize: number; batches: number } {
  const canarySize = Math.min(Math.max(0, Math.floor(canary)), k, nodes);
  return { canarySize, batches: (canarySize > 0 ? 1 : 0) + Math.ceil((nodes - canarySize) / k) };
}

/**
 * How many nodes may be unavailable at once: N, or N% of `total` rounded up (like a PDB's
 * maxUnavailable), never below 1 so a rollout can always progress.
 */
export function resolveMaxUnavailable(maxUnavailable: number | `${number}%`, total: number): number {
  if (typeof maxUnavailable === 'number') return Math.max(1, Math.floor(maxUnavailable));
  const percent = Number.parseFloat(maxUnavailable);
  if (!Number.isFinite(percent) || percent <= 0) return 1; // fail closed
  return Math.max(1, Math.ceil((Math.min(percent, 100) * Math.max(0, total)) / 100));
}

/** The fewest nodes that must stay in service during a rollout: desired − max-unavailable, ≥ 0. */
export function capacityFloor(desired: number, maxUnavailable: number | `${number}%`): number {
  return Math.max(0, desired - resolveMaxUnavailable(maxUnavailable, desired));
}

/** unreadable launch times sort first: a node of unknown age is treated as the oldest */
function launchTime(value: Date | string): number {
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(t) ? t : -8.64e15;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
