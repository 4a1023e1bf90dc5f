/**
 * Benchmark (issue 14): history events per execution for the workflows that run longest, in
 * the sandbox that counts them as AWS does and fails an execution at 25,000. For each case of
 * test/scenarios/long-executions.ts at full size: the executions the drain or rollout went on
 * in, the largest one's events (target ≤ 10,000) and, for a rollout, events per replaced node
 * (target ≤ 30).
 *
 * Run alone with `npx tsx scripts/bench/long-executions.ts`; `npm run bench` includes it.
 */
import { fileURLToPath } from 'node:url';
import { type DrainSetup, drainsFinished } from '../../test/scenarios/fault-drain-helpers.js';
import {
  DAY,
  drainLineage,
  freeBudgets,
  heldDrain,
  HOUR,
  lineage,
  type LineageFigures,
  lineageFigures,
  oneAtATime,
  OUR_HISTORY_LIMIT,
  pausedRollout,
  releaseFinalizers,
  rolloutControl,
  stuckTerminating,
} from '../../test/scenarios/long-executions.js';
import { rollouts } from '../../test/scenarios/rollout-helpers.js';

export interface LongCase extends LineageFigures {
  name: string;
  outcome: string;
  /** rollouts: history events over every execution, per replaced node */
  perReplacedNode?: number;
  wallMs: number;
}

async function drainCase(name: string, setup: () => Promise<DrainSetup>, hold: number, free: (s: DrainSetup) => void): Promise<LongCase> {
  const started = performance.now();
  const s = await setup();
  try {
    await s.world.run(hold);
    free(s);
    await s.world.settle();
    const finished = drainsFinished(s.world, s.instanceId);
    return { name, ...lineageFigures(drainLineage(s)), outcome: finished.map((f) => `${f.outcome}, hook ${f.lifecycleAction}`).join('; ') || 'no report', wallMs: performance.now() - started };
  } finally {
    await s.world.stop();
  }
}

export async function benchLongExecutions(nodes = 1000): Promise<LongCase[]> {
  const cases: LongCase[] = [];
  cases.push(await drainCase('drain held by its budgets 47 h (2 h heartbeat timeout), then freed', () => heldDrain(7200), 47 * HOUR, freeBudgets));
  cases.push(await drainCase('drain held 16 h (10 min heartbeat timeout: a heartbeat every 5 min), then freed', () => heldDrain(600), 16 * HOUR, freeBudgets));
  cases.push(await drainCase('pods stuck Terminating for a day (finalizers), then released', () => stuckTerminating(7200), DAY, (s) => releaseFinalizers(s as Parameters<typeof releaseFinalizers>[0])));

  {
    const started = performance.now();
    const setup = await pausedRollout({ 'eks-node-lifecycle/max-pause': '15d' });
    try {
      await setup.world.run(14 * DAY);
      await rolloutControl(setup.world, 'resume');
      await setup.world.settle();
      const f = lineageFigures(lineage(setup.world, rollouts(setup.world)[0]!));
      cases.push({ name: 'rollout paused 14 days (max-pause=15d), then resumed; 4 nodes', ...f, outcome: f.status, wallMs: performance.now() - started });
    } finally {
      await setup.world.stop();
    }
  }

  {
    const { world, figures } = await oneAtATime(nodes);
    try {
      cases.push({ name: `${nodes}-node self-managed group at max-unavailable 1`, ...figures, outcome: `${figures.status}, ${figures.replaced} replaced${figures.allOnNewImage ? ', all on the new image' : ''}`, wallMs: figures.wallMs });
    } finally {
      await world.stop();
    }
  }
  return cases;
}

export function renderLongExecutions(cases: readonly LongCase[]): string {
  const rows = cases.map(
    (c) =>
      `| ${c.name} | ${c.executions} | **${c.largest}** | ${c.total} | ${c.perReplacedNode !== undefined ? c.perReplacedNode.toFixed(1) : '–'} | ${c.outcome} | ${(c.wallMs / 1000).toFixed(1)} s |`,
  );
  return `
## History events per execution (issue 14)

Step Functions fails a Standard execution at its 25,000th history event, with no Catch run; the
sandbox counts the events as AWS records them and enforces the quota. A drain or rollout that
has taken 400 steps goes on in a fresh execution of itself carrying its state, named by its
first execution throughout. Target: no execution above ${OUR_HISTORY_LIMIT.toLocaleString('en')} events; rollouts at
most 30 events per replaced node.

| case | executions | largest execution (events) | all executions (events) | events per replaced node | ended | wall time |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cases = await benchLongExecutions(Number(process.argv[2] ?? 1000));
  console.log(renderLongExecutions(cases));
}
