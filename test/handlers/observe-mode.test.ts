import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, beforeEach, describe, it } from 'node:test';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, quietLogs } from './lambda-context.js';

/** The handlers with SERVICE_MODE=observe (the param mode=observe): they report (PutEvents) and write nothing. */
process.env.AWS_REGION = 'eu-west-1';
process.env.MANAGED_CLUSTERS = 'prod';
process.env.SERVICE_MODE = 'observe';
process.env.NODE_JOIN_STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-node-join';
quietLogs();

const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const sfn = mockClient(SFNClient);
const eventbridge = mockClient(EventBridgeClient);
const launchHook = JSON.parse(readFileSync(new URL('../events/autoscaling-launch-lifecycle-action.json', import.meta.url), 'utf8'));
const stateChange = JSON.parse(readFileSync(new URL('../events/ec2-instance-state-change-running.json', import.meta.url), 'utf8'));

const writes = () => [
  ...ec2.commandCalls(CreateTagsCommand),
  ...autoscaling.commandCalls(CreateOrUpdateTagsCommand),
  ...autoscaling.commandCalls(CompleteLifecycleActionCommand),
  ...autoscaling.commandCalls(PutLifecycleHookCommand),
  ...sfn.commandCalls(StartExecutionCommand),
];
const reports = () => eventbridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []).map((e) => ({ detailType: e.DetailType, detail: JSON.parse(e.Detail!) }));

describe('Handlers in observe mode', () => {
  let tagInstance: (event: unknown, context: unknown) => Promise<any>;
  let ensureHooks: (event: unknown, context: unknown) => Promise<any>;
  before(async () => {
    ({ handler: tagInstance } = await import('../../functions/tag-instance.js'));
    ({ handler: ensureHooks } = await import('../../functions/ensure-terminate-hooks.js'));
  });
  beforeEach(() => {
    for (const mock of [ec2, autoscaling, sfn, eventbridge]) mock.reset();
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  });

  it('tagInstance: reports the ownership tags and the launch hook it would answer, left to its default result; tags nothing, starts no node-join', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1234567890abcdef0', State: { Name: 'pending' }, Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'prod-workers' }] }] }] });
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: false }] } as never] });
    autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [{ LifecycleHookName: 'eks-node-lifecycle-launch', HeartbeatTimeout: 600, DefaultResult: 'ABANDON' }] });

    const result = await tagInstance(launchHook, lambdaContext());

    assert.equal(result.outcome, 'observed');
    assert.deepEqual(writes(), []);
    const [report, ...more] = reports();
    assert.equal(more.length, 0);
    assert.equal(report!.detailType, 'Node Launch Observed');
    assert.deepEqual(report!.detail.instanceTags, { 'kubernetes.io/cluster/prod': 'owned' });
    assert.deepEqual(report!.detail.groupTag, { group: 'prod-workers', key: 'kubernetes.io/cluster/prod', value: 'owned' });
    assert.deepEqual(report!.detail.lifecycleAction, { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'eks-node-lifecycle-launch', defaultResult: 'ABANDON', timeoutSeconds: 600 });
    assert.match(report!.detail.summary, /default result ABANDON applies after 600 s/);
  });

  it('tagInstance: a running instance whose launch hook the service would answer is reported once, with that hook (not again on its state change)', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1234567890abcdef0', State: { Name: 'running' }, Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'prod-workers' }] }] }] });
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned', PropagateAtLaunch: true }] } as never] });
    autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [{ LifecycleHookName: 'eks-node-lifecycle-launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }] });

    const withHook = await tagInstance(stateChange, lambdaContext());
    assert.equal(withHook.outcome, 'ignored');
    assert.match(withHook.reason, /reported with its launch hook eks-node-lifecycle-launch/);
    assert.deepEqual(reports(), []);

    autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] });
    const withoutHook = await tagInstance(stateChange, lambdaContext());
    assert.equal(withoutHook.outcome, 'observed');
    assert.deepEqual(reports().map((r) => r.detail.wouldDo), [['CreateTags kubernetes.io/cluster/prod=owned on i-1234567890abcdef0']]);
    assert.deepEqual(writes(), []);
  });

  it('ensureTerminateHooks: reports the hook it would install, installs none', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', Tags: [{ Key: 'eks-node-lifecycle/drain', Value: 'on' }, { Key: 'kubernetes.io/cluster/prod', Value: 'owned' }] } as never] });
    autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] });

    const result = await ensureHooks({}, lambdaContext());

    assert.deepEqual(result.wouldInstall, ['prod-workers']);
    assert.deepEqual(result.installed, []);
    assert.deepEqual(writes(), []);
    assert.deepEqual(reports().map((r) => [r.detailType, r.detail.groups]), [['Terminate Hooks Observed', ['prod-workers']]]);
  });
});
