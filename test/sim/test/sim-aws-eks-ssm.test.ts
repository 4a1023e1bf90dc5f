import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateAccessEntryCommand,
  CreateNodegroupCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  InvalidParameterException,
  ListAccessEntriesCommand,
  ListClustersCommand,
  ListNodegroupsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, ParameterNotFound, SSMClient, ValidationException } from '@aws-sdk/client-ssm';
import { VirtualClock } from '../clock';
import { SimAccount } from '../aws/account';
import { releaseAmi } from '../aws/ami-catalogue';
import { MemoryNodeRegistry } from '../aws/memory-node-registry';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };
const AL2023_X86 = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended';

function world(t: { after: (fn: () => void) => void }) {
  const clock = new VirtualClock();
  const registry = new MemoryNodeRegistry();
  const account = new SimAccount({ clock, nodes: () => registry }).bind();
  t.after(() => account.restore());
  const vpc = account.seedVpc();
  account.eks.addCluster({ name: 'prod', version: '1.31', tags: { env: 'prod' } });
  return {
    clock, account, vpc, registry,
    eks: new EKSClient(config), ssm: new SSMClient(config), ec2: new EC2Client(config), asg: new AutoScalingClient(config),
  };
}

describe('EKS: clusters and access entries', () => {
  it('describes a cluster with the fields node bootstrap needs', async (t) => {
    const { eks } = world(t);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod' }));
    assert.equal(cluster!.arn, 'arn:aws:eks:eu-west-1:111122223333:cluster/prod');
    assert.match(cluster!.endpoint!, /^https:\/\/[0-9A-F]{32}\.gr7\.eu-west-1\.eks\.amazonaws\.com$/);
    assert.match(Buffer.from(cluster!.certificateAuthority!.data!, 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
    assert.equal(cluster!.kubernetesNetworkConfig!.serviceIpv4Cidr, '172.20.0.0/16');
    assert.equal(cluster!.version, '1.31');
    assert.equal(cluster!.status, 'ACTIVE');
    assert.equal(cluster!.accessConfig!.authenticationMode, 'API_AND_CONFIG_MAP');
    assert.ok(cluster!.createdAt instanceof Date);
    assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, ['prod']);
    await assert.rejects(eks.send(new DescribeClusterCommand({ name: 'nope' })), (error: Error) => {
      assert.ok(error instanceof ResourceNotFoundException);
      assert.equal(error.message, 'No cluster found for name: nope.');
      return true;
    });
  });

  it('creates, lists and describes access entries, refusing duplicates and groups on node entries', async (t) => {
    const { eks } = world(t);
    const principalArn = 'arn:aws:iam::111122223333:role/node-role';
    await eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn, type: 'EC2_LINUX' }));
    await assert.rejects(eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn, type: 'EC2_LINUX' })), ResourceInUseException);
    await assert.rejects(
      eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: 'arn:aws:iam::111122223333:role/other', type: 'EC2_LINUX', kubernetesGroups: ['admins'] })),
      InvalidParameterException,
    );
    await eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: 'arn:aws:iam::111122223333:role/ops', kubernetesGroups: ['ops'] }));
    assert.deepEqual((await eks.send(new ListAccessEntriesCommand({ clusterName: 'prod' }))).accessEntries, [principalArn, 'arn:aws:iam::111122223333:role/ops']);
    const { accessEntry } = await eks.send(new DescribeAccessEntryCommand({ clusterName: 'prod', principalArn }));
    assert.equal(accessEntry!.type, 'EC2_LINUX');
    assert.equal(accessEntry!.username, 'system:node:{{EC2PrivateDNSName}}');
    const ops = await eks.send(new DescribeAccessEntryCommand({ clusterName: 'prod', principalArn: 'arn:aws:iam::111122223333:role/ops' }));
    assert.equal(ops.accessEntry!.username, 'arn:aws:sts::111122223333:assumed-role/ops/{{SessionName}}');
  });
});

