import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';
import { type PreflightCheckName, type PreflightInput, type PreflightReport, runPreflight } from '../../shared/rollout/preflight.js';
import { mapRole, NODE_ROLE_POLICIES, nodeRoleMapping, type ObservedRequest, releaseAmi, type RoleMapping, type SelfManagedGroup, type SelfManagedGroupSpec, World } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';

/**
 * Preflight in the sandbox: the real SDK clients and the real Kubernetes client against the
 * simulated account and API server. Every scenario checks that a preflight wrote nothing,
 * to AWS or to the cluster, whatever it found.
 */
const region = 'eu-west-1';

describe('Scenario: rollout preflight', () => {
  let world: World;
  let kubeRequests: ObservedRequest[];
  let newAl2023: string;
  let ports: Parameters<typeof runPreflight>[1];

  before(async () => {
    world = await World.start();
    kubeRequests = [];
    await world.addCluster('prod', { version: '1.31', onRequest: (r) => kubeRequests.push(r) });
    world.account.seedVpc();
    newAl2023 = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261120' }).image.ImageId!;
    const aws = awsScope({ region });
    ports = {
      aws,
      kube: new KubeClients(aws, new EksTokenCache({ region, now: () => world.clock.date() })),
      log: () => undefined,
    };
  });
  after(() => world.stop());

  function group(spec: Omit<SelfManagedGroupSpec, 'cluster'>): SelfManagedGroup {
    return world.account.createSelfManagedGroup({ cluster: 'prod', min: 0, desired: 0, max: 3, ...spec });
  }

  const input = (g: SelfManagedGroup, imageId: string, surge = 2): PreflightInput => ({
    cluster: 'prod',
    group: { kind: 'self-managed', name: g.autoScalingGroupName, launchTemplate: { id: g.launchTemplateId, version: 1 } },
    target: { imageId },
    surge,
  });

  /** Runs the preflight and asserts that it wrote nothing anywhere. */
  async function preflight(request: PreflightInput): Promise<PreflightReport> {
    const calls = world.account.calls.length;
    const kube = kubeRequests.length;
    const report = await runPreflight(request, ports);
    const writes = world.account.calls.slice(calls).filter((c) => !/^(Describe|List|Get)/.test(c.command));
    assert.deepEqual(writes, [], 'no AWS write');
    assert.deepEqual(kubeRequests.slice(kube).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`), [], 'no Kubernetes write');
    return report;
  }

  const failedChecks = (report: PreflightReport): PreflightCheckName[] => report.checks.filter((c) => !c.ok).map((c) => c.name);
  const checkOf = (report: PreflightReport, name: PreflightCheckName) => report.checks.find((c) => c.name === name)!;

  it('passes a healthy self-managed group, reading IAM, the access entry and the subnets', async () => {
    const g = group({ name: 'healthy' });
    const report = await preflight(input(g, newAl2023));
    assert.deepEqual(failedChecks(report), [], report.summary);
    assert.match(checkOf(report, 'node-role-can-join').detail, /role\/healthy-node has an access entry of type EC2_LINUX in cluster prod/);
    assert.match(checkOf(report, 'node-role-policies').detail, /healthy-node has AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly/);
    assert.match(checkOf(report, 'subnet-addresses').detail, /for a surge of 2: subnet-\w+ \(eu-west-1a\): \d+ free/);
    const commands = new Set(world.account.calls.map((c) => `${c.service}:${c.command}`));
    for (const read of ['iam:GetInstanceProfile', 'iam:ListAttachedRolePolicies', 'eks:DescribeAccessEntry', 'ec2:DescribeSubnets', 'autoscaling:DescribeAutoScalingGroups']) {
      assert.ok(commands.has(read), `${read} was called`);
    }
  });

  it('stops a group whose node role is neither an access entry nor in aws-auth, naming the role and what to add', async () => {
    const g = group({ name: 'unmapped', skipAccessEntry: true });
    const versionsBefore = (await new EC2Client({ region }).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: g.launchTemplateId }))).LaunchTemplateVersions!.length;
    const report = await preflight(input(g, newAl2023));

    assert.equal(report.ok, false);
    assert.deepEqual(failedChecks(report), ['node-role-can-join']);
    const join = checkOf(report, 'node-role-can-join');
    assert.match(join.detail, /^arn:aws:iam::\d{12}:role\/unmapped-node is not mapped: it has no access entry in cluster prod, and there is no kube-system\/aws-auth ConfigMap/);
    assert.match(join.fix!, /^aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::\d{12}:role\/unmapped-node --type EC2_LINUX/);
    assert.match(join.fix!, /- rolearn: arn:aws:iam::\d{12}:role\/unmapped-node\n  username: system:node:\{\{EC2PrivateDNSName\}\}\n  groups:\n    - system:bootstrappers\n    - system:nodes/);
    assert.match(report.summary, /^preflight failed for prod\/unmapped, nothing was changed: node-role-can-join: .*unmapped-node is not mapped/);
    const versionsAfter = (await new EC2Client({ region }).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: g.launchTemplateId }))).LaunchTemplateVersions!.length;
    assert.equal(versionsAfter, versionsBefore, 'the template check rendered a version without creating it');
  });

  it('is right about it: such a node stays out, and once aws-auth maps the role the preflight passes and a node joins', async () => {
    const g = group({ name: 'late', skipAccessEntry: true });
    world.account.autoscaling.setDesiredCapacity({ AutoScalingGroupName: g.autoScalingGroupName, DesiredCapacity: 1 });
    await world.run(120_000);
    assert.ok(world.account.kubeletNotes.some((n) => /Unauthorized: role .*role\/late-node is neither an access entry nor mapped/.test(n.reason)));

    mapRole(world.cluster('prod').store, nodeRoleMapping(g.roleArn));
    const report = await preflight(input(g, newAl2023));
    assert.deepEqual(failedChecks(report), [], report.summary);
    assert.match(checkOf(report, 'node-role-can-join').detail, /late-node is mapped in kube-system\/aws-auth to system:bootstrappers, system:nodes/);

    world.account.autoscaling.setDesiredCapacity({ AutoScalingGroupName: g.autoScalingGroupName, DesiredCapacity: 2 });
    await world.run(120_000);
    const nodes = world.cluster('prod').store.list('nodes');
    const ids = [...world.account.autoscaling.groups.get(g.autoScalingGroupName)!.instances.keys()];
    assert.ok(nodes.some((n) => ids.some((id) => n.spec?.providerID?.endsWith(`/${id}`))), 'a node of the group joined');
  });

  it('stops a group whose node role lacks AmazonEKS_CNI_Policy', async () => {
    const g = group({ name: 'no-cni', nodeRolePolicies: NODE_ROLE_POLICIES.filter((p) => !p.endsWith('/AmazonEKS_CNI_Policy')) });
    const report = await preflight(input(g, newAl2023));
    assert.deepEqual(failedChecks(report), ['node-role-policies']);
    assert.match(checkOf(report, 'node-role-policies').detail, /role no-cni-node lacks AmazonEKS_CNI_Policy/);
    assert.equal(checkOf(report, 'node-role-policies').fix, 'aws iam attach-role-policy --role-name no-cni-node --policy-arn arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy');
  });

  it('stops a group whose subnets have no free address for the surge', async () => {
    const g = group({ name: 'crowded' });
    const saved = new Map([...world.account.ec2.subnets].map(([id, s]) => [id, s.subnet.AvailableIpAddressCount!]));
    try {
      for (const s of world.account.ec2.subnets.values()) s.subnet.AvailableIpAddressCount = 0;
      const report = await preflight(input(g, newAl2023, 3));
      assert.deepEqual(failedChecks(report), ['subnet-addresses']);
      assert.match(checkOf(report, 'subnet-addresses').detail, /a surge of 3 needs 3 free addresses; the group's subnets have 0: subnet-\w+ \(eu-west-1a\): 0 free, subnet-\w+ \(eu-west-1b\): 0 free, subnet-\w+ \(eu-west-1c\): 0 free/);
      // minimal terminates first: it needs no spare address
      assert.deepEqual(failedChecks(await preflight(input(g, newAl2023, 0))), []);
    } finally {
      for (const [id, free] of saved) world.account.ec2.subnets.get(id)!.subnet.AvailableIpAddressCount = free;
    }
  });

  it('stops a rollout onto an image that was deregistered, and does not validate the template against it', async () => {
    const g = group({ name: 'recalled' });
    const recalled = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261121', recommend: false }).image.ImageId!;
    world.account.ec2.setImageState(recalled, 'deregistered');
    const report = await preflight(input(g, recalled));
    assert.deepEqual(failedChecks(report), ['image-available', 'image-owner', 'launch-template-valid']);
    assert.match(checkOf(report, 'image-available').detail, new RegExp(`image ${recalled} does not exist or is not visible`));
    assert.match(checkOf(report, 'image-owner').detail, /^not checked: the target image could not be read/);
    assert.match(checkOf(report, 'launch-template-valid').detail, /^not checked: the target image .* is not available/);
  });

  it("stops a rollout of an EKS-optimized group onto a third party's public image named like an EKS AMI, naming its owner", async () => {
    const g = group({ name: 'lookalike' });
    const foreign = world.account.ec2.registerImage({ name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261230', ownerId: '666666666666', public: true, family: 'al2023' }).image.ImageId;
    const report = await preflight(input(g, foreign));
    assert.deepEqual(failedChecks(report), ['image-owner'], 'nothing else tells it apart: it renders, it is available');
    assert.match(checkOf(report, 'image-owner').detail, new RegExp(`image ${foreign} \\(amazon-eks-node-al2023-x86_64-standard-1\\.31-v20261230\\) is owned by 666666666666, not by Amazon`));
    assert.match(report.summary, /^preflight failed for prod\/lookalike, nothing was changed: image-owner: .*666666666666/);
    assert.match(checkOf(report, 'image-owner').fix!, /an image Amazon publishes/);
  });

  it("accepts a custom AMI of another account only when the group's ami-owners names that account", async () => {
    const partnerImage = world.account.ec2.registerImage({
      name: 'golden-al2023-1.31-20261201',
      ownerId: '222222222222',
      sharedWith: [world.account.accountId],
      tags: [{ Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' }, { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' }],
    }).image.ImageId;
    const selector = { 'eks-node-lifecycle/ami-name-prefix': 'golden-al2023-' };
    const own = group({ name: 'golden-own', tags: selector });
    const partner = group({ name: 'golden-partner', tags: { ...selector, 'eks-node-lifecycle/ami-owners': 'self,222222222222' } });

    const refused = await preflight(input(own, partnerImage));
    const accepted = await preflight(input(partner, partnerImage));

    assert.deepEqual(failedChecks(refused), ['image-owner']);
    assert.match(checkOf(refused, 'image-owner').detail, /owned by 222222222222, which the group's eks-node-lifecycle\/ami-owners \(self\) does not allow/);
    assert.match(checkOf(refused, 'image-owner').fix!, /add it to the group's eks-node-lifecycle\/ami-owners tag \(e\.g\. self,222222222222\)/);
    assert.deepEqual(failedChecks(accepted), [], accepted.summary);
    assert.match(checkOf(accepted, 'image-owner').detail, /owned by 222222222222, which the group's eks-node-lifecycle\/ami-owners allows/);
  });

  /** An operator's client (client-node, with a kubeconfig as kubectl's), not the service's. */
  async function operatorClient(): Promise<CoreV1Api> {
    const config = new KubeConfig();
    config.loadFromFile(await world.writeKubeconfig('prod'));
    return config.makeApiClient(CoreV1Api);
  }

  /** What an operator does with `kubectl edit -n kube-system cm aws-auth`, through a real client. */
  async function editAwsAuth(edit: (mapRoles: RoleMapping[]) => RoleMapping[]): Promise<void> {
    const core = await operatorClient();
    const cm = await core.readNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system' });
    cm.data = { ...cm.data, mapRoles: stringify(edit(parse(cm.data?.['mapRoles'] ?? '[]') as RoleMapping[])) };
    await core.replaceNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system', body: cm });
  }

  it('stops a Windows group whose aws-auth entry lacks eks:kube-proxy-windows', async () => {
    const g = group({ name: 'win', amiFamily: 'windows', instanceType: 'm5.large', windows: { version: '2022', edition: 'Core' }, skipAccessEntry: true });
    await editAwsAuth((roles) => [...roles, nodeRoleMapping(g.roleArn)]); // the Linux entry, as often copied
    const report = await preflight(input(g, g.imageId));
    assert.deepEqual(failedChecks(report), ['node-role-can-join']);
    assert.match(checkOf(report, 'node-role-can-join').detail, /the aws-auth entry of arn:aws:iam::\d{12}:role\/win-node lacks the group eks:kube-proxy-windows/);
    assert.match(checkOf(report, 'node-role-can-join').fix!, /--type EC2_WINDOWS[\s\S]*    - eks:kube-proxy-windows/);

    await editAwsAuth((roles) => [...roles.filter((r) => r.rolearn !== g.roleArn), nodeRoleMapping(g.roleArn, { windows: true })]);
    assert.deepEqual(failedChecks(await preflight(input(g, g.imageId))), []);
    const listed = await (await operatorClient()).listNamespacedConfigMap({ namespace: 'kube-system' });
    assert.deepEqual(listed.items.map((cm) => cm.metadata?.name), ['aws-auth']);
  });

  it('skips the role checks of a managed group, and still checks the release image and subnets', async () => {
    world.account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 1 });
    const report = await preflight({ cluster: 'prod', group: { kind: 'managed', name: 'general' }, target: { imageId: newAl2023 }, surge: 2 });
    assert.deepEqual(failedChecks(report), [], report.summary);
    assert.match(checkOf(report, 'node-role-can-join').detail, /^skipped: EKS grants a managed node group's role access/);
    assert.match(checkOf(report, 'launch-template-valid').detail, /no launch template: EKS picks the image by release/);
    assert.match(checkOf(report, 'image-available').detail, new RegExp(`image ${newAl2023} .* is available`));
    assert.match(checkOf(report, 'image-owner').detail, /owned by amazon 602401143452, Amazon, as an EKS-optimized group requires/);
  });
});
