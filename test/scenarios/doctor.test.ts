import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { cliInSandbox, sandboxOperator } from '../../scripts/cli-sandbox.js';
import { exitCodeOf } from '../../scripts/cli-send.js';
import { type ChatDriver, chatParams, createDaemonSet, createNode, instanceIdsOf, PROJECT_ROOT, rulesFromManifest, sandboxAccessPolicy, setupChat, type SimCluster, type SlackReceiver, startSandboxSlack, World } from '@eks-node-lifecycle/sandbox';
import { drains, drainsFinished } from './fault-drain-helpers.js';

/**
 * `doctor`, from chat and the CLI, against a cluster set up as an operator would have it:
 * the service's access entry and rbac.yaml (the API server enforcing it), a group whose
 * soak is mistyped, a healthy one; then the Node Termination Handler deployed on the nodes,
 * and a node Karpenter launched.
 */
const P = 'eks-node-lifecycle/';
const A = 'U0SRE';
const HOOK = { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 300, defaultResult: 'CONTINUE' as const };

describe('Scenario: doctor, and a good neighbour to the Node Termination Handler and Karpenter', () => {
  let receiver: SlackReceiver;
  let world: World;
  let cluster: SimCluster;
  let chat: ChatDriver;
  let cli: ReturnType<typeof cliInSandbox>;
  const answers: Record<string, { text: string; exit: number }> = {};
  let chatText: string;
  let interrupted: string;
  let scaledIn: string;
  let karpenterInstance: string;
  let karpenterDrain: string;

  const unescape = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const doctor = async (text: string) => {
    const answer = await cli(text);
    return { text: answer.text, exit: exitCodeOf(answer) };
  };

  before(async () => {
    receiver = await startSandboxSlack();
    world = await World.start({ params: chatParams(receiver) });
    cluster = await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    // what scripts/kubernetes/grant-access.sh does: the service's role in group eks-node-lifecycle, rbac.yaml applied
    world.account.eks.createAccessEntry({ clusterName: 'prod', principalArn: world.account.sts.roleArn, type: 'STANDARD', kubernetesGroups: ['eks-node-lifecycle'] });
    cluster.server.setAuthorization(rulesFromManifest(readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/rbac.yaml'), 'utf8'), 'eks-node-lifecycle'));
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'soaking', min: 0, max: 3, desired: 1, tags: { [`${P}rollout`]: 'auto', [`${P}channel`]: 'soak=7days', [`${P}drain`]: 'on' }, hooks: { terminate: HOOK } });
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'healthy', min: 0, max: 4, desired: 2, tags: { [`${P}rollout`]: 'auto', [`${P}channel`]: 'soak=7d', [`${P}drain`]: 'on' }, hooks: { terminate: HOOK } });
    // not opted in, pinned to a release that does not exist
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'idle', min: 0, max: 1, desired: 0, tags: { [`${P}channel`]: 'pinned=1.31.9-20990101' } });
    await world.settle();
    const policy = sandboxAccessPolicy({ sre: [A] }) as { groups: { sre: string[] } };
    policy.groups.sre.push(sandboxOperator(world.model.accountId).id);
    chat = setupChat(world, receiver, policy);
    cli = cliInSandbox(world);

    // 1. doctor as the operator finds it
    answers['soaking'] = await doctor('doctor prod/soaking');
    answers['healthy'] = await doctor('doctor prod/healthy');
    answers['idle'] = await doctor('doctor prod/idle');
    const slash = await chat.slash(A, 'doctor prod');
    await world.settle();
    chatText = unescape(chat.responses(slash.responseUrl).map((m) => m.text).join('\n'));

    // 2. the Node Termination Handler (IMDS mode) on every node, then a spot warning for a healthy node, and a scale-in of another
    createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node-termination-handler', labels: { 'app.kubernetes.io/name': 'aws-node-termination-handler' } });
    await world.run(30_000);
    answers['healthy with NTH'] = await doctor('doctor prod/healthy');
    [interrupted, scaledIn] = (await instanceIdsOf(world, 'healthy')) as [string, string];
    world.account.ec2.interruptSpot(interrupted);
    await world.run(5_000);
    await new AutoScalingClient({ region: world.model.region }).send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: scaledIn, ShouldDecrementDesiredCapacity: true }));
    await world.settle();

    // 3. a node Karpenter launched: no Auto Scaling group, its NodePool on the instance and the node
    const image = [...world.account.ec2.images.keys()][0]!;
    const launched = await new EC2Client({ region: world.model.region }).send(
      new RunInstancesCommand({
        ImageId: image,
        InstanceType: 'm5.large',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: world.account.seedVpc().subnets[0]!.subnetId,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }, { Key: 'karpenter.sh/nodepool', Value: 'default' }] }],
      }),
    );
    karpenterInstance = launched.Instances![0]!.InstanceId!;
    createNode(cluster.store, { name: `karpenter-${karpenterInstance}.eu-west-1.compute.internal`, providerID: `aws:///eu-west-1a/${karpenterInstance}`, labels: { 'karpenter.sh/nodepool': 'default' } });
    karpenterDrain = (await doctor(`drain ${karpenterInstance}`)).text;
    answers['cluster'] = await doctor('doctor prod');
  });

  after(async () => {
    if (process.env['SHOW_DOCTOR']) for (const [k, v] of Object.entries(answers)) console.log(`=== ${k} (exit ${v.exit})\n${v.text}`);
    await world?.stop();
    await receiver?.close();
  });

  it('shows the mistyped soak as a problem that stops automatic rollouts, the rejected tag beside the default in effect, and exits 1', () => {
    const { text, exit } = answers['soaking']!;
    assert.match(text, /doctor prod\/soaking: 1 problem/);
    assert.match(text, /eks-node-lifecycle\/channel=soak=7days needs a duration like soak=7d or soak=36h — automatic rollouts of this group are stopped until it is fixed/);
    assert.match(text, /Configuration\s+:x: problem\s+eks-node-lifecycle\/channel: automatic rollouts of this group are stopped until fixed/);
    assert.match(text, /channel\s+recommended \(tag: soak=7days\)\s+service default \(the Auto Scaling group tag is rejected: see problems\)/);
    assert.match(text, /drain\s+on\s+Auto Scaling group tag/);
    assert.match(text, /canary\s+1\s+service default/);
    assert.equal(exit, 1);
  });

  it('finds nothing wrong with a healthy group: API, access entry, RBAC, hooks, image channel all ok, and exits 0', () => {
    const { text, exit } = answers['healthy']!;
    assert.match(text, /doctor prod\/healthy: every check is ok/, text);
    for (const check of ['Kubernetes API', 'Access entry', 'RBAC', 'Karpenter', 'Configuration', 'Lifecycle hooks', 'Node Termination Handler', 'Image channel']) {
      assert.match(text, new RegExp(`${check}\\s+:white_check_mark: ok`), `${check} is ok`);
    }
    assert.match(text, /allowed everything a drain and a rollout ask \(9 access reviews\)/);
    assert.match(text, /terminate hook eks-node-lifecycle-drain is the service's/);
    assert.match(text, /channel\s+soak=7d\s+Auto Scaling group tag/);
    assert.equal(exit, 0);
  });

  it('resolves the channel of a group not opted in too: a pin to no release is a warning there (nothing rolls), not a problem', () => {
    const { text, exit } = answers['idle']!;
    assert.match(text, /Image channel\s+:warning: warning\s+rollout=off, nothing rolls; resolves to no image \(channel pinned=1\.31\.9-20990101\): /);
    assert.match(text, /rollout\s+off\s+service default/);
    assert.equal(exit, 0);
  });

  it('says the same in chat, for every group of the cluster', () => {
    assert.match(chatText, /doctor prod: 1 problem/);
    assert.match(chatText, /prod\/soaking \(self-managed\): settings/);
    assert.match(chatText, /prod\/healthy \(self-managed\): settings/);
  });

  it('leaves a spot interruption of a node the Node Termination Handler watches to it, and doctor says so (a warning: exit 0)', () => {
    assert.ok(!drains(world).some((e) => e.name.startsWith(`drain-${interrupted}-`)), 'no drain of the interrupted node');
    const logs = JSON.stringify(world.logs);
    assert.ok(logs.includes('left to the AWS Node Termination Handler (IMDS mode: its DaemonSet pod kube-system/aws-node-termination-handler-'), 'the reason is logged');
    const { text, exit } = answers['healthy with NTH']!;
    assert.match(text, /Node Termination Handler\s+:warning: warning\s+seen in IMDS mode \(its DaemonSet pod kube-system\/aws-node-termination-handler-\S+ runs on \S+\): spot interruption drains of this group are left to it; drains on the service's own terminate hooks go on/);
    assert.equal(exit, 0);
  });

  it('still drains on its own terminate hook when the Node Termination Handler is there', () => {
    assert.deepEqual(drainsFinished(world, scaledIn).map((f) => f.outcome), ['drained']);
  });

  it('names RBAC the service lacks, and an API it cannot reach, as problems (exit 1)', async () => {
    const rbac = rulesFromManifest(readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/rbac.yaml'), 'utf8'), 'eks-node-lifecycle');
    try {
      // someone trimmed the ClusterRole: no evictions
      cluster.server.setAuthorization(rbac.map((r) => ({ ...r, resources: r.resources.filter((x) => x !== 'pods/eviction') })).filter((r) => r.resources.length > 0));
      const trimmed = await doctor('doctor prod/healthy');
      assert.match(trimmed.text, /RBAC\s+:x: problem\s+the service may not create pods\/eviction \(evict pods\)\s+kubectl apply -f scripts\/kubernetes\/rbac\.yaml on prod/);
      assert.equal(trimmed.exit, 1);
      cluster.server.setAuthorization(rbac);
      await cluster.server.setReachable(false);
      const unreachable = await doctor('doctor prod/healthy');
      assert.match(unreachable.text, /Kubernetes API\s+:x: problem\s+the API did not answer/);
      assert.match(unreachable.text, /RBAC\s+:warning: warning\s+not checked: the API was not reached/);
      assert.equal(unreachable.exit, 1);
    } finally {
      await cluster.server.setReachable(true);
      cluster.server.setAuthorization(rbac);
    }
  });

  it('refuses to drain a node Karpenter launched, pointing to Karpenter, and doctor lists it', () => {
    assert.match(karpenterDrain, new RegExp(`Not allowed: ${karpenterInstance} is managed by Karpenter \\(karpenter.sh/nodepool=default, no Auto Scaling group\\): Karpenter drains and replaces its own nodes — use its disruption budgets, or kubectl delete node`));
    assert.ok(!drains(world).some((e) => e.name.startsWith(`drain-${karpenterInstance}-`)));
    assert.match(answers['cluster']!.text, /Karpenter\s+:white_check_mark: ok\s+1 node launched by Karpenter \(NodePool default\)/);
    assert.equal(answers['cluster']!.exit, 1, 'the soaking group still blocks');
  });
});