describe('EKS: managed node groups', () => {
  it('creates the backing Auto Scaling group with the ownership tags and reports it', async (t) => {
    const { eks, asg, ec2, vpc, clock, account } = world(t);
    const template = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'general-lt', LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } }));
    const created = await eks.send(new CreateNodegroupCommand({
      clusterName: 'prod',
      nodegroupName: 'general',
      nodeRole: 'arn:aws:iam::111122223333:role/managed-node',
      subnets: vpc.subnets.map((s) => s.subnetId),
      scalingConfig: { minSize: 1, maxSize: 4, desiredSize: 2 },
      instanceTypes: ['m5.large', 'm5.xlarge'],
      launchTemplate: { id: template.LaunchTemplate!.LaunchTemplateId },
      labels: { tier: 'general' },
      taints: [{ key: 'dedicated', value: 'general', effect: 'NO_SCHEDULE' }],
      tags: { 'eks-node-lifecycle/rollout': 'auto' },
      updateConfig: { maxUnavailablePercentage: 33 },
    }));
    assert.equal(created.nodegroup!.status, 'CREATING');
    const groupName = created.nodegroup!.resources!.autoScalingGroups![0]!.name!;
    assert.match(groupName, /^eks-general-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }))).AutoScalingGroups![0]!;
    const tags = Object.fromEntries(group.Tags!.map((tag) => [tag.Key, [tag.Value, tag.PropagateAtLaunch]]));
    assert.deepEqual(tags['eks:cluster-name'], ['prod', true]);
    assert.deepEqual(tags['eks:nodegroup-name'], ['general', true]);
    assert.deepEqual(tags['kubernetes.io/cluster/prod'], ['owned', true]);
    assert.deepEqual(group.MixedInstancesPolicy!.LaunchTemplate!.Overrides!.map((o) => o.InstanceType), ['m5.large', 'm5.xlarge']);

    await clock.settle();
    const { nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'general' }));
    assert.equal(nodegroup!.status, 'ACTIVE');
    assert.equal(nodegroup!.amiType, 'AL2023_x86_64_STANDARD');
    assert.equal(nodegroup!.version, '1.31');
    assert.equal(nodegroup!.releaseVersion, account.ssm.value(`${AL2023_X86}/release_version`));
    assert.deepEqual(nodegroup!.launchTemplate, { id: template.LaunchTemplate!.LaunchTemplateId, name: 'general-lt', version: '1' });
    assert.deepEqual(nodegroup!.tags, { 'eks-node-lifecycle/rollout': 'auto' });
    assert.deepEqual(nodegroup!.updateConfig, { maxUnavailablePercentage: 33 });
    // the instances run the release's AMI through the EKS-owned template
    const instanceIds = [...account.autoscaling.groups.get(groupName)!.instances.keys()];
    assert.equal(instanceIds.length, 2);
    for (const id of instanceIds) assert.equal(account.ec2.instances.get(id)!.instance.ImageId, account.ssm.value(`${AL2023_X86}/image_id`));
    assert.deepEqual((await eks.send(new ListNodegroupsCommand({ clusterName: 'prod' }))).nodegroups, ['general']);
  });

  it('pins an older release, and refuses what EKS refuses', async (t) => {
    const { eks, vpc, account, ec2 } = world(t);
    const base = { clusterName: 'prod', nodeRole: 'arn:aws:iam::111122223333:role/managed-node', subnets: vpc.subnets.map((s) => s.subnetId) };
    const pinned = await eks.send(new CreateNodegroupCommand({ ...base, nodegroupName: 'pinned', releaseVersion: '1.31.13-20261020' }));
    assert.equal(pinned.nodegroup!.releaseVersion, '1.31.13-20261020');
    await assert.rejects(eks.send(new CreateNodegroupCommand({ ...base, nodegroupName: 'pinned' })), ResourceInUseException);
    await assert.rejects(eks.send(new CreateNodegroupCommand({ ...base, nodegroupName: 'x', releaseVersion: '1.31.13-19990101' })), InvalidParameterException);
    await assert.rejects(
      eks.send(new CreateNodegroupCommand({ ...base, nodegroupName: 'arm', amiType: 'AL2023_x86_64_STANDARD', instanceTypes: ['m6g.large'] })),
      (error: Error) => error instanceof InvalidParameterException && /not a valid instance type for requested amiType/.test(error.message),
    );
    const custom = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'custom', LaunchTemplateData: { ImageId: account.ssm.value(`${AL2023_X86}/image_id`) } }));
    await assert.rejects(
      eks.send(new CreateNodegroupCommand({ ...base, nodegroupName: 'custom', releaseVersion: '1.31.13-20261020', launchTemplate: { id: custom.LaunchTemplate!.LaunchTemplateId } })),
      InvalidParameterException,
    );
    await assert.rejects(eks.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'ghost' })), ResourceNotFoundException);
  });
});

