import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootstrapUserData, clusterDnsIp, createDaemonSet, createDeployment, createPdb, type Pod, releaseAmi, World } from '@eks-node-lifecycle/sandbox';
import { watchInvariants, type InvariantMonitor } from './fault-invariants.js';
import { groupState, rollouts } from './rollout-helpers.js';

/**
 * A rollout changes the image and nothing else (issue 15): self-managed groups whose own user
 * data passes labels, taints and other arguments to the bootstrap are rolled, and the nodes
 * that replace theirs register as they did — so the pods that select them still run.
 */

const GPU_TOLERATION = { key: 'dedicated', operator: 'Equal' as const, value: 'gpu', effect: 'NoSchedule' as const };
const WINDOWS_TOLERATION = { key: 'os', operator: 'Equal' as const, value: 'windows', effect: 'NoSchedule' as const };

interface NodeFacts {
  name: string;
  instanceId: string;
  providerIdShape: string;
  labels: Record<string, string>;
  taints: string[];
  maxPods: string;
}

/** The user's labels: what the node got beyond what every kubelet sets itself. */
const OWN_LABELS = /^(team|workload|pool)$/;

function nodesOf(world: World, instanceIds: readonly string[]): NodeFacts[] {
  return (world.cluster('prod').store.list('nodes') as any[])
    .map((n) => ({
      name: n.metadata.name as string,
      instanceId: String(n.spec.providerID).split('/').pop()!,
      // aws:///<az>/<instance-id>
      providerIdShape: String(n.spec.providerID).replace(/[a-z]{2}-[a-z]+-\d[a-z]/, '<az>').replace(/i-[0-9a-f]+/, '<id>'),
      labels: Object.fromEntries(Object.entries(n.metadata.labels as Record<string, string>).filter(([k]) => OWN_LABELS.test(k))),
      taints: ((n.spec.taints ?? []) as any[]).map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).sort(),
      maxPods: n.status.capacity.pods as string,
    }))
    .filter((n) => instanceIds.includes(n.instanceId));
}

/** What every node of a group shares (the name and instance aside). */
function shape(nodes: readonly NodeFacts[]): unknown[] {
  return [...new Set(nodes.map(({ name: _n, instanceId: _i, ...rest }) => JSON.stringify(rest)))].map((s) => JSON.parse(s));
}

function pods(world: World, namespace: string): Pod[] {
  return (world.cluster('prod').store.list('pods') as Pod[]).filter((p) => p.metadata.namespace === namespace && !p.metadata.deletionTimestamp);
}

