/**
 * EKS clusters and managed node groups (shared/aws/nodegroups.ts, nodegroup-updates.ts,
 * shared/detect/inventory.ts, shared/kube/client.ts), SSM parameters (shared/ami/ssm-parameters.ts,
 * shared/aws/secrets.ts) and IAM instance profiles and roles (shared/aws/iam.ts).
 */
import { CreateNodegroupCommand } from '@aws-sdk/client-eks';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { SsmParameterCache } from '../../../shared/ami/ssm-parameters.js';
import { describeInstanceProfile, listAttachedPolicyArns } from '../../../shared/aws/iam.js';
import { startConfigUpdate } from '../../../shared/aws/nodegroup-updates.js';
import { describeNodegroup, describeNodegroupTags } from '../../../shared/aws/nodegroups.js';
import { cachedSecret } from '../../../shared/aws/secrets.js';
import { listClusters, listGroups } from '../../../shared/detect/inventory.js';
import { describeClusterConnection } from '../../../shared/kube/client.js';
import { awsOr, contractSuite, rejection } from '../contract.js';
import { PUBLIC_PARAMETERS_FILE } from '../moto-server.js';
import type { ContractTargetFactory } from '../target.js';

const NODE_POLICIES = ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly', 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'];
const NODEGROUP_TAGS = { 'eks-node-lifecycle/rollout': 'auto', team: 'web' };

export function eksContract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'EKS clusters and managed node groups', (suite) => {
    let subnetIds: string[] = [];
    let nodeRole = '';
    const eks = () => suite.target.clients.eks;

    it('seeds a cluster and a node group (CreateNodegroup)', async () => {
      const { seed } = suite.target;
      subnetIds = (await seed.network()).subnetIds;
      await seed.cluster('prod', '1.31', subnetIds);
      nodeRole = await seed.nodeRole('contract-node', NODE_POLICIES);
      const out = await eks().send(
        new CreateNodegroupCommand({
          clusterName: 'prod',
          nodegroupName: 'general',
          nodeRole,
          subnets: subnetIds,
          scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 2 },
          instanceTypes: ['m5.large'],
          updateConfig: { maxUnavailable: 1 },
          tags: NODEGROUP_TAGS,
        }),
      );
      assert.equal(out.nodegroup?.nodegroupName, 'general');
      await suite.target.settle();
    });

    it("reads a node group's tags; none for a group or cluster that does not exist", async () => {
      assert.deepEqual(await describeNodegroupTags(suite.target.aws, 'prod', 'general'), NODEGROUP_TAGS);
      assert.deepEqual(await describeNodegroupTags(suite.target.aws, 'prod', 'missing'), {});
      assert.deepEqual(await describeNodegroupTags(suite.target.aws, 'missing', 'general'), {});
    });

    it('describes a node group as a rollout reads it', async () => {
      const { accountId, ...view } = await describeNodegroup(suite.target.aws, 'prod', 'general');
      assert.match(accountId ?? '', /^\d{12}$/);
      assert.deepEqual(
        { ...view, autoScalingGroups: view.autoScalingGroups.length },
        {
          cluster: 'prod',
          name: 'general',
          status: 'ACTIVE',
          subnets: subnetIds,
          instanceTypes: ['m5.large'],
          autoScalingGroups: 1,
          tags: NODEGROUP_TAGS,
          releaseVersion: view.releaseVersion,
          ...awsOr(suite.target, 'nodegroup-version-default', { version: '1.31', amiType: 'AL2023_x86_64_STANDARD' }, { version: '1.19', amiType: 'AL2_x86_64' }),
          ...awsOr(suite.target, 'nodegroup-update-config-on-create', { updateConfig: { maxUnavailable: 1 } }, {}),
          nodeRole,
          desiredSize: 2,
          minSize: 1,
          maxSize: 3,
        },
      );
      const missing = await rejection(describeNodegroup(suite.target.aws, 'prod', 'missing'));
      assert.equal(missing.name, 'ResourceNotFoundException');
    });

    it('lists the clusters (ListClusters, DescribeCluster) and their managed groups (ListNodegroups)', async () => {
      const ports = { aws: suite.target.aws, managedClusters: '*' as const };
      const clusters = await listClusters(ports);
      assert.deepEqual(clusters.map((c) => [c.name, c.version, c.endpoint.startsWith('https://'), c.certificateAuthority.length > 0]), [['prod', '1.31', true, true]]);
      const groups = await listGroups(ports, clusters[0]!);
      assert.deepEqual(
        groups.map((g) => [g.kind, g.name, g.amiType, g.kubernetesVersion, g.size, g.tags]),
        [['managed', 'general', ...awsOr(suite.target, 'nodegroup-version-default', ['AL2023_x86_64_STANDARD', '1.31'], ['AL2_x86_64', '1.19']), { desired: 2, min: 1, max: 3 }, NODEGROUP_TAGS]],
      );
    });

    it('gives the connection to a cluster, and ClusterNotFoundError for one that does not exist', async () => {
      const connection = await describeClusterConnection(suite.target.aws, 'prod');
      assert.deepEqual([connection.name, connection.version], ['prod', '1.31']);
      assert.equal((await rejection(describeClusterConnection(suite.target.aws, 'missing'))).name, 'ClusterNotFoundError');
    });

    it("changes a node group's update config (UpdateNodegroupConfig)", async () => {
      const outcome = await startConfigUpdate(suite.target.aws, 'prod', 'general', { maxUnavailable: 2 }, 'contract-config-1');
      assert.ok('started' in outcome, JSON.stringify(outcome));
      assert.deepEqual(
        [outcome.started.type, outcome.started.status, outcome.started.id.length > 0],
        ['ConfigUpdate', awsOr(suite.target, 'nodegroup-update-done-at-once', 'InProgress', 'Successful'), true],
      );
      await suite.target.settle();
      assert.deepEqual((await describeNodegroup(suite.target.aws, 'prod', 'general')).updateConfig, { maxUnavailable: 2 });
      assert.equal((await rejection(startConfigUpdate(suite.target.aws, 'prod', 'missing', { maxUnavailable: 2 }, 'contract-config-2'))).name, 'ResourceNotFoundException');
    });
  });
}

