/**
 * `npm run bench`: runs every benchmark, prints the figures and writes BENCHMARKS.md.
 * Figures, not pass/fail: the tests assert behaviour, this measures it.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchBundles, renderBundles } from './bundles.js';
import { benchChatColdPath, renderChatColdPath } from './chat-cold-path.js';
import { benchDetection } from './detection.js';
import { benchDrain } from './drain.js';
import { benchFleetDetection, renderFleetDetection } from './fleet-detection.js';
import { benchFleetPromotion, renderFleetPromotion } from './fleet-promotion.js';
import { benchRollout, renderRollout } from './rollout.js';
import { benchLongExecutions, renderLongExecutions } from './long-executions.js';
import { benchScaleIn, renderScaleIn } from './scale-in.js';
import { benchStart, renderStart } from './start.js';

/** One benchmark, announced as it starts and ends (with its wall time): a run takes the better part of an hour. */
async function step<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  process.stderr.write(`bench: ${name} …\n`);
  const result = await run();
  process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}

const bundles = await step('bundles and cold initialisation (15 processes per function)', () => benchBundles());
const chatCold = await step("chatSlack's cold path", () => benchChatColdPath());
const start = await step('npm start', () => benchStart());
const drain = await step('drain of a 110-pod node vs kubectl drain', () => benchDrain(110));
const detection = await step('detection over 50 clusters × 20 groups', () => benchDetection(50, 20));
// the same size in each of 6 member account-regions, set against the single-account figure above
const fleet = await step('detection over 3 accounts × 2 regions × 50 clusters × 20 groups', () => benchFleetDetection(50, 20, { single: detection }));
// as the target is stated (100 nodes, max-unavailable 10), then with the default policy's canary
const rollout = await step('rollout of 100 nodes, max-unavailable 10', () => benchRollout(100, 10, 0));
const rolloutCanary = await step('rollout of 100 nodes with a canary', () => benchRollout(100, 10, 1));
const scaleIn = await step('scale-in of 500 of 600 nodes', () => benchScaleIn(600, 500));
const promotion = await step('fleet promotion: 6 clusters, 3 rings, a good, a bad and a frozen release', () => benchFleetPromotion());
const long = await step('long executions (48 h drain, stuck pods, 14-day pause, 1000 nodes)', () => benchLongExecutions(1000));
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const rows = [
  '| | eks-node-lifecycle (node-drain workflow) | `kubectl drain` |',
  '|---|---|---|',
  `| Kubernetes API requests | ${drain.ours.requests} | ${drain.kubectl?.requests ?? 'kubectl not installed'} |`,
  `| requests per evicted pod | **${fmt(drain.ours.perEvictedPod)}** | ${drain.kubectl ? fmt(drain.kubectl.perEvictedPod) : '–'} |`,
  `| wall time | ${fmt(drain.ours.wallMs / 1000, 1)} s | ${drain.kubectl ? `${fmt(drain.kubectl.wallMs / 1000, 1)} s` : '–'} |`,
  `| simulated drain duration | ${fmt(drain.ours.simulatedSeconds, 0)} s | (real-time waits; not comparable) |`,
  `| PodDisruptionBudget violations | ${drain.ours.violations} | ${drain.kubectl?.violations ?? '–'} |`,
  `| result | ${drain.ours.outcome}, lifecycle action completed | ${drain.kubectl ? `exit ${drain.kubectl.exitCode}` : '–'} |`,
];
const per = (n: number, d: number) => n / Math.max(1, d);
const ec2Asg = (f: typeof rollout) => per((f.calls.byService['ec2'] ?? 0) + (f.calls.byService['autoscaling'] ?? 0), f.replaced);
const transitionsPerNode = (f: typeof rollout) => per(f.transitions.rollout.billed + f.transitions.drains.billed, f.replaced);
const biggest = bundles.functions.reduce((a, b) => (b.bytes > a.bytes ? b : a));
const ratioOf = (f: (typeof bundles.functions)[number]) => f.codeInitMs / f.pairedBareMs;
const slowest = bundles.functions.reduce((a, b) => (ratioOf(b) > ratioOf(a) ? b : a));
const mark = (ok: boolean) => (ok ? '✓' : '✗');
const largest = long.reduce((a, b) => (b.largest > a.largest ? b : a));
const rolloutPerNode = long.filter((c) => c.perReplacedNode !== undefined);
const targets = [
  '| target | measured | |',
  '|---|---|---|',
  `| drain ≤ 2.5 Kubernetes requests per evicted pod | ${fmt(drain.ours.perEvictedPod)} (kubectl drain ${drain.kubectl ? fmt(drain.kubectl.perEvictedPod) : 'not installed'}) | ${mark(drain.ours.perEvictedPod <= 2.5)} |`,
  `| drain no slower than \`kubectl drain\` (wall time, same sandbox) | ${fmt(drain.ours.wallMs / 1000, 1)} s vs ${drain.kubectl ? `${fmt(drain.kubectl.wallMs / 1000, 1)} s` : '–'} | ${drain.kubectl ? mark(drain.ours.wallMs <= drain.kubectl.wallMs) : '–'} |`,
  `| rollout ≤ 1.10 × ideal (100 nodes, max-unavailable 10) | ${fmt(rollout.simulatedSeconds / rollout.idealSeconds)} (with a canary batch: ${fmt(rolloutCanary.simulatedSeconds / rolloutCanary.idealSeconds)}) | ${mark(rollout.simulatedSeconds / rollout.idealSeconds <= 1.1)} |`,
  `| ≤ 10 state transitions per replaced node | ${fmt(transitionsPerNode(rollout))} (canary: ${fmt(transitionsPerNode(rolloutCanary))}) | ${mark(transitionsPerNode(rollout) <= 10)} |`,
  `| ≤ 4 EC2/Auto Scaling calls per replaced node | ${fmt(ec2Asg(rollout))} (canary: ${fmt(ec2Asg(rolloutCanary))}) | ${mark(ec2Asg(rollout) <= 4)} |`,
  `| 500 of 600 nodes scaled in within a minute, throttling on: 0 budget violations, 0 nodes terminated with pods, every hook completed once | ${scaleIn.invariants.budgetViolations.length} violations, ${scaleIn.invariants.terminations.filter((t) => t.podsToEvict.length > 0).length} terminated with pods, ${scaleIn.hooksCompleted} of ${scaleIn.scaledIn} hooks completed${scaleIn.violations ? ' — invariants violated' : ''} | ${mark(scaleIn.violations === '' && scaleIn.hooksCompleted === scaleIn.scaledIn)} |`,
  `| no execution above 10,000 history events (48 h drain, a day of stuck pods, a 14-day pause, 1000 nodes one at a time) | largest ${largest.largest} (${largest.name}); ${long.reduce((n, c) => n + c.executions, 0)} executions in all | ${mark(largest.largest <= 10_000)} |`,
  `| ≤ 30 history events per replaced node (rollouts) | ${rolloutPerNode.map((c) => `${c.perReplacedNode!.toFixed(1)} (${c.name})`).join('; ')} | ${mark(rolloutPerNode.every((c) => c.perReplacedNode! <= 30))} |`,
  `| fleet detection (3 accounts × 2 regions × 50 clusters × 20 groups): AWS calls per group ≤ 1.2, as in one account | ${fmt(fleet.callsPerGroup)} (${fmt(fleet.ratioToSingle)} × one account's ${fmt(fleet.singleCallsPerGroup)}); ${fleet.planned} of ${fleet.groups} groups planned | ${mark(fleet.callsPerGroup <= 1.2 && fleet.planned === fleet.groups)} |`,
  `| fleet detection: one AssumeRole per member account-region | ${fleet.assumeRoleCalls} for ${fleet.memberPlaces} | ${mark(fleet.assumeRoleCalls === fleet.memberPlaces)} |`,
  `| fleet detection: no account-region's API above 50 % of its documented refill rate (busiest virtual second) | ${fleet.peaks[0] ? `${fleet.peaks[0].place} ${fleet.peaks[0].bucket} ${fleet.peaks[0].perSecond}/s of ${fleet.peaks[0].refillPerSecond}/s (${(fleet.peaks[0].share * 100).toFixed(0)} %)` : '–'}; deepest draw on a documented bucket ${(Math.max(...fleet.peaks.map((p) => p.drawn)) * 100).toFixed(0)} % of its capacity; ${fmt(fleet.wallMs / 1000, 1)} s real, ${fmt(fleet.virtualSeconds, 1)} s virtual | ${mark(fleet.peaks.every((p) => p.share <= 0.5))} |`,
  `| fleet promotion: a bad release held within one health evaluation of its threshold being crossed | ${promotion.thresholdToHoldSeconds !== undefined ? `${fmt(promotion.thresholdToHoldSeconds, 0)} s` : 'n/a'} (evaluation every ${promotion.evaluateSeconds} s) | ${mark((promotion.thresholdToHoldSeconds ?? Infinity) <= promotion.evaluateSeconds)} |`,
  `| fleet promotion: groups that ever ran a bad release outside ring 0 | ${promotion.outsideRing0} (held: ${promotion.badHeld}) | ${mark(promotion.badHeld && promotion.outsideRing0 === 0)} |`,
  `| fleet promotion: a good release's promotion ≤ 1.10 × the sum of its soaks | ${promotion.overhead !== undefined ? fmt(promotion.overhead, 3) : 'n/a'} | ${mark((promotion.overhead ?? Infinity) <= 1.1)} |`,
  `| bundles ≤ 300 KB | largest ${biggest.name} ${(biggest.bytes / 1024).toFixed(0)} KB; ${bundles.functions.filter((f) => f.bytes > 300 * 1024).length} of ${bundles.functions.length} over | ${mark(biggest.bytes <= 300 * 1024)} |`,
  `| chatSlack's cold path (init + verify + hand-off) within Slack's 3 s | median ${fmt(chatCold.totalMs, 0)} ms, slowest ${fmt(chatCold.worstMs, 0)} ms (no network; Lambda's own cold start and 3 round trips come on top) | ${mark(chatCold.worstMs < 3000)} |`,
  `| cold init ≤ 2 × a bare middy + Powertools Logger handler (code alone, median of 15 processes, paired run by run with the bare handler's after the same SDK modules) | worst ${slowest.name} ${fmt(ratioOf(slowest))}×; ${bundles.functions.filter((f) => ratioOf(f) > 2).length} of ${bundles.functions.length} over | ${mark(ratioOf(slowest) <= 2)} |`,
];
const report = `# Benchmarks

Measured by \`npm run bench\` (scripts/bench/) on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.
Every figure comes from the sandbox (test/sim/): the real handlers, workflows and Kubernetes
client against the simulated account and the sandbox Kubernetes API server.

## Targets (issues 7, 14, 17, 20 and 23)

${targets.join('\n')}

## Draining a ${drain.pods}-pod node (${drain.evictable} pods to evict)

The node carries DaemonSet pods, a mirror pod, a Deployment under a maxUnavailable-1
PodDisruptionBudget, emptyDir pods, a bare pod and several other Deployments. Ours: a
scale-in; the terminate hook starts the node-drain workflow, whose passes cordon and evict
until the node is empty, then complete the hook. kubectl: \`kubectl drain --ignore-daemonsets
--delete-emptydir-data --force\` against an identical cluster, the sandbox clock ticking in
real time. Requests are counted by the API server, per client.

${rows.join('\n')}

Wall time for ours is what the whole service path costs on this machine (the workflow's
waits are virtual); kubectl's includes its real 5 s retry waits after a refused eviction and
its client-side throttling.
`;
const detectionRows = Object.entries(detection.byOperation)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([operation, count]) => `| ${operation} | ${count} | ${fmt(count / detection.groups)} |`);
const detectionReport = `
## Detection over ${detection.clusters} clusters × ${detection.groups / detection.clusters} node groups

One detection (dry run) over ${detection.groups} opted-in groups — half managed node groups
(AL2023 x86_64 and arm64), half self-managed groups (AL2023 and Bottlerocket) — on
Kubernetes 1.30, 1.31 and 1.32. Calls are counted by the simulated account.

| | |
|---|---|
| AWS calls | ${detection.totalCalls} |
| **AWS calls per group** | **${fmt(detection.callsPerGroup)}** |
| SSM GetParameters calls | ${detection.ssmGetParametersCalls} for ${detection.distinctParameters} distinct parameters (${fmt(detection.ssmGetParametersCalls / Math.max(1, detection.distinctParameters))} per parameter) |
| wall time | ${fmt(detection.wallMs / 1000, 2)} s |

| operation | calls | per group |
|---|---|---|
${detectionRows.join('\n')}

Per group, one Describe call: DescribeNodegroup (managed) or DescribeLaunchTemplateVersions
(self-managed). Images are described once for all groups and once per distinct target; SSM
public parameters once each, ten names a call.
`;
const fleetReport = renderFleetDetection(fleet);
const promotionReport = renderFleetPromotion(promotion);
const rolloutReport = renderRollout(rollout) + renderRollout(rolloutCanary);
const bundlesReport = renderBundles(bundles) + renderChatColdPath(chatCold);
const startReport = renderStart(start);
const scaleInReport = renderScaleIn(scaleIn);
const longReport = renderLongExecutions(long);
writeFileSync('BENCHMARKS.md', report + detectionReport + fleetReport + promotionReport + rolloutReport + scaleInReport + longReport + bundlesReport + startReport);
for (const section of [rolloutReport, scaleInReport, longReport, detectionReport, fleetReport, promotionReport, bundlesReport, startReport, report]) console.log(section);
