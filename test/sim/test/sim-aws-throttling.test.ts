import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as realSleep } from 'node:timers/promises';
import { AutoScalingClient, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, DescribeTagsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { MAXIMUM_RETRY_DELAY, Retry } from '@smithy/core/retry';
import { SimAccount } from '../aws/account.js';
import { bucketsFor } from '../aws/rate-limits.js';
import type { AwsThrottlingOptions } from '../aws/throttling.js';
import { VirtualClock } from '../clock.js';
import { runAsInvocation } from '../lambda.js';

/**
 * AWS's request throttling in the sandbox: EC2's documented token buckets per account and
 * region (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), chosen
 * ones for Auto Scaling and EKS, refilled on the virtual clock, with the SDK's own standard
 * retries in front (the sandbox answers inside its middleware stack); off on a bare account.
 */
const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

/** A bound account, throttling on with these options, and clients making `maxAttempts` attempts per call (the SDK's 3 by default). */
function world(t: { after: (fn: () => void) => void }, throttling?: AwsThrottlingOptions, maxAttempts?: number) {
  const clock = new VirtualClock();
  const account = new SimAccount({ clock }).bind();
  t.after(() => account.restore());
  if (throttling) account.throttling.enable(throttling);
  const clientConfig = { ...config, ...(maxAttempts ? { maxAttempts } : {}) };
  return { clock, account, ec2: new EC2Client(clientConfig), autoscaling: new AutoScalingClient(clientConfig), eks: new EKSClient(clientConfig) };
}

type Outcome = { ok: true; attempts: number; totalRetryDelay: number } | { ok: false; name: string; message: string; httpStatusCode: number | undefined; attempts: number };

/** What a call came to, as its caller sees it. */
async function outcome(call: Promise<{ $metadata: { attempts?: number; totalRetryDelay?: number } }>): Promise<Outcome> {
  try {
    const { $metadata } = await call;
    return { ok: true, attempts: $metadata.attempts ?? 1, totalRetryDelay: $metadata.totalRetryDelay ?? 0 };
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number; attempts?: number } };
    return { ok: false, name: e.name, message: e.message, httpStatusCode: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts ?? 1 };
  }
}

/** `count` calls at once from one Lambda invocation, the world running meanwhile. */
async function burst(clock: VirtualClock, count: number, call: (i: number) => Promise<{ $metadata: object }>, fn = 'drainStep'): Promise<Outcome[]> {
  const calls = runAsInvocation(clock, fn, { burst: count }, () => Promise.all(Array.from({ length: count }, (_, i) => outcome(call(i)))));
  await clock.settle();
  return calls;
}

const failed = (outcomes: Outcome[]) => outcomes.filter((o) => !o.ok);

