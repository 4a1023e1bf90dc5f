import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arnOf, partitionOfArn, partitionOfRegion, regionalHost } from '../../shared/aws/partition.js';
import { createEksToken, TOKEN_PREFIX } from '../../shared/kube/eks-token.js';
import { judgePreflight, type PreflightFacts } from '../../shared/rollout/preflight.js';
import { authenticateEksToken } from '@eks-node-lifecycle/sandbox';

/**
 * Partitions (issue 15, item 5): every host name and ARN the service builds is the region's
 * partition's — one table per partition, the same questions asked of each.
 */
const credentials = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox-secret' };
const t0 = Date.UTC(2026, 10, 21, 9, 0, 0);

const PARTITIONS = [
  { partition: 'aws', region: 'eu-west-1', sts: 'sts.eu-west-1.amazonaws.com' },
  { partition: 'aws-cn', region: 'cn-north-1', sts: 'sts.cn-north-1.amazonaws.com.cn' },
  { partition: 'aws-us-gov', region: 'us-gov-west-1', sts: 'sts.us-gov-west-1.amazonaws.com' },
] as const;

function stsHostOf(token: string): string {
  return new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString()).host;
}

function factsWithRole(roleArn: string): PreflightFacts {
  return {
    cluster: 'prod',
    group: { kind: 'self-managed', name: 'workers' },
    surge: 1,
    image: { imageId: 'ami-0123456789abcdef0', found: true, state: 'available' },
    launchTemplate: { status: 'not-needed', reason: 'EKS picks the image' },
    nodeRole: {
      status: 'resolved',
      instanceProfile: 'workers-node',
      roleArn,
      os: 'linux',
      authenticationMode: 'API',
      accessEntry: { type: 'EC2_LINUX', kubernetesGroups: [] },
      attachedPolicies: [],
    },
    subnets: { status: 'read', subnets: [{ subnetId: 'subnet-1', freeAddresses: 10 }] },
  };
}

describe('AWS partitions', () => {
  for (const { partition, region, sts } of PARTITIONS) {
    describe(`partition ${partition} (${region})`, () => {
      it(`knows the partition from the region and from an ARN`, () => {
        assert.equal(partitionOfRegion(region).name, partition);
        assert.equal(partitionOfArn(`arn:${partition}:iam::111122223333:role/workers-node`)?.name, partition);
      });

      it(`mints the EKS token against ${sts}, and the authenticator accepts it`, async () => {
        const { token } = await createEksToken('prod', { region, credentials, now: () => new Date(t0) });
        assert.equal(stsHostOf(token), sts);
        assert.equal(regionalHost('sts', region), sts);
        assert.deepEqual(await authenticateEksToken(token, { cluster: 'prod', credentials, now: () => t0 + 60_000 }), { ok: true });
      });

      it('builds ARNs in that partition', () => {
        assert.equal(arnOf({ region, service: 'states', account: '111122223333', resource: 'stateMachine:eks-node-lifecycle-prod-ami-rollout' }), `arn:${partition}:states:${region}:111122223333:stateMachine:eks-node-lifecycle-prod-ami-rollout`);
        assert.equal(arnOf({ region, service: 'eks', account: '111122223333', resource: 'cluster/prod' }), `arn:${partition}:eks:${region}:111122223333:cluster/prod`);
      });

      it("tells how to attach a missing node policy with the partition's policy ARN", () => {
        const report = judgePreflight(factsWithRole(`arn:${partition}:iam::111122223333:role/workers-node`));
        const check = report.checks.find((c) => c.name === 'node-role-policies')!;
        assert.equal(check.ok, false);
        assert.match(check.fix!, new RegExp(`--policy-arn arn:${partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy`));
      });
    });
  }

  it('the sandbox authenticator refuses a China token sent to the global-partition host, as EKS would', async () => {
    // what the service minted before: sts.cn-north-1.amazonaws.com, a host that does not exist
    const hostname = 'sts.cn-north-1.amazonaws.com';
    const url = `https://${hostname}/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=${credentials.accessKeyId}%2F20261121%2Fcn-north-1%2Fsts%2Faws4_request`;
    const result = await authenticateEksToken(TOKEN_PREFIX + Buffer.from(url).toString('base64url'), { cluster: 'prod', credentials, now: () => t0 });
    assert.deepEqual(result, { ok: false, reason: `unexpected STS endpoint ${hostname}/` });
  });

  it('regions outside China and GovCloud are the aws partition; an ARN of an unknown partition is none', () => {
    for (const region of ['us-east-1', 'ap-southeast-5', 'eu-central-2', 'il-central-1']) assert.equal(partitionOfRegion(region).name, 'aws', region);
    assert.equal(partitionOfArn('arn:aws-iso:iam::111122223333:role/x'), undefined);
    assert.equal(partitionOfArn('not-an-arn'), undefined);
  });
});
