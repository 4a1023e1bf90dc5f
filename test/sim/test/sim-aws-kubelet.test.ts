import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../clock';
import { SimAccount } from '../aws/account';
import { MemoryNodeRegistry } from '../aws/memory-node-registry';
import { mimeMultipart } from '../aws/user-data';

function world(options: { authenticationMode?: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP' } = {}) {
  const clock = new VirtualClock();
  const registry = new MemoryNodeRegistry();
  const account = new SimAccount({ clock, nodes: (cluster) => (cluster === 'prod' ? registry : undefined) });
  account.seedVpc();
  const cluster = account.eks.addCluster({ name: 'prod', version: '1.31', ...(options.authenticationMode ? { authenticationMode: options.authenticationMode } : {}) });
  return { clock, account, registry, cluster };
}

function instanceOf(account: SimAccount, group: string): string {
  return [...account.autoscaling.groups.get(group)!.instances.keys()][0]!;
}

/** Launches one instance of a group with the user data given and returns the Node its kubelet registered. */
async function joinedNode(w: ReturnType<typeof world>, spec: { name: string; amiFamily: 'al2' | 'al2023' | 'bottlerocket' | 'windows'; instanceType: string; userData: string }) {
  w.account.createSelfManagedGroup({ cluster: 'prod', desired: 1, ...spec });
  await w.clock.advance(60_000);
  const node = w.registry.byInstance(instanceOf(w.account, spec.name));
  assert.ok(node, w.account.kubeletNotes.map((n) => n.reason).join('; '));
  return node;
}

function nodeConfig(fields: { name: string; endpoint: string; ca: string }): string {
  return mimeMultipart([
    { contentType: 'text/x-shellscript; charset="us-ascii"', body: '#!/bin/bash\necho "custom setup"\n' },
    {
      contentType: 'application/node.eks.aws',
      body: [
        '---',
        'apiVersion: node.eks.aws/v1alpha1',
        'kind: NodeConfig',
        'spec:',
        '  cluster:',
        `    name: ${fields.name}`,
        `    apiServerEndpoint: ${fields.endpoint}`,
        `    certificateAuthority: ${fields.ca}`,
        '    cidr: 172.20.0.0/16',
        '  kubelet:',
        '    flags:',
        '      - --node-labels=team=payments',
      ].join('\n'),
    },
  ]);
}

describe('kubelet: joining a cluster from user data', () => {
  it('registers an AL2023 node (NodeConfig) with its identity, labels and capacity, Ready once the CNI is up', async () => {
    const { clock, account, registry, cluster } = world();
    account.createSelfManagedGroup({
      cluster: 'prod', name: 'web', amiFamily: 'al2023', instanceType: 'm5.large', desired: 1,
      userData: nodeConfig({ name: 'prod', endpoint: cluster.endpoint!, ca: cluster.certificateAuthority!.data! }),
    });
    await clock.advance(60_000);
    const id = instanceOf(account, 'web');
    const instance = account.ec2.instances.get(id)!.instance;
    const node = registry.byInstance(id);
    assert.ok(node, 'a node registered');
    assert.equal(node.metadata.name, instance.PrivateDnsName);
    assert.equal(node.spec.providerID, `aws:///${instance.Placement!.AvailabilityZone}/${id}`);
    assert.equal(registry.ready(node.metadata.name), false, 'NotReady until the CNI starts');
    assert.deepEqual(
      Object.fromEntries(['kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch', 'node.kubernetes.io/instance-type', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'team'].map((k) => [k, node.metadata.labels[k]])),
      {
        'kubernetes.io/hostname': instance.PrivateDnsName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'm5.large',
        'topology.kubernetes.io/zone': instance.Placement!.AvailabilityZone,
        'topology.kubernetes.io/region': 'eu-west-1',
        team: 'payments',
      },
    );
    assert.equal(node.status.capacity.pods, '29');
    assert.match(node.status.nodeInfo.kubeletVersion, /^v1\.31\.\d+-eks-/);
    assert.deepEqual(node.status.addresses.map((a) => a.type), ['InternalIP', 'InternalDNS', 'Hostname']);
    await clock.advance(20_000);
    assert.equal(registry.ready(node.metadata.name), true);
    assert.equal(account.kubeletNotes[0]!.joined, true);
  });

  it('does not join an AL2023 node whose NodeConfig names another endpoint, so its launch hook times out', async () => {
    const { clock, account, registry, cluster } = world();
    account.createSelfManagedGroup({
      cluster: 'prod', name: 'web', amiFamily: 'al2023', desired: 1,
      hooks: { launch: { heartbeatTimeout: 300, defaultResult: 'ABANDON' } },
      userData: nodeConfig({ name: 'prod', endpoint: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com', ca: cluster.certificateAuthority!.data! }),
    });
    await clock.advance(120_000);
    const id = instanceOf(account, 'web');
    assert.equal(registry.nodes.size, 0);
    const note = account.kubeletNotes.find((n) => n.instanceId === id)!;
    assert.equal(note.joined, false);
    assert.match(note.reason, /API server endpoint https:\/\/0123456789ABCDEF.* is not cluster prod's/);
    await clock.advance(240_000);
    assert.equal(account.ec2.instances.get(id)!.instance.State.Name, 'terminated');
    assert.ok(account.log.some((l) => l.instanceId === id && /heartbeat timeout; applying DefaultResult ABANDON/.test(l.message)));
  });

  it('does not join a node whose CA is not the cluster\'s', async () => {
    const { clock, account, registry, cluster } = world();
    account.createSelfManagedGroup({
      cluster: 'prod', name: 'web', amiFamily: 'al2023', desired: 1,
      userData: nodeConfig({ name: 'prod', endpoint: cluster.endpoint!, ca: Buffer.from('another CA').toString('base64') }),
    });
    await clock.advance(60_000);
    assert.equal(registry.nodes.size, 0);
    assert.match(account.kubeletNotes[0]!.reason, /x509: certificate signed by unknown authority/);
  });

  it('joins a Bottlerocket node from correct TOML settings, with its labels and taints', async () => {
    const w = world();
    const { cluster } = w;
    const toml = [
      '[settings.kubernetes]',
      `api-server = "${cluster.endpoint}"`,
      `cluster-certificate = "${cluster.certificateAuthority!.data}"`,
      'cluster-name = "prod"',
      '',
      '[settings.kubernetes.node-labels]',
      '"workload" = "batch"',
      '',
      '[settings.kubernetes.node-taints]',
      'dedicated = ["batch:NoSchedule"]',
      '',
    ].join('\n');
    const node = await joinedNode(w, { name: 'batch', amiFamily: 'bottlerocket', instanceType: 'c5.large', userData: toml });
    assert.equal(node.metadata.labels.workload, 'batch');
    assert.deepEqual(node.spec.taints, [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]);
    assert.match(node.status.nodeInfo.osImage, /^Bottlerocket OS/);
  });

  it('does not join a Bottlerocket node whose settings are not TOML', async () => {
    const { clock, account, registry } = world();
    account.createSelfManagedGroup({ cluster: 'prod', name: 'batch', amiFamily: 'bottlerocket', desired: 1, userData: '[settings.kubernetes\ncluster-name = prod' });
    await clock.advance(60_000);
    assert.equal(registry.nodes.size, 0);
    assert.match(account.kubeletNotes[0]!.reason, /could not parse the user data as TOML/);
  });

  it('joins AL2 from a bootstrap.sh call built from shell variables, and refuses bootstrap.sh on AL2023', async () => {
    const { clock, account, registry, cluster } = world();
    const script = [
      '#!/bin/bash',
      'set -ex',
      'CLUSTER=prod',
      `B64_CA="${cluster.certificateAuthority!.data}"`,
      `/etc/eks/bootstrap.sh "$CLUSTER" \\`,
      `  --b64-cluster-ca "$B64_CA" --apiserver-endpoint ${cluster.endpoint} \\`,
      `  --kubelet-extra-args '--node-labels=lifecycle=legacy --max-pods=20'`,
    ].join('\n');
    account.createSelfManagedGroup({ cluster: 'prod', name: 'legacy', amiFamily: 'al2', desired: 1, userData: script });
    account.createSelfManagedGroup({ cluster: 'prod', name: 'wrong', amiFamily: 'al2023', desired: 1, userData: script });
    await clock.advance(60_000);
    const legacy = registry.byInstance(instanceOf(account, 'legacy'));
    assert.ok(legacy);
    assert.equal(legacy.metadata.labels.lifecycle, 'legacy');
    assert.equal(legacy.status.capacity.pods, '20');
    assert.equal(registry.byInstance(instanceOf(account, 'wrong')), undefined);
    assert.match(account.kubeletNotes.find((n) => n.instanceId === instanceOf(account, 'wrong'))!.reason, /AL2023 has no \/etc\/eks\/bootstrap.sh/);
  });

  it('joins a Windows node through Start-EKSBootstrap.ps1', async () => {
    const { clock, account, registry } = world();
    account.createSelfManagedGroup({ cluster: 'prod', name: 'win', amiFamily: 'windows', instanceType: 'm5.xlarge', desired: 1 });
    await clock.advance(60_000);
    const node = registry.byInstance(instanceOf(account, 'win'));
    assert.ok(node);
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'windows');
    assert.equal(node.status.capacity.pods, '14', 'Windows pods use the primary ENI only');
  });

  it('reads a Windows node\'s labels, taints and max pods from -KubeletExtraArgs, quotes and all', async () => {
    const w = world();
    const { cluster } = w;
    const script = [
      '<powershell>',
      '[string]$EKSBootstrapScriptFile = "$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1"',
      `& $EKSBootstrapScriptFile -EKSClusterName "prod" -APIServerEndpoint "${cluster.endpoint}" -Base64ClusterCA "${cluster.certificateAuthority!.data}" -KubeletExtraArgs "--node-labels='team=win,pool=b' --register-with-taints=os=windows:NoSchedule --max-pods=12" 3>&1 4>&1 5>&1 6>&1`,
      '</powershell>',
    ].join('\n');
    const node = await joinedNode(w, { name: 'win', amiFamily: 'windows', instanceType: 'm5.xlarge', userData: script });
    assert.equal(node.metadata.labels.team, 'win');
    assert.equal(node.metadata.labels.pool, 'b');
    assert.deepEqual(node.spec.taints, [{ key: 'os', value: 'windows', effect: 'NoSchedule' }]);
    assert.equal(node.status.capacity.pods, '12');
  });

  it('gives an AL2 node the kubelet\'s default 110 pods when bootstrap.sh is told --use-max-pods false and nothing sets them', async () => {
    const w = world();
    const { cluster } = w;
    const script = `#!/bin/bash\n/etc/eks/bootstrap.sh prod --b64-cluster-ca ${cluster.certificateAuthority!.data} --apiserver-endpoint ${cluster.endpoint} --use-max-pods false\n`;
    assert.equal((await joinedNode(w, { name: 'legacy', amiFamily: 'al2', instanceType: 'm5.large', userData: script })).status.capacity.pods, '110');
  });

  it('refuses a node whose role has no access entry on an API-only cluster', async () => {
    const { clock, account, registry } = world({ authenticationMode: 'API' });
    account.createSelfManagedGroup({ cluster: 'prod', name: 'web', desired: 1, skipAccessEntry: true });
    await clock.advance(60_000);
    assert.equal(registry.nodes.size, 0);
    assert.match(account.kubeletNotes[0]!.reason, /^Unauthorized: role arn:aws:iam::111122223333:role\/web-node has no EC2_LINUX/);
  });

  it('asks aws-auth when the cluster still reads it and no access entry exists', async () => {
    const { clock, account, registry } = world({ authenticationMode: 'CONFIG_MAP' });
    registry.mappedRoles = new Set(['arn:aws:iam::111122223333:role/mapped-node']);
    account.createSelfManagedGroup({ cluster: 'prod', name: 'mapped', desired: 1 });
    account.createSelfManagedGroup({ cluster: 'prod', name: 'unmapped', desired: 1 });
    await clock.advance(60_000);
    assert.ok(registry.byInstance(instanceOf(account, 'mapped')));
    assert.equal(registry.byInstance(instanceOf(account, 'unmapped')), undefined);
  });

  it('marks a terminated instance\'s node NotReady, then the cloud controller deletes it', async () => {
    const { clock, account, registry } = world();
    account.createSelfManagedGroup({ cluster: 'prod', name: 'web', desired: 1 });
    await clock.advance(70_000);
    const id = instanceOf(account, 'web');
    const name = registry.byInstance(id)!.metadata.name;
    assert.equal(registry.ready(name), true);
    account.ec2.instances.terminate([id]);
    await clock.advance(29_000);
    assert.ok(registry.nodes.has(name));
    await clock.advance(20_000);
    assert.equal(registry.ready(name), false);
    await clock.advance(30_000);
    assert.equal(registry.nodes.has(name), false);
    assert.equal(account.kubelet.nodeName(id), undefined);
  });
});

describe('kubelet: managed node groups', () => {
  it('joins nodes with the labels EKS adds, and the node group becomes ACTIVE', async () => {
    const { clock, account, registry } = world();
    const nodegroup = account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 2, labels: { tier: 'general' }, launchTemplate: { userData: '#!/bin/bash\necho "from the user"\n' } });
    assert.equal(nodegroup.status, 'CREATING');
    await clock.settle();
    assert.equal(registry.nodes.size, 2);
    const group = account.autoscaling.groups.get(nodegroup.resources!.autoScalingGroups![0]!.name!)!;
    for (const node of registry.nodes.values()) {
      const instanceId = node.spec.providerID.split('/').pop()!;
      assert.equal(node.metadata.labels['eks.amazonaws.com/nodegroup'], 'general');
      assert.equal(node.metadata.labels['eks.amazonaws.com/nodegroup-image'], account.ec2.instances.get(instanceId)!.instance.ImageId);
      assert.equal(node.metadata.labels['eks.amazonaws.com/capacityType'], 'ON_DEMAND');
      assert.equal(node.metadata.labels['eks.amazonaws.com/sourceLaunchTemplateId'], nodegroup.launchTemplate!.id);
      assert.equal(node.metadata.labels.tier, 'general');
      assert.ok(group.instances.has(instanceId));
    }
    assert.equal(account.eks.requireNodegroup('prod', 'general').nodegroup.status, 'ACTIVE');
  });

  it('fails creation with NodeCreationFailure when a custom AMI template never bootstraps', async () => {
    const { clock, account, registry } = world();
    const imageId = account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id')!;
    account.createManagedNodegroup({ cluster: 'prod', name: 'custom', desired: 1, launchTemplate: { imageId, instanceType: 'm5.large', userData: '#!/bin/bash\necho no bootstrap\n' } });
    await clock.settle();
    assert.equal(registry.nodes.size, 0);
    const ng = account.eks.requireNodegroup('prod', 'custom').nodegroup;
    assert.equal(ng.status, 'CREATE_FAILED');
    assert.equal(ng.amiType, 'CUSTOM');
    assert.equal(ng.health!.issues![0]!.code, 'NodeCreationFailure');
  });
});