export function ssmIamContract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'SSM parameters and IAM', (suite) => {
    const published = JSON.parse(readFileSync(PUBLIC_PARAMETERS_FILE, 'utf8')) as { Name: string; Value: string }[];

    it('reads public AMI parameters in one GetParameters; a name SSM does not know is missing', async () => {
      const cache = new SsmParameterCache(suite.target.aws);
      const unknown = '/aws/service/eks/optimized-ami/1.99/amazon-linux-2023/x86_64/standard/recommended/image_id';
      const values = await cache.get([...published.map((p) => p.Name), unknown]);
      assert.deepEqual(Object.fromEntries(values), { ...Object.fromEntries(published.map((p) => [p.Name, p.Value])), [unknown]: undefined });
      assert.equal(cache.calls, 1);
    });

    it('reads a SecureString secret decrypted; a missing one is a ConfigurationError', async () => {
      await suite.target.seed.secureString('/eks-node-lifecycle/contract/signing-secret', 's3cr3t-value');
      assert.equal(await cachedSecret(suite.target.aws, '/eks-node-lifecycle/contract/signing-secret')(), 's3cr3t-value');
      const missing = await rejection(cachedSecret(suite.target.aws, '/eks-node-lifecycle/contract/missing')());
      assert.deepEqual([missing.name, (missing.cause as Error).name], ['ConfigurationError', 'ParameterNotFound']);
    });

    it("reads an instance profile's roles and a role's attached policies; nothing for missing ones", async () => {
      const roleArn = await suite.target.seed.nodeRole('contract-profile', NODE_POLICIES);
      const profile = await describeInstanceProfile(suite.target.aws, 'contract-profile');
      assert.deepEqual([profile?.name, profile?.arn.endsWith(':instance-profile/contract-profile'), profile?.roleArns], ['contract-profile', true, [roleArn]]);
      assert.equal(await describeInstanceProfile(suite.target.aws, 'contract-missing'), undefined);
      assert.deepEqual((await listAttachedPolicyArns(suite.target.aws, 'contract-profile'))?.sort(), [...NODE_POLICIES].sort());
      assert.equal(await listAttachedPolicyArns(suite.target.aws, 'contract-missing'), undefined);
    });
  });
}
