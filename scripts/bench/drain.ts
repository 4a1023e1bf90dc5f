/**
 * Benchmark: draining a 110-pod node in the sandbox.
 *
 * - ours: a scale-in of the node's instance; the terminate hook starts the real node-drain
 *   workflow (trigger, passes, finish). Measured: Kubernetes API requests made by the service
 *   per evicted pod, wall time, and the simulated duration.
 * - kubectl: `kubectl drain --ignore-daemonsets --delete-emptydir-data --force` against the
 *   same sandbox API server (an identical cluster, since a drain is destructive), with the
 *   virtual clock ticking in real time so pods terminate and replacements become Ready.
 * Both are checked for PodDisruptionBudget violations (the sandbox's budget monitor).
 */
import { AutoScalingClient, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { createRequestCounter, hasKubectl, instanceIdsOf, kubectlDrain, populateNodeForDrain, startTicker, watchBudgets, World } from '@eks-node-lifecycle/sandbox';

export interface DrainFigures {
  pods: number;
  evictable: number;
  ours: { requests: number; perEvictedPod: number; wallMs: number; simulatedSeconds: number; violations: number; outcome: string };
  kubectl?: { requests: number; perEvictedPod: number; wallMs: number; violations: number; exitCode: number | null };
}

async function prepare(pods: number) {
  const counter = createRequestCounter();
  const world = await World.start();
  // kubectl here is a version dispatcher that picks the client matching the server: 1.32
  const cluster = await world.addCluster('prod', { version: '1.32', onRequest: counter.observe });
  world.account.seedVpc();
  world.account.createSelfManagedGroup({ cluster: 'prod', name: 'workers', min: 1, max: 4, desired: 2, hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 300, defaultResult: 'CONTINUE' } } });
  await world.settle();
  const [instanceId] = await instanceIdsOf(world, 'workers');
  const node = (cluster.store.list('nodes') as any[]).find((n) => n.spec.providerID.endsWith(`/${instanceId}`)).metadata.name as string;
  const workloads = populateNodeForDrain(cluster.store, node, { pods, spareNodes: 4 });
  await world.run(30_000);
  counter.reset();
  return { world, cluster, counter, instanceId: instanceId!, node, workloads, monitor: watchBudgets(cluster.store) };
}

export async function benchDrain(pods = 110): Promise<DrainFigures> {
  // ours
  const a = await prepare(pods);
  const startedVirtual = a.world.clock.now();
  const started = performance.now();
  await new AutoScalingClient({ region: a.world.model.region }).send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: a.instanceId, ShouldDecrementDesiredCapacity: true }));
  await a.world.settle();
  const wallMs = performance.now() - started;
  const finished = a.world.published.find((e) => e['detail-type'] === 'Node Drain Finished');
  const simulatedSeconds = finished ? (Date.parse(finished.time) - startedVirtual) / 1000 : Number.NaN;
  const requests = a.counter.count({ client: 'eks-node-lifecycle' });
  const ours = {
    requests,
    perEvictedPod: requests / a.workloads.evictable.length,
    wallMs,
    simulatedSeconds,
    violations: a.monitor.violations.length,
    outcome: String((finished?.detail as { outcome?: string } | undefined)?.outcome ?? 'none'),
  };
  await a.world.stop();

  const figures: DrainFigures = { pods: a.workloads.pods.length, evictable: a.workloads.evictable.length, ours };
  if (!(await hasKubectl())) return figures;

  // kubectl drain, same world, same node shape
  const b = await prepare(pods);
  const kubeconfig = await b.world.writeKubeconfig('prod');
  b.counter.reset();
  // slow enough that the kubeconfig's EKS token (15 virtual minutes) outlives the drain
  const stopTicker = startTicker(b.world.clock, { virtualMsPerTick: 200 });
  const run = await kubectlDrain({ kubeconfig, node: b.node, timeoutMs: 240_000 });
  await stopTicker();
  const kubectlRequests = b.counter.count({ client: 'kubectl' });
  figures.kubectl = {
    requests: kubectlRequests,
    perEvictedPod: kubectlRequests / b.workloads.evictable.length,
    wallMs: run.wallMs,
    violations: b.monitor.violations.length,
    exitCode: run.exitCode,
  };
  if (run.exitCode !== 0) console.error(`kubectl drain exited ${run.exitCode}:\n${run.stderr.split('\n').slice(-8).join('\n')}`);
  await b.world.stop();
  return figures;
}