describe('AWS throttling: the documented buckets', () => {
  it("takes EC2's numbers from its page: per-API buckets by category, the unfiltered Describe* bucket, and the resource buckets", () => {
    // Act
    const limits = (command: string, input: unknown = {}) => bucketsFor('ec2', command, input).map((d) => [d.key, d.limit.capacity, d.limit.refillPerSecond, d.cost]);
    // Assess
    assert.deepEqual(limits('DescribeImages'), [['ec2:DescribeImages', 100, 20, 1]]);
    assert.deepEqual(limits('DescribeInstances'), [['ec2:DescribeInstances (unfiltered)', 50, 10, 1]]);
    assert.deepEqual(limits('DescribeInstances', { InstanceIds: ['i-1'] }), [['ec2:DescribeInstances (unfiltered)', 50, 10, 1]], 'ids are neither a filter nor pagination');
    assert.deepEqual(limits('DescribeInstances', { Filters: [{ Name: 'tag:a', Values: ['b'] }] }), [['ec2:DescribeInstances', 100, 20, 1]]);
    assert.deepEqual(limits('DescribeInstances', { MaxResults: 100 }), [['ec2:DescribeInstances', 100, 20, 1]]);
    assert.deepEqual(limits('DeleteLaunchTemplate'), [['ec2:DeleteLaunchTemplate', 50, 5, 1]], 'a mutating action');
    assert.deepEqual(limits('CreateTags'), [['ec2:CreateTags', 100, 10, 1]]);
    assert.deepEqual(limits('CreateLaunchTemplateVersion'), [['ec2:CreateLaunchTemplateVersion', 100, 5, 1]]);
    assert.deepEqual(limits('RunInstances', { MaxCount: 3 }), [['ec2:RunInstances', 5, 2, 1], ['ec2:RunInstances (resource)', 1000, 2, 3]]);
    assert.deepEqual(limits('TerminateInstances', { InstanceIds: ['i-1', 'i-2'] }), [['ec2:TerminateInstances', 100, 5, 1], ['ec2:TerminateInstances (resource)', 1000, 20, 2]]);
  });

  it('gives Auto Scaling one bucket shared by every action, EKS one per action, and leaves SSM, STS and IAM alone', () => {
    // Act
    const keys = (service: Parameters<typeof bucketsFor>[0], command: string) => bucketsFor(service, command, {}).map((d) => [d.key, d.limit.capacity, d.limit.refillPerSecond]);
    // Assess
    assert.deepEqual(keys('autoscaling', 'DescribeAutoScalingGroups'), [['autoscaling:*', 100, 20]]);
    assert.deepEqual(keys('autoscaling', 'CompleteLifecycleAction'), [['autoscaling:*', 100, 20]]);
    assert.deepEqual(keys('eks', 'DescribeCluster'), [['eks:DescribeCluster', 100, 20]]);
    assert.deepEqual(keys('eks', 'CreateAccessEntry'), [['eks:CreateAccessEntry', 50, 5]]);
    for (const service of ['ssm', 'sts', 'iam'] as const) assert.deepEqual(keys(service, 'GetParameter'), []);
  });
});

