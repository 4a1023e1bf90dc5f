import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { createDaemonSet, createDeployment, createPdb, type SimExecution, World, type WorldOptions } from '@eks-node-lifecycle/sandbox';

/** Shared by the rollout scenarios: a cluster with an opted-in self-managed group under load, and what to read back. */
const region = 'eu-west-1';
const autoscaling = () => new AutoScalingClient({ region });
const ec2 = () => new EC2Client({ region });

export async function groupState(name: string) {
  const group = (await autoscaling().send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!;
  const ids = (group.Instances ?? []).map((i) => i.InstanceId!);
  const images = ids.length
    ? (await ec2().send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId!, i.ImageId!] as const)
    : [];
  return {
    desired: group.DesiredCapacity,
    min: group.MinSize,
    max: group.MaxSize,
    launchTemplateVersion: group.LaunchTemplate?.Version,
    instances: ids.sort(),
    images: new Map(images),
    suspended: (group.SuspendedProcesses ?? []).map((p) => p.ProcessName),
  };
}

export function rollouts(world: World): SimExecution[] {
  return [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout'));
}

export function cordoned(world: World): string[] {
  return (world.cluster('prod').store.list('nodes') as any[]).filter((n) => n.spec.unschedulable).map((n) => n.metadata.name);
}

export async function selfManagedWorld(options: {
  nodes: number;
  tags: Record<string, string>;
  replicas?: number;
  name?: string;
  world?: WorldOptions;
  launchTemplateVersion?: string;
  /** the cluster's endpoint by name, for DNS failures (dns-faults.ts) */
  endpointHost?: 'localhost';
}) {
  const world = await World.start(options.world);
  const cluster = await world.addCluster('prod', { version: '1.31', ...(options.endpointHost ? { endpointHost: options.endpointHost } : {}) });
  world.account.seedVpc();
  const group = world.account.createSelfManagedGroup({
    cluster: 'prod',
    name: options.name ?? 'workers',
    amiFamily: 'al2023',
    min: options.nodes,
    max: options.nodes,
    desired: options.nodes,
    launchTemplateVersion: options.launchTemplateVersion ?? '1',
    tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on', ...options.tags },
    hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
  });
  await world.settle();
  createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
  createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: options.replicas ?? 2 * options.nodes, labels: { app: 'web' } });
  createPdb(cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 2 });
  await world.run(60_000);
  return { world, cluster, group };
}

/** A rollout of `workers` onto the newest image, as a person starts it (CLI or chat): the plan detection would make. */
export async function rolloutRequest(world: World, group: { autoScalingGroupName: string; launchTemplateId: string }, options: { version?: number; name?: string } = {}) {
  const detected = (await world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true })) as { plans: { group: string; to: unknown; from: unknown }[] };
  const plan = detected.plans.find((p) => p.group === (options.name ?? 'workers'))!;
  const machine = world.model.stateMachines.find((m) => m.name.endsWith('-ami-rollout'))!.arn;
  return (name: string, who: string) => {
    const input = {
      cluster: 'prod',
      group: { kind: 'self-managed', name: options.name ?? 'workers', autoScalingGroup: group.autoScalingGroupName, launchTemplate: { id: group.launchTemplateId, version: options.version ?? 1 } },
      target: plan.to,
      from: plan.from,
      startedBy: { kind: 'person', who, startNow: true },
    };
    return world.stepFunctions.start(machine, name, JSON.stringify(input)).executionArn;
  };
}
