import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { createDaemonSet, createDeployment, createPdb, World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, type InvariantReport, watchInvariants } from './fault-invariants.js';

/**
 * A large scale-in under production's rate limits (issue 23, item 7): a self-managed group of
 * `instances` nodes, each with a terminate hook, running Deployments under PodDisruptionBudgets;
 * Auto Scaling takes `scaleInBy` of them away within a minute (desired lowered in six steps,
 * ten seconds apart), with AWS's token buckets (and the SDK's retries) and the API server's
 * Priority and Fairness switched on. Every hook must be completed once, no budget violated, no
 * node terminated with pods to evict. Shared by the scenario test (a small one) and
 * `npm run bench` (500 of 600).
 */
export interface ScaleInOptions {
  instances: number;
  scaleInBy: number;
  /** Deployments (each with a PodDisruptionBudget of maxUnavailable 10 %) and their replicas */
  deployments: number;
  replicas: number;
  /** AWS and Kubernetes throttling (default on) */
  throttling?: boolean;
}

export interface ScaleInFigures {
  instances: number;
  scaledIn: number;
  pods: number;
  /** virtual seconds from the first scale-in to the last hook completed */
  virtualSeconds: number;
  /** real milliseconds the world took to run it */
  wallMs: number;
  drainExecutions: number;
  /** node-drain executions that ended drained (the rest: node-gone, forced, failed) */
  drained: number;
  lambdaInvocations: number;
  hooksCompleted: number;
  /** CompleteLifecycleAction calls that found the action already closed (retries, late triggers) */
  completionsRepeated: number;
  aws: { attempts: number; throttled: number; callsFailed: number; peak: { api: string; perSecond: number }[] };
  kube: { requests: number; rejected: number; peakPerSecond: number };
  /** Lambda invocations that failed on throttling and were retried (by the workflow or Lambda) */
  throttledSteps: number;
  invariants: InvariantReport;
}

const GROUP = 'workers';

export async function scaleInUnderLoad(options: ScaleInOptions): Promise<{ world: World; monitor: InvariantMonitor; figures: ScaleInFigures }> {
  // built without rate limits (600 instances booting is not what is measured), then switched on
  const world = await World.start({ throttling: {} });
  const cluster = await world.addCluster('prod');
  world.account.seedVpc();
  world.account.createSelfManagedGroup({
    cluster: 'prod',
    name: GROUP,
    min: 0,
    max: options.instances,
    desired: options.instances,
    tags: { 'eks-node-lifecycle/drain': 'on' },
    hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
  });
  await world.settle();
  createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
  for (let k = 0; k < options.deployments; k++) {
    const name = `app-${k}`;
    createDeployment(cluster.store, { namespace: 'shop', name, replicas: options.replicas, labels: { app: name } });
    createPdb(cluster.store, { namespace: 'shop', name, selector: { app: name }, maxUnavailable: '10%' });
  }
  await world.run(60_000);

  const monitor = watchInvariants(world);
  if (options.throttling ?? true) {
    world.throttling.aws.enable({ seed: 23 });
    world.throttling.kube.enable({});
  }
  const invocationsBefore = world.lambda.invocations.length;
  const callsBefore = world.account.calls.length;
  const startedAt = world.clock.now();
  const wallStart = performance.now();

  // Auto Scaling takes them away within a minute: desired lowered in six steps, 10 s apart
  const autoscaling = new AutoScalingClient({ region: world.model.region });
  const steps = 6;
  for (let i = 1; i <= steps; i++) {
    const desired = options.instances - Math.round((options.scaleInBy * i) / steps);
    await autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: desired, HonorCooldown: false }));
    if (i < steps) await world.run(10_000);
  }
  await world.settle();
  const wallMs = performance.now() - wallStart;

  const calls = world.account.calls.slice(callsBefore);
  const completions = calls.filter((c) => c.command === 'CompleteLifecycleAction');
  const drains = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-node-drain'));
  const invocations = world.lambda.invocations.slice(invocationsBefore);
  const { aws, kube } = world.throttling.tally();
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const kubeTally = kube.get('prod');
  const lastCompletion = Math.max(startedAt, ...completions.filter((c) => !c.error).map((c) => c.at));
  const report = monitor.report();
  const figures: ScaleInFigures = {
    instances: options.instances,
    scaledIn: options.scaleInBy,
    pods: options.deployments * options.replicas,
    virtualSeconds: Math.round((lastCompletion - startedAt) / 1000),
    wallMs: Math.round(wallMs),
    drainExecutions: drains.length,
    drained: drains.filter((e) => (e.output as { outcome?: string } | undefined)?.outcome === 'drained').length,
    lambdaInvocations: invocations.length,
    hooksCompleted: completions.filter((c) => !c.error).length,
    completionsRepeated: completions.filter((c) => c.error).length,
    aws: {
      attempts: sum(aws.attempts),
      throttled: sum(aws.attemptsThrottled),
      callsFailed: sum(aws.callsFailed),
      peak: [...aws.peakPerSecond]
        .filter(([api]) => api.includes(':'))
        .map(([api, p]) => ({ api, perSecond: p.perSecond }))
        .sort((a, b) => b.perSecond - a.perSecond)
        .slice(0, 5),
    },
    kube: {
      requests: kubeTally ? sum(kubeTally.requests) : 0,
      rejected: kubeTally ? sum(kubeTally.rejected) : 0,
      peakPerSecond: kubeTally ? Math.max(0, ...[...kubeTally.peakPerSecond.values()].map((p) => p.perSecond)) : 0,
    },
    throttledSteps: invocations.filter((i) => 'errorType' in i.outcome && /AwsTransientError|KubernetesUnavailableError/.test(i.outcome.errorType)).length,
    invariants: report,
  };
  return { world, monitor, figures };
}
