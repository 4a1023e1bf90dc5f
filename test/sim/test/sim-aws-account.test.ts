import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AutoScalingClient, AutoScalingServiceException, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, DescribeVpcEndpointsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { VirtualClock } from '../clock';
import { SimAccount } from '../aws/account';
import { SandboxNotImplementedError } from '../aws/errors';

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
    await assert.rejects(new EKSClient(config).send(new UpdateClusterConfigCommand({ name: 'x' })), /eks UpdateClusterConfig is not implemented/);
    assert.deepEqual(account.calls.map((c) => [c.command, c.error]), [
      ['DescribeVpcEndpoints', 'SandboxNotImplementedError'],
      ['UpdateClusterConfig', 'SandboxNotImplementedError'],
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

  it('injects faults per attempt: the SDK\'s own retries absorb what three attempts outlast, and the call log keeps one entry per call', async (t) => {
    const { account } = bound(t);
    account.faults.throttle('DescribeInstances', 2);
    const ec2 = new EC2Client(config);
    const absorbed = await ec2.send(new DescribeInstancesCommand({}));
    assert.deepEqual(absorbed.Reservations, []);
    assert.equal(absorbed.$metadata.attempts, 3, 'two throttled attempts, then an answer');

    account.faults.throttle('DescribeInstances', 3);
    await assert.rejects(ec2.send(new DescribeInstancesCommand({})), (error: EC2ServiceException) => {
      assert.ok(error instanceof EC2ServiceException);
      assert.equal(error.name, 'RequestLimitExceeded');
      assert.equal(error.$metadata.attempts, 3);
      return true;
    });
    assert.deepEqual(account.calls.map((c) => [c.error, c.attempts]), [[undefined, 3], ['RequestLimitExceeded', 3]]);

    account.faults.throttle('autoscaling:DescribeAutoScalingGroups');
    await assert.rejects(new AutoScalingClient(config).send(new DescribeAutoScalingGroupsCommand({})), (error: Error) => {
      assert.ok(error instanceof AutoScalingServiceException);
      assert.equal(error.name, 'Throttling');
      return true;
    });

    // an error the SDK does not retry reaches the caller at its first attempt
    account.faults.set('CreateTags', (input) => ((input as { Resources: string[] }).Resources.includes('i-0aaaaaaaaaaaaaaaa') ? new Error('boom') : undefined));
    await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: ['i-0aaaaaaaaaaaaaaaa'], Tags: [{ Key: 'a', Value: 'b' }] })), /boom/);
    assert.equal(account.calls.at(-1)!.attempts, 1);
  });

  it('fails attempts on the network as Node and the SDK would: the endpoint resolved for real, the error retried as transient', async (t) => {
    const { account } = bound(t);
    const ec2 = new EC2Client(config);
    account.faults.set('DescribeInstances', (_input, attempt) => (attempt.attemptOfCall < 3 ? { network: 'dns-failure' } : undefined));
    assert.equal((await ec2.send(new DescribeInstancesCommand({}))).$metadata.attempts, 3);
    account.faults.set('DescribeInstances', () => ({ network: 'dns-failure' }));
    await assert.rejects(ec2.send(new DescribeInstancesCommand({})), (error: Error & { code?: string }) => {
      assert.equal(error.message, 'getaddrinfo EAI_AGAIN ec2.eu-west-1.amazonaws.com');
      assert.equal(error.code, 'EAI_AGAIN');
      return true;
    });
    // a write whose answer was cut short happened all the same
    account.seedVpc();
    account.faults.set('CreateTags', () => ({ network: 'half-written-response' }));
    const [subnet] = account.ec2.subnets.values();
    await assert.rejects(ec2.send(new CreateTagsCommand({ Resources: [subnet!.subnet.SubnetId], Tags: [{ Key: 'team', Value: 'web' }] })), /aborted/);
    assert.ok(subnet!.subnet.Tags.some((tag) => tag.Key === 'team'), 'the tag was written');
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
