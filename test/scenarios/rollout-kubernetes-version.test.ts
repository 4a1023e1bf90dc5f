import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeClusterCommand, DescribeUpdateCommand, EKSClient, UpdateClusterVersionCommand } from '@aws-sdk/client-eks';
import { createDeployment, createPdb, World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { groupState, rollouts } from './rollout-helpers.js';

/**
 * Kubernetes minor versions as an explicit policy (issue 15, item 4), in the sandbox: a
 * cluster on 1.31 with a managed and a self-managed group tagged
 * `eks-node-lifecycle/kubernetes-version=follow-control-plane` and a self-managed group left
 * `pinned` (the default). The control plane goes to 1.32 (UpdateClusterVersion, as an operator
 * would run it); detection then rolls both following groups onto 1.32 AMIs through the real
 * ami-rollout workflow, leaves the pinned group on 1.31, and `status` says it is one minor behind.
 */
const region = 'eu-west-1';
const TAG = 'eks-node-lifecycle/';
const eks = () => new EKSClient({ region });

type Plan = { group: string; action: string; reason: string; to?: { imageId: string; release?: string } };

describe('Scenario: the control plane goes from 1.31 to 1.32', () => {
  let world: World;
  let monitor: InvariantMonitor;
  let beforeUpgrade: { plans: Plan[] };
  let detected: { plans: Plan[]; started: { group: string }[] };
  let status: string;
  const managedAsg = () => world.account.eks.requireNodegroup('prod', 'follow-managed').autoScalingGroupName;

  before(async () => {
    world = await World.start();
    const cluster = await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    const selfManaged = (name: string, tags: Record<string, string>) =>
      world.account.createSelfManagedGroup({
        cluster: 'prod',
        name,
        amiFamily: 'al2023',
        min: 2,
        max: 2,
        desired: 2,
        tags: { [`${TAG}rollout`]: 'auto', [`${TAG}drain`]: 'on', ...tags },
        hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
      });
    selfManaged('follow-self', { [`${TAG}kubernetes-version`]: 'follow-control-plane' });
    selfManaged('pinned-self', {}); // pinned: the default
    world.account.createManagedNodegroup({ cluster: 'prod', name: 'follow-managed', desired: 2, max: 2, tags: { [`${TAG}rollout`]: 'auto', [`${TAG}kubernetes-version`]: 'follow-control-plane' } });
    await world.settle();
    createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: 6, labels: { app: 'web' } });
    createPdb(cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
    await world.run(60_000);
    monitor = watchInvariants(world);

    beforeUpgrade = (await world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true })) as typeof beforeUpgrade;

    // 1. the operator upgrades the control plane, one minor
    const { update } = await eks().send(new UpdateClusterVersionCommand({ name: 'prod', version: '1.32' }));
    await world.run(30 * 60_000);
    assert.equal((await eks().send(new DescribeUpdateCommand({ name: 'prod', updateId: update!.id! }))).update?.status, 'Successful');

    // 2. the next detection, and the rollouts it starts, to their end
    detected = (await world.lambda.invoke('detectStaleGroups', { kind: 'detect' })) as typeof detected;
    await world.settle();

    // 3. an operator asks for the status (Amazon Q Developer's direct invocation: the CLI's and Slack's text too)
    const params = world.model.params;
    const invoker = `iam:arn:aws:lambda:${world.model.region}:${world.model.accountId}:function:eks-node-lifecycle-sandbox-chatInvoke`;
    world.account.ssm.putParameter(
      params['chatAccessPolicyParameter']!.replace('${sls:stage}', world.model.stage),
      JSON.stringify({ groups: { ops: [invoker] }, clusters: { prod: { read: ['group:ops'], act: ['group:ops'], approve: ['group:ops'] } } }),
    );
    status = (await world.lambda.invoke('chatInvoke', { command: 'status prod' })) as string;
    if (process.env.SHOW_REPORT) console.log(`${status}\n${JSON.stringify(detected.plans, null, 1)}`);
  });
  after(() => world?.stop());

  it('changes nothing while the control plane and the groups are level', () => {
    assert.deepEqual(Object.fromEntries(beforeUpgrade.plans.map((p) => [p.group, p.action])), { 'follow-managed': 'current', 'follow-self': 'current', 'pinned-self': 'current' });
  });

  it('upgrades the control plane through UpdateClusterVersion', async () => {
    const { cluster } = await eks().send(new DescribeClusterCommand({ name: 'prod' }));
    assert.equal(cluster?.version, '1.32');
    assert.equal(cluster?.status, 'ACTIVE');
  });

  it('plans the following groups onto 1.32 and leaves the pinned one, saying why', () => {
    const byGroup = Object.fromEntries(detected.plans.map((p) => [p.group, p]));
    assert.equal(byGroup['follow-managed']!.action, 'roll');
    assert.match(byGroup['follow-managed']!.to!.release!, /^1\.32\./);
    assert.match(byGroup['follow-managed']!.reason, /follows the control plane 1\.32: Kubernetes 1\.31 → 1\.32/);
    assert.equal(byGroup['follow-self']!.action, 'roll');
    assert.equal(world.account.ec2.images.get(byGroup['follow-self']!.to!.imageId)?.kubernetesVersion, '1.32');
    assert.equal(byGroup['pinned-self']!.action, 'current');
    assert.match(byGroup['pinned-self']!.reason, /pinned to Kubernetes 1\.31, 1 minor behind the control plane 1\.32/);
    assert.deepEqual(detected.started.map((s) => s.group).sort(), ['follow-managed', 'follow-self']);
  });

  it('rolls the managed group to 1.32: EKS reports version 1.32, and its nodes run 1.32 AMIs and kubelets', async () => {
    const byGroup = Object.fromEntries(rollouts(world).map((e) => [JSON.parse(e.input).group.name, e]));
    assert.equal(byGroup['follow-managed']?.status, 'SUCCEEDED', `${byGroup['follow-managed']?.error} ${byGroup['follow-managed']?.cause}`);
    assert.equal(world.account.eks.requireNodegroup('prod', 'follow-managed').nodegroup.version, '1.32');
    const state = await groupState(managedAsg());
    assert.equal(state.instances.length, 2);
    for (const imageId of state.images.values()) assert.equal(world.account.ec2.images.get(imageId)?.kubernetesVersion, '1.32', imageId);
    assert.deepEqual(kubeletMinors(world, state.instances), ['1.32', '1.32']);
  });

  it('rolls the self-managed group that follows to 1.32 AMIs, whose kubelets register as 1.32', async () => {
    const execution = rollouts(world).find((e) => JSON.parse(e.input).group.name === 'follow-self');
    assert.equal(execution?.status, 'SUCCEEDED', `${execution?.error} ${execution?.cause}`);
    // preflight judged the step against the skew policy before anything was written
    const preflights = world.lambda.invocations.filter((i) => i.function === 'rolloutPreflight' && JSON.stringify(i.payload).includes('follow-self'));
    assert.match(JSON.stringify(preflights.map((i) => i.outcome)), /Kubernetes 1\.31 → 1\.32, within the skew policy of the control plane 1\.32/);
    const state = await groupState('follow-self');
    assert.equal(state.instances.length, 2);
    for (const imageId of state.images.values()) assert.equal(world.account.ec2.images.get(imageId)?.kubernetesVersion, '1.32', imageId);
    assert.deepEqual(kubeletMinors(world, state.instances), ['1.32', '1.32']);
  });

  it('keeps the pinned self-managed group on 1.31: no rollout, the same instances and images', async () => {
    assert.equal(rollouts(world).filter((e) => JSON.parse(e.input).group.name === 'pinned-self').length, 0);
    const state = await groupState('pinned-self');
    for (const imageId of state.images.values()) assert.equal(world.account.ec2.images.get(imageId)?.kubernetesVersion, '1.31', imageId);
    assert.deepEqual(kubeletMinors(world, state.instances), ['1.31', '1.31']);
  });

  it('status says the pinned group is one minor behind the control plane, and the others are level', () => {
    const line = (group: string) => status.split('\n').find((l) => l.includes(`prod/${group} `)) ?? '';
    assert.match(line('pinned-self'), /1\.31 \(pinned, 1 minor behind the control plane 1\.32\)/, status);
    assert.match(line('follow-self'), /\s1\.32\s/, status);
    assert.match(line('follow-managed'), /\s1\.32\s/, status);
    assert.match(status, /KUBERNETES/);
  });

  it('holds every invariant: budgets, capacity, one version per image, locks released, executions reported', async () => {
    await monitor.assertHeld({ groups: [{ name: 'follow-self', floor: 1 }, { name: 'pinned-self', floor: 2 }] });
  });
});

/** The kubelet minor of each instance's Node, as the Kubernetes API reports it (`v1.32.0-eks-…` → 1.32). */
function kubeletMinors(world: World, instanceIds: readonly string[]): string[] {
  const nodes = world.cluster('prod').store.list('nodes') as { spec: { providerID: string }; status: { nodeInfo: { kubeletVersion: string } } }[];
  return instanceIds.map((id) => {
    const node = nodes.find((n) => n.spec.providerID.endsWith(`/${id}`));
    return /^v(\d+\.\d+)\./.exec(node?.status.nodeInfo.kubeletVersion ?? '')?.[1] ?? `(no node for ${id})`;
  });
}
