import assert from 'node:assert/strict';
import { createPdb, releaseAmi, type SimExecution, type World } from '@eks-node-lifecycle/sandbox';
import { type DrainSetup, drains, drainWorld, scaleIn } from './fault-drain-helpers.js';
import { continuedAs, latestOf, watchInvariants } from './fault-invariants.js';
import { rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Workflows that run for days or through a thousand nodes (issue 14), in the sandbox that
 * enforces Step Functions' quotas: the set-ups shared by the scenario tests
 * (long-executions.slow.test.ts) and `npm run bench` (scripts/bench/long-executions.ts), and the
 * figure both report — the history events of each execution a drain or rollout went on in.
 */
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;
/** What this service allows one execution's history (AWS's quota is 25,000). */
export const OUR_HISTORY_LIMIT = 10_000;

/** The executions of one drain or rollout, first to last (each continuation names the next in its output). */
export function lineage(world: World, first: SimExecution): SimExecution[] {
  const chain = [first];
  for (let next = continuedAs(first); next; next = continuedAs(chain.at(-1)!)) {
    const e = world.stepFunctions.executions.get(next);
    if (!e) throw new Error(`${chain.at(-1)!.name} continued as an execution that does not exist`);
    chain.push(e);
  }
  return chain;
}

export interface LineageFigures {
  executions: number;
  /** history events of each execution, in order */
  counts: number[];
  largest: number;
  total: number;
  /** how the last one ended */
  status: string;
}

export function lineageFigures(chain: readonly SimExecution[]): LineageFigures {
  const counts = chain.map((e) => e.historyEventCount);
  return { executions: chain.length, counts, largest: Math.max(...counts), total: counts.reduce((a, b) => a + b, 0), status: chain.at(-1)!.status };
}

/** Every execution but the last went on in the next, each names the first, and none passed our limit. */
export function assertLineageWithinQuota(chain: readonly SimExecution[], { atLeast }: { atLeast: number }): string {
  const f = lineageFigures(chain);
  assert.ok(chain.length >= atLeast, `${chain.length} executions, expected at least ${atLeast}`);
  for (const e of chain.slice(0, -1)) assert.equal(e.status, 'SUCCEEDED', `${e.name} continued: ${e.error} ${e.cause}`);
  assert.ok(f.largest <= OUR_HISTORY_LIMIT, `history events per execution: ${f.counts.join(', ')}`);
  chain.slice(1).forEach((e, i) => assert.equal(JSON.parse(e.input).lineage.origin, chain[0]!.executionArn, `continuation ${i + 1} names the origin`));
  return `${f.executions} executions, history events ${f.counts.join(' / ')} (largest ${f.largest})`;
}

// ---- a drain held by its budgets --------------------------------------------------------

/**
 * A scale-in of a node whose pods two budgets will not let go (shop/web under minAvailable =
 * replicas, shop/catalog under maxUnavailable 0): the drain holds it for its terminate hook,
 * whose heartbeat timeout is `heartbeatTimeout` seconds.
 */
export async function heldDrain(heartbeatTimeout: number): Promise<DrainSetup> {
  const s = await drainWorld({ pods: 12, heartbeatTimeout });
  createPdb(s.cluster.store, { namespace: 'shop', name: 'web-frozen', selector: { app: 'web' }, minAvailable: 1 });
  createPdb(s.cluster.store, { namespace: 'shop', name: 'catalog-frozen', selector: { app: 'catalog' }, maxUnavailable: 0 });
  await s.world.run(10_000);
  await scaleIn(s.instanceId);
  return s;
}

/** Someone lets the workloads move: the frozen budgets go, shop/web may lose one pod at a time. */
export function freeBudgets(s: DrainSetup): void {
  for (const name of ['web-frozen', 'catalog-frozen']) s.cluster.store.delete('poddisruptionbudgets', 'shop', name, {});
  createPdb(s.cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
}

// ---- pods stuck Terminating -------------------------------------------------------------

/** A scale-in of a node two of whose pods carry a finalizer nobody removes (a backup operator that is down). */
export async function stuckTerminating(heartbeatTimeout: number): Promise<DrainSetup & { stuck: [string, string][] }> {
  const s = await drainWorld({ pods: 12, heartbeatTimeout });
  const stuck = s.workloads.emptyDirPods.map((id) => id.split('/') as [string, string]);
  for (const [namespace, name] of stuck) {
    s.cluster.store.update('pods', namespace, name, (pod) => {
      pod.metadata.finalizers = ['backup.example.com/snapshot'];
    });
  }
  await scaleIn(s.instanceId);
  return { ...s, stuck };
}

export function releaseFinalizers(s: DrainSetup & { stuck: [string, string][] }): void {
  for (const [namespace, name] of s.stuck) {
    s.cluster.store.update('pods', namespace, name, (pod) => {
      pod.metadata.finalizers = [];
    });
  }
}

// ---- a paused rollout -------------------------------------------------------------------

export const rolloutControl = (world: World, action: 'pause' | 'resume' | 'abort', who = 'alice') =>
  // the group's first pause: a resume names the pause it ends
  world.lambda.invoke('rolloutControl', { kind: 'rollout-control', cluster: 'prod', group: 'workers', action, requestedBy: who, ...(action === 'resume' ? { pause: 1 } : {}) });

/** A 4-node group's rollout (max-unavailable 2, and the tags given), paused by a person a minute in. */
export async function pausedRollout(tags: Record<string, string> = {}) {
  const setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2', ...tags } });
  const image = releaseAmi(setup.world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
  const monitor = watchInvariants(setup.world);
  await setup.world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
  await setup.world.run(60_000);
  await rolloutControl(setup.world, 'pause');
  return { ...setup, image, monitor, pausedAt: setup.world.clock.now() };
}

// ---- a large group, one node at a time --------------------------------------------------

export interface OneAtATimeFigures extends LineageFigures {
  nodes: number;
  replaced: number;
  allOnNewImage: boolean;
  perReplacedNode: number;
  wallMs: number;
}

/**
 * A self-managed group of `nodes` light nodes (a DaemonSet pod each, a Deployment pod on one in
 * four, under a budget) rolled onto a new image at max-unavailable 1, no canary: a few steps
 * of the roll loop per node.
 */
export async function oneAtATime(nodes: number) {
  const { world, group } = await selfManagedWorld({ nodes, replicas: Math.ceil(nodes / 4), tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/canary': '0' } });
  const original = new Set(world.account.autoscaling.groups.get(group.autoScalingGroupName)!.instances.keys());
  const monitor = watchInvariants(world);
  const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
  const started = performance.now();
  await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
  await world.settle();
  const wallMs = performance.now() - started;
  const chain = lineage(world, rollouts(world)[0]!);
  const final = [...world.account.autoscaling.groups.get(group.autoScalingGroupName)!.instances.keys()];
  const replaced = [...original].filter((id) => !final.includes(id)).length;
  const f = lineageFigures(chain);
  const figures: OneAtATimeFigures = {
    ...f,
    nodes,
    replaced,
    allOnNewImage: final.every((id) => world.account.ec2.instances.get(id)?.instance.ImageId === image),
    perReplacedNode: f.total / Math.max(1, replaced),
    wallMs,
  };
  return { world, monitor, chain, figures };
}

/** The drain of a held or stuck node: its executions, first to last. */
export function drainLineage(s: DrainSetup): SimExecution[] {
  return lineage(s.world, drains(s.world)[0]!);
}

export { latestOf };
