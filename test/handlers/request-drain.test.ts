import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type DescribeInstancesCommandOutput, EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { lambdaContext, quietLogs } from './lambda-context.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-node-drain';
Object.assign(process.env, { AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: 'prod', NODE_DRAIN_STATE_MACHINE_ARN: STATE_MACHINE, DRAIN_TABLE: 'drains' });
quietLogs();

const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const eks = mockClient(EKSClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const launch = JSON.parse(readFileSync(new URL('../events/autoscaling-launch-lifecycle-action.json', import.meta.url), 'utf8'));
const terminate = {
  ...launch,
  'detail-type': 'EC2 Instance-terminate Lifecycle Action',
  detail: { ...launch.detail, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', Origin: 'AutoScalingGroup', Destination: 'EC2' },
};
const spot = {
  version: '0', id: '1e5527d7-bb36-4607-3370-4164db56a40e', 'detail-type': 'EC2 Spot Instance Interruption Warning', source: 'aws.ec2', account: '123456789012',
  time: '2026-11-21T09:00:00Z', region: 'eu-west-1', resources: ['arn:aws:ec2:eu-west-1a:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': 'terminate' },
};

let handler: (event: unknown, context: unknown) => Promise<any>;
before(async () => {
  ({ handler } = await import('../../functions/request-drain.js'));
});

function instance(tags: Record<string, string>): DescribeInstancesCommandOutput {
  return { $metadata: {}, Reservations: [{ Instances: [{ InstanceId: 'i-1234567890abcdef0', State: { Name: 'running' }, PrivateDnsName: 'ip-10-0-1-5.eu-west-1.compute.internal', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }] };
}
function group(tags: Record<string, string>) {
  return { AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 0, MaxSize: 3, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })) }] };
}
const writes = () => [...ddb.commandCalls(UpdateCommand), ...sfn.commandCalls(StartExecutionCommand), ...autoscaling.commandCalls(CompleteLifecycleActionCommand)];

describe('Handler: request-drain', () => {
  beforeEach(() => {
    for (const m of [ec2, autoscaling, eks, sfn, ddb]) m.reset();
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain-timeout': '30m' }));
    ddb.on(GetCommand).resolves({});
    ddb.on(UpdateCommand).callsFake((input) => ({ Attributes: { instanceId: input.Key.instanceId, status: 'running', generation: 0 } }));
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:drain`, startDate: new Date() });
  });

  it('starts drain-<instance>-0 for a terminate hook, with the group\'s policy and the action recorded', async () => {
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'started');
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    assert.equal(start.name, 'drain-i-1234567890abcdef0-0');
    const input = JSON.parse(start.input!);
    assert.equal(input.trigger, 'terminate-hook');
    assert.deepEqual(input.policy, { drainTimeoutSeconds: 1800, onDrainTimeout: 'fail', maxGracePeriodSeconds: 600 });
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    assert.equal(update.ExpressionAttributeValues![':lifecycleAction'].lifecycleActionToken, '87654321-4321-4321-4321-210987654321');
  });

  it('joins the running drain for a repeated event, recording the action and starting nothing', async () => {
    ddb.on(GetCommand).resolves({ Item: { instanceId: 'i-1234567890abcdef0', status: 'running', generation: 0 } });
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'joined');
    assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0);
  });

  it('completes a late hook at once when the node is already drained', async () => {
    ddb.on(GetCommand).resolves({ Item: { instanceId: 'i-1234567890abcdef0', status: 'drained', generation: 0 } });
    autoscaling.on(CompleteLifecycleActionCommand).resolves({});
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'completed-now');
    assert.equal(autoscaling.commandCalls(CompleteLifecycleActionCommand)[0]!.args[0].input.LifecycleActionResult, 'CONTINUE');
  });

  it('bounds a spot drain by the two-minute notice', async () => {
    await handler(spot, lambdaContext());
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    assert.equal(input.deadline, '2026-11-21T09:01:45.000Z');
    assert.equal(input.trigger, 'spot-interruption');
  });

  it('ignores instances of other clusters and untagged ones, changing nothing', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/dev': 'owned' }));
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'ignored');
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({}));
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'ignored');
    assert.deepEqual(writes(), []);
  });

  it('refuses a manual request naming the wrong cluster for the instance', async () => {
    await assert.rejects(
      handler({ kind: 'manual-drain', cluster: 'staging', instanceId: 'i-1234567890abcdef0', requestedBy: 'U123' }, lambdaContext()),
      { name: 'InvalidInputError' },
    );
    assert.deepEqual(writes(), []);
  });

  it('rejects bad and hostile events with InvalidInputError and calls nothing', async () => {
    const hostile = [
      { ...terminate, detail: { ...terminate.detail, EC2InstanceId: 'i-123; aws ec2 terminate-instances' } },
      { ...terminate, detail: { ...terminate.detail, LifecycleActionToken: '../../etc/passwd' } },
      { ...spot, source: 'evil.corp' },
      { kind: 'manual-drain', cluster: 'prod', nodeName: '../../kube-system', requestedBy: 'U1' },
      { kind: 'manual-drain', cluster: 'prod', instanceId: 'i-1234567890abcdef0', nodeName: 'ip-10-0-1-5', requestedBy: 'U1' },
      { kind: 'manual-drain', cluster: 'prod', instanceId: 'i-1234567890abcdef0' },
      { ...spot, detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': 'explode' } },
    ];
    for (const event of hostile) await assert.rejects(handler(event, lambdaContext()), { name: 'InvalidInputError' }, JSON.stringify(event).slice(0, 120));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ 'detail-type': fc.constantFrom('EC2 Instance-terminate Lifecycle Action', 'EC2 Spot Instance Interruption Warning'), source: fc.string(), detail: fc.jsonValue() }), fc.record({ kind: fc.constant('manual-drain'), cluster: fc.string(), nodeName: fc.string() })), async (event) => {
        await assert.rejects(handler(event, lambdaContext()), { name: 'InvalidInputError' });
      }),
      { numRuns: 500 },
    );
    assert.equal(ec2.calls().length + autoscaling.calls().length + sfn.calls().length + ddb.calls().length, 0);
  });
});
