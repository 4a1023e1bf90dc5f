/**
 * Benchmark: rolling a 100-node self-managed group onto a new AMI in the sandbox.
 *
 * The group (al2023, surge, max-unavailable 10, a one-node canary, the terminate hook) carries
 * a DaemonSet and two Deployments under PodDisruptionBudgets. An AMI release, one detection,
 * then the real ami-rollout workflow runs to the end. Measured:
 * - the simulated duration of the ami-rollout execution, against the ideal ceil(N/k)·(boot +
 *   drain), with boot and drain measured per batch from the run itself (launch request → all
 *   replacements Ready; first drain started → last drain finished), and where the rest goes
 *   (time spent in each Wait state of the workflow, per batch);
 * - Step Functions state transitions per replaced node: the ami-rollout execution and the
 *   node-drain executions it started, as the sandbox records them (Task and Wait states
 *   entered) and as Standard workflows bill them (with the Choice, Pass and end states
 *   traversed between, reconstructed from the definitions);
 * - AWS calls (by service and operation) and Lambda invocations per replaced node;
 * - the capacity floor (desired − max-unavailable) and PodDisruptionBudget violations.
 *
 * Run alone with `npx tsx scripts/bench/rollout.ts`; `npm run bench` includes it.
 */
import { fileURLToPath } from 'node:url';
import { type AslDefinition, createDaemonSet, createDeployment, createPdb, isNodeReady, type KubeNode, releaseAmi, type SimExecution, type StoreEvent, watchBudgets, watchCapacity, World } from '@eks-node-lifecycle/sandbox';
import { instanceIdOfProviderId } from '../../shared/ids.js';

/** Standard workflows: $0.025 per 1,000 state transitions (us-east-1, eu-west-1). */
const USD_PER_TRANSITION = 0.025 / 1000;

export interface RolloutBatch {
  /** 0 is the canary */
  index: number;
  nodes: number;
  /** launch request (UpdateAutoScalingGroup raising desired) → the batch's last replacement Ready */
  bootSeconds: number;
  /** the batch's first eviction → its last evicted pod gone (on the nodes it took out) */
  drainSeconds: number;
  /** virtual seconds the workflow spent in each Wait state while on this batch, and in total */
  waits: Record<string, number>;
  seconds: number;
}

export interface RolloutFigures {
  nodes: number;
  maxUnavailable: number;
  canary: number;
  outcome: string;
  replaced: number;
  allOnNewImage: boolean;
  wallMs: number;
  simulatedSeconds: number;
  batches: RolloutBatch[];
  /** the batches of the plan announced at the start (Rollout Planned) */
  plannedBatches: number;
  /** mean over the batches */
  bootSeconds: number;
  drainSeconds: number;
  idealSeconds: number;
  /** virtual seconds in each Wait state over the whole execution; `steps` is the rest (Task states, which take no virtual time unless retried) */
  waitTotals: Record<string, number>;
  transitions: {
    rollout: { recorded: number; billed: number };
    drains: { executions: number; recorded: number; billed: number };
  };
  costUsd: number;
  calls: { total: number; byService: Record<string, number>; byOperation: Record<string, number> };
  lambda: { total: number; byFunction: Record<string, number>; failed: number };
  capacity: { floor: number; min: number; violations: number };
  budgetViolations: number;
}

const WORKLOADS = [
  { name: 'web', replicasPerNode: 2, budget: { maxUnavailable: '10%' } },
  { name: 'api', replicasPerNode: 0.5, budget: { maxUnavailable: 1 } },
] as const;

