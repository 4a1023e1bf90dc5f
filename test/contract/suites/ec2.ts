/**
 * EC2 as the product reads and writes it: launch templates and their versions
 * (shared/aws/launch-template*.ts), images (shared/ami/describe-images.ts, the inventory's
 * image-id filter), instances and their tags (shared/aws/instances.ts), instance types.
 */
import { CreateLaunchTemplateCommand, DescribeInstanceTypesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ec2ImageSource } from '../../../shared/ami/describe-images.js';
import { describeInstance, describeInstancesById, tagInstance } from '../../../shared/aws/instances.js';
import {
  describeTemplateVersion,
  ensureTemplateVersion,
  recentTemplateVersions,
  setDefaultTemplateVersion,
} from '../../../shared/aws/launch-template-versions.js';
import { describeLaunchTemplateTags } from '../../../shared/aws/launch-templates.js';
import { attachImages, type GroupView } from '../../../shared/detect/inventory.js';
import { instanceTypeFacts } from '../../../shared/launch-templates/max-pods.js';
import { awsOr, contractSuite } from '../contract.js';
import type { ContractTargetFactory } from '../target.js';

const USER_DATA = Buffer.from('#!/bin/bash\n/etc/eks/bootstrap.sh prod\n').toString('base64');
/** Well-formed ids that no account has. */
const MISSING = { template: 'lt-0123456789abcdef0', image: 'ami-0123456789abcdef0', instance: 'i-0123456789abcdef0' };

