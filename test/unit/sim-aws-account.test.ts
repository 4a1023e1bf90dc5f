import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AutoScalingClient, AutoScalingServiceException, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, DescribeVpcEndpointsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { EKSClient, UpdateClusterVersionCommand } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { VirtualClock } from '../sim/clock';
import { SimAccount } from '../sim/aws/account';
import { SandboxNotImplementedError } from '../sim/aws/errors';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

function bound(t: { after: (fn: () => void) => void }) {
  const clock = new VirtualClock();
  const account = new SimAccount({ clock }).bind();
  t.after(() => account.restore());
  return { clock, account };
}

describe('SimAccount: binding the real SDK clients', () => {
  it('answers every client instance, created before or after bind, from the account', async (t) => {
    const early = new STSClient(config);
    const { account } = bound(t);
    const late = new STSClient(config);
    for (const client of [early, late]) {
      const identity = await client.send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Account, '111122223333');
      assert.match(identity.Arn!, /^arn:aws:sts::111122223333:assumed-role\/eks-node-lifecycle-sandbox\/sandbox$/);
      assert.match(identity.UserId!, /^AROA[A-Z2-7]{17}:sandbox$/);
      assert.equal(identity.$metadata.httpStatusCode, 200);
    }
    assert.equal(account.calls.length, 2);
  });

  it('rejects a command it does not model with an error naming the command', async (t) => {
    const { account } = bound(t);
    await assert.rejects(new EC2Client(config).send(new DescribeVpcEndpointsCommand({})), (error: Error) => {
      assert.ok(error instanceof SandboxNotImplementedError);
      assert.match(error.message, /ec2 DescribeVpcEndpoints is not implemented in the sandbox/);
      return true;
    });
    await assert.rejects(new EKSClient(config).send(new UpdateClusterVersionCommand({ name: 'x', version: '1.32' })), /eks UpdateClusterVersion is not implemented/);
    assert.deepEqual(account.calls.map((c) => [c.command, c.error]), [
      ['DescribeVpcEndpoints', 'SandboxNotImplementedError'],
      ['UpdateClusterVersion', 'SandboxNotImplementedError'],
    ]);
  });

  it('throws EC2 errors in the SDK shape: base exception, wire code as name, HTTP 400', async (t) => {
    bound(t);
    await assert.rejects(new EC2Client(config).send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), (error: EC2ServiceException) => {
      assert.ok(error instanceof EC2ServiceException);
      assert.equal(error.name, 'InvalidInstanceID.NotFound');
      assert.equal(error.message, "The instance ID 'i-0123456789abcdef0' does not exist");
      assert.equal(error.$fault, 'client');
      assert.equal(error.$metadata.httpStatusCode, 400);
      assert.ok(error.$metadata.requestId);
      return true;
    });
  });

  it('injects faults per command and records them in the call log', async (t) => {
    const { account } = bound(t);
    account.faults.throttle('DescribeInstances', 2);
    const ec2 = new EC2Client(config);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(ec2.send(new DescribeInstancesCommand({})), (error: Error) => error.name === 'RequestLimitExceeded' && error instanceof EC2ServiceException);
    }
    const third = await ec2.send(new DescribeInstancesCommand({}));
    assert.deepEqual(third.Reservations, []);
    assert.deepEqual(account.calls.map((c) => c.error), ['RequestLimitExceeded', 'RequestLimitExceeded', undefined]);

    account.faults.throttle('autoscaling:DescribeAutoScalingGroups');
    await assert.rejects(new AutoScalingClient(config).send(new DescribeAutoScalingGroupsCommand({})), (error: Error) => {
      assert.ok(error instanceof AutoScalingServiceException);
      assert.equal(error.name, 'Throttling');
      return true;
    });

    account.faults.set('CreateTags', (input) => ((input as { Resources: string[] }).Resources.includes('i-0aaaaaaaaaaaaaaaa') ? new Error('boom') : undefined));
    await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: ['i-0aaaaaaaaaaaaaaaa'], Tags: [{ Key: 'a', Value: 'b' }] })), /boom/);
  });

  it('lists writes separately so a test can assert that nothing was changed', async (t) => {
    const { account } = bound(t);
    const ec2 = new EC2Client(config);
    await ec2.send(new DescribeInstancesCommand({}));
    assert.deepEqual(account.writes(), []);
    await assert.rejects(new AutoScalingClient(config).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nope', DesiredCapacity: 1 })), (error: Error) => {
      assert.equal(error.name, 'ValidationError');
      assert.match(error.message, /AutoScalingGroup name not found/);
      return true;
    });
    assert.deepEqual(account.writes().map((c) => c.command), ['SetDesiredCapacity']);
  });

  it('returns copies: mutating a response does not change the account', async (t) => {
    const { account } = bound(t);
    account.seedVpc();
    account.eks.addCluster({ name: 'prod' });
    const group = account.createSelfManagedGroup({ cluster: 'prod', name: 'web', desired: 1 });
    await account.clock.advance(20_000);
    const ec2 = new EC2Client(config);
    const first = await ec2.send(new DescribeInstancesCommand({}));
    first.Reservations![0]!.Instances![0]!.Tags!.length = 0;
    const second = await ec2.send(new DescribeInstancesCommand({}));
    assert.ok(second.Reservations![0]!.Instances![0]!.Tags!.some((tag) => tag.Key === 'aws:autoscaling:groupName' && tag.Value === group.autoScalingGroupName));
  });

  it('stops answering after restore', async (t) => {
    const { account } = bound(t);
    account.restore();
    const send = EC2Client.prototype.send as unknown as { restore?: unknown };
    assert.equal(send.restore, undefined);
  });
});
