import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateVersionsCommand,
  DeleteTagsCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { VirtualClock } from '../clock';
import { SimAccount } from '../aws/account';
import { maxPods } from '../aws/instance-types';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

function world(t: { after: (fn: () => void) => void }) {
  const clock = new VirtualClock();
  const account = new SimAccount({ clock }).bind();
  t.after(() => account.restore());
  const vpc = account.seedVpc();
  return { clock, account, vpc, ec2: new EC2Client(config) };
}

function errorNamed(name: string, message?: RegExp) {
  return (error: Error) => {
    assert.equal(error.name, name);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('EC2: launch template versions', () => {
  it('inherits every parameter the new version does not set from SourceVersion', async (t) => {
    const { ec2 } = world(t);
    const created = await ec2.send(new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'web',
      LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa', InstanceType: 'm5.large', UserData: Buffer.from('#!/bin/bash\n').toString('base64'), SecurityGroupIds: ['sg-1'] },
    }));
    const id = created.LaunchTemplate!.LaunchTemplateId!;
    assert.equal(created.LaunchTemplate!.LatestVersionNumber, 1);
    // the AMI does not exist: EC2 accepts the template and warns
    assert.equal(created.Warning?.Errors?.[0]?.Code, 'InvalidAMIID.NotFound');

    const inherited = await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-0bbbbbbbbbbbbbbbb' } }));
    assert.equal(inherited.LaunchTemplateVersion!.VersionNumber, 2);
    assert.deepEqual(inherited.LaunchTemplateVersion!.LaunchTemplateData, {
      ImageId: 'ami-0bbbbbbbbbbbbbbbb', InstanceType: 'm5.large', UserData: Buffer.from('#!/bin/bash\n').toString('base64'), SecurityGroupIds: ['sg-1'],
    });

    const bare = await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: { ImageId: 'ami-0cccccccccccccccc' } }));
    assert.deepEqual(Object.keys(bare.LaunchTemplateVersion!.LaunchTemplateData!), ['ImageId']);

    const latest = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Latest', '$Default'] }));
    assert.deepEqual(latest.LaunchTemplateVersions!.map((v) => [v.VersionNumber, v.DefaultVersion]), [[3, false], [1, true]]);

    await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '2' }));
    const all = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
    assert.deepEqual(all.LaunchTemplateVersions!.map((v) => [v.VersionNumber, v.DefaultVersion]), [[3, false], [2, true], [1, false]]);
  });

  it('returns the same version for a repeated ClientToken and rejects the token with other parameters', async (t) => {
    const { ec2 } = world(t);
    const id = (await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: { InstanceType: 'm5.large' } }))).LaunchTemplate!.LaunchTemplateId!;
    const request = { LaunchTemplateId: id, SourceVersion: '$Latest', ClientToken: 'rollout-1', LaunchTemplateData: { ImageId: 'ami-0bbbbbbbbbbbbbbbb' } };
    const first = await ec2.send(new CreateLaunchTemplateVersionCommand(request));
    const again = await ec2.send(new CreateLaunchTemplateVersionCommand(request));
    assert.equal(again.LaunchTemplateVersion!.VersionNumber, first.LaunchTemplateVersion!.VersionNumber);
    const versions = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
    assert.equal(versions.LaunchTemplateVersions!.length, 2);
    await assert.rejects(
      ec2.send(new CreateLaunchTemplateVersionCommand({ ...request, LaunchTemplateData: { ImageId: 'ami-0cccccccccccccccc' } })),
      errorNamed('IdempotentParameterMismatch'),
    );
  });

  it('enforces the version quota, keeps the default version, and reports unknown versions', async (t) => {
    const { ec2, account } = world(t);
    account.ec2.launchTemplates.versionLimit = 3;
    const id = (await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: {} }))).LaunchTemplate!.LaunchTemplateId!;
    await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: {} }));
    await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: {} }));
    await assert.rejects(ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: {} })), errorNamed('VersionLimitExceeded'));

    const deleted = await ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['1', '2', '9'] }));
    assert.deepEqual(deleted.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber), [2]);
    assert.deepEqual(deleted.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [v.VersionNumber, v.ResponseError?.Code]), [[1, 'unexpectedError'], [9, 'launchTemplateVersionDoesNotExist']]);
    // numbers are never reused
    const next = await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: {} }));
    assert.equal(next.LaunchTemplateVersion!.VersionNumber, 4);
    await assert.rejects(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['2'] })), errorNamed('InvalidLaunchTemplateId.VersionNotFound'));
    await assert.rejects(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: 'lt-0123456789abcdef0' })), errorNamed('InvalidLaunchTemplateId.NotFound'));
    await assert.rejects(ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: {} })), errorNamed('InvalidLaunchTemplateName.AlreadyExistsException'));
    await assert.rejects(ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'bad', LaunchTemplateData: { UserData: 'not base64!' } })), errorNamed('InvalidUserData.Malformed'));
  });
});

