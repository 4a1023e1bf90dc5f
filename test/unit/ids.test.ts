import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCOUNT_ID, CLUSTER_NAME, EXECUTION_ARN, IMAGE_ID, INSTANCE_ID, instanceIdOfHostname, instanceIdOfProviderId, LAUNCH_TEMPLATE_ID, STATE_MACHINE_ARN } from '../../shared/ids.js';

const TABLE: { name: string; pattern: RegExp; valid: string[]; invalid: string[] }[] = [
  {
    name: 'INSTANCE_ID',
    pattern: INSTANCE_ID,
    valid: ['i-1a2b3c4d', 'i-1234567890abcdef0'],
    invalid: ['i-', 'i-1a2b3c4', 'i-0123456789', 'i-1234567890abcdef', 'i-1234567890abcdef01', 'i-1234567890ABCDEF0', 'I-1234567890abcdef0', 'ami-1234567890abcdef0', ' i-1234567890abcdef0', 'i-1234567890abcdef0\n', 'i-1a2b3c4g'],
  },
  {
    name: 'IMAGE_ID',
    pattern: IMAGE_ID,
    valid: ['ami-1a2b3c4d', 'ami-0123456789abcdef0'],
    invalid: ['ami-12', 'ami-0123456789abcdef', 'ami-0123456789abcdef00', 'ami-0123456789ABCDEF0', 'i-0123456789abcdef0', 'ami-0123456789abcdef0 '],
  },
  {
    name: 'LAUNCH_TEMPLATE_ID',
    pattern: LAUNCH_TEMPLATE_ID,
    valid: ['lt-0123456789abcdef0', 'lt-1a2b3c4d'],
    invalid: ['lt-0aaa', 'lt-0123456789abcdef', 'lt-', 'LT-0123456789abcdef0', 'lt-0123456789abcdefg'],
  },
  {
    name: 'CLUSTER_NAME',
    pattern: CLUSTER_NAME,
    valid: ['prod', 'p', '0-cluster', 'Prod_eu-west-1', 'a'.repeat(100)],
    invalid: ['', '-prod', '_prod', 'prod.eu', 'prod/web', 'prod web', 'a'.repeat(101), 'prød'],
  },
  {
    name: 'ACCOUNT_ID',
    pattern: ACCOUNT_ID,
    valid: ['111122223333', '000000000000'],
    invalid: ['11112222333', '1111222233334', '11112222333a', ''],
  },
  {
    name: 'STATE_MACHINE_ARN',
    pattern: STATE_MACHINE_ARN,
    valid: ['arn:aws:states:eu-west-1:111122223333:stateMachine:ami-rollout', 'arn:aws-cn:states:cn-north-1:111122223333:stateMachine:a_b'],
    invalid: ['arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:x', 'arn:aws:states:eu-west-1:1111:stateMachine:x', `arn:aws:states:eu-west-1:111122223333:stateMachine:${'a'.repeat(81)}`, 'arn:aws:states:eu-west-1:111122223333:stateMachine:a b'],
  },
  {
    name: 'EXECUTION_ARN',
    pattern: EXECUTION_ARN,
    valid: ['arn:aws:states:eu-west-1:111122223333:execution:ami-rollout:prod-web-1', 'arn:aws-us-gov:states:us-gov-west-1:111122223333:execution:m:e'],
    invalid: ['arn:aws:states:eu-west-1:111122223333:execution:ami-rollout', 'arn:aws:states:eu-west-1:111122223333:stateMachine:ami-rollout', 'arn:aws:lambda:eu-west-1:111122223333:execution:a:b', `arn:aws:states:eu-west-1:111122223333:execution:m:${'e'.repeat(81)}`],
  },
];

describe('Identifier patterns', () => {
  for (const { name, pattern, valid, invalid } of TABLE) {
    it(`${name} accepts ${valid.length} documented forms`, () => {
      for (const id of valid) assert.ok(pattern.test(id), `${name} should accept ${JSON.stringify(id)}`);
    });
    it(`${name} refuses ${invalid.length} malformed ones`, () => {
      for (const id of invalid) assert.ok(!pattern.test(id), `${name} should refuse ${JSON.stringify(id)}`);
    });
  }

  it('finds the instance at the end of a providerID, and nothing in anything else', () => {
    assert.equal(instanceIdOfProviderId('aws:///eu-west-1a/i-0123456789abcdef0'), 'i-0123456789abcdef0');
    assert.equal(instanceIdOfProviderId('kind://docker/kind/kind-worker'), undefined);
    assert.equal(instanceIdOfProviderId(undefined), undefined);
  });

  it('finds the instance a resource-name hostname names', () => {
    assert.equal(instanceIdOfHostname('i-0123456789abcdef0.eu-west-1.compute.internal'), 'i-0123456789abcdef0');
    assert.equal(instanceIdOfHostname('i-1a2b3c4d'), 'i-1a2b3c4d');
    assert.equal(instanceIdOfHostname('ip-10-0-1-5.eu-west-1.compute.internal'), undefined);
    assert.equal(instanceIdOfHostname('i-0123456789abcdef.eu-west-1.compute.internal'), undefined);
  });
});
