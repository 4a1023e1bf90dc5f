/**
 * A scale-in of 500 of 600 nodes within a minute, with AWS's token buckets (and the SDK's
 * retries) and the API server's Priority and Fairness on (issue 23): the scenario of
 * test/scenarios/scale-in-load.ts at full size, and what it cost.
 */
import { type ScaleInFigures, scaleInUnderLoad } from '../../test/scenarios/scale-in-load.js';

export interface ScaleInBench extends ScaleInFigures {
  /** the invariant monitor's verdict: '' when every invariant held */
  violations: string;
}

export async function benchScaleIn(instances: number, scaleInBy: number): Promise<ScaleInBench> {
  const { world, monitor, figures } = await scaleInUnderLoad({ instances, scaleInBy, deployments: 20, replicas: Math.round(instances * 1.5 / 20) });
  try {
    const violations = await monitor.assertHeld({ groups: [{ name: 'workers', floor: 0, sizes: { desired: instances - scaleInBy } }] }).then(
      () => '',
      (error: Error) => error.message,
    );
    return { ...figures, violations };
  } finally {
    await world.stop();
  }
}

export function renderScaleIn(f: ScaleInBench): string {
  const fmt = (n: number, digits = 1) => n.toFixed(digits);
  const report = f.invariants;
  const peaks = f.aws.peak.map((p) => `${p.api} ${p.perSecond}/s`).join(', ');
  return `
## Scale-in of ${f.scaledIn} of ${f.instances} nodes within a minute, throttling on

A self-managed group of ${f.instances} nodes with a terminate hook (heartbeat timeout 600 s),
${f.pods} pods of 20 Deployments each under a PodDisruptionBudget of maxUnavailable 10 %;
desired lowered to ${f.instances - f.scaledIn} in six steps ten seconds apart. AWS's token
buckets (EC2's documented sizes and refill rates, comparable ones for Auto Scaling and EKS, the
SDK's standard retries sleeping on the virtual clock) and API Priority and Fairness on the
Kubernetes API server are switched on. Each terminate hook starts one node-drain.

| | |
|---|---|
| invariants (budgets, terminations, hooks, locks, records) | ${f.violations === '' ? '**all held**' : `**violated**: ${f.violations.split('\n').slice(0, 4).join(' ')}`} |
| PodDisruptionBudget violations | ${report.budgetViolations.length} |
| nodes terminated with pods left to evict | ${report.terminations.filter((t) => t.podsToEvict.length > 0).length} of ${report.terminations.length} terminated |
| terminate hooks completed / repeated completions | ${f.hooksCompleted} / ${f.completionsRepeated} |
| hooks expired | ${report.hookExpiries.length} |
| node-drain executions (ended drained) | ${f.drainExecutions} (${f.drained}) |
| Lambda invocations | ${f.lambdaInvocations} (${fmt(f.lambdaInvocations / Math.max(1, f.scaledIn))} per node) |
| AWS attempts / throttled / calls failed after the SDK's retries | ${f.aws.attempts} / ${f.aws.throttled} / ${f.aws.callsFailed} |
| peak AWS requests per virtual second | ${peaks} |
| Kubernetes requests / answered 429 by flow control | ${f.kube.requests} / ${f.kube.rejected} |
| peak Kubernetes requests per virtual second (the service's flow) | ${f.kube.peakPerSecond} |
| steps that failed on throttling and were retried | ${f.throttledSteps} |
| virtual time, first scale-in to last hook completed | ${f.virtualSeconds} s |
| wall time | ${fmt(f.wallMs / 1000)} s |
`;
}