describe('EC2: tags', () => {
  it('creates tags idempotently, overwrites values, and refuses unknown ids and aws: keys', async (t) => {
    const { ec2, vpc } = world(t);
    const subnet = vpc.subnets[0]!.subnetId;
    const tags = [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }];
    await ec2.send(new CreateTagsCommand({ Resources: [subnet], Tags: tags }));
    await ec2.send(new CreateTagsCommand({ Resources: [subnet], Tags: tags }));
    await ec2.send(new CreateTagsCommand({ Resources: [subnet], Tags: [{ Key: 'team', Value: 'a' }] }));
    await ec2.send(new CreateTagsCommand({ Resources: [subnet], Tags: [{ Key: 'team', Value: 'b' }] }));
    const described = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [subnet] }] }));
    assert.deepEqual(described.Tags!.map((x) => [x.Key, x.Value, x.ResourceType]).sort(), [
      ['Name', 'sandbox-private-eu-west-1a', 'subnet'], ['kubernetes.io/cluster/prod', 'owned', 'subnet'], ['team', 'b', 'subnet'],
    ]);
    await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: tags })), errorNamed('InvalidInstanceID.NotFound', /i-0123456789abcdef0/));
    await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: [subnet], Tags: [{ Key: 'aws:foo', Value: 'x' }] })), errorNamed('InvalidParameterValue', /reserved/));
    // DeleteTags with a value only removes a tag holding that value
    await ec2.send(new DeleteTagsCommand({ Resources: [subnet], Tags: [{ Key: 'team', Value: 'a' }] }));
    const stillThere = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['team'] }] }));
    assert.equal(stillThere.Tags!.length, 1);
    await ec2.send(new DeleteTagsCommand({ Resources: [subnet], Tags: [{ Key: 'team' }] }));
    assert.equal((await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['team'] }] }))).Tags!.length, 0);
  });
});

describe('EC2: images and instance types', () => {
  it('hides deprecated public images unless asked by id or with IncludeDeprecated', async (t) => {
    const { ec2, account } = world(t);
    const old = account.ec2.registerImage({ name: 'amazon-eks-node-al2023-x86_64-standard-1.29-v20240101', ownerAlias: 'amazon', ownerId: '602401143452', family: 'al2023', creationDate: '2024-01-01T00:00:00.000Z' });
    const filters = [{ Name: 'name', Values: ['amazon-eks-node-al2023-x86_64-standard-1.29-*'] }];
    const listed = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: filters }));
    assert.equal(listed.Images!.length, 0, 'two years after creation the image is deprecated');
    const withDeprecated = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: filters, IncludeDeprecated: true }));
    assert.deepEqual(withDeprecated.Images!.map((i) => i.ImageId), [old.image.ImageId]);
    const byId = await ec2.send(new DescribeImagesCommand({ ImageIds: [old.image.ImageId] }));
    assert.equal(byId.Images![0]!.DeprecationTime, '2026-01-01T00:00:00.000Z');
    await assert.rejects(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-0000000000000000f'] })), errorNamed('InvalidAMIID.NotFound'));
  });

  it('finds the seeded EKS AMIs by name, owner and architecture', async (t) => {
    const { ec2 } = world(t);
    const images = await ec2.send(new DescribeImagesCommand({
      Owners: ['amazon'],
      Filters: [{ Name: 'name', Values: ['amazon-eks-node-al2023-arm64-standard-1.31-v*'] }, { Name: 'architecture', Values: ['arm64'] }, { Name: 'state', Values: ['available'] }],
    }));
    assert.deepEqual(images.Images!.map((i) => i.Name).sort(), [
      'amazon-eks-node-al2023-arm64-standard-1.31-v20261020',
      'amazon-eks-node-al2023-arm64-standard-1.31-v20261105',
    ]);
    assert.equal(images.Images![0]!.OwnerId, '602401143452');
    await assert.rejects(ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'nmae', Values: ['x'] }] })), errorNamed('InvalidParameterValue', /nmae/));
  });

  it("shows another account's image only when it is public or shared with this one, with its owner and no amazon alias", async (t) => {
    const { ec2, account } = world(t);
    const name = 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261230';
    const foreign = account.ec2.registerImage({ name, ownerId: '666666666666', public: true, family: 'al2023' });
    const shared = account.ec2.registerImage({ name: 'platform-al2023-1', ownerId: '222222222222', sharedWith: [account.accountId] });
    account.ec2.registerImage({ name: 'platform-al2023-2', ownerId: '333333333333' });
    const byName = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: [name] }] }));
    assert.deepEqual(byName.Images!.map((i) => [i.ImageId, i.OwnerId, i.ImageOwnerAlias, i.Public]), [[foreign.image.ImageId, '666666666666', undefined, true]]);
    assert.equal((await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: [name] }] }))).Images!.length, 0, 'the amazon alias is not a name');
    const sharedOnes = await ec2.send(new DescribeImagesCommand({ Owners: ['222222222222', '333333333333'] }));
    assert.deepEqual(sharedOnes.Images!.map((i) => i.ImageId), [shared.image.ImageId]);
  });

  it('publishes the real ENI numbers that the max-pods formula needs', async (t) => {
    const { ec2 } = world(t);
    const { InstanceTypes } = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t3.medium', 'm5.large', 'm5.xlarge', 'm6g.large', 'c5.large', 'm5.24xlarge'] }));
    const byType = new Map(InstanceTypes!.map((i) => [i.InstanceType, i]));
    assert.equal(byType.get('m5.24xlarge')!.VCpuInfo!.DefaultVCpus, 96);
    assert.equal(byType.get('m5.24xlarge')!.MemoryInfo!.SizeInMiB, 393216);
    assert.deepEqual(byType.get('m6g.large')!.ProcessorInfo!.SupportedArchitectures, ['arm64']);
    assert.equal(byType.get('c5.large')!.NetworkInfo!.NetworkCards![0]!.MaximumNetworkInterfaces, 3);
    assert.deepEqual(['t3.medium', 'm5.large', 'm5.xlarge', 'm5.24xlarge'].map((type) => maxPods(type)), [17, 29, 58, 737]);
    await assert.rejects(ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.huge' as never] })), errorNamed('InvalidInstanceType'));
  });
});

