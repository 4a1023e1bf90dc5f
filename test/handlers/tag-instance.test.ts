import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, CreateOrUpdateTagsCommand, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, type DescribeInstancesCommandOutput, DescribeLaunchTemplatesCommand, EC2Client, type InstanceStateName } from '@aws-sdk/client-ec2';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { InstanceNotFoundError, InvalidInputError } from '../../shared/errors.js';
import { lambdaContext, quietLogs } from './lambda-context.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-node-join';
process.env.AWS_REGION = 'eu-west-1';
process.env.MANAGED_CLUSTERS = 'prod';
process.env.NODE_JOIN_STATE_MACHINE_ARN = STATE_MACHINE;
quietLogs();

const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const sfn = mockClient(SFNClient);
const stateChange = JSON.parse(readFileSync(new URL('../events/ec2-instance-state-change-running.json', import.meta.url), 'utf8'));
const launchHook = JSON.parse(readFileSync(new URL('../events/autoscaling-launch-lifecycle-action.json', import.meta.url), 'utf8'));

let handler: (event: unknown, context: unknown) => Promise<any>;
before(async () => {
  ({ handler } = await import('../../functions/tag-instance.js'));
});

function instance(tags: Record<string, string>, state: InstanceStateName = 'running'): DescribeInstancesCommandOutput {
  return {
    $metadata: {},
    Reservations: [{ Instances: [{ InstanceId: 'i-1234567890abcdef0', State: { Name: state }, Placement: { AvailabilityZone: 'eu-west-1a' }, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }],
  };
}
function group(tags: { Key: string; Value: string; PropagateAtLaunch: boolean }[]) {
  return { AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 0, MaxSize: 3, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: tags }] };
}
const writes = () => [
  ...ec2.commandCalls(CreateTagsCommand),
  ...autoscaling.commandCalls(CreateOrUpdateTagsCommand),
  ...sfn.commandCalls(StartExecutionCommand),
];

