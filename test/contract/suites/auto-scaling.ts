/**
 * Auto Scaling as the product reads and writes it: groups, their tags, sizes, template
 * versions, processes, terminations and activities (shared/aws/auto-scaling-groups.ts),
 * lifecycle hooks (shared/aws/lifecycle-actions.ts), and groups found by tag filters
 * (shared/drain/ensure-terminate-hooks.ts, shared/detect/inventory.ts).
 */
import { CreateAutoScalingGroupCommand, type Tag } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { failedLaunches, putPropagatingGroupTag, setAzRebalance, snapshotGroup, terminateGroupInstance, updateGroup } from '../../../shared/aws/auto-scaling-groups.js';
import { describeLifecycleHook, terminateHookNames } from '../../../shared/aws/lifecycle-actions.js';
import { ensureTemplateVersion } from '../../../shared/aws/launch-template-versions.js';
import { listGroups } from '../../../shared/detect/inventory.js';
import { ensureTerminateHooks, INSTALLED_HOOK } from '../../../shared/drain/ensure-terminate-hooks.js';
import { awsOr, contractSuite, rejection } from '../contract.js';
import type { ContractTargetFactory } from '../target.js';

const OWNED_BY_PROD = { Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true };

export function autoScalingContract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'Auto Scaling groups, tags and lifecycle hooks', (suite) => {
    let templateId = '';
    let image2 = '';
    const asg = () => suite.target.clients.autoscaling;

    it('seeds three tagged groups through CreateAutoScalingGroup; their instances go InService', async () => {
      const { seed, clients } = suite.target;
      const network = await seed.network();
      await seed.cluster('prod', '1.31', network.subnetIds);
      const image1 = await seed.image({ name: 'contract-asg-1', description: 'node image', architecture: 'x86_64' });
      image2 = await seed.image({ name: 'contract-asg-2', description: 'node image', architecture: 'x86_64' });
      const lt = await clients.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'contract-asg', LaunchTemplateData: { ImageId: image1, InstanceType: 'm5.large' } }));
      templateId = lt.LaunchTemplate!.LaunchTemplateId!;
      const group = (name: string, tags: Tag[]) =>
        asg().send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: name,
            LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' },
            MinSize: 1,
            MaxSize: 4,
            DesiredCapacity: 2,
            VPCZoneIdentifier: network.subnetIds.join(','),
            Tags: tags.map((t) => ({ ...t, ResourceId: name, ResourceType: 'auto-scaling-group' })),
          }),
        );
      await group('contract-web', [OWNED_BY_PROD, { Key: 'eks-node-lifecycle/drain', Value: 'on', PropagateAtLaunch: false }]);
      await group('contract-batch', [OWNED_BY_PROD, { Key: 'eks-node-lifecycle/drain', Value: 'off', PropagateAtLaunch: false }]);
      await group('contract-staging', [{ Key: 'kubernetes.io/cluster/staging', Value: 'owned', PropagateAtLaunch: true }]);
      await suite.target.settle();
      const web = await snapshotGroup(suite.target.aws, 'contract-web');
      assert.deepEqual(web?.instances.map((i) => [i.lifecycleState, i.healthStatus, i.launchTemplateVersion]), [
        ['InService', 'Healthy', '1'],
        ['InService', 'Healthy', '1'],
      ]);
    });

    it('describes a group: its tags, whether each propagates, its launch template, its instances', async () => {
      const instances = (await snapshotGroup(suite.target.aws, 'contract-web'))!.instances.map((i) => i.instanceId);
      assert.equal(instances.length, 2);
      const web = (await snapshotGroup(suite.target.aws, 'contract-web'))!;
      assert.deepEqual(
        { name: web.name, tags: web.tags, propagateAtLaunch: [...web.propagateAtLaunch].sort(), launchTemplateId: web.launchTemplate?.id, instanceIds: web.instances.map((i) => i.instanceId) },
        {
          name: 'contract-web',
          tags: { 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain': 'on' },
          propagateAtLaunch: ['kubernetes.io/cluster/prod'],
          launchTemplateId: templateId,
          instanceIds: instances,
        },
      );
      assert.equal(await snapshotGroup(suite.target.aws, 'contract-missing'), undefined);
    });

    it('sets a propagating group tag (CreateOrUpdateTags), over an existing one too', async () => {
      await putPropagatingGroupTag(suite.target.aws, 'contract-batch', 'eks-node-lifecycle/drain', 'on');
      await putPropagatingGroupTag(suite.target.aws, 'contract-batch', 'team', 'data');
      const batch = (await snapshotGroup(suite.target.aws, 'contract-batch'))!;
      assert.deepEqual([batch.tags['eks-node-lifecycle/drain'], batch.tags['team']], ['on', 'data']);
      assert.ok(batch.propagateAtLaunch.includes('eks-node-lifecycle/drain') && batch.propagateAtLaunch.includes('team'));
    });

    it('snapshots a group: sizes, template version, processes, tags', async () => {
      const { accountId, subnetIds, propagateAtLaunch, ...web } = (await snapshotGroup(suite.target.aws, 'contract-web'))!;
      assert.match(accountId ?? '', /^\d{12}$/);
      assert.equal(subnetIds.length, 3);
      assert.deepEqual(propagateAtLaunch, ['kubernetes.io/cluster/prod']);
      assert.deepEqual(
        { ...web, instances: web.instances.length },
        {
          name: 'contract-web',
          desired: 2,
          min: 1,
          max: 4,
          launchTemplate: { id: templateId, version: '1' },
          suspendedProcesses: [],
          tags: { 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain': 'on' },
          instances: 2,
        },
      );
      assert.equal(await snapshotGroup(suite.target.aws, 'contract-missing'), undefined);
    });

    it('moves a group to a new template version and size (UpdateAutoScalingGroup), once', async () => {
      const { version } = await ensureTemplateVersion(suite.target.aws, { launchTemplateId: templateId, sourceVersion: 1, imageId: image2, description: 'eks-node-lifecycle: new' }, []);
      const before = (await snapshotGroup(suite.target.aws, 'contract-web'))!;
      const want = { desired: 3, max: 5, launchTemplate: { id: templateId, version: String(version) } };
      assert.equal(await updateGroup(suite.target.aws, before, want), true);
      const after = (await snapshotGroup(suite.target.aws, 'contract-web'))!;
      assert.deepEqual([after.desired, after.min, after.max, after.launchTemplate], [3, 1, 5, { id: templateId, version: '2' }]);
      assert.equal(await updateGroup(suite.target.aws, after, want), false);
      await suite.target.settle();
    });

    it('suspends and resumes AZRebalance', async () => {
      await setAzRebalance(suite.target.aws, 'contract-web', true);
      assert.deepEqual((await snapshotGroup(suite.target.aws, 'contract-web'))!.suspendedProcesses, ['AZRebalance']);
      await setAzRebalance(suite.target.aws, 'contract-web', false);
      assert.deepEqual((await snapshotGroup(suite.target.aws, 'contract-web'))!.suspendedProcesses, []);
    });

    it('installs the terminate hook on opted-in groups found by a tag filter, once', async () => {
      const ports = { aws: suite.target.aws, managedClusters: ['prod'] };
      // contract-batch opted in above (its drain tag is on now); contract-staging never did.
      // DescribeAutoScalingGroups documents no order: the plans are compared by group name
      assert.deepEqual(byGroup(await ensureTerminateHooks(ports)), [
        { group: 'contract-batch', action: 'install' },
        { group: 'contract-web', action: 'install' },
      ]);
      assert.deepEqual(await describeLifecycleHook(suite.target.aws, 'contract-web', INSTALLED_HOOK.name), {
        heartbeatTimeoutSeconds: 300,
        // the smaller of 172,800 s and 100 heartbeats
        globalTimeoutSeconds: awsOr(suite.target, 'lifecycle-hook-global-timeout', 30_000, 172_800),
        defaultResult: 'CONTINUE',
      });
      assert.deepEqual(await terminateHookNames(suite.target.aws, 'contract-web'), [INSTALLED_HOOK.name]);
      assert.equal(await describeLifecycleHook(suite.target.aws, 'contract-web', 'no-such-hook'), undefined);
      assert.deepEqual(byGroup(await ensureTerminateHooks(ports)), [
        { group: 'contract-batch', action: 'skip', reason: `already has the service's terminate hook ${INSTALLED_HOOK.name}` },
        { group: 'contract-web', action: 'skip', reason: `already has the service's terminate hook ${INSTALLED_HOOK.name}` },
      ]);
    });

    it("lists a cluster's self-managed groups by a tag-key filter, with the image each launches", async () => {
      const groups = await listGroups({ aws: suite.target.aws, managedClusters: ['prod'] }, { place: { accountId: '', region: suite.target.aws.region }, home: true, name: 'prod', endpoint: '', certificateAuthority: '', serviceIpv4Cidr: '', version: '1.31' });
      assert.deepEqual(
        groups.map((g) => [g.kind, g.name, g.launchTemplate, g.imageId, g.size]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
        [
          ['self-managed', 'contract-batch', { id: templateId, version: 1 }, (await describeGroupImage()).batch, { desired: 2, min: 1, max: 4 }],
          ['self-managed', 'contract-web', { id: templateId, version: 2 }, image2, { desired: 3, min: 1, max: 5 }],
        ],
      );
    });

    it('terminates an instance of a group once; one it does not know is already gone', async () => {
      const web = (await snapshotGroup(suite.target.aws, 'contract-web'))!;
      const victim = web.instances[0]!.instanceId;
      assert.equal(await terminateGroupInstance(suite.target.aws, victim, true), 'terminating');
      assert.equal((await snapshotGroup(suite.target.aws, 'contract-web'))!.desired, 2);
      const unknown = terminateGroupInstance(suite.target.aws, 'i-0123456789abcdef0', false);
      if (awsOr(suite.target, 'terminate-unknown-instance', false, true)) {
        // moto fails on a lookup of its own (HTTP 500): the product takes it for a transient failure
        const error = await rejection(unknown);
        assert.deepEqual([error.name, ((error.cause as Error & { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode)], ['AwsTransientError', 500]);
      } else {
        assert.equal(await unknown, 'already-gone');
      }
    });

    it('reports no failed launches for a group that launched everything', async () => {
      assert.deepEqual(await failedLaunches(suite.target.aws, 'contract-web', new Date(0)), []);
    });

    function byGroup<T extends { group: string }>(plans: T[]): T[] {
      return plans.sort((a, b) => a.group.localeCompare(b.group));
    }

    async function describeGroupImage() {
      // what contract-batch's version 1 launches: the template's first image
      const { describeTemplateVersion } = await import('../../../shared/aws/launch-template-versions.js');
      return { batch: (await describeTemplateVersion(suite.target.aws, templateId, '1'))!.imageId };
    }
  });
}