describe('Scenario: self-managed groups of every family whose bootstraps carry labels and taints roll (AL2 and Windows from the user\'s own calls)', () => {
  let world: World;
  let monitor: InvariantMonitor;
  let al2Before: NodeFacts[];
  let winBefore: NodeFacts[];
  let al2: { autoScalingGroupName: string };
  let win: { autoScalingGroupName: string };
  let others: { group: { autoScalingGroupName: string }; before: NodeFacts[] }[];
  let detection: any;

  before(async () => {
    world = await World.start();
    const cluster = await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    const connection = world.account.eks.connection(world.account.eks.require('prod'));
    const tags = { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on', 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/canary': '1' };
    const hooks = { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' as const } };
    // the user's own script: quoting of every kind, `=` and space-separated values, a flag the service never sets
    const al2Script = [
      '#!/bin/bash',
      'set -o xtrace',
      'echo "vm.max_map_count=262144" >> /etc/sysctl.conf',
      'LABELS=team=a,workload=gpu',
      `/etc/eks/bootstrap.sh prod --b64-cluster-ca '${connection.certificateAuthority}' \\`,
      `  --apiserver-endpoint=${connection.endpoint} \\`,
      `  --dns-cluster-ip "${clusterDnsIp(connection.serviceIpv4Cidr)}" \\`,
      `  --kubelet-extra-args "--node-labels=$LABELS --register-with-taints=dedicated=gpu:NoSchedule" \\`,
      `  --enable-docker-bridge 'false'`,
      'echo "joined" > /var/log/joined',
      '',
    ].join('\n');
    al2 = world.account.createSelfManagedGroup({ cluster: 'prod', name: 'gpu', amiFamily: 'al2', min: 2, max: 2, desired: 2, userData: al2Script, tags, hooks });
    const winScript = [
      '<powershell>',
      'Write-Host "custom setup"',
      '[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1"',
      `& $EKSBootstrapScriptFile -EKSClusterName 'prod' -APIServerEndpoint "${connection.endpoint}" -Base64ClusterCA "${connection.certificateAuthority}" -DNSClusterIP "${clusterDnsIp(connection.serviceIpv4Cidr)}" -KubeletExtraArgs "--node-labels=team=win,pool=b --register-with-taints=os=windows:NoSchedule" 3>&1 4>&1 5>&1 6>&1`,
      '</powershell>',
      '',
    ].join('\n');
    win = world.account.createSelfManagedGroup({
      cluster: 'prod', name: 'win', amiFamily: 'windows', windows: { version: '2022', edition: 'Core' }, min: 2, max: 2, desired: 2, userData: winScript, tags, hooks,
    });
    // AL2023 (NodeConfig kubelet flags) and Bottlerocket (settings.kubernetes.node-labels / node-taints), as the sandbox's builders write them
    const al2023 = world.account.createSelfManagedGroup({
      cluster: 'prod', name: 'batch', amiFamily: 'al2023', min: 1, max: 1, desired: 1, tags, hooks,
      labels: { team: 'batch' }, taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }],
    });
    const bottlerocket = world.account.createSelfManagedGroup({
      cluster: 'prod', name: 'rocket', amiFamily: 'bottlerocket', min: 1, max: 1, desired: 1, tags, hooks,
      labels: { team: 'rocket' }, taints: [{ key: 'dedicated', value: 'rocket', effect: 'NoExecute' }],
    });
    await world.settle();
    createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    for (const team of ['batch', 'rocket']) {
      createDeployment(cluster.store, { namespace: team, name: 'job', replicas: 1, labels: { app: 'job' }, nodeSelector: { team }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: team }] });
    }
    createDeployment(cluster.store, { namespace: 'gpu', name: 'trainer', replicas: 2, labels: { app: 'trainer' }, nodeSelector: { team: 'a', workload: 'gpu' }, tolerations: [GPU_TOLERATION] });
    createPdb(cluster.store, { namespace: 'gpu', name: 'trainer', selector: { app: 'trainer' }, maxUnavailable: 1 });
    createDeployment(cluster.store, { namespace: 'win', name: 'iis', replicas: 2, labels: { app: 'iis' }, nodeSelector: { team: 'win', 'kubernetes.io/os': 'windows' }, tolerations: [WINDOWS_TOLERATION] });
    await world.run(60_000);
    al2Before = nodesOf(world, (await groupState('gpu')).instances);
    winBefore = nodesOf(world, (await groupState('win')).instances);
    others = await Promise.all([al2023, bottlerocket].map(async (group) => ({ group, before: nodesOf(world, (await groupState(group.autoScalingGroupName)).instances) })));

    monitor = watchInvariants(world);
    releaseAmi(world.account, { family: 'al2', kubernetesVersion: '1.31', date: '20261201' });
    releaseAmi(world.account, { family: 'windows', kubernetesVersion: '1.31', windows: { version: '2022', edition: 'Core' }, date: '20261201' });
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    releaseAmi(world.account, { family: 'bottlerocket', kubernetesVersion: '1.31', date: '20261201' });
    detection = await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
  });
  after(() => world.stop());

  it('starts from nodes that carry the user\'s labels and taints, with their pods running on them', () => {
    assert.equal(al2Before.length, 2);
    assert.deepEqual(shape(al2Before), [{ providerIdShape: 'aws:///<az>/<id>', labels: { team: 'a', workload: 'gpu' }, taints: ['dedicated=gpu:NoSchedule'], maxPods: '29' }]);
    assert.equal(winBefore.length, 2);
    assert.deepEqual(shape(winBefore), [{ providerIdShape: 'aws:///<az>/<id>', labels: { team: 'win', pool: 'b' }, taints: ['os=windows:NoSchedule'], maxPods: '9' }]);
  });

  it('rolls every group to the end', () => {
    assert.deepEqual(detection.started.length, 4, JSON.stringify(detection));
    for (const execution of rollouts(world)) assert.equal(execution.status, 'SUCCEEDED', `${execution.name}: ${execution.error}: ${execution.cause}`);
  });

  it('registers the replacements with the same labels, taints, max pods and providerID shape as the nodes they replace', async () => {
    for (const [group, before_] of [['gpu', al2Before], ['win', winBefore]] as const) {
      const now = nodesOf(world, (await groupState(group)).instances);
      assert.equal(now.length, 2, group);
      assert.equal(now.filter((n) => before_.some((b) => b.instanceId === n.instanceId)).length, 0, `${group}: every node replaced`);
      assert.deepEqual(shape(now), shape(before_), group);
    }
    for (const { group, before: before_ } of others) {
      const now = nodesOf(world, (await groupState(group.autoScalingGroupName)).instances);
      assert.equal(before_.length, 1, group.autoScalingGroupName);
      assert.equal(now.length, 1, group.autoScalingGroupName);
      assert.notEqual(now[0]!.instanceId, before_[0]!.instanceId);
      assert.deepEqual(shape(now), shape(before_), group.autoScalingGroupName);
    }
    assert.deepEqual(others.map((o) => shape(o.before)), [
      [{ providerIdShape: 'aws:///<az>/<id>', labels: { team: 'batch' }, taints: ['dedicated=batch:NoSchedule'], maxPods: '29' }],
      [{ providerIdShape: 'aws:///<az>/<id>', labels: { team: 'rocket' }, taints: ['dedicated=rocket:NoExecute'], maxPods: '29' }],
    ]);
  });

  it('runs every pod that selects them on the new nodes, none Pending', async () => {
    const newNodes = new Set([...nodesOf(world, (await groupState('gpu')).instances), ...nodesOf(world, (await groupState('win')).instances)].map((n) => n.name));
    for (const { group } of others) for (const n of nodesOf(world, (await groupState(group.autoScalingGroupName)).instances)) newNodes.add(n.name);
    for (const [namespace, replicas] of [['gpu', 2], ['win', 2], ['batch', 1], ['rocket', 1]] as const) {
      const running = pods(world, namespace);
      assert.equal(running.length, replicas, namespace);
      for (const pod of running) {
        assert.equal(pod.status?.phase, 'Running', `${namespace}/${pod.metadata.name}: ${JSON.stringify(pod.status?.conditions)}`);
        assert.ok(newNodes.has(pod.spec.nodeName!), `${namespace}/${pod.metadata.name} on ${pod.spec.nodeName}`);
      }
    }
    const pending = (world.cluster('prod').store.list('pods') as Pod[]).filter((p) => p.status?.phase === 'Pending');
    assert.deepEqual(pending.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), []);
  });

  it('carries every bootstrap argument the user had into the new version', () => {
    const versions = monitor.report().launchTemplateVersions;
    assert.equal(versions.length, 4, JSON.stringify(versions));
    const al2Data = latestUserData(world, 'gpu');
    assert.match(al2Data, /--enable-docker-bridge false/);
    // in place in the user's script: the variable it sets is there when the bootstrap runs, the command after it still after
    assert.match(al2Data, /echo "vm.max_map_count=262144" >> \/etc\/sysctl.conf\nLABELS=team=a,workload=gpu\n\/etc\/eks\/bootstrap.sh prod/);
    assert.match(al2Data, /--kubelet-extra-args "--node-labels=\$\{LABELS\} --register-with-taints=dedicated=gpu:NoSchedule --max-pods=29"/);
    assert.match(al2Data, /--use-max-pods false\necho "joined" > \/var\/log\/joined\n/);
    const winData = latestUserData(world, 'win');
    assert.match(winData, /-KubeletExtraArgs "--node-labels=team=win,pool=b --register-with-taints=os=windows:NoSchedule --max-pods=9"/);
    assert.match(winData, /Write-Host "custom setup"/);
  });

  it('shows, before anything is written, what changes in each bootstrap: max pods where the user set none, a cluster fact the user\'s call lacked, nothing else', () => {
    const preflights = rollouts(world).map((e) => JSON.stringify(e.output));
    const details = preflights.flatMap((text) => [...text.matchAll(/renders a valid (\w+) version with the target image; ([^"]*)"/g)].map((m) => `${m[1]}: ${m[2]}`));
    assert.deepEqual([...new Set(details)].sort(), [
      'al2023: bootstrap changes: spec.kubelet.config.maxPods set to 29',
      'al2: bootstrap changes: kubelet --max-pods set to 29; --use-max-pods set to false',
      'bottlerocket: bootstrap changes: settings.kubernetes.max-pods set to 29',
      // the user's call left out -ServiceCIDR, so Start-EKSBootstrap.ps1 assumed 10.100.0.0/16: the cluster says otherwise
      'windows: bootstrap changes: kubelet --max-pods set to 9; -ServiceCIDR set to 172.20.0.0/16',
    ]);
  });

  it('ends on the invariants: budgets kept, capacity above the floor, sizes and settings restored', async () => {
    await monitor.assertHeld({
      groups: [{ name: al2.autoScalingGroupName, floor: 1 }, { name: win.autoScalingGroupName, floor: 1 }, ...others.map((o) => ({ name: o.group.autoScalingGroupName, floor: 0 }))],
    });
  });
});