describe('AWS throttling: EC2', () => {
  it("refuses the 101st DescribeImages of one second with EC2's own error, and refills 20 tokens a virtual second", async (t) => {
    // Prepare: no retries, to see the service's answers
    const { clock, account, ec2 } = world(t, {}, 1);
    // Act
    const first = await burst(clock, 120, () => ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })));
    await clock.advance(1_000);
    const second = await burst(clock, 25, () => ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })));
    // Assess
    assert.equal(failed(first).length, 20);
    assert.deepEqual(failed(first)[0], { ok: false, name: 'RequestLimitExceeded', message: 'Request limit exceeded.', httpStatusCode: 503, attempts: 1 });
    assert.equal(failed(second).length, 5, 'one virtual second later, 20 tokens');
    const tally = account.throttling.tally();
    assert.equal(tally.attempts.get('ec2:DescribeImages'), 145);
    assert.equal(tally.attemptsThrottled.get('ec2:DescribeImages'), 25);
    assert.equal(tally.callsFailed.get('ec2:DescribeImages'), 25);
    assert.deepEqual(tally.peakPerSecond.get('ec2:DescribeImages'), { perSecond: 120, at: Date.UTC(2026, 10, 21, 9, 0, 0) });
    assert.equal(account.calls.filter((c) => c.error === 'RequestLimitExceeded').length, 25);
  });

  it('gives unfiltered DescribeInstances its smaller bucket (50), apart from the filtered one', async (t) => {
    // Prepare
    const { clock, ec2 } = world(t, {}, 1);
    // Act
    const unfiltered = await burst(clock, 60, () => ec2.send(new DescribeInstancesCommand({})));
    const filtered = await burst(clock, 60, () => ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] })));
    // Assess
    assert.equal(failed(unfiltered).length, 10);
    assert.equal(failed(filtered).length, 0);
  });

  it('draws a launch from the RunInstances resource bucket one token per instance, the request bucket notwithstanding', async (t) => {
    // Prepare: a resource bucket of 10 that refills a token every 100 s (the documented one holds 1000, 2 a second)
    const { clock, account, ec2 } = world(t, { limits: { 'ec2:RunInstances (resource)': { capacity: 10, refillPerSecond: 0.01 } } }, 1);
    const subnet = account.seedVpc().subnets[0]!.subnetId;
    const imageId = account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id')!;
    const launch = (count: number) => burst(clock, 1, () => ec2.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 'm5.large', MinCount: count, MaxCount: count, SubnetId: subnet })));
    // Act
    const eight = await launch(8);
    const fourTooMany = await launch(4);
    await clock.advance(400_000);
    const fourLater = await launch(4);
    // Assess
    assert.deepEqual([eight[0]!.ok, fourTooMany[0]!.ok, fourLater[0]!.ok], [true, false, true]);
  });

  it("absorbs throttling with the SDK's standard retries: a throttled attempt sleeps on the virtual clock, the bucket refills, the retry goes through", async (t) => {
    // Prepare
    const { clock, account, ec2 } = world(t, { seed: 3 });
    const started = clock.now();
    // Act
    const outcomes = await burst(clock, 110, () => ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })));
    // Assess
    const retried = outcomes.filter((o) => o.ok && o.attempts > 1) as Extract<Outcome, { ok: true }>[];
    assert.equal(failed(outcomes).length, 0, 'no caller saw the throttling');
    assert.equal(retried.length, 10);
    const maxDelay = Retry.throttlingDelay() + Math.min(2 * Retry.throttlingDelay(), MAXIMUM_RETRY_DELAY);
    for (const o of retried) assert.ok(o.totalRetryDelay > 0 && o.totalRetryDelay < maxDelay, `slept ${o.totalRetryDelay} ms`);
    assert.ok(clock.now() - started > 0 && clock.now() - started < maxDelay, 'virtual time moved by the retries, no more');
    assert.ok((account.throttling.tally().attemptsThrottled.get('ec2:DescribeImages') ?? 0) >= 10);
    assert.equal(account.throttling.tally().callsFailed.get('ec2:DescribeImages'), undefined);
  });

  it('fails a call only when all three attempts are throttled, reporting them as the SDK does', async (t) => {
    // Prepare: a bucket that refills once a minute
    const { clock, ec2 } = world(t, { limits: { 'ec2:DescribeImages': { capacity: 1, refillPerSecond: 1 / 60 } } });
    // Act
    const [first, second] = await burst(clock, 2, () => ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })));
    // Assess
    assert.equal(first!.ok, true);
    assert.deepEqual(second, { ok: false, name: 'RequestLimitExceeded', message: 'Request limit exceeded.', httpStatusCode: 503, attempts: 3 });
  });

  it('admits the attempts of one instant in a stable order, whatever order real I/O delivered them in', async (t) => {
    // Prepare: two invocations, 60 calls each, against one bucket of 100; in the second run the other one calls first
    const run = async (slowFirst: 'a' | 'b') => {
      const { clock, ec2 } = world(t, {}, 1);
      const calls = (fn: 'a' | 'b') =>
        runAsInvocation(clock, fn, {}, async () => {
          if (fn === slowFirst) await realSleep(30);
          return Promise.all(Array.from({ length: 60 }, () => outcome(ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })))));
        });
      const both = Promise.all([calls('a'), calls('b')]);
      await clock.settle();
      const [a, b] = await both;
      return { a: a.map((o) => o.ok), b: b.map((o) => o.ok) };
    };
    // Act
    const aSlow = await run('a');
    const bSlow = await run('b');
    // Assess
    assert.deepEqual(aSlow, bSlow);
    assert.equal([...aSlow.a, ...aSlow.b].filter((ok) => !ok).length, 20);
  });
});

