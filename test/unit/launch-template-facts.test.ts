import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LaunchTemplateTagSpecificationRequest } from '@aws-sdk/client-ec2';
import { LaunchTemplateValidationError } from '../../shared/errors.js';
import { instanceTypeFacts, maxPods, maxPodsFor } from '../../shared/launch-templates/max-pods.js';
import { withOwnershipTags } from '../../shared/launch-templates/tag-specifications.js';
import { INSTANCE_TYPES } from '@eks-node-lifecycle/sandbox';

const facts = (type: string) => instanceTypeFacts(INSTANCE_TYPES.get(type)!);

describe('maxPods', () => {
  it('follows eni-max-pods.txt for the published instance types (uncapped)', () => {
    assert.equal(maxPods(facts('m5.large')), 29);
    assert.equal(maxPods(facts('m5.xlarge')), 58);
    assert.equal(maxPods(facts('t3.medium')), 17);
    assert.equal(maxPods(facts('m5.24xlarge'), { uncapped: true }), 737);
  });

  it('caps as max-pods-calculator.sh does, with or without prefixes: 110 up to 30 vCPUs, 250 above', () => {
    assert.equal(maxPods(facts('m5.24xlarge')), 250);
    assert.equal(maxPods({ maximumNetworkInterfaces: 8, ipv4AddressesPerInterface: 30, vcpus: 16 }), 110);
  });

  it('takes one ENI fewer with custom networking (the primary ENI holds no pods)', () => {
    assert.equal(maxPods(facts('m5.large'), { customNetworking: true }), 20);
    assert.equal(maxPods(facts('t3.medium'), { customNetworking: true }), 12);
    assert.equal(maxPods(facts('m5.large'), { customNetworking: true, prefixDelegation: true }), 110);
    assert.equal(maxPods({ maximumNetworkInterfaces: 2, ipv4AddressesPerInterface: 2, vcpus: 2 }, { customNetworking: true, prefixDelegation: true }), 18);
  });

  it('gives Windows the primary ENI\'s secondary addresses only', () => {
    assert.equal(maxPodsFor('windows', facts('m5.large'), { prefixDelegation: true }), 9);
    assert.equal(maxPodsFor('al2', facts('m5.large'), { prefixDelegation: true }), 110);
  });

  it('caps prefix delegation at 110 up to 30 vCPUs and 250 above', () => {
    assert.equal(maxPods(facts('m5.large'), { prefixDelegation: true }), 110);
    assert.equal(maxPods(facts('m5.24xlarge'), { prefixDelegation: true }), 250);
    assert.equal(maxPods({ maximumNetworkInterfaces: 1, ipv4AddressesPerInterface: 2, vcpus: 2 }, { prefixDelegation: true }), 18);
  });
});

describe('instanceTypeFacts', () => {
  it('reads ENIs, IPv4 per ENI and vCPUs, taking network card 0 when there are cards', () => {
    assert.deepEqual(facts('m5.large'), { maximumNetworkInterfaces: 3, ipv4AddressesPerInterface: 10, vcpus: 2 });
    const multiCard = { InstanceType: 'p4d.24xlarge' as const, VCpuInfo: { DefaultVCpus: 96 }, NetworkInfo: { MaximumNetworkInterfaces: 60, Ipv4AddressesPerInterface: 50, NetworkCards: [{ NetworkCardIndex: 1, MaximumNetworkInterfaces: 15 }, { NetworkCardIndex: 0, MaximumNetworkInterfaces: 15 }] } };
    assert.deepEqual(instanceTypeFacts(multiCard), { maximumNetworkInterfaces: 15, ipv4AddressesPerInterface: 50, vcpus: 96 });
  });

  it('throws a typed error when the network numbers are missing', () => {
    assert.throws(() => instanceTypeFacts({ InstanceType: 'm5.large' }), LaunchTemplateValidationError);
  });
});

describe('withOwnershipTags', () => {
  const owned = { Key: 'kubernetes.io/cluster/prod', Value: 'owned' };

  it('adds instance and volume specifications when there are none', () => {
    assert.deepEqual(withOwnershipTags(undefined, { name: 'prod' }), [
      { ResourceType: 'instance', Tags: [owned] },
      { ResourceType: 'volume', Tags: [owned] },
    ]);
  });

  it('keeps the user\'s tags and other specifications, fixing a wrong value, without mutating', () => {
    const input: LaunchTemplateTagSpecificationRequest[] = [
      { ResourceType: 'network-interface', Tags: [{ Key: 'team', Value: 'a' }] },
      { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'node' }, { Key: 'kubernetes.io/cluster/prod', Value: 'shared' }] },
    ];
    const before = structuredClone(input);
    assert.deepEqual(withOwnershipTags(input, 'prod'), [
      { ResourceType: 'network-interface', Tags: [{ Key: 'team', Value: 'a' }] },
      { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'node' }, owned] },
      { ResourceType: 'volume', Tags: [owned] },
    ]);
    assert.deepEqual(input, before);
  });

  it('is idempotent and never loses a user tag', () => {
    const tag = fc.record({ Key: fc.stringMatching(/^[a-z]{1,6}$/), Value: fc.stringMatching(/^[a-z]{0,6}$/) });
    const spec = fc.record({ ResourceType: fc.constantFrom('instance', 'volume', 'network-interface', 'spot-instances-request') as fc.Arbitrary<'instance'>, Tags: fc.array(tag, { maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 4 }), (specs) => {
        const once = withOwnershipTags(specs, 'prod');
        assert.deepEqual(withOwnershipTags(once, 'prod'), once);
        for (const s of specs) for (const t of s.Tags) assert.ok(once.some((o) => o.ResourceType === s.ResourceType && o.Tags!.some((x) => x.Key === t.Key)));
        for (const type of ['instance', 'volume']) assert.ok(once.find((o) => o.ResourceType === type)!.Tags!.some((t) => t.Key === owned.Key && t.Value === 'owned'));
      }),
      { numRuns: 500 },
    );
  });
});
