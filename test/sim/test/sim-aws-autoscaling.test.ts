import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  PutLifecycleHookCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateLaunchTemplateVersionCommand, DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { VirtualClock } from '../clock';
import { SimAccount } from '../aws/account';
import type { AwsEvent, LifecycleActionDetail } from '../aws/events';

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

async function world(t: { after: (fn: () => void) => void }, hooks: { launch?: [number, string]; terminate?: [number, string] } = {}) {
  const clock = new VirtualClock();
  const events: AwsEvent[] = [];
  const account = new SimAccount({ clock, emit: (e) => events.push(e) }).bind();
  t.after(() => account.restore());
  const vpc = account.seedVpc();
  const ec2 = new EC2Client(config);
  const asg = new AutoScalingClient(config);
  const imageId = account.ssm.value('/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id')!;
  const template = await ec2.send(new CreateLaunchTemplateCommand({
    LaunchTemplateName: 'web',
    LaunchTemplateData: {
      ImageId: imageId,
      InstanceType: 'm5.large',
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web-node' }, { Key: 'owner', Value: 'template' }] },
        { ResourceType: 'volume', Tags: [{ Key: 'backup', Value: 'daily' }] },
      ],
    },
  }));
  const launchTemplateId = template.LaunchTemplate!.LaunchTemplateId!;
  await asg.send(new CreateAutoScalingGroupCommand({
    AutoScalingGroupName: 'web',
    LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
    MinSize: 0,
    MaxSize: 6,
    DesiredCapacity: 0,
    VPCZoneIdentifier: vpc.subnets.map((s) => s.subnetId).join(','),
    Tags: [
      { Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true },
      { Key: 'owner', Value: 'group', PropagateAtLaunch: true },
      { Key: 'cost-centre', Value: '42', PropagateAtLaunch: false },
    ],
  }));
  if (hooks.launch) {
    await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: hooks.launch[0], DefaultResult: hooks.launch[1], NotificationMetadata: '{"cluster":"prod"}' }));
  }
  if (hooks.terminate) {
    await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: hooks.terminate[0], DefaultResult: hooks.terminate[1] }));
  }
  const states = async () => {
    const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }));
    return out.AutoScalingGroups![0]!.Instances!.map((i) => i.LifecycleState);
  };
  const lifecycleEvents = (type: 'launch' | 'terminate') =>
    events.filter((e) => e['detail-type'] === `EC2 Instance-${type} Lifecycle Action`) as unknown as AwsEvent<LifecycleActionDetail>[];
  return { clock, account, events, ec2, asg, launchTemplateId, states, lifecycleEvents };
}