describe('EC2: instances', () => {
  it('runs pending → running → shutting-down → terminated on the clock, with address and DNS name from the subnet', async (t) => {
    const { ec2, account, clock, vpc } = world(t);
    const imageId = account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id')!;
    const run = await ec2.send(new RunInstancesCommand({
      ImageId: imageId, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: vpc.subnets[1]!.subnetId,
      UserData: Buffer.from('hello').toString('base64'),
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'a' }] }],
    }));
    const instance = run.Instances![0]!;
    assert.equal(instance.State!.Name, 'pending');
    assert.equal(instance.Placement!.AvailabilityZone, 'eu-west-1b');
    assert.match(instance.PrivateIpAddress!, /^10\.0\.(3[2-9]|[4-5]\d|6[0-3])\.\d+$/);
    assert.equal(instance.PrivateDnsName, `ip-${instance.PrivateIpAddress!.replaceAll('.', '-')}.eu-west-1.compute.internal`);
    assert.equal(instance.LaunchTime!.toISOString(), clock.iso());

    const before = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [vpc.subnets[1]!.subnetId] }))).Subnets![0]!.AvailableIpAddressCount;
    assert.equal(before, 8187 - 1);

    await clock.advance(10_000);
    const running = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }, { Name: 'tag:team', Values: ['a'] }] }));
    assert.equal(running.Reservations![0]!.Instances![0]!.InstanceId, instance.InstanceId);
    const userData = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.InstanceId, Attribute: 'userData' }));
    assert.equal(Buffer.from(userData.UserData!.Value!, 'base64').toString(), 'hello');

    const terminating = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    assert.deepEqual(terminating.TerminatingInstances!.map((x) => [x.PreviousState!.Name, x.CurrentState!.Name]), [['running', 'shutting-down']]);
    await clock.advance(30_000);
    const gone = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(gone.State!.Name, 'terminated');
    assert.equal(gone.PrivateDnsName, '', 'a terminated instance loses its network identity');
    assert.deepEqual(account.events.filter((e) => e['detail-type'] === 'EC2 Instance State-change Notification').map((e) => e.detail.state), ['pending', 'running', 'shutting-down', 'terminated']);
    const tagKey = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: ['team'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
    assert.deepEqual(tagKey.Reservations, []);
  });

  it('resolves a resolve:ssm: image id when the instance launches', async (t) => {
    const { ec2, account, vpc } = world(t);
    const parameter = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id';
    const id = (await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'ssm', LaunchTemplateData: { ImageId: `resolve:ssm:${parameter}`, InstanceType: 'm5.large' } }))).LaunchTemplate!.LaunchTemplateId!;
    account.ssm.publish(parameter, account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/amazon-eks-node-al2023-x86_64-standard-1.31-v20261020/image_id')!);
    const run = await ec2.send(new RunInstancesCommand({ LaunchTemplate: { LaunchTemplateId: id }, MinCount: 1, MaxCount: 1, SubnetId: vpc.subnets[0]!.subnetId }));
    assert.equal(run.Instances![0]!.ImageId, account.ssm.value(parameter));
    const resolved = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, ResolveAlias: true }));
    assert.equal(resolved.LaunchTemplateVersions![0]!.LaunchTemplateData!.ImageId, account.ssm.value(parameter));
  });

  it('refuses an AMI whose architecture does not match the instance type, and capacity it does not have', async (t) => {
    const { ec2, account, vpc } = world(t);
    const armImage = account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/standard/recommended/image_id')!;
    await assert.rejects(
      ec2.send(new RunInstancesCommand({ ImageId: armImage, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: vpc.subnets[0]!.subnetId })),
      errorNamed('InvalidParameterValue', /architecture 'x86_64' of the specified instance type does not match the architecture 'arm64'/),
    );
    account.ec2.setCapacity('m6g.large', 'eu-west-1a', false);
    await assert.rejects(
      ec2.send(new RunInstancesCommand({ ImageId: armImage, InstanceType: 'm6g.large', MinCount: 1, MaxCount: 1, SubnetId: vpc.subnets[0]!.subnetId })),
      errorNamed('InsufficientInstanceCapacity', /eu-west-1b, eu-west-1c/),
    );
  });
});
