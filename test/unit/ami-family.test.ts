import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AMITypes } from '@aws-sdk/client-eks';
import fc from 'fast-check';
import {
  AMI_TYPE_FLAVOURS,
  compareReleases,
  identifyImage,
  identityFromAmiType,
  identityFromImageName,
  imageNamePattern,
  isEksOptimizedImage,
  parseRelease,
  type AmiIdentity,
} from '../../shared/ami/ami-family.js';
import { AMI_TYPES, globToRegExp, naming } from '@eks-node-lifecycle/sandbox';

describe('AMI family: from a managed node group amiType', () => {
  const table: [string, Omit<AmiIdentity, 'kubernetesVersion'>][] = [
    ['AL2_x86_64', { family: 'al2', architecture: 'x86_64', variant: 'standard' }],
    ['AL2_x86_64_GPU', { family: 'al2', architecture: 'x86_64', variant: 'nvidia' }],
    ['AL2_ARM_64', { family: 'al2', architecture: 'arm64', variant: 'standard' }],
    ['AL2023_x86_64_STANDARD', { family: 'al2023', architecture: 'x86_64', variant: 'standard' }],
    ['AL2023_ARM_64_STANDARD', { family: 'al2023', architecture: 'arm64', variant: 'standard' }],
    ['AL2023_x86_64_NVIDIA', { family: 'al2023', architecture: 'x86_64', variant: 'nvidia' }],
    ['AL2023_ARM_64_NVIDIA', { family: 'al2023', architecture: 'arm64', variant: 'nvidia' }],
    ['AL2023_x86_64_NEURON', { family: 'al2023', architecture: 'x86_64', variant: 'neuron' }],
    ['BOTTLEROCKET_x86_64', { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard' }],
    ['BOTTLEROCKET_ARM_64', { family: 'bottlerocket', architecture: 'arm64', variant: 'standard' }],
    ['BOTTLEROCKET_x86_64_NVIDIA', { family: 'bottlerocket', architecture: 'x86_64', variant: 'nvidia' }],
    ['BOTTLEROCKET_ARM_64_NVIDIA', { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia' }],
    ['BOTTLEROCKET_x86_64_FIPS', { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard', fips: true }],
    ['BOTTLEROCKET_ARM_64_FIPS', { family: 'bottlerocket', architecture: 'arm64', variant: 'standard', fips: true }],
    ['BOTTLEROCKET_x86_64_NVIDIA_FIPS', { family: 'bottlerocket', architecture: 'x86_64', variant: 'nvidia', fips: true }],
    ['BOTTLEROCKET_ARM_64_NVIDIA_FIPS', { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia', fips: true }],
    ['WINDOWS_CORE_2019_x86_64', { family: 'windows', windows: { version: '2019', edition: 'Core' }, architecture: 'x86_64', variant: 'standard' }],
    ['WINDOWS_FULL_2019_x86_64', { family: 'windows', windows: { version: '2019', edition: 'Full' }, architecture: 'x86_64', variant: 'standard' }],
    ['WINDOWS_CORE_2022_x86_64', { family: 'windows', windows: { version: '2022', edition: 'Core' }, architecture: 'x86_64', variant: 'standard' }],
    ['WINDOWS_FULL_2022_x86_64', { family: 'windows', windows: { version: '2022', edition: 'Full' }, architecture: 'x86_64', variant: 'standard' }],
    ['WINDOWS_CORE_2025_x86_64', { family: 'windows', windows: { version: '2025', edition: 'Core' }, architecture: 'x86_64', variant: 'standard' }],
    ['WINDOWS_FULL_2025_x86_64', { family: 'windows', windows: { version: '2025', edition: 'Full' }, architecture: 'x86_64', variant: 'standard' }],
  ];

  for (const [amiType, flavour] of table) {
    it(`identifies ${amiType}`, () => {
      assert.deepEqual(identityFromAmiType(amiType, '1.31'), { ...flavour, kubernetesVersion: '1.31' });
    });
  }

  it('knows every amiType of the EKS SDK but CUSTOM', () => {
    const known = Object.values(AMITypes).filter((t) => t !== 'CUSTOM');
    assert.deepEqual(known.filter((t) => !AMI_TYPE_FLAVOURS[t]), []);
    assert.deepEqual(table.map(([t]) => t).sort(), [...known].sort());
  });

  it('agrees with the sandbox catalogue on every amiType it models', () => {
    for (const [amiType, info] of Object.entries(AMI_TYPES)) {
      const identity = identityFromAmiType(amiType, '1.31')!;
      assert.equal(identity.family, info.family, amiType);
      assert.equal(identity.architecture, info.architecture, amiType);
      assert.equal(identity.variant, info.variant, amiType);
      assert.deepEqual(identity.windows, info.windows, amiType);
    }
  });

  it('returns undefined for CUSTOM, an unknown type or no Kubernetes version', () => {
    assert.equal(identityFromAmiType('CUSTOM', '1.31'), undefined);
    assert.equal(identityFromAmiType('AL2025_x86_64', '1.31'), undefined);
    assert.equal(identityFromAmiType(undefined, '1.31'), undefined);
    assert.equal(identityFromAmiType('AL2023_x86_64_STANDARD', undefined), undefined);
  });

  it('takes the Kubernetes minor from a patch version or, without version, from releaseVersion', () => {
    assert.equal(identityFromAmiType('AL2023_x86_64_STANDARD', '1.31.3')!.kubernetesVersion, '1.31');
    assert.equal(identityFromAmiType('AL2023_x86_64_STANDARD', undefined, '1.30.4-20241115')!.kubernetesVersion, '1.30');
    // a Bottlerocket releaseVersion is an OS version, not Kubernetes'
    assert.equal(identityFromAmiType('BOTTLEROCKET_x86_64', undefined, '1.26.0-abcdef12'), undefined);
  });
});

describe('AMI family: from an EC2 image name', () => {
  const table: [string, AmiIdentity | undefined][] = [
    ['amazon-eks-node-al2023-x86_64-standard-1.31-v20261105', { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }],
    ['amazon-eks-node-al2023-arm64-nvidia-1.32-v20261105', { family: 'al2023', architecture: 'arm64', variant: 'nvidia', kubernetesVersion: '1.32' }],
    ['amazon-eks-node-al2023-x86_64-neuron-1.30-v20241115', { family: 'al2023', architecture: 'x86_64', variant: 'neuron', kubernetesVersion: '1.30' }],
    ['amazon-eks-node-1.30-v20241115', { family: 'al2', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.30' }],
    ['amazon-eks-gpu-node-1.29-v20240531', { family: 'al2', architecture: 'x86_64', variant: 'nvidia', kubernetesVersion: '1.29' }],
    ['amazon-eks-arm64-node-1.32-v20251112', { family: 'al2', architecture: 'arm64', variant: 'standard', kubernetesVersion: '1.32' }],
    ['bottlerocket-aws-k8s-1.31-x86_64-v1.26.0-943d9a41', { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }],
    ['bottlerocket-aws-k8s-1.31-nvidia-arm64-v1.26.0-943d9a41', { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia', kubernetesVersion: '1.31' }],
    ['bottlerocket-aws-k8s-1.31-fips-x86_64-v1.26.0-943d9a41', { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard', fips: true, kubernetesVersion: '1.31' }],
    ['Windows_Server-2022-English-Core-EKS_Optimized-1.31-2024.11.12', { family: 'windows', windows: { version: '2022', edition: 'Core' }, architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }],
    ['Windows_Server-2019-English-Full-EKS_Optimized-1.30-2024.11.12', { family: 'windows', windows: { version: '2019', edition: 'Full' }, architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.30' }],
    ['my-team-al2023-2024-11-15', undefined],
    ['amazon-eks-node-al2023-x86_64-standard-1.31', undefined],
    ['Windows_Server-2022-English-Core-Base-2024.11.12', undefined],
    ['', undefined],
  ];
  for (const [name, identity] of table) {
    it(`identifies ${name || '(no name)'}`, () => assert.deepEqual(identityFromImageName(name), identity));
  }

  it('identifies every image name the sandbox catalogue publishes, and its line pattern matches it', () => {
    for (const [, info] of Object.entries(AMI_TYPES)) {
      for (const kubernetesVersion of ['1.30', '1.31', '1.32']) {
        for (const date of ['20251112', '20261105']) {
          const { imageName } = naming({ ...info, kubernetesVersion, date });
          const identity = identityFromImageName(imageName);
          assert.deepEqual(identity, { ...info, kubernetesVersion }, imageName);
          assert.match(imageName, globToRegExp(imageNamePattern(identity!)), imageName);
        }
      }
    }
  });

  it("does not let one line's name pattern match another line's images", () => {
    const lines = Object.values(AMI_TYPES).flatMap((info) => ['1.3', '1.31', '1.32'].map((k) => ({ ...info, kubernetesVersion: k })));
    for (const a of lines) {
      for (const b of lines) {
        if (a === b) continue;
        const name = naming({ ...b, date: '20261105' }).imageName;
        assert.doesNotMatch(name, globToRegExp(imageNamePattern(a)), `${imageNamePattern(a)} vs ${name}`);
      }
    }
  });

  it('reads tags on a custom image when its name says nothing', () => {
    const identity = identifyImage({
      Name: 'platform-node-2026-11-15',
      Architecture: 'arm64',
      PlatformDetails: 'Linux/UNIX',
      Tags: [
        { Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' },
        { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' },
        { Key: 'eks-node-lifecycle/ami-variant', Value: 'nvidia' },
      ],
    });
    assert.deepEqual(identity, { family: 'al2023', architecture: 'arm64', variant: 'nvidia', kubernetesVersion: '1.31' });
    assert.deepEqual(
      identifyImage({ Name: 'win', Architecture: 'x86_64', Tags: [{ Key: 'eks-node-lifecycle/ami-family', Value: 'windows' }, { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31.2' }, { Key: 'eks-node-lifecycle/windows-version', Value: '2025' }] }),
      { family: 'windows', windows: { version: '2025', edition: 'Core' }, architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' },
    );
  });

  it('returns undefined for a custom image without recognisable name or tags', () => {
    assert.equal(identifyImage({ Name: 'packer-1731600000', Architecture: 'x86_64' }), undefined);
    assert.equal(identifyImage({ Name: 'x', Architecture: 'x86_64', Tags: [{ Key: 'eks-node-lifecycle/ami-family', Value: 'ubuntu' }, { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' }] }), undefined);
    assert.equal(identifyImage({ Name: 'x', Architecture: 'x86_64', Tags: [{ Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' }] }), undefined, 'no Kubernetes version');
    assert.equal(identifyImage({ Name: 'x', Architecture: 'x86_64', PlatformDetails: 'Windows', Tags: [{ Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' }, { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' }] }), undefined, 'contradicting tags');
  });

  it('tells EKS-optimized images (amazon-owned, recognised name) from custom ones', () => {
    assert.equal(isEksOptimizedImage({ Name: 'amazon-eks-node-1.30-v20241115', ImageOwnerAlias: 'amazon' }), true);
    assert.equal(isEksOptimizedImage({ Name: 'amazon-eks-node-1.30-v20241115' }), false, 'a copy in our account');
    assert.equal(isEksOptimizedImage({ Name: 'ubuntu-eks/k8s_1.31/images/hvm-ssd/ubuntu-jammy', ImageOwnerAlias: 'amazon' }), false);
  });
});

describe('AMI family: releases', () => {
  it('parses each family\'s release formats', () => {
    assert.deepEqual(parseRelease('al2023', '1.31.3-20241115'), { family: 'al2023', text: '1.31.3-20241115', kubernetesVersion: '1.31.3', date: '20241115' });
    assert.deepEqual(parseRelease('al2', 'v20241115'), { family: 'al2', text: 'v20241115', date: '20241115' });
    assert.deepEqual(parseRelease('al2023', 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261105'), {
      family: 'al2023', text: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261105', kubernetesVersion: '1.31', date: '20261105',
    });
    assert.deepEqual(parseRelease('windows', '1.31-2024.11.12'), { family: 'windows', text: '1.31-2024.11.12', kubernetesVersion: '1.31', date: '20241112' });
    assert.equal(parseRelease('windows', 'Windows_Server-2022-English-Core-EKS_Optimized-1.31-2024.11.12')!.date, '20241112');
    assert.deepEqual(parseRelease('bottlerocket', '1.26.0'), { family: 'bottlerocket', text: '1.26.0', osVersion: '1.26.0' });
    assert.equal(parseRelease('bottlerocket', '1.26.0-943d9a41')!.osVersion, '1.26.0');
    assert.deepEqual(parseRelease('bottlerocket', 'bottlerocket-aws-k8s-1.31-nvidia-x86_64-v1.26.0-943d9a41'), {
      family: 'bottlerocket', text: 'bottlerocket-aws-k8s-1.31-nvidia-x86_64-v1.26.0-943d9a41', kubernetesVersion: '1.31', osVersion: '1.26.0',
    });
  });

  it('rejects text that is not a release of the family', () => {
    for (const [family, text] of [['al2023', '1.31.3'], ['al2023', '1.31.3-20241345'], ['al2', 'latest'], ['windows', '1.31-2024.13.12'], ['bottlerocket', '1.26'], ['bottlerocket', '20241115']] as const) {
      assert.equal(parseRelease(family, text), undefined, `${family} ${text}`);
    }
  });

  it('orders releases by date, then Kubernetes version; Bottlerocket by semver', () => {
    const r = (family: Parameters<typeof parseRelease>[0], text: string) => parseRelease(family, text)!;
    assert.ok(compareReleases(r('al2023', '1.31.3-20241115'), r('al2023', '1.31.4-20241201')) < 0);
    assert.ok(compareReleases(r('al2023', '1.31.4-20241201'), r('al2023', '1.31.3-20241115')) > 0);
    assert.ok(compareReleases(r('al2023', '1.30.9-20241115'), r('al2023', '1.31.3-20241115')) < 0);
    assert.equal(compareReleases(r('al2023', '1.31.3-20241115'), r('al2023', 'v20241115')), 0, 'an image name date matches the release');
    assert.equal(compareReleases(r('al2023', '1.31.3-20241115'), r('al2023', 'amazon-eks-node-al2023-x86_64-standard-1.31-v20241115')), 0);
    assert.ok(compareReleases(r('windows', '1.31-2024.11.12'), r('windows', '1.31-2024.12.10')) < 0);
    assert.ok(compareReleases(r('bottlerocket', '1.9.0'), r('bottlerocket', '1.26.0')) < 0, 'numeric, not lexical');
    assert.equal(compareReleases(r('bottlerocket', '1.26.0-943d9a41'), r('bottlerocket', 'v1.26.0')), 0);
  });

  it('orders AL2023 releases as their dates order (property)', () => {
    const day = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', ''));
    fc.assert(
      fc.property(day, day, fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), (a, b, pa, pb) => {
        const cmp = compareReleases(parseRelease('al2023', `1.31.${pa}-${a}`)!, parseRelease('al2023', `1.31.${pb}-${b}`)!);
        if (a !== b) return Math.sign(cmp) === (a < b ? -1 : 1);
        return Math.sign(cmp) === Math.sign(pa - pb);
      }),
      { numRuns: 1000 },
    );
  });
});