describe('Auto Scaling: scaling out', () => {
  it('launches the desired instances across distinct AZs with the template tags and the propagated group tags', async (t) => {
    const { clock, ec2, asg, launchTemplateId } = await world(t);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }));
    await clock.advance(15_000);
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.deepEqual(group.Instances!.map((i) => i.LifecycleState), ['InService', 'InService', 'InService']);
    assert.deepEqual(group.Instances!.map((i) => i.AvailabilityZone).sort(), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    assert.deepEqual(group.Instances!.map((i) => i.LaunchTemplate), Array(3).fill({ LaunchTemplateId: launchTemplateId, LaunchTemplateName: 'web', Version: '1' }));

    const reservations = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:aws:autoscaling:groupName', Values: ['web'] }] }))).Reservations!;
    assert.equal(reservations.length, 3);
    for (const r of reservations) {
      assert.equal(r.RequesterId, '940372691376');
      const tags = Object.fromEntries(r.Instances![0]!.Tags!.map((tag) => [tag.Key, tag.Value]));
      assert.deepEqual(tags, {
        Name: 'web-node',
        owner: 'group', // the group's tag wins over the template's
        'kubernetes.io/cluster/prod': 'owned',
        'aws:ec2launchtemplate:id': launchTemplateId,
        'aws:ec2launchtemplate:version': '1',
        'aws:autoscaling:groupName': 'web',
      });
      const volumes = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [r.Instances![0]!.InstanceId!] }] }));
      assert.deepEqual(volumes.Volumes![0]!.Tags, [{ Key: 'backup', Value: 'daily' }]);
    }
  });

  it('resolves $Latest when each instance launches, not when the group was created', async (t) => {
    const { clock, ec2, asg, launchTemplateId } = await world(t);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await clock.advance(15_000);
    await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: launchTemplateId, SourceVersion: '1', LaunchTemplateData: { InstanceType: 'm5.xlarge' } }));
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }));
    await clock.advance(15_000);
    const instances = (await asg.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances!;
    assert.deepEqual(instances.map((i) => [i.LaunchTemplate!.Version, i.InstanceType, i.HealthStatus]), [['1', 'm5.large', 'HEALTHY'], ['2', 'm5.xlarge', 'HEALTHY']]);
  });

  it('scales in by the Default policy: balance zones first, then the oldest template version', async (t) => {
    const { clock, ec2, asg, launchTemplateId, states } = await world(t);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }));
    await clock.advance(15_000);
    await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: launchTemplateId, SourceVersion: '1', LaunchTemplateData: {} }));
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 4 }));
    await clock.advance(15_000);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }));
    await clock.advance(60_000);
    assert.deepEqual(await states(), ['InService', 'InService', 'InService']);
    const remaining = (await asg.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances!;
    // the fourth instance went to eu-west-1a, the busiest zone then; its v1 sibling there goes
    assert.deepEqual(remaining.map((i) => [i.AvailabilityZone, i.LaunchTemplate!.Version]).sort(), [['eu-west-1a', '2'], ['eu-west-1b', '1'], ['eu-west-1c', '1']]);
  });
});

