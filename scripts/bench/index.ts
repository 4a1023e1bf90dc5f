/**
 * `npm run bench`: runs every benchmark, prints the figures and writes BENCHMARKS.md.
 * Figures, not pass/fail: the tests assert behaviour, this measures it.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchDrain } from './drain.js';

const drain = await benchDrain(110);
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
const report = `# Benchmarks

Measured by \`npm run bench\` (scripts/bench/) on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.
Every figure comes from the sandbox (test/sim/): the real handlers, workflows and Kubernetes
client against the simulated account and the sandbox Kubernetes API server.

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
writeFileSync('BENCHMARKS.md', report);
console.log(report);