describe('SSM: public AMI parameters', () => {
  it('serves the recommended AL2023 image as image_id, release_version and the JSON parameter', async (t) => {
    const { ssm, ec2 } = world(t);
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${AL2023_X86}/image_id` }));
    assert.equal(Parameter!.DataType, 'aws:ec2:image');
    assert.equal(Parameter!.ARN, `arn:aws:ssm:eu-west-1::parameter${AL2023_X86}/image_id`);
    const recommended = JSON.parse((await ssm.send(new GetParameterCommand({ Name: AL2023_X86 }))).Parameter!.Value!);
    assert.deepEqual(recommended, {
      schema_version: '3',
      image_id: Parameter!.Value,
      image_name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261105',
      release_version: '1.31.13-20261105',
    });
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [Parameter!.Value!] }))).Images![0]!;
    assert.equal(image.Name, recommended.image_name);
    assert.equal(image.ImageOwnerAlias, 'amazon');
    const children = await ssm.send(new GetParametersByPathCommand({ Path: `${AL2023_X86}` }));
    assert.deepEqual(children.Parameters!.map((p) => p.Name!.split('/').pop()), ['image_id', 'image_name', 'release_version']);
    await assert.rejects(ssm.send(new GetParameterCommand({ Name: '/aws/service/eks/optimized-ami/1.99/nope' })), ParameterNotFound);
  });

  it('rejects more than ten names and lists unknown names as invalid', async (t) => {
    const { ssm } = world(t);
    const names = Array.from({ length: 11 }, (_, i) => `/p${i}`);
    await assert.rejects(ssm.send(new GetParametersCommand({ Names: names })), (error: Error) => error instanceof ValidationException && /less than or equal to 10/.test(error.message));
    const found = await ssm.send(new GetParametersCommand({ Names: [`${AL2023_X86}/image_id`, '/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_version', '/nope'] }));
    assert.equal(found.Parameters!.length, 2);
    assert.deepEqual(found.InvalidParameters, ['/nope']);
    assert.match(found.Parameters![1]!.Value!, /^1\.\d+\.0-[0-9a-f]{8}$/);
  });

  it('pages GetParametersByPath by ten, and publishes a new release for tests', async (t) => {
    const { ssm, account, ec2 } = world(t);
    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: '/aws/service/eks/optimized-ami/1.31', Recursive: true, NextToken }));
      assert.ok(page.Parameters!.length <= 10);
      names.push(...page.Parameters!.map((p) => p.Name!));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken);
    assert.ok(pages > 3);
    assert.ok(names.includes('/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/image_id'));
    assert.ok(names.includes(`/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/amazon-eks-node-al2023-x86_64-standard-1.31-v20261020/image_id`));

    const released = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261121' });
    const now = await ssm.send(new GetParameterCommand({ Name: `${AL2023_X86}/image_id` }));
    assert.equal(now.Parameter!.Value, released.image.ImageId);
    assert.equal(now.Parameter!.Version, 3);
    assert.equal((await ssm.send(new GetParameterCommand({ Name: `${AL2023_X86}/image_id:2` }))).Parameter!.Value !== released.image.ImageId, true);
    const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['amazon-eks-node-al2023-x86_64-standard-1.31-v20261121'] }] }))).Images!;
    assert.equal(image.length, 1);

    account.ssm.publish('/custom/golden-ami', 'ami-0123456789abcdef0');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/custom/golden-ami' }))).Parameter!.ARN, 'arn:aws:ssm:eu-west-1:111122223333:parameter/custom/golden-ami');
  });
});
