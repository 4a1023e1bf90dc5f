import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { installMetricSink, type MetricPoint, type MetricSink } from '../../shared/metrics/metrics.js';

/**
 * Where the service's metric points go in Lambda: CloudWatch embedded metric format, written
 * by Powertools Metrics to the function's log (CloudWatch extracts the metrics; no
 * PutMetricData call, no extra permission). Namespace from POWERTOOLS_METRICS_NAMESPACE
 * (serverless.yml: `EksNodeLifecycle/<stage>`), default dimension `service`.
 *
 * Each point is one EMF record of its own (`singleMetric`): its two dimension sets — the
 * point's dimension alone, and with the cluster — belong to it, not to whatever else the
 * invocation records. https://docs.powertools.aws.dev/lambda/typescript/latest/features/metrics/
 */
export function powertoolsSink(metrics: Metrics): MetricSink {
  return (points) => {
    for (const point of points) publish(metrics, point);
  };
}

function publish(metrics: Metrics, point: MetricPoint): void {
  const single = metrics.singleMetric();
  // the first set: `service` and the point's dimension (or `service` alone: an empty set adds only the default)
  if (point.dimension) single.addDimension(point.dimension.name, point.dimension.value);
  else single.addDimensions({});
  if (point.cluster) single.addDimensions({ ...(point.dimension ? { [point.dimension.name]: point.dimension.value } : {}), cluster: point.cluster });
  single.addMetric(point.name, point.unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count, point.value);
}

/**
 * Powertools warns when a dimension set repeats a dimension already added (`Dimension "reason"
 * has already been added`): the second set of every point repeats its dimension on purpose
 * (the point's dimension alone, and with the cluster), so that one warning, once per point,
 * says nothing. Every other message goes on to the console, as Powertools would send it.
 */
const quietOnRepeatedDimension = {
  ...console,
  warn: (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /^Dimension "[^"]+" has already been added/.test(args[0])) return;
    console.warn(...args);
  },
};

/**
 * Installs the sink in a Lambda execution environment. Elsewhere (tests, the sandbox, the
 * CLI) nothing is installed and points go nowhere: `AWS_LAMBDA_FUNCTION_NAME` is set by the
 * Lambda runtime only.
 */
export function installLambdaMetrics(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.AWS_LAMBDA_FUNCTION_NAME) return;
  installMetricSink(powertoolsSink(new Metrics({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'eks-node-lifecycle', logger: quietOnRepeatedDimension })));
}