describe('Auto Scaling: launch lifecycle hooks', () => {
  it('waits in Pending:Wait, emits the documented event, and goes InService on CONTINUE', async (t) => {
    const { clock, account, asg, states, lifecycleEvents } = await world(t, { launch: [300, 'ABANDON'] });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await clock.advance(20_000);
    assert.deepEqual(await states(), ['Pending:Wait'], 'EC2 says running, the hook still holds the instance');
    const [event] = lifecycleEvents('launch');
    assert.ok(event);
    const group = account.autoscaling.groups.get('web')!;
    assert.deepEqual(Object.keys(event), ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    assert.equal(event.source, 'aws.autoscaling');
    assert.equal(event.account, '111122223333');
    assert.equal(event.region, 'eu-west-1');
    assert.equal(event.time, '2026-11-21T09:00:01Z');
    assert.deepEqual(event.resources, [group.arn]);
    const instanceId = [...group.instances.keys()][0]!;
    assert.deepEqual(event.detail, {
      LifecycleActionToken: event.detail.LifecycleActionToken,
      AutoScalingGroupName: 'web',
      LifecycleHookName: 'launch',
      EC2InstanceId: instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      NotificationMetadata: '{"cluster":"prod"}',
      Origin: 'EC2',
      Destination: 'AutoScalingGroup',
    });
    assert.match(event.detail.LifecycleActionToken, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    await assert.rejects(
      asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'launch', LifecycleActionToken: '00000000-0000-4000-8000-000000000000', LifecycleActionResult: 'CONTINUE' })),
      (error: Error) => error.name === 'ValidationError' && /No active Lifecycle Action found with token 00000000-0000-4000-8000-000000000000/.test(error.message),
    );
    await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'launch', LifecycleActionToken: event.detail.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' }));
    await clock.advance(2_000);
    assert.deepEqual(await states(), ['InService']);
    // the token is spent
    await assert.rejects(
      asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'launch', LifecycleActionToken: event.detail.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' })),
      /No active Lifecycle Action found with token/,
    );
  });

  it('lets heartbeats extend the action, but never past the global timeout', async (t) => {
    const { clock, asg, states, account } = await world(t, { launch: [30, 'ABANDON'] });
    const hooks = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web' }));
    assert.equal(hooks.LifecycleHooks![0]!.GlobalTimeout, 3000);
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await clock.advance(1_000);
    const instanceId = [...account.autoscaling.groups.get('web')!.instances.keys()][0]!;
    const started = clock.now();
    // a heartbeat every 25 s keeps a 30 s hook alive…
    while (clock.now() - started < 2_975_000) {
      await clock.advance(25_000);
      await asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'launch', InstanceId: instanceId }));
    }
    assert.deepEqual(await states(), ['Pending:Wait']);
    // …until 100 × HeartbeatTimeout after the action began
    await clock.advance(25_000);
    const group = account.autoscaling.groups.get('web')!;
    assert.notEqual(group.instances.get(instanceId)?.lifecycleState, 'Pending:Wait');
    assert.ok(account.log.some((l) => l.message.includes('reached its global timeout; applying DefaultResult ABANDON')));
    await assert.rejects(
      asg.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'launch', InstanceId: instanceId })),
      /No active Lifecycle Action found with instance ID/,
    );
  });

  it('applies DefaultResult ABANDON on timeout: terminates the instance and launches a replacement after a backoff', async (t) => {
    const { clock, asg, account, ec2, lifecycleEvents, events } = await world(t, { launch: [60, 'ABANDON'] });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await clock.advance(1_000);
    const first = lifecycleEvents('launch')[0]!.detail.EC2InstanceId;
    await clock.advance(60_000);
    const described = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [first] }))).Reservations![0]!.Instances![0]!;
    assert.equal(described.State!.Name, 'shutting-down');
    assert.ok(events.some((e) => e['detail-type'] === 'EC2 Instance Launch Unsuccessful' && (e.detail.StatusMessage as string).includes('was abandoned')));
    // the group retries after its backoff, with a new action token
    await clock.advance(15_000);
    const launches = lifecycleEvents('launch');
    assert.equal(launches.length, 2);
    assert.notEqual(launches[1]!.detail.EC2InstanceId, first);
    assert.notEqual(launches[1]!.detail.LifecycleActionToken, launches[0]!.detail.LifecycleActionToken);
    // the second failure doubles the wait before the third attempt
    const secondAt = Date.parse(launches[1]!.time);
    await clock.advance(secondAt + 60_000 + 19_000 - clock.now());
    assert.equal(lifecycleEvents('launch').length, 2);
    await clock.advance(2_000);
    assert.equal(lifecycleEvents('launch').length, 3);
    assert.equal(Date.parse(lifecycleEvents('launch')[2]!.time) - secondAt, 80_000);
    const activities = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'web' }))).Activities!;
    assert.ok(activities.some((a) => a.StatusCode === 'Cancelled' && a.StatusMessage?.includes('Lifecycle Action Completed with ABANDON Result')));
    assert.equal(account.autoscaling.groups.get('web')!.launchFailures, 2);
  });

  it('applies DefaultResult CONTINUE on timeout: the instance goes InService', async (t) => {
    const { clock, asg, states } = await world(t, { launch: [60, 'CONTINUE'] });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await clock.advance(50_000);
    assert.deepEqual(await states(), ['Pending:Wait']);
    await clock.advance(15_000);
    assert.deepEqual(await states(), ['InService']);
  });

  it('rejects heartbeat timeouts outside 30..7200 s and caps the global timeout at 48 h', async (t) => {
    const { asg } = await world(t);
    await assert.rejects(
      asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'x', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 20 })),
      (error: Error) => error.name === 'ValidationError',
    );
    await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'x', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 7200 }));
    await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'y', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }));
    const hooks = (await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web' }))).LifecycleHooks!;
    assert.deepEqual(hooks.map((h) => [h.LifecycleHookName, h.HeartbeatTimeout, h.GlobalTimeout, h.DefaultResult]), [['x', 7200, 172800, 'ABANDON'], ['y', 3600, 172800, 'ABANDON']]);
  });
});

