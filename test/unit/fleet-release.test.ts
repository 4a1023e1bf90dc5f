import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AmiIdentity } from '../../shared/ami/ami-family.js';
import type { ResolvedTarget } from '../../shared/ami/resolve-target.js';
import { lastGoodRelease } from '../../shared/fleet/promotion-actions.js';
import { parsePromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { newPromotion, PromotionStateSchema } from '../../shared/fleet/promotion-state.js';
import { promotionExecutionName, type Release, releaseKey, releaseOf, ReleaseSchema } from '../../shared/fleet/release.js';

/** What a release is, and the stable name of its promotion. */
const AL2023: AmiIdentity = { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' };
const eks = (release: string, identity: AmiIdentity = AL2023): Release => ({ source: 'eks-optimized', identity, release });

describe('Fleet: releases', () => {
  const keys: [string, Release, string][] = [
    ['an AL2023 release names its line and its date', eks('1.31.3-20241115'), 'al2023-x86_64-standard-1.31-20241115'],
    ['the same release written as its tag is the same release', eks('v20241115'), 'al2023-x86_64-standard-1.31-20241115'],
    ['an AL2 GPU release', eks('1.30.4-20241024', { family: 'al2', architecture: 'x86_64', variant: 'nvidia', kubernetesVersion: '1.30' }), 'al2-x86_64-nvidia-1.30-20241024'],
    ['a Bottlerocket FIPS release names its OS version', eks('1.26.0-abcdef12', { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia', fips: true, kubernetesVersion: '1.31' }), 'bottlerocket-arm64-nvidia-fips-1.31-1.26.0'],
    ['a Windows release names its version and edition', eks('1.31-2024.11.12', { family: 'windows', windows: { version: '2022', edition: 'Core' }, architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }), 'windows-2022-core-x86_64-standard-1.31-20241112'],
    ['a custom image by its release', { source: 'custom', release: 'platform-1.4.2' }, 'custom-platform-1.4.2'],
  ];
  for (const [name, release, key] of keys) it(name, () => assert.equal(releaseKey(release), key));

  it('one release per Kubernetes minor, architecture and variant', () => {
    const all = [eks('v20241115'), eks('v20241115', { ...AL2023, kubernetesVersion: '1.30' }), eks('v20241115', { ...AL2023, architecture: 'arm64' }), eks('v20241115', { ...AL2023, variant: 'nvidia' })];
    assert.equal(new Set(all.map(releaseKey)).size, all.length);
  });

  it('a key is safe in a chat command, its execution name in Step Functions and CloudWatch, and two releases never share either', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 255 }).filter(Boolean), fc.string({ maxLength: 255 }).filter(Boolean), (a, b) => {
        const ra: Release = { source: 'custom', release: a };
        const rb: Release = { source: 'custom', release: b };
        assert.match(releaseKey(ra), /^[A-Za-z0-9._-]{1,80}$/);
        assert.match(promotionExecutionName(ra), /^[A-Za-z0-9_-]{1,80}$/);
        if (a !== b) assert.notEqual(releaseKey(ra), releaseKey(rb));
        if (a !== b) assert.notEqual(promotionExecutionName(ra), promotionExecutionName(rb));
      }),
      { numRuns: 5000 },
    );
    assert.equal(releaseKey({ source: 'custom', release: 'x'.repeat(200) }).length, 80);
    assert.match(promotionExecutionName(eks('v20241115')), /^al2023-x86_64-standard-1_31-20241115-[0-9a-f]{8}$/);
  });

  it('is what resolution chose: an EKS-optimized line at a version, or a custom image at its release', () => {
    const target = (over: Partial<ResolvedTarget>): ResolvedTarget => ({ decision: 'target', imageId: 'ami-0123456789abcdef0', imageName: 'n', release: 'v20241115', reason: 'r', source: 'eks-optimized', identity: AL2023, problems: [], ...over }) as ResolvedTarget;
    assert.deepEqual(releaseOf(target({})), eks('v20241115'));
    assert.deepEqual(releaseOf(target({ source: 'custom', release: 'platform-1.4.2', identity: undefined })), { source: 'custom', release: 'platform-1.4.2', imageName: 'n' });
    assert.equal(releaseOf(target({ source: 'unknown' })), undefined);
    const none: ResolvedTarget = { decision: 'none', reason: 'r', source: 'unknown', problems: [] };
    assert.equal(releaseOf(none), undefined);
  });

  it('round-trips through its schema, as a promotion stores it', () => {
    const policy = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'dev', soak: '1h' }] }));
    const state = newPromotion(eks('1.31.3-20241115'), policy, new Date('2026-12-07T10:00:00Z'));
    assert.deepEqual(PromotionStateSchema.parse(JSON.parse(JSON.stringify(state))), state);
    assert.equal(ReleaseSchema.safeParse({ source: 'eks-optimized', identity: { ...AL2023, family: 'ubuntu' }, release: 'x' }).success, false);
  });

  it('the last good release is the newest older one whose promotion finished unheld, of the same line', () => {
    const policy = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'dev', soak: '1h' }] }));
    const at = new Date('2026-12-07T10:00:00Z');
    const done = (release: Release, extra: object = {}) => ({ ...newPromotion(release, policy, at), finishedAt: at.toISOString(), ...extra });
    const promotions = [
      done(eks('v20241001')),
      done(eks('v20241020')),
      done(eks('v20241025'), { hold: { kind: 'manual', since: at.toISOString(), reason: 'bad', evidence: [] } }),
      newPromotion(eks('v20241101'), policy, at),
      done(eks('v20241105', { ...AL2023, architecture: 'arm64' })),
      done(eks('v20241201')),
    ];
    assert.deepEqual(lastGoodRelease(promotions, eks('v20241115')), eks('v20241020'));
    assert.equal(lastGoodRelease(promotions, eks('v20240901')), undefined);
    assert.equal(lastGoodRelease(promotions, { source: 'custom', release: 'b' }), undefined, 'custom releases have no order: each group returns to its previous image');
  });
});
