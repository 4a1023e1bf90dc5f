import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, ListClustersCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { lambdaContext, quietLogs } from './lambda-context.js';

const DETECTION = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-detection';
Object.assign(process.env, { AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: '*', ROLLOUTS_TABLE: 'rollouts', AMI_ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-rollout', AMI_DETECTION_STATE_MACHINE_ARN: DETECTION, FLEET_TABLE: 'fleet', FLEET_PROMOTION_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:fleet-promotion' });
quietLogs();
const eks = mockClient(EKSClient);
const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const mocks = [ec2, eks, autoscaling, mockClient(SSMClient), sfn, ddb];
const awsCalls = () => mocks.reduce((n, m) => n + m.calls().length, 0);

let detect: (event: unknown, context: unknown) => Promise<any>;
let prepare: (event: unknown, context: unknown) => Promise<any>;
let screen: (event: unknown, context: unknown) => Promise<any>;
before(async () => {
  ({ handler: detect } = await import('../../functions/detect-stale-groups.js'));
  ({ handler: screen } = await import('../../functions/screen-image-event.js'));
  ({ handler: prepare } = await import('../../functions/prepare-launch-template.js'));
});

const amiEvent = (state: string) => ({
  version: '0', id: '7f5f6b6e-5b6b-4f7e-9d6a-1b2c3d4e5f60', 'detail-type': 'EC2 AMI State Change', source: 'aws.ec2', account: '123456789012',
  time: '2026-11-21T09:00:00Z', region: 'eu-west-1', resources: ['arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0'],
  detail: { RequestId: 'x', ImageId: 'ami-0123456789abcdef0', State: state, ErrorReason: '' },
});

describe('Handlers: detect-stale-groups and prepare-launch-template', () => {
  beforeEach(() => mocks.forEach((m) => m.reset()));

  it('screening ignores an AMI that did not become available, calling nothing', async () => {
    const out = await screen(amiEvent('failed'), lambdaContext());
    assert.deepEqual(out, { outcome: 'ignored', reason: 'image state failed is not available' });
    assert.equal(awsCalls(), 0);
  });

  describe('screening an available AMI', () => {
    const golden = { AutoScalingGroupName: 'golden', AutoScalingGroupARN: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:1:autoScalingGroupName/golden', Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }, { Key: 'eks-node-lifecycle/rollout', Value: 'auto' }, { Key: 'eks-node-lifecycle/ami-name-prefix', Value: 'acme-' }] };
    const prepareAccount = (name: string) => {
      ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0123456789abcdef0', Name: name, OwnerId: '123456789012', State: 'available' }] });
      eks.on(ListClustersCommand).resolves({ clusters: ['prod'] });
      eks.on(ListNodegroupsCommand).resolves({ nodegroups: [] });
      autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [golden as never] });
      ddb.on(UpdateCommand).resolves({});
      sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: `arn:aws:states:eu-west-1:123456789012:execution:ami-detection:${input.name}`, startDate: new Date() }));
    };

    it('an image no group could take: one DescribeImages, the groups\' tags, no window and no execution', async () => {
      prepareAccount('packer-base-1');
      const out = await screen(amiEvent('available'), lambdaContext());
      assert.equal(out.outcome, 'no-match');
      assert.equal(ec2.commandCalls(DescribeImagesCommand).length, 1);
      assert.equal(ddb.calls().length, 0);
      assert.equal(sfn.calls().length, 0);
    });

    it('an image golden could take: golden joins the open window, whose execution is started with the window\'s own input', async () => {
      prepareAccount('acme-eks-al2023-1');
      const out = await screen(amiEvent('available'), lambdaContext());
      assert.equal(out.outcome, 'debounced');
      assert.deepEqual(out.groups, [{ cluster: 'prod', group: 'golden' }]);
      const joined = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input).find((i) => String(i.Key!['lockKey']).startsWith('detect-window#2'))!;
      assert.deepEqual([...(joined.ExpressionAttributeValues![':groups'] as Set<string>)], ['prod/golden']);
      const [start] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      assert.equal(start!.stateMachineArn, DETECTION);
      assert.equal(start!.name, out.executionName);
      assert.deepEqual(JSON.parse(start!.input!), { window: out.window, detectAt: out.detectAt });
    });
  });

  it('runs a detection over no clusters as an empty plan', async () => {
    eks.on(ListClustersCommand).resolves({ clusters: [] });
    const out = await detect({ kind: 'detect', dryRun: true }, lambdaContext());
    assert.deepEqual(out.plans, []);
  });

  it('rejects bad and hostile input with InvalidInputError and calls nothing', async () => {
    for (const bad of [
      { kind: 'detect', cluster: '../../etc' },
      // AMI events are screened first (screenImageEvent), never handed to detection
      amiEvent('available'),
      { kind: 'debounced-detection', window: '2026-11-21T09:00:00Z' },
      { kind: 'rollout' },
    ]) {
      await assert.rejects(detect(bad, lambdaContext()), { name: 'InvalidInputError' });
    }
    await assert.rejects(screen({ ...amiEvent('available'), detail: { ImageId: 'ami-$(reboot)', State: 'available' } }, lambdaContext()), { name: 'InvalidInputError' });
    for (const bad of [
      { cluster: 'prod', group: { kind: 'self-managed', name: 'web', launchTemplate: { id: 'lt-0123456789abcdef0', version: 1 } }, target: { imageId: 'not-an-ami' } },
      { cluster: 'prod', group: { kind: 'other', name: 'web' }, target: { imageId: 'ami-0123456789abcdef0' } },
      { cluster: 'prod', group: { kind: 'self-managed', name: 'web', launchTemplate: { id: 'lt-x; rm', version: 1 } }, target: { imageId: 'ami-0123456789abcdef0' } },
    ]) {
      await assert.rejects(prepare(bad, lambdaContext()), { name: 'InvalidInputError' });
    }
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ kind: fc.string(), cluster: fc.string() }), fc.record({ cluster: fc.string(), group: fc.jsonValue(), target: fc.jsonValue() })), async (event) => {
        await assert.rejects(prepare(event, lambdaContext()), { name: 'InvalidInputError' });
      }),
      { numRuns: 300 },
    );
    assert.equal(awsCalls(), 0);
  });
});