export function ec2Contract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'EC2 launch template versions', (suite) => {
    let templateId = '';
    let image1 = '';
    let image2 = '';
    const t = () => suite.target.clients.ec2;

    it('seeds a tagged launch template through CreateLaunchTemplate', async () => {
      image1 = await suite.target.seed.image({ name: 'contract-node-1', description: 'node image 1', architecture: 'x86_64' });
      image2 = await suite.target.seed.image({ name: 'contract-node-2', description: 'node image 2', architecture: 'x86_64' });
      const out = await t().send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'contract-web',
          LaunchTemplateData: { ImageId: image1, InstanceType: 'm5.large', UserData: USER_DATA },
          TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }] }],
        }),
      );
      templateId = out.LaunchTemplate!.LaunchTemplateId!;
      assert.equal(out.LaunchTemplate!.LatestVersionNumber, 1);
      assert.equal(out.LaunchTemplate!.DefaultVersionNumber, 1);
    });

    it("reads a template's tags, and nothing for a template that does not exist", async () => {
      assert.deepEqual(await describeLaunchTemplateTags(suite.target.aws, templateId), { 'kubernetes.io/cluster/prod': 'owned' });
      assert.equal(await describeLaunchTemplateTags(suite.target.aws, MISSING.template), undefined);
    });

    it('describes a version by number, $Latest and $Default', async () => {
      for (const version of ['1', '$Latest', '$Default']) {
        const v = await describeTemplateVersion(suite.target.aws, templateId, version);
        assert.deepEqual(
          { version: v?.version, isDefault: v?.isDefault, imageId: v?.imageId, userData: v?.userData, instanceType: v?.data.InstanceType },
          { version: 1, isDefault: true, imageId: image1, userData: USER_DATA, instanceType: 'm5.large' },
          version,
        );
      }
    });

    it('answers a missing version, or a missing template, with nothing', async () => {
      assert.equal(await describeTemplateVersion(suite.target.aws, templateId, '7'), undefined);
      assert.equal(await describeTemplateVersion(suite.target.aws, MISSING.template, '$Latest'), undefined);
    });

    it('creates a version from a source version: the new image, everything else inherited', async () => {
      const created = await ensureTemplateVersion(suite.target.aws, { launchTemplateId: templateId, sourceVersion: 1, imageId: image2, description: `eks-node-lifecycle: ${image2}` }, []);
      assert.deepEqual(created, { version: 2, created: true });
      const v2 = await describeTemplateVersion(suite.target.aws, templateId, '$Latest');
      assert.deepEqual(
        { version: v2?.version, isDefault: v2?.isDefault, imageId: v2?.imageId, userData: v2?.userData, instanceType: v2?.data.InstanceType, description: v2?.description },
        {
          version: 2,
          isDefault: false,
          imageId: image2,
          ...awsOr(suite.target, 'launch-template-version-source-version', { userData: USER_DATA, instanceType: 'm5.large' }, { userData: undefined, instanceType: undefined }),
          description: `eks-node-lifecycle: ${image2}`,
        },
      );
    });

    it('lists the versions newest first, and reuses one that already has the image', async () => {
      const recent = await recentTemplateVersions(suite.target.aws, templateId);
      assert.deepEqual(recent.map((v) => [v.version, v.imageId, v.isDefault]), [[2, image2, false], [1, image1, true]]);
      assert.deepEqual(await ensureTemplateVersion(suite.target.aws, { launchTemplateId: templateId, sourceVersion: 1, imageId: image2, description: 'again' }, recent), { version: 2, created: false });
    });

    it('answers a retried create (same ClientToken) with the version it created', async () => {
      // the step was retried before it could list the versions: the ClientToken makes it idempotent
      const again = await ensureTemplateVersion(suite.target.aws, { launchTemplateId: templateId, sourceVersion: 1, imageId: image2, description: `eks-node-lifecycle: ${image2}` }, []);
      assert.deepEqual(again, awsOr(suite.target, 'launch-template-version-client-token', { version: 2, created: true }, { version: 3, created: true }));
    });

    it('makes a version the default', async () => {
      await setDefaultTemplateVersion(suite.target.aws, templateId, '2');
      const v = await describeTemplateVersion(suite.target.aws, templateId, '$Default');
      assert.deepEqual([v?.version, v?.isDefault], [2, true]);
      assert.equal((await describeTemplateVersion(suite.target.aws, templateId, '1'))?.isDefault, false);
    });
  });

  contractSuite(factory, 'EC2 images', (suite) => {
    let x86 = '';
    let arm = '';
    const images = () => ec2ImageSource(suite.target.aws);

    it('finds an image of the account by id, and nothing for one that does not exist or is malformed', async () => {
      x86 = await suite.target.seed.image({ name: 'contract-custom-al2023-x86_64', description: 'custom node image', architecture: 'x86_64' });
      arm = await suite.target.seed.image({ name: 'contract-custom-al2023-arm64', description: 'custom node image', architecture: 'arm64' });
      const found = await images().byId(x86);
      assert.deepEqual([found?.ImageId, found?.Name, found?.Architecture, found?.State], [x86, 'contract-custom-al2023-x86_64', 'x86_64', 'available']);
      assert.equal(await images().byId(MISSING.image), undefined);
      assert.equal(await images().byId('ami-nothex'), undefined);
    });

    it('searches by Owners and filters: self finds them, amazon does not', async () => {
      const mine = await images().search(['self'], [{ Name: 'name', Values: ['contract-custom-*'] }]);
      assert.deepEqual(mine.map((i) => i.ImageId).sort(), [x86, arm].sort());
      const arm64 = await images().search(['self'], [{ Name: 'name', Values: ['contract-custom-*'] }, { Name: 'architecture', Values: ['arm64'] }]);
      assert.deepEqual(arm64.map((i) => i.ImageId), [arm]);
      assert.deepEqual(await images().search(['amazon'], [{ Name: 'name', Values: ['contract-custom-*'] }]), []);
    });

    it('attaches images to groups by an image-id filter, one image gone failing nothing', async () => {
      const groups = [
        { name: 'a', imageId: x86 },
        { name: 'b', imageId: MISSING.image },
      ].map((g) => ({ cluster: 'prod', kind: 'self-managed', tags: {}, kubernetesVersion: '', controlPlaneVersion: '1.31', ...g }) as GroupView);
      await attachImages(suite.target.aws, groups);
      assert.deepEqual(groups.map((g) => g.image?.ImageId), [x86, undefined]);
    });
  });

  contractSuite(factory, 'EC2 instances and instance types', (suite) => {
    let instanceId = '';
    let templateId = '';
    const t = () => suite.target.clients.ec2;

    it('launches an instance from a launch template (RunInstances)', async () => {
      const network = await suite.target.seed.network();
      const image = await suite.target.seed.image({ name: 'contract-run', description: 'run', architecture: 'x86_64' });
      const lt = await t().send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'contract-run', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' } }));
      templateId = lt.LaunchTemplate!.LaunchTemplateId!;
      const out = await t().send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Latest' }, SubnetId: network.subnetIds[1] }));
      instanceId = out.Instances![0]!.InstanceId!;
      await suite.target.settle();
    });

    it('describes it by id: state, zone, and the template it came from', async () => {
      const view = await describeInstance(suite.target.aws, instanceId);
      assert.deepEqual(
        { state: view?.state, zone: view?.availabilityZone, launchTemplateId: view?.launchTemplateId, hasDns: Boolean(view?.privateDnsName) },
        { state: 'running', zone: 'eu-west-1b', launchTemplateId: templateId, hasDns: true },
      );
    });

    it('shows tags written with CreateTags, and writing them again changes nothing', async () => {
      await tagInstance(suite.target.aws, instanceId, { 'kubernetes.io/cluster/prod': 'owned', team: 'web' });
      await tagInstance(suite.target.aws, instanceId, { 'kubernetes.io/cluster/prod': 'owned' });
      const tags = (await describeInstance(suite.target.aws, instanceId))!.tags;
      assert.deepEqual({ owner: tags['kubernetes.io/cluster/prod'], team: tags['team'] }, { owner: 'owned', team: 'web' });
    });

    it('answers an instance EC2 does not know with an empty filter result', async () => {
      const out = await describeInstancesById(suite.target.aws, [MISSING.instance]);
      assert.deepEqual(out.Reservations, []);
      assert.equal(await describeInstance(suite.target.aws, MISSING.instance), undefined);
    });

    it('gives the numbers maxPods needs for an instance type', async () => {
      // the input prepare-launch-template.ts sends, read by the product's own reader
      const out = await t().send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large'] }));
      assert.deepEqual(instanceTypeFacts(out.InstanceTypes![0]!), { maximumNetworkInterfaces: 3, ipv4AddressesPerInterface: 10, vcpus: 2 });
    });
  });
}