describe('AWS throttling: Auto Scaling and EKS', () => {
  it("shares one Auto Scaling bucket between every action, refusing with Auto Scaling's Throttling: Rate exceeded", async (t) => {
    // Prepare
    const { clock, autoscaling } = world(t, {}, 1);
    // Act
    const reads = await burst(clock, 100, (i) => (i % 2 ? autoscaling.send(new DescribeAutoScalingGroupsCommand({})) : autoscaling.send(new DescribeTagsCommand({}))));
    const [write] = await burst(clock, 1, () => autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 })));
    // Assess
    assert.equal(failed(reads).length, 0);
    assert.deepEqual(write, { ok: false, name: 'Throttling', message: 'Rate exceeded', httpStatusCode: 400, attempts: 1 });
  });

  it("keeps a bucket per EKS action, refusing with EKS's ThrottlingException", async (t) => {
    // Prepare
    const { clock, eks } = world(t, {}, 1);
    // Act
    const described = await burst(clock, 101, () => eks.send(new DescribeClusterCommand({ name: 'prod' })));
    const listed = await burst(clock, 1, () => eks.send(new ListClustersCommand({})));
    // Assess
    const answers = described.map((o) => (o.ok ? 'ok' : `${o.name} ${o.httpStatusCode}`));
    assert.equal(answers.filter((a) => a === 'ThrottlingException 429').length, 1, 'the 101st');
    assert.equal(answers.filter((a) => a === 'ResourceNotFoundException 404').length, 100, 'the others reached the service, which has no such cluster');
    assert.equal(listed[0]!.ok, true);
  });

  it("does not draw the Auto Scaling engine's own launches from the caller's RunInstances buckets", async (t) => {
    // Prepare: a group, and RunInstances buckets that hold one launch of one instance
    const { clock, account, ec2, autoscaling } = world(t, undefined, 1);
    const subnet = account.seedVpc().subnets[0]!.subnetId;
    const imageId = account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id')!;
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: { ImageId: imageId, InstanceType: 'm5.large' } }));
    await autoscaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', LaunchTemplate: { LaunchTemplateName: 'web', Version: '$Latest' }, MinSize: 0, MaxSize: 10, DesiredCapacity: 0, VPCZoneIdentifier: subnet }));
    account.throttling.enable({ limits: { 'ec2:RunInstances': { capacity: 1, refillPerSecond: 0.001 }, 'ec2:RunInstances (resource)': { capacity: 1, refillPerSecond: 0.001 } } });
    await burst(clock, 1, () => ec2.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: subnet })));
    // Act
    const [scaled] = await burst(clock, 1, () => autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 5 })));
    await clock.advance(60_000);
    // Assess
    assert.equal(scaled!.ok, true);
    const [group] = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups!;
    assert.equal(group!.Instances!.length, 5);
    assert.equal(account.throttling.tally().attempts.get('ec2:RunInstances'), 1, 'only our own launch was counted');
  });
});

describe('AWS throttling: the switch', () => {
  it('is off by default: three hundred calls at one instant are all answered, and nothing is counted', async (t) => {
    // Prepare
    const { clock, account, ec2 } = world(t);
    // Act
    const outcomes = await burst(clock, 300, () => ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })));
    // Assess
    assert.equal(account.throttling.enabled, false);
    assert.equal(failed(outcomes).length, 0);
    assert.equal(account.throttling.tally().attempts.size, 0);
  });

  it('never refuses a call made outside a Lambda invocation (a person at the console), though it takes its token', async (t) => {
    // Prepare
    const { clock, ec2 } = world(t, {}, 1);
    // Act
    const outside = await Promise.all(Array.from({ length: 100 }, () => outcome(ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })))));
    const inside = await burst(clock, 1, () => ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] })));
    // Assess
    assert.equal(failed(outside).length, 0);
    assert.equal(inside[0]!.ok, false, 'the bucket was empty');
  });

  it('never leaves an invocation awaited outside settle() waiting on a clock nobody runs: its calls are admitted', async (t) => {
    // Prepare
    const { clock, ec2 } = world(t, {}, 1);
    // Act: nothing runs the world
    const outcomes = await runAsInvocation(clock, 'detectStaleGroups', {}, () => Promise.all(Array.from({ length: 120 }, () => outcome(ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))))));
    // Assess
    assert.equal(failed(outcomes).length, 0);
  });

  it('refuses an unknown option, or a limit for a bucket that does not exist, loudly', (t) => {
    // Prepare
    const { account } = world(t);
    // Act, Assess
    assert.throws(() => account.throttling.enable({ maxAttempt: 3 } as never), /unknown option maxAttempt/);
    assert.throws(() => account.throttling.enable({ maxAttempts: 1 } as never), /the SDK client's own setting/);
    assert.throws(() => account.throttling.enable({ limits: { 'autoscaling:DescribeTags': { capacity: 1, refillPerSecond: 1 } } }), /names no bucket/);
  });
});