describe('Scenario: a cluster with prefix delegation rolls m5.large nodes to 110 pods; a max-pods tag overrides', () => {
  let world: World;
  let monitor: InvariantMonitor;
  let before_: NodeFacts[];
  let group: { autoScalingGroupName: string };
  let tagged: { autoScalingGroupName: string };
  let taggedBefore: NodeFacts[];

  before(async () => {
    world = await World.start();
    const cluster = await world.addCluster('prod', { version: '1.31' });
    world.account.seedVpc();
    group = world.account.createSelfManagedGroup({
      cluster: 'prod', name: 'workers', amiFamily: 'al2023', instanceType: 'm5.large', min: 2, max: 2, desired: 2,
      tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on' },
      hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
    });
    tagged = world.account.createSelfManagedGroup({
      cluster: 'prod', name: 'dense', amiFamily: 'al2023', instanceType: 'm5.large', min: 1, max: 1, desired: 1,
      tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on', 'eks-node-lifecycle/max-pods': '64' },
      hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
    });
    await world.settle();
    createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    // the VPC CNI's setting, as `aws eks update-addon … --configuration-values` leaves it
    cluster.store.update('daemonsets', 'kube-system', 'aws-node', (ds: any) => {
      for (const container of ds.spec.template.spec.containers) container.env = [...(container.env ?? []), { name: 'ENABLE_PREFIX_DELEGATION', value: 'true' }, { name: 'WARM_PREFIX_TARGET', value: '1' }];
    });
    createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: 4, labels: { app: 'web' } });
    createPdb(cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
    await world.run(60_000);
    before_ = nodesOf(world, (await groupState('workers')).instances);
    taggedBefore = nodesOf(world, (await groupState('dense')).instances);
    monitor = watchInvariants(world);
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.settle();
  });
  after(() => world.stop());

  it('rolls the group, and the new nodes take 110 pods where the old took 29', async () => {
    const executions = rollouts(world);
    assert.equal(executions.length, 2);
    for (const execution of executions) assert.equal(execution.status, 'SUCCEEDED', `${execution.name}: ${execution.error}: ${execution.cause}`);
    assert.deepEqual(before_.map((n) => n.maxPods), ['29', '29']);
    const now = nodesOf(world, (await groupState('workers')).instances);
    assert.equal(now.length, 2);
    assert.deepEqual(now.map((n) => n.maxPods), ['110', '110']);
    assert.match(latestUserData(world, 'workers'), /maxPods: 110/);
  });

  it('gives the group tagged eks-node-lifecycle/max-pods=64 nodes of 64 pods, over the computed 110', async () => {
    assert.deepEqual(taggedBefore.map((n) => n.maxPods), ['29']);
    const now = nodesOf(world, (await groupState('dense')).instances);
    assert.deepEqual(now.map((n) => n.maxPods), ['64']);
    assert.ok(!now.some((n) => taggedBefore.some((b) => b.instanceId === n.instanceId)));
  });

  it('ends on the invariants', async () => {
    await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 1 }, { name: tagged.autoScalingGroupName, floor: 0 }] });
  });
});

