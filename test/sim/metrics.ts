import { installMetricSink, type MetricName, type MetricPoint } from '../../shared/metrics/metrics.js';
import { runningInvocation, type SimLambda } from './lambda.js';

/**
 * The metric points the service records (shared/metrics/metrics.ts), kept per world: in Lambda
 * they go out as EMF through Powertools (functions/lib/metrics.ts, installed only in a real
 * execution environment); here the sink hands each point to the world whose invocation
 * recorded it, so a scenario can check what its dashboards and alarms would have seen.
 */
const worlds = new Map<SimLambda, MetricPoint[]>();

installMetricSink((points) => {
  const lambda = runningInvocation()?.lambda;
  const kept = lambda && worlds.get(lambda);
  if (kept) kept.push(...points);
});

/** Starts keeping this world's points; the returned function stops it. */
export function keepMetrics(lambda: SimLambda, into: MetricPoint[]): () => void {
  worlds.set(lambda, into);
  return () => {
    worlds.delete(lambda);
  };
}

/** The sum of a metric's values, for one value of its dimension (or all of them) and optionally one cluster. */
export function metricTotal(points: readonly MetricPoint[], name: MetricName, dimensionValue?: string, cluster?: string): number {
  return points
    .filter((p) => p.name === name && (dimensionValue === undefined || p.dimension?.value === dimensionValue) && (cluster === undefined || p.cluster === cluster))
    .reduce((sum, p) => sum + p.value, 0);
}
