import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeClusterCommand, DescribeUpdateCommand, EKSClient, ListUpdatesCommand, UpdateClusterVersionCommand } from '@aws-sdk/client-eks';
import { World } from '../world.js';

/** The sandbox's UpdateClusterVersion: what EKS accepts and refuses when a control plane is upgraded. */
const eks = () => new EKSClient({ region: 'eu-west-1' });

async function cluster(t: { after: (fn: () => Promise<void>) => void }, options: { nodegroupVersion?: string; clusterVersion?: string } = {}) {
  const world = await World.start();
  t.after(() => world.stop());
  await world.addCluster('prod', { version: options.clusterVersion ?? '1.31' });
  world.account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 1, max: 1, ...(options.nodegroupVersion ? { version: options.nodegroupVersion } : {}) });
  await world.settle();
  return world;
}

describe('Sandbox EKS: UpdateClusterVersion', () => {
  it('moves the control plane one minor: UPDATING, then ACTIVE on the new version, the update Successful and listed', async (t) => {
    const world = await cluster(t);
    const { update } = await eks().send(new UpdateClusterVersionCommand({ name: 'prod', version: '1.32' }));
    assert.equal(update?.status, 'InProgress');
    assert.deepEqual(update?.params, [{ type: 'Version', value: '1.32' }, { type: 'PlatformVersion', value: 'eks.1' }]);
    assert.equal((await eks().send(new DescribeClusterCommand({ name: 'prod' }))).cluster?.status, 'UPDATING');
    await assert.rejects(eks().send(new UpdateClusterVersionCommand({ name: 'prod', version: '1.33' })), { name: 'ResourceInUseException' });

    await world.run(30 * 60_000);

    const { cluster: after } = await eks().send(new DescribeClusterCommand({ name: 'prod' }));
    assert.equal(after?.version, '1.32');
    assert.equal(after?.status, 'ACTIVE');
    assert.equal((await eks().send(new DescribeUpdateCommand({ name: 'prod', updateId: update!.id! }))).update?.status, 'Successful');
    assert.deepEqual((await eks().send(new ListUpdatesCommand({ name: 'prod' }))).updateIds, [update!.id]);
    assert.deepEqual((await eks().send(new ListUpdatesCommand({ name: 'prod', nodegroupName: 'general' }))).updateIds, [], 'not a node group update');
    // the node group is not touched: it stays on its version
    assert.equal(world.account.eks.requireNodegroup('prod', 'general').nodegroup.version, '1.31');
  });

  it('refuses to skip a minor, to stay, or to go back', async (t) => {
    await cluster(t);
    for (const version of ['1.33', '1.31', '1.30', '2.0']) {
      await assert.rejects(eks().send(new UpdateClusterVersionCommand({ name: 'prod', version })), (e: Error) => {
        assert.equal(e.name, 'InvalidParameterException');
        assert.equal(e.message, `Unsupported Kubernetes minor version update from 1.31 to ${version}`);
        return true;
      });
    }
  });

  it('refuses while a managed node group is not at the cluster version', async (t) => {
    await cluster(t, { nodegroupVersion: '1.30' });
    await assert.rejects(eks().send(new UpdateClusterVersionCommand({ name: 'prod', version: '1.32' })), (e: Error) => {
      assert.equal(e.name, 'InvalidRequestException');
      assert.match(e.message, /Nodegroups general must be updated to match cluster version 1\.31 before updating cluster version/);
      return true;
    });
  });
});
