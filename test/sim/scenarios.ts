import { AutoScalingClient, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { releaseAmi } from './aws/ami-catalogue.js';
import { createDeployment, createDaemonSet, createPdb } from './kube/controllers.js';
import { World } from './world.js';

/**
 * The default sandbox scenario (what `npm start` shows and a scenario test checks): a
 * cluster with a managed and a self-managed node group; the self-managed group, which has
 * a launch hook, is scaled out; the new instances are tagged, their nodes join, and the
 * hook is completed with CONTINUE only once each node is Ready. Then the group is scaled in:
 * the node with the most PDB-protected pods is drained (the budget respected) before its
 * terminate hook is completed. Finally EKS publishes a new AMI release: detection finds both
 * groups stale, and each is rolled (the managed one by an EKS update, the self-managed one by
 * a canary and batches with drains), announced phase by phase.
 */
export interface DefaultScenarioResult {
  world: World;
  selfManagedGroup: string;
  managedGroupAsg: string;
  scaledOut: string[];
  /** the operator's scale-out: the group and its desired capacity before and after */
  scaleOut: { group: string; from: number; to: number };
  drained: string;
  /** the AMI the release part rolled both groups onto (absent with `release: false`) */
  newImage?: string;
}

export interface DefaultScenarioOptions {
  /** stop before the AMI release (no detection, no rollouts) */
  release?: boolean;
  /** tags added to a group's own (`{ system: { 'eks-node-lifecycle/rollout': 'observe' } }`) */
  groupTags?: { system?: Record<string, string>; 'prod-workers'?: Record<string, string> };
}

export async function runDefaultScenario(world: World, options: DefaultScenarioOptions = {}): Promise<DefaultScenarioResult> {
  const say = (message: string) => world.timeline.add('scenario', message);
  const region = world.model.region;
  const cluster = await world.addCluster('prod', { version: '1.31' });
  world.account.seedVpc();

  say('cluster prod: a managed node group "system" (AL2023, 2 × m5.large) and a self-managed group "prod-workers" (AL2023, launch hook wait-for-node 600 s; its kubernetes.io/cluster/prod tag does not propagate to instances)');
  const managed = world.account.createManagedNodegroup({
    cluster: 'prod',
    name: 'system',
    amiType: 'AL2023_x86_64_STANDARD',
    instanceTypes: ['m5.large'],
    min: 2,
    max: 4,
    desired: 2,
    tags: { 'eks-node-lifecycle/rollout': 'auto', ...options.groupTags?.system },
  });
  const selfManaged = world.account.createSelfManagedGroup({
    cluster: 'prod',
    name: 'prod-workers',
    amiFamily: 'al2023',
    instanceType: 'm5.large',
    min: 1,
    max: 6,
    desired: 1,
    hooks: {
      launch: { name: 'wait-for-node', heartbeatTimeout: 600, defaultResult: 'ABANDON' },
      terminate: { name: 'drain', heartbeatTimeout: 300, defaultResult: 'CONTINUE' },
    },
    ownershipTagPropagates: false,
    tags: {
      'eks-node-lifecycle/rollout': 'auto',
      'eks-node-lifecycle/canary': '1',
      'eks-node-lifecycle/max-unavailable': '1',
      // the group's own hooks, named as the service's to answer (it answers no other tool's)
      'eks-node-lifecycle/launch-hook': 'wait-for-node',
      'eks-node-lifecycle/terminate-hook': 'drain',
      ...options.groupTags?.['prod-workers'],
    },
  });
  await world.settle();

  createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
  createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: 6, labels: { app: 'web' } });
  createPdb(cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
  say('shop/web: 6 replicas over the 3 nodes, PodDisruptionBudget maxUnavailable 1 (one pod may be away at a time)');
  await world.settle();

  const autoscaling = new AutoScalingClient({ region });
  const before = new Set(await instanceIdsOf(world, selfManaged.autoScalingGroupName));
  say('operator scales prod-workers from 1 to 3');
  await autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: selfManaged.autoScalingGroupName, DesiredCapacity: 3 }));
  await world.settle();

  const after = await instanceIdsOf(world, selfManaged.autoScalingGroupName);

  // scale-in: the node that runs the most shop/web pods goes, and is drained first
  const webPods = cluster.store.list('pods', { namespace: 'shop', labelSelector: 'app=web' }) as { spec: { nodeName?: string } }[];
  const nodes = cluster.store.list('nodes') as { metadata: { name: string }; spec: { providerID: string } }[];
  const byWebPods = after
    .map((id) => ({ id, node: nodes.find((n) => n.spec.providerID.endsWith(`/${id}`))?.metadata.name }))
    .map((x) => ({ ...x, web: webPods.filter((p) => p.spec.nodeName === x.node).length }))
    .sort((a, b) => b.web - a.web);
  const victim = byWebPods[0]!;
  say(`operator scales prod-workers in by one, removing ${victim.id} (${victim.node}, ${victim.web} shop/web pods)`);
  await autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim.id, ShouldDecrementDesiredCapacity: true }));
  await world.settle();

  const result = {
    world,
    selfManagedGroup: selfManaged.autoScalingGroupName,
    managedGroupAsg: managed.resources?.autoScalingGroups?.[0]?.name ?? '',
    scaledOut: after.filter((id) => !before.has(id)),
    scaleOut: { group: 'prod-workers', from: 1, to: 3 },
    drained: victim.id,
  };
  if (options.release === false) return result;

  // a new AMI: both groups opted in (eks-node-lifecycle/rollout=auto) are rolled onto it
  const release = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
  say(`EKS publishes AL2023 release ${release.releaseVersion} for Kubernetes 1.31 (${release.image.ImageId}) in the SSM public parameters`);
  say('scheduled detection (EventBridge Scheduler, every 6 h) runs');
  await world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
  await world.settle();

  return { ...result, newImage: release.image.ImageId! };
}

export async function instanceIdsOf(world: World, group: string): Promise<string[]> {
  const out = await new EC2Client({ region: world.model.region }).send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'tag:aws:autoscaling:groupName', Values: [group] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
}