describe('Auto Scaling: terminate lifecycle hooks', () => {
  it('holds a terminating instance in Terminating:Wait until CONTINUE, then terminates it without replacement', async (t) => {
    const { clock, asg, ec2, account, lifecycleEvents, states } = await world(t, { terminate: [600, 'CONTINUE'] });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }));
    await clock.advance(15_000);
    const [victim, survivor] = [...account.autoscaling.groups.get('web')!.instances.keys()];
    const { Activity } = await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: true }));
    assert.equal(Activity!.Description, `Terminating EC2 instance: ${victim}`);
    await clock.advance(1_000);
    const [event] = lifecycleEvents('terminate');
    assert.equal(event!.detail.EC2InstanceId, victim);
    assert.equal(event!.detail.LifecycleTransition, 'autoscaling:EC2_INSTANCE_TERMINATING');
    assert.equal(event!.detail.Origin, 'AutoScalingGroup');
    assert.equal(event!.detail.Destination, 'EC2');
    assert.deepEqual(await states(), ['Terminating:Wait', 'InService']);
    await clock.advance(300_000);
    const stillRunning = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(stillRunning.State!.Name, 'running', 'the drain has time: EC2 has not been asked to terminate yet');

    await asg.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: 'drain', InstanceId: victim, LifecycleActionResult: 'CONTINUE' }));
    assert.deepEqual(await states(), ['Terminating:Proceed', 'InService']);
    await clock.advance(31_000);
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }))).AutoScalingGroups![0]!;
    assert.equal(group.DesiredCapacity, 1);
    assert.deepEqual(group.Instances!.map((i) => i.InstanceId), [survivor]);
    const gone = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(gone.State!.Name, 'terminated');
  });

  it('terminates on heartbeat timeout whatever the DefaultResult, and replaces the instance when capacity was not decremented', async (t) => {
    const { clock, asg, account, lifecycleEvents, states } = await world(t, { terminate: [120, 'ABANDON'] });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await clock.advance(15_000);
    const [victim] = [...account.autoscaling.groups.get('web')!.instances.keys()];
    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }));
    await clock.advance(15_000);
    assert.deepEqual(await states(), ['Terminating:Wait', 'InService'], 'the replacement does not wait for the drain');
    await clock.advance(140_000);
    assert.deepEqual(await states(), ['InService']);
    assert.equal(lifecycleEvents('terminate').length, 1);
  });
});

describe('Auto Scaling: instances lost behind the group\'s back', () => {
  it('warns of a Spot interruption, loses the instance two minutes later, and replaces it', async (t) => {
    const { clock, asg, account, events, launchTemplateId, states } = await world(t);
    await asg.send(new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: 'web',
      MixedInstancesPolicy: {
        LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' }, Overrides: [{ InstanceType: 'm5.large' }, { InstanceType: 'c5.large' }] },
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0 },
      },
      DesiredCapacity: 1,
    }));
    await clock.advance(15_000);
    const [victim] = [...account.autoscaling.groups.get('web')!.instances.keys()];
    assert.equal(account.ec2.instances.get(victim!)!.instance.InstanceLifecycle, 'spot');
    account.ec2.interruptSpot(victim!);
    await clock.advance(1_000);
    const warning = events.find((e) => e['detail-type'] === 'EC2 Spot Instance Interruption Warning');
    assert.deepEqual(warning?.detail, { 'instance-id': victim, 'instance-action': 'terminate' });
    assert.deepEqual(await states(), ['InService']);
    await clock.advance(120_000);
    const replacement = [...account.autoscaling.groups.get('web')!.instances.values()].find((i) => i.instanceId !== victim);
    assert.ok(replacement, 'the group launched a replacement');
    await clock.advance(60_000);
    assert.deepEqual(await states(), ['InService']);
    assert.equal(account.ec2.instances.get(victim!)!.instance.State.Name, 'terminated');
  });
});

describe('Auto Scaling: describing groups', () => {
  it('filters groups by tag', async (t) => {
    const { asg } = await world(t);
    const owned = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:kubernetes.io/cluster/prod', Values: ['owned'] }] }));
    assert.deepEqual(owned.AutoScalingGroups!.map((g) => g.AutoScalingGroupName), ['web']);
    const other = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag-key', Values: ['kubernetes.io/cluster/staging'] }] }));
    assert.deepEqual(other.AutoScalingGroups, []);
    const byValue = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag-value', Values: ['42'] }] }));
    assert.equal(byValue.AutoScalingGroups!.length, 1);
  });
});
