import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { lambdaContext, quietLogs } from './lambda-context.js';

Object.assign(process.env, { AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: '*', ROLLOUTS_TABLE: 'rollouts', AMI_ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-rollout' });
quietLogs();
const eks = mockClient(EKSClient);
const mocks = [mockClient(EC2Client), eks, mockClient(AutoScalingClient), mockClient(SSMClient), mockClient(SFNClient)];
const awsCalls = () => mocks.reduce((n, m) => n + m.calls().length, 0);

let detect: (event: unknown, context: unknown) => Promise<any>;
let prepare: (event: unknown, context: unknown) => Promise<any>;
before(async () => {
  ({ handler: detect } = await import('../../functions/detect-stale-groups.js'));
  ({ handler: prepare } = await import('../../functions/prepare-launch-template.js'));
});

const amiEvent = (state: string) => ({
  version: '0', id: '7f5f6b6e-5b6b-4f7e-9d6a-1b2c3d4e5f60', 'detail-type': 'EC2 AMI State Change', source: 'aws.ec2', account: '123456789012',
  time: '2026-11-21T09:00:00Z', region: 'eu-west-1', resources: ['arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0'],
  detail: { RequestId: 'x', ImageId: 'ami-0123456789abcdef0', State: state, ErrorReason: '' },
});

describe('Handlers: detect-stale-groups and prepare-launch-template', () => {
  beforeEach(() => mocks.forEach((m) => m.reset()));

  it('ignores an AMI that did not become available, calling nothing', async () => {
    const out = await detect(amiEvent('failed'), lambdaContext());
    assert.equal(out.ignored, 'image state failed is not available');
    assert.equal(awsCalls(), 0);
  });

  it('runs a detection over no clusters as an empty plan', async () => {
    eks.on(ListClustersCommand).resolves({ clusters: [] });
    const out = await detect({ kind: 'detect', dryRun: true }, lambdaContext());
    assert.deepEqual(out.plans, []);
  });

  it('rejects bad and hostile input with InvalidInputError and calls nothing', async () => {
    for (const bad of [
      { kind: 'detect', cluster: '../../etc' },
      { ...amiEvent('available'), detail: { ImageId: 'ami-$(reboot)', State: 'available' } },
      { kind: 'rollout' },
    ]) {
      await assert.rejects(detect(bad, lambdaContext()), { name: 'InvalidInputError' });
    }
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