describe('Handler: tag-instance', () => {
  beforeEach(() => {
    ec2.reset();
    autoscaling.reset();
    sfn.reset();
  });

  it('tags a running instance of a self-managed group and makes the group tag propagate', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group([{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: false }]));

    const result = await handler(stateChange, lambdaContext());

    assert.equal(result.outcome, 'tagged');
    assert.deepEqual(ec2.commandCalls(CreateTagsCommand)[0]!.args[0].input, { Resources: ['i-1234567890abcdef0'], Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }] });
    assert.deepEqual(autoscaling.commandCalls(CreateOrUpdateTagsCommand)[0]!.args[0].input.Tags, [
      { ResourceId: 'prod-workers', ResourceType: 'auto-scaling-group', Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true },
    ]);
    assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0, 'a state change alone does not wait for the node');
  });

  it('writes nothing for an instance that already carries the tag (a repeated event)', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers', 'kubernetes.io/cluster/prod': 'owned' }));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group([{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true }]));

    const result = await handler(stateChange, lambdaContext());

    assert.equal(result.outcome, 'already-tagged');
    assert.deepEqual(writes(), []);
  });

  it('falls back to the launch template tags', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:ec2launchtemplate:id': 'lt-0123456789abcdef0' }));
    ec2.on(DescribeLaunchTemplatesCommand).resolves({ LaunchTemplates: [{ LaunchTemplateId: 'lt-0123456789abcdef0', Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }] }] });

    const result = await handler(stateChange, lambdaContext());

    assert.equal(result.outcome, 'tagged');
    assert.equal(result.cluster, 'prod');
  });

  it('ignores an instance of another cluster, with no write', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group([{ Key: 'kubernetes.io/cluster/dev', Value: 'owned', PropagateAtLaunch: true }]));

    const result = await handler(stateChange, lambdaContext());

    assert.deepEqual(result, { outcome: 'ignored', instanceId: 'i-1234567890abcdef0', reason: 'cluster dev is not managed by this deployment' });
    assert.deepEqual(writes(), []);
  });

  it('ignores an unknown instance, with no write', async () => {
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('The instance ID does not exist'), { name: 'InvalidInstanceID.NotFound' }));

    const result = await handler(stateChange, lambdaContext());

    assert.equal(result.outcome, 'ignored');
    assert.deepEqual(writes(), []);
  });

  it('fails a launch hook for an instance EC2 does not show yet with a retryable InstanceNotFoundError, writing nothing', async () => {
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('The instance ID does not exist'), { name: 'InvalidInstanceID.NotFound' }));

    await assert.rejects(handler(launchHook, lambdaContext()), (e: InstanceNotFoundError) => e.name === 'InstanceNotFoundError' && e.retryable);
    assert.deepEqual(writes(), []);
  });

  it('for a launch hook, starts node-join with a name derived from the lifecycle action and a deadline before the hook times out', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }, 'pending'));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group([{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true }]));
    autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [{ LifecycleHookName: 'eks-node-lifecycle-launch', HeartbeatTimeout: 600 }] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:x`, startDate: new Date() });

    await handler(launchHook, lambdaContext());

    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    assert.equal(start.stateMachineArn, STATE_MACHINE);
    assert.match(start.name!, /^join-i-1234567890abcdef0-[0-9a-f]{16}$/);
    const input = JSON.parse(start.input!);
    assert.equal(input.deadline, '2026-11-21T09:09:00.000Z');
    assert.deepEqual(input.lifecycleAction, { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'eks-node-lifecycle-launch', lifecycleActionToken: '87654321-4321-4321-4321-210987654321', instanceId: 'i-1234567890abcdef0' });
  });

  it('tags the instance but leaves another tool\'s launch hook alone: no node-join, nothing completed', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }, 'pending'));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group([{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true }]));

    const result = await handler({ ...launchHook, detail: { ...launchHook.detail, LifecycleHookName: 'warm-cache' } }, lambdaContext());

    assert.equal(result.outcome, 'tagged');
    assert.match(result.hookLeftAlone, /launch hook warm-cache is not this service's/);
    assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0);
    assert.equal(autoscaling.commandCalls(DescribeLifecycleHooksCommand).length, 0);
  });

  it('treats ExecutionAlreadyExists as the work already under way', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers', 'kubernetes.io/cluster/prod': 'owned' }, 'pending'));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group([{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true }]));
    autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    const result = await handler(launchHook, lambdaContext());

    assert.equal(result.joinExecution.started, false);
  });

  describe('bad input', () => {
    const bad: [string, unknown][] = [
      ['null', null],
      ['a string', 'hello'],
      ['a wrong detail-type', { ...stateChange, 'detail-type': 'EC2 Spot Instance Interruption Warning' }],
      ['a missing instance id', { ...stateChange, detail: { state: 'running' } }],
      ['a malformed instance id', { ...stateChange, detail: { state: 'running', 'instance-id': 'i-; rm -rf' } }],
      ['a launch hook without token', { ...launchHook, detail: { ...launchHook.detail, LifecycleActionToken: undefined } }],
      ['a launch hook with a terminating transition', { ...launchHook, detail: { ...launchHook.detail, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' } }],
    ];
    for (const [name, event] of bad) {
      it(`rejects ${name} with InvalidInputError and calls no AWS API`, async () => {
        await assert.rejects(handler(event, lambdaContext()), (e: Error) => e instanceof InvalidInputError && e.name === 'InvalidInputError');
        assert.equal(ec2.calls().length + autoscaling.calls().length + sfn.calls().length, 0);
      });
    }

    it('rejects random JSON with a typed error and no AWS call (fuzz)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ 'detail-type': fc.string(), source: fc.string(), detail: fc.jsonValue() })), async (event) => {
          await assert.rejects(handler(event, lambdaContext()), { name: 'InvalidInputError' });
        }),
        { numRuns: 300 },
      );
      assert.equal(ec2.calls().length + autoscaling.calls().length + sfn.calls().length, 0);
    });
  });
});