export async function benchRollout(nodes = 100, maxUnavailable = 10, canary = 1): Promise<RolloutFigures> {
  const world = await World.start();
  try {
    // 1. a cluster with a 100-node group under load
    const cluster = await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    const group = world.account.createSelfManagedGroup({
      cluster: 'prod',
      name: 'workers',
      amiFamily: 'al2023',
      min: nodes,
      max: nodes,
      desired: nodes,
      launchTemplateVersion: '1',
      tags: {
        'eks-node-lifecycle/rollout': 'auto',
        'eks-node-lifecycle/drain': 'on',
        'eks-node-lifecycle/max-unavailable': String(maxUnavailable),
        'eks-node-lifecycle/canary': String(canary),
      },
      hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
    });
    await world.settle();
    createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    for (const w of WORKLOADS) {
      createDeployment(cluster.store, { namespace: 'shop', name: w.name, replicas: Math.round(w.replicasPerNode * nodes), labels: { app: w.name } });
      createPdb(cluster.store, { namespace: 'shop', name: w.name, selector: { app: w.name }, ...w.budget });
    }
    await world.run(60_000);
    const original = new Set(instancesOf(world, group.autoScalingGroupName));

    // 2. what to watch: capacity, budgets, the moment each node becomes Ready
    const floor = nodes - maxUnavailable;
    const capacity = watchCapacity(world, { cluster: 'prod', autoScalingGroup: group.autoScalingGroupName, floor });
    const budgets = watchBudgets(cluster.store);
    const readyAt = new Map<string, number>(); // instance id → first Ready (virtual ms)
    // per node: its first pod eviction, and when its last evicted pod was gone (the drain, as kubectl would time it)
    const evictions = new Map<string, { first: number; lastGone: number }>();
    const nodeNameOf = new Map<string, string>(); // instance id → node name
    const stopReady = cluster.store.on((event: StoreEvent) => {
      if (event.resource === 'pods') {
        const pod = event.object as { metadata?: { deletionTimestamp?: string; ownerReferences?: { kind: string }[] }; spec?: { nodeName?: string } };
        const nodeName = pod.spec?.nodeName;
        if (!nodeName || pod.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet')) return;
        const at = world.clock.now();
        const seen = evictions.get(nodeName);
        if (event.type === 'MODIFIED' && pod.metadata?.deletionTimestamp && !seen) evictions.set(nodeName, { first: at, lastGone: at });
        if (event.type === 'DELETED' && seen) seen.lastGone = at;
        return;
      }
      if (event.resource !== 'nodes' || event.type === 'DELETED') return;
      const node = event.object as KubeNode;
      const instanceId = instanceIdOfProviderId(node.spec?.providerID);
      if (instanceId) nodeNameOf.set(instanceId, node.metadata?.name ?? '');
      if (instanceId && !original.has(instanceId) && !readyAt.has(instanceId) && isNodeReady(node)) readyAt.set(instanceId, world.clock.now());
    });
    const callsBefore = world.account.calls.length;
    const invocationsBefore = world.lambda.invocations.length;

    // 3. the release, one detection, the rollout to its end
    const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    const started = performance.now();
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
    const wallMs = performance.now() - started;
    stopReady();
    capacity.stop();
    budgets.stop();

    const executions = [...world.stepFunctions.executions.values()];
    const rollout = executions.find((e) => e.stateMachineArn.endsWith('-ami-rollout'));
    if (!rollout?.stopDate) throw new Error('bench: no finished ami-rollout execution');
    const [from, to] = [rollout.startDate.getTime(), rollout.stopDate.getTime()];
    const within = (at: number) => at >= from && at <= to;
    const drains = executions.filter((e) => e.stateMachineArn.endsWith('-node-drain') && within(e.startDate.getTime()));
    const calls = world.account.calls.slice(callsBefore).filter((c) => within(c.at));
    const invocations = world.lambda.invocations.slice(invocationsBefore).filter((i) => within(Date.parse(i.at)));

    const final = instancesOf(world, group.autoScalingGroupName);
    const replaced = [...original].filter((id) => !final.includes(id)).length;
    const images = final.map((id) => world.account.ec2.instances.get(id)?.instance.ImageId);

    // 4. per batch: a batch begins with the request that raises desired above the original size
    const isLaunch = (c: (typeof calls)[number]) => c.service === 'autoscaling' && c.command === 'UpdateAutoScalingGroup' && ((c.input as { DesiredCapacity?: number }).DesiredCapacity ?? 0) > nodes;
    const launches = calls.filter(isLaunch).map((c) => c.at);
    // calls by batch in call order (a batch's terminations and the next batch's launch share a virtual instant)
    const callBatch: number[] = [];
    calls.reduce((batch, c) => {
      const b = isLaunch(c) ? batch + 1 : batch;
      callBatch.push(Math.max(0, b));
      return b;
    }, -1);
    const batchOf = (at: number) => Math.max(0, launches.filter((l) => l <= at).length - 1);
    const segments = rollout.history.map((h, i) => {
      const at = Date.parse(h.at);
      const end = i + 1 < rollout.history.length ? Date.parse(rollout.history[i + 1]!.at) : to;
      return { state: h.state, at, seconds: (end - at) / 1000 };
    });
    const batches: RolloutBatch[] = launches.map((launchedAt, index) => {
      const until = launches[index + 1] ?? Number.POSITIVE_INFINITY;
      const ready = [...readyAt.values()].filter((at) => at >= launchedAt && at < until);
      const retired = calls.filter((c, k) => c.command === 'TerminateInstanceInAutoScalingGroup' && callBatch[k] === index).map((c) => (c.input as { InstanceId: string }).InstanceId);
      const drained = retired.map((id) => evictions.get(nodeNameOf.get(id) ?? '')).filter((e) => e !== undefined);
      const waits: Record<string, number> = {};
      let seconds = 0;
      for (const s of segments.filter((s) => s.at >= launchedAt && batchOf(s.at) === index)) {
        waits[s.state] = (waits[s.state] ?? 0) + s.seconds;
        seconds += s.seconds;
      }
      return {
        index,
        nodes: retired.length,
        bootSeconds: ready.length ? (Math.max(...ready) - launchedAt) / 1000 : Number.NaN,
        drainSeconds: drained.length ? (Math.max(...drained.map((d) => d.lastGone)) - Math.min(...drained.map((d) => d.first))) / 1000 : Number.NaN,
        waits,
        seconds,
      };
    });
    const waitTotals: Record<string, number> = {};
    for (const s of segments) {
      const key = s.state.startsWith('Wait') || s.state === 'Paused' ? s.state : 'steps';
      waitTotals[key] = (waitTotals[key] ?? 0) + s.seconds;
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const bootSeconds = mean(batches.map((b) => b.bootSeconds));
    const drainSeconds = mean(batches.map((b) => b.drainSeconds));

    // 5. transitions: as recorded (Task and Wait states) and as billed (every state entered)
    const definitionOf = (suffix: string) => world.model.stateMachines.find((m) => m.name.endsWith(suffix))!.definition;
    const rolloutDefinition = definitionOf('-ami-rollout');
    const drainDefinition = definitionOf('-node-drain');
    const drainRecorded = drains.reduce((n, d) => n + d.history.length, 0);
    const drainBilled = drains.reduce((n, d) => n + billedTransitions(drainDefinition, d), 0);
    const rolloutBilled = billedTransitions(rolloutDefinition, rollout);

    const planned = world.published.find((e) => e['detail-type'] === 'Rollout Planned')?.detail as { batches?: unknown[] } | undefined;
    const count = (keys: string[]) => keys.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {});
    return {
      nodes,
      maxUnavailable,
      canary,
      outcome: rollout.status === 'SUCCEEDED' ? 'succeeded' : `${rollout.status} ${rollout.error ?? ''}: ${rollout.cause ?? ''}`,
      replaced,
      allOnNewImage: final.length === nodes && images.every((i) => i === image),
      wallMs,
      simulatedSeconds: (to - from) / 1000,
      batches,
      plannedBatches: planned?.batches?.length ?? Number.NaN,
      bootSeconds,
      drainSeconds,
      idealSeconds: Math.ceil(nodes / maxUnavailable) * (bootSeconds + drainSeconds),
      waitTotals,
      transitions: {
        rollout: { recorded: rollout.history.length, billed: rolloutBilled },
        drains: { executions: drains.length, recorded: drainRecorded, billed: drainBilled },
      },
      costUsd: (rolloutBilled + drainBilled) * USD_PER_TRANSITION,
      calls: { total: calls.length, byService: count(calls.map((c) => c.service)), byOperation: count(calls.map((c) => `${c.service}:${c.command}`)) },
      lambda: { total: invocations.length, byFunction: count(invocations.map((i) => i.function)), failed: invocations.filter((i) => 'errorType' in (i.outcome as object)).length },
      capacity: { floor, min: capacity.min, violations: capacity.violations.length },
      budgetViolations: budgets.violations.length,
    };
  } finally {
    await world.stop();
  }
}

function instancesOf(world: World, autoScalingGroupName: string): string[] {
  return [...(world.account.autoscaling.groups.get(autoScalingGroupName)?.instances.values() ?? [])].map((i) => i.instanceId);
}

/**
 * The transitions Step Functions would bill for an execution. The sandbox records the Task and
 * Wait states entered (a retry is another entry); between two of them the execution passed
 * through Choice, Pass, Succeed and Fail states, which are transitions too. Those are found as
 * the shortest path in the definition from one recorded state to the next (to an end state
 * after the last). A recorded state followed by itself is counted as passing through its
 * successors (Roll → RouteRoll → Roll); the bench checks there were no retries.
 */
export function billedTransitions(definition: AslDefinition, execution: SimExecution): number {
  const states = definition.States;
  const recordedType = (name: string) => ['Task', 'Wait'].includes(String(states[name]?.Type));
  const START = Symbol('start');
  const successors = (name: string | typeof START): string[] => {
    if (name === START) return [definition.StartAt];
    const s = states[name] ?? {};
    const next = [s.Next, s.Default, ...((s.Choices as { Next: string }[] | undefined) ?? []).map((c) => c.Next), ...((s.Catch as { Next: string }[] | undefined) ?? []).map((c) => c.Next)];
    return next.filter((n): n is string => typeof n === 'string');
  };
  /** unrecorded states passed through from `from` to `to` (undefined `to`: to an end) */
  const between = (from: string | typeof START, to: string | undefined): number => {
    let frontier = successors(from).map((n) => ({ name: n, hops: 0 }));
    const seen = new Set<string>();
    while (frontier.length) {
      const next: typeof frontier = [];
      for (const { name, hops } of frontier) {
        if (to !== undefined && name === to) return hops;
        if (recordedType(name) || seen.has(name)) continue;
        seen.add(name);
        const type = String(states[name]?.Type);
        if (to === undefined && (type === 'Succeed' || type === 'Fail')) return hops + 1;
        next.push(...successors(name).map((n) => ({ name: n, hops: hops + 1 })));
      }
      frontier = next;
    }
    return 0;
  };
  const names = execution.history.map((h) => h.state);
  if (names.length === 0) return 0;
  let total = names.length + between(START, names[0]);
  for (let i = 0; i + 1 < names.length; i++) total += between(names[i]!, names[i + 1]);
  return total + between(names.at(-1)!, undefined);
}

export function renderRollout(f: RolloutFigures): string {
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const min = (s: number) => `${fmt(s / 60, 1)} min`;
  const per = (n: number) => fmt(n / Math.max(1, f.replaced), 2);
  const totalRecorded = f.transitions.rollout.recorded + f.transitions.drains.recorded;
  const totalBilled = f.transitions.rollout.billed + f.transitions.drains.billed;
  const waitRows = Object.entries(f.waitTotals)
    .sort(([, a], [, b]) => b - a)
    .map(([state, s]) => `| ${state === 'steps' ? 'Task states (Lambda steps, retries)' : state} | ${fmt(s)} s | ${fmt((100 * s) / f.simulatedSeconds, 1)} % |`);
  const batchRows = f.batches.map(
    (b) =>
      `| ${b.index === 0 ? 'canary' : b.index} | ${b.nodes} | ${fmt(b.bootSeconds)} s | ${fmt(b.drainSeconds)} s | ${fmt(b.waits['WaitForReplacements'] ?? 0)} s | ${fmt(b.waits['WaitForDrains'] ?? 0)} s | ${fmt(b.waits['WaitForTerminations'] ?? 0)} s | ${fmt(b.waits['WaitForHealth'] ?? 0)} s | ${fmt(b.seconds)} s |`,
  );
  const serviceRows = Object.entries(f.calls.byService)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, n]) => `| ${service} | ${n} | ${per(n)} |`);
  const operationRows = Object.entries(f.calls.byOperation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `| ${op} | ${n} | ${per(n)} |`);
  const lambdaRows = Object.entries(f.lambda.byFunction)
    .sort(([, a], [, b]) => b - a)
    .map(([fn, n]) => `| ${fn} | ${n} | ${per(n)} |`);
  const measured = f.batches.reduce((n, b) => n + b.bootSeconds + b.drainSeconds, 0);
  const inWaits = (states: string[]) => f.batches.reduce((n, b) => n + states.reduce((m, st) => m + (b.waits[st] ?? 0), 0), 0);
  const gap = {
    batches: measured - f.idealSeconds,
    polling: inWaits(['WaitForReplacements', 'WaitForDrains']) - measured,
    afterDrain: inWaits(['WaitForTerminations', 'WaitForHealth']),
    other: 0,
  };
  gap.other = f.simulatedSeconds - f.idealSeconds - gap.batches - gap.polling - gap.afterDrain;
  const ec2AndAsg = (f.calls.byService['ec2'] ?? 0) + (f.calls.byService['autoscaling'] ?? 0);
  return `
## Rolling ${f.nodes} self-managed nodes, max-unavailable ${f.maxUnavailable}, canary ${f.canary}

A self-managed al2023 group of ${f.nodes} nodes (surge, terminate hook) runs a DaemonSet, a
Deployment of ${Math.round(WORKLOADS[0].replicasPerNode * f.nodes)} pods under a maxUnavailable-10% budget and one of
${Math.round(WORKLOADS[1].replicasPerNode * f.nodes)} pods under a maxUnavailable-1 budget. A new AMI is released; one detection starts
the ami-rollout workflow, which runs to the end: ${f.canary > 0 ? `a canary batch of ${f.canary}, then batches` : 'no canary, batches'} of
${f.maxUnavailable} (launch → replacements Ready → the batch drained by the rollout's own passes →
terminate → health gate). Times are virtual; calls are counted by the simulated account during
the execution, whichever function made them (tagging the new instances and completing the
terminate hooks included).

| | |
|---|---|
| result | ${f.outcome}; ${f.replaced} nodes replaced, ${f.allOnNewImage ? 'all on the new image' : '**not all on the new image**'} |
| **simulated duration** | **${min(f.simulatedSeconds)}** (${fmt(f.simulatedSeconds)} s) |
| ideal ceil(N/k)·(boot + drain) | ${min(f.idealSeconds)} = ${Math.ceil(f.nodes / f.maxUnavailable)} × (${fmt(f.bootSeconds)} s + ${fmt(f.drainSeconds)} s), boot and drain measured per batch, mean |
| ratio to ideal | **${fmt(f.simulatedSeconds / f.idealSeconds, 2)}** |
| batches | ${f.canary > 0 ? `${f.batches.length} (the canary, then ${f.batches.length - 1})` : f.batches.length} |
| Step Functions transitions, ami-rollout | ${f.transitions.rollout.billed} billed (${f.transitions.rollout.recorded} Task/Wait states entered) |
| Step Functions transitions, node-drain executions started during the rollout (${f.transitions.drains.executions}) | ${f.transitions.drains.billed} billed (${f.transitions.drains.recorded} Task/Wait states entered) |
| **transitions per replaced node** | **${per(totalBilled)}** billed (${per(f.transitions.rollout.billed)} rollout + ${per(f.transitions.drains.billed)} drain); ${per(totalRecorded)} Task/Wait |
| Standard-workflow cost | $${fmt(f.costUsd, 4)} for the rollout ($${fmt((f.costUsd / Math.max(1, f.replaced)) * 1000, 3)} per 1,000 nodes replaced) at $0.025 per 1,000 transitions |
| **EC2 + Auto Scaling calls per replaced node** | **${per(ec2AndAsg)}** (${ec2AndAsg} calls) |
| all AWS calls per replaced node | ${per(f.calls.total)} (${f.calls.total} calls) |
| Lambda invocations per replaced node | ${per(f.lambda.total)} (${f.lambda.total}, ${f.lambda.failed} failed) |
| capacity | min ${f.capacity.min} available, floor ${f.capacity.floor}: ${f.capacity.violations} violations |
| PodDisruptionBudget violations | ${f.budgetViolations} |
| wall time | ${fmt(f.wallMs / 1000, 1)} s |

Per batch: boot is the launch request (UpdateAutoScalingGroup raising desired) to the
batch's last replacement Ready; drain is the batch's first eviction to its last evicted pod gone;
the Wait columns are the virtual time the workflow spent in each Wait state on that batch.

| batch | nodes | boot | drain | WaitForReplacements | WaitForDrains | WaitForTerminations | WaitForHealth | batch total |
|---|---|---|---|---|---|---|---|---|
${batchRows.join('\n')}

Where the simulated time goes:

| state | time | share |
|---|---|---|
${waitRows.join('\n')}

Where the time beyond the ideal goes:

| | time |
|---|---|
| ideal: ${Math.ceil(f.nodes / f.maxUnavailable)} full batches × (boot + drain) | ${fmt(f.idealSeconds)} s |
| + more batches than ceil(N/k): ${f.batches.length} run (${f.plannedBatches} planned) instead of ${Math.ceil(f.nodes / f.maxUnavailable)}, each paying a whole boot + drain | ${fmt(gap.batches)} s |
| + polling granularity: each phase ends at the first 15 s poll after what it waits for | ${fmt(gap.polling)} s |
| + terminations and health gate (not in the ideal) | ${fmt(gap.afterDrain)} s |
| + before the first batch (begin, preflight, launch template) and Task-state time | ${fmt(gap.other)} s |
| = simulated duration | ${fmt(f.simulatedSeconds)} s |

AWS calls during the rollout:

| service | calls | per replaced node |
|---|---|---|
${serviceRows.join('\n')}

| operation | calls | per replaced node |
|---|---|---|
${operationRows.join('\n')}

Lambda invocations:

| function | invocations | per replaced node |
|---|---|---|
${lambdaRows.join('\n')}
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchRollout();
  console.log(renderRollout(figures));
}