describe('Scenario: prefix delegation turned on after a first rollout reaches the next one', () => {
  it('rolls to 29 pods, then — the CNI changed — to 110, since the 29 was the service\'s own; a user\'s own 50 stays 50 through both', async () => {
    const world = await World.start();
    try {
      const cluster = await world.addCluster('prod', { version: '1.31' });
      world.account.seedVpc();
      const group = world.account.createSelfManagedGroup({
        cluster: 'prod', name: 'workers', amiFamily: 'al2023', instanceType: 'm5.large', min: 1, max: 1, desired: 1,
        tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on' },
        hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
      });
      const connection = world.account.eks.connection(world.account.eks.require('prod'));
      const own = world.account.createSelfManagedGroup({
        cluster: 'prod', name: 'own', amiFamily: 'al2023', instanceType: 'm5.large', min: 1, max: 1, desired: 1,
        userData: bootstrapUserData('al2023', connection, { maxPods: 50 }),
        tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on' },
        hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
      });
      await world.settle();
      createDaemonSet(cluster.store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
      await world.run(60_000);
      const monitor = watchInvariants(world);

      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      assert.match(latestUserData(world, 'workers'), /maxPods: 29/);
      assert.deepEqual(nodesOf(world, (await groupState('workers')).instances).map((n) => n.maxPods), ['29']);
      assert.deepEqual(nodesOf(world, (await groupState('own')).instances).map((n) => n.maxPods), ['50']);
      assert.match(latestDescription(world, 'own'), /; max-pods: the user's$/);

      cluster.store.update('daemonsets', 'kube-system', 'aws-node', (ds: any) => {
        for (const container of ds.spec.template.spec.containers) container.env = [...(container.env ?? []), { name: 'ENABLE_PREFIX_DELEGATION', value: 'true' }];
      });
      releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
      await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
      await world.settle();
      const executions = rollouts(world);
      assert.equal(executions.length, 4);
      for (const execution of executions) assert.equal(execution.status, 'SUCCEEDED', `${execution.name}: ${execution.error}: ${execution.cause}`);
      assert.match(latestUserData(world, 'workers'), /maxPods: 110/);
      assert.deepEqual(nodesOf(world, (await groupState('workers')).instances).map((n) => n.maxPods), ['110']);
      assert.deepEqual(nodesOf(world, (await groupState('own')).instances).map((n) => n.maxPods), ['50']);
      assert.match(latestUserData(world, 'own'), /maxPods: 50/);
      await monitor.assertHeld({ groups: [{ name: group.autoScalingGroupName, floor: 0 }, { name: own.autoScalingGroupName, floor: 0 }] });
    } finally {
      await world.stop();
    }
  });
});

/** The description of the newest version of a group's launch template. */
function latestDescription(world: World, templateName: string): string {
  const record = [...world.account.ec2.launchTemplates.templates.values()].find((t) => t.template.LaunchTemplateName === templateName)!;
  return record.versions.get(Math.max(...record.versions.keys()))!.VersionDescription ?? '';
}

/** The decoded user data of the newest version of a group's launch template. */
function latestUserData(world: World, templateName: string): string {
  const record = [...world.account.ec2.launchTemplates.templates.values()].find((t) => t.template.LaunchTemplateName === templateName)!;
  const newest = Math.max(...record.versions.keys());
  return Buffer.from(record.versions.get(newest)!.LaunchTemplateData!.UserData!, 'base64').toString('utf8');
}
