import { awsScope } from '../../shared/aws/clients.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ec2ImageSource } from '../../shared/ami/describe-images.js';
import {
  chooseImage,
  parseChannel,
  readAmiPolicy,
  resolveTarget,
  selectorQuery,
  unusableBecause,
  type ImageCandidate,
  type ReleaseChannel,
  type TargetGroup,
} from '../../shared/ami/resolve-target.js';
import { SsmParameterCache } from '../../shared/ami/ssm-parameters.js';
import { AwsTransientError } from '../../shared/errors.js';
import { naming, releaseAmi, SimAccount, VirtualClock } from '@eks-node-lifecycle/sandbox';

const DAY = 86_400;
const NOW = new Date('2026-11-21T09:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY * 1000).toISOString();

describe('Release channel: parsing the channel tag', () => {
  const table: [string | undefined, ReleaseChannel, number][] = [
    [undefined, { kind: 'recommended' }, 0],
    ['recommended', { kind: 'recommended' }, 0],
    [' soak=7d ', { kind: 'soak', minAgeSeconds: 7 * DAY }, 0],
    ['soak=36h', { kind: 'soak', minAgeSeconds: 36 * 3600 }, 0],
    ['pinned=1.31.3-20241115', { kind: 'pinned', release: '1.31.3-20241115' }, 0],
    ['pinned=1.26.0', { kind: 'pinned', release: '1.26.0' }, 0],
    ['pinned=ami-0123456789abcdef0', { kind: 'pinned', imageId: 'ami-0123456789abcdef0' }, 0],
    ['pinned=ami-12345678', { kind: 'pinned', imageId: 'ami-12345678' }, 0],
    ['latest', { kind: 'recommended' }, 1],
    ['soak', { kind: 'recommended' }, 1],
    ['soak=0d', { kind: 'recommended' }, 1],
    ['soak=a week', { kind: 'recommended' }, 1],
    ['pinned', { kind: 'recommended' }, 1],
    ['pinned=', { kind: 'recommended' }, 1],
    ['pinned=ami-xyz', { kind: 'recommended' }, 1],
  ];
  for (const [text, channel, problems] of table) {
    it(`reads ${JSON.stringify(text)}${problems ? ' as a problem and recommended' : ''}`, () => {
      const parsed = parseChannel(text);
      assert.deepEqual(parsed.channel, channel);
      assert.equal(parsed.problems.length, problems);
      if (problems) assert.match(parsed.problems[0]!, /^eks-node-lifecycle\/channel=.*; using recommended$/);
    });
  }
});

describe('Release channel: the custom selector tags', () => {
  it('builds the selector and its DescribeImages query', () => {
    const { selector, problems } = readAmiPolicy({
      'eks-node-lifecycle/ami-name-prefix': 'platform-al2023-',
      'eks-node-lifecycle/ami-tag-team': 'platform',
      'eks-node-lifecycle/ami-tag-release-channel': 'stable',
      'eks-node-lifecycle/ami-owners': 'self 123456789012',
      'eks-node-lifecycle/drain': 'on',
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(selector, { namePrefix: 'platform-al2023-', tags: { team: 'platform', 'release-channel': 'stable' }, owners: ['self', '123456789012'] });
    assert.deepEqual(selectorQuery(selector!), {
      owners: ['self', '123456789012'],
      filters: [
        { Name: 'name', Values: ['platform-al2023-*'] },
        { Name: 'tag:team', Values: ['platform'] },
        { Name: 'tag:release-channel', Values: ['stable'] },
      ],
    });
  });

  it('defaults owners to self and escapes wildcards in a prefix', () => {
    const { selector } = readAmiPolicy({ 'eks-node-lifecycle/ami-name-prefix': 'odd*name' });
    assert.deepEqual(selectorQuery(selector!), { owners: ['self'], filters: [{ Name: 'name', Values: ['odd\\*name*'] }] });
  });

  it('has no selector without a name prefix or image tag, and reports owners alone', () => {
    assert.equal(readAmiPolicy({}).selector, undefined);
    const { selector, problems } = readAmiPolicy({ 'eks-node-lifecycle/ami-owners': 'self' });
    assert.equal(selector, undefined);
    assert.match(problems[0]!, /ami-owners needs/);
  });

  it('reports malformed owners and keeps the default', () => {
    const { selector, problems } = readAmiPolicy({ 'eks-node-lifecycle/ami-tag-team': 'a', 'eks-node-lifecycle/ami-owners': 'me,you' });
    assert.deepEqual(selector, { tags: { team: 'a' } });
    assert.match(problems[0]!, /ami-owners=me,you/);
  });
});

function candidate(overrides: Partial<ImageCandidate> & { imageId: string }): ImageCandidate {
  return { name: `image-${overrides.imageId}`, creationDate: daysAgo(1), state: 'available', release: overrides.imageId, ...overrides };
}

describe('chooseImage', () => {
  const old = candidate({ imageId: 'ami-00000001', creationDate: daysAgo(30) });
  const mid = candidate({ imageId: 'ami-00000002', creationDate: daysAgo(10) });
  const recent = candidate({ imageId: 'ami-00000003', creationDate: daysAgo(2) });

  it('recommended: picks the recommended image', () => {
    const decision = chooseImage([old, mid, recent], { kind: 'recommended' }, NOW, { recommendedImageId: 'ami-00000002' });
    assert.equal(decision.decision, 'target');
    assert.equal(decision.decision === 'target' && decision.imageId, 'ami-00000002');
  });

  it('recommended: without a recommendation (custom images) picks the newest', () => {
    const decision = chooseImage([mid, recent, old], { kind: 'recommended' }, NOW);
    assert.equal(decision.decision === 'target' && decision.imageId, 'ami-00000003');
  });

  it('recommended: a recalled (deprecated) recommended image falls back to the previous release, never a newer one', () => {
    const recalled = { ...mid, deprecationTime: daysAgo(0.1) };
    const decision = chooseImage([old, recalled, recent], { kind: 'recommended' }, NOW, { recommendedImageId: mid.imageId });
    assert.equal(decision.decision === 'target' && decision.imageId, 'ami-00000001');
    assert.match(decision.reason, /recalled/);
  });

  it('recommended: a disabled recommended image falls back; with nothing earlier, no target', () => {
    const disabled = { ...old, state: 'disabled' };
    const decision = chooseImage([disabled, mid], { kind: 'recommended' }, NOW, { recommendedImageId: old.imageId });
    assert.deepEqual(decision.decision, 'none');
    assert.match(decision.reason, /is disabled \(recalled\)/);
  });

  it('recommended: a recommended image EC2 does not know falls back to the newest available one', () => {
    const decision = chooseImage([old, mid], { kind: 'recommended' }, NOW, { recommendedImageId: 'ami-0000000f' });
    assert.equal(decision.decision === 'target' && decision.imageId, mid.imageId);
  });

  it('soak: picks the newest image at least the minimum age old', () => {
    const decision = chooseImage([old, mid, recent], { kind: 'soak', minAgeSeconds: 7 * DAY }, NOW);
    assert.equal(decision.decision === 'target' && decision.imageId, mid.imageId);
    const exact = chooseImage([candidate({ imageId: 'ami-0000000a', creationDate: daysAgo(7) })], { kind: 'soak', minAgeSeconds: 7 * DAY }, NOW);
    assert.equal(exact.decision, 'target', 'exactly old enough counts');
  });

  it('soak: nothing old enough is no target', () => {
    const decision = chooseImage([recent], { kind: 'soak', minAgeSeconds: 7 * DAY }, NOW);
    assert.equal(decision.decision, 'none');
    assert.match(decision.reason, /7d old yet/);
  });

  it('soak: skips a deprecated image even when it is the newest old enough', () => {
    const decision = chooseImage([old, { ...mid, deprecationTime: daysAgo(1) }], { kind: 'soak', minAgeSeconds: 7 * DAY }, NOW);
    assert.equal(decision.decision === 'target' && decision.imageId, old.imageId);
  });

  it('pinned: picks that image, if available and not deprecated', () => {
    assert.equal(chooseImage([old, mid], { kind: 'pinned', imageId: old.imageId }, NOW).decision, 'target');
    assert.equal(chooseImage([old], { kind: 'pinned', imageId: 'ami-0000000f' }, NOW).decision, 'none');
    assert.equal(chooseImage([{ ...old, state: 'disabled' }], { kind: 'pinned', imageId: old.imageId }, NOW).decision, 'none');
    assert.equal(chooseImage([{ ...old, deprecationTime: daysAgo(1) }], { kind: 'pinned', imageId: old.imageId }, NOW).decision, 'none');
  });

  it('pinned: a release matches the release, the image name, or the release parsed from the name', () => {
    const named = candidate({
      imageId: 'ami-0000000b',
      name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20241115',
      release: 'v20241115',
      parsed: { family: 'al2023', text: 'v20241115', kubernetesVersion: '1.31', date: '20241115' },
    });
    const other = candidate({ imageId: 'ami-0000000c', parsed: { family: 'al2023', text: 'v20241201', kubernetesVersion: '1.31', date: '20241201' } });
    for (const release of ['1.31.3-20241115', 'v20241115', 'amazon-eks-node-al2023-x86_64-standard-1.31-v20241115']) {
      const decision = chooseImage([other, named], { kind: 'pinned', release }, NOW);
      assert.equal(decision.decision === 'target' && decision.imageId, named.imageId, release);
    }
    assert.equal(chooseImage([other, named], { kind: 'pinned', release: '1.30.3-20241115' }, NOW).decision, 'none', 'another Kubernetes minor');
    assert.equal(chooseImage([other, named], { kind: 'pinned', release: '1.31.3-20240101' }, NOW).decision, 'none');
  });

  it('never chooses a deprecated or unavailable image, and respects the soak age (property)', () => {
    const arbCandidate = fc.record({
      imageId: fc.integer({ min: 0, max: 0xffff }).map((n) => `ami-${n.toString(16).padStart(8, '0')}`),
      ageDays: fc.double({ min: -1, max: 60, noNaN: true }),
      state: fc.constantFrom('available', 'available', 'available', 'disabled', 'pending', 'failed'),
      deprecatedDays: fc.option(fc.double({ min: -30, max: 30, noNaN: true }), { nil: undefined }),
    });
    const arbChannel: fc.Arbitrary<ReleaseChannel> = fc.oneof(
      fc.constant({ kind: 'recommended' as const }),
      fc.integer({ min: 1, max: 40 * DAY }).map((s) => ({ kind: 'soak' as const, minAgeSeconds: s })),
      fc.integer({ min: 0, max: 0xffff }).map((n) => ({ kind: 'pinned' as const, imageId: `ami-${n.toString(16).padStart(8, '0')}` })),
      fc.integer({ min: 0, max: 0xffff }).map((n) => ({ kind: 'pinned' as const, release: `ami-${n.toString(16).padStart(8, '0')}` })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(arbCandidate, { maxLength: 12, selector: (c) => c.imageId }), arbChannel, fc.option(fc.nat(11), { nil: undefined }), (specs, channel, recommendedIndex) => {
        const candidates = specs.map((s) =>
          candidate({
            imageId: s.imageId,
            creationDate: daysAgo(s.ageDays),
            state: s.state,
            ...(s.deprecatedDays === undefined ? {} : { deprecationTime: daysAgo(s.deprecatedDays) }),
          }),
        );
        const recommendedImageId = recommendedIndex === undefined ? undefined : candidates[recommendedIndex]?.imageId;
        const decision = chooseImage(candidates, channel, NOW, recommendedImageId ? { recommendedImageId } : {});
        if (decision.decision === 'none') {
          // no target only when nothing usable fits
          if (channel.kind === 'recommended' && !recommendedImageId) return candidates.every((c) => unusableBecause(c, NOW) !== undefined);
          return true;
        }
        const usable = candidates.find((c) => c.imageId === decision.imageId)!;
        assert.equal(unusableBecause(usable, NOW), undefined);
        assert.equal(usable.state, 'available');
        assert.ok(usable.deprecationTime === undefined || Date.parse(usable.deprecationTime) > NOW.getTime());
        if (channel.kind === 'soak') assert.ok(NOW.getTime() - Date.parse(usable.creationDate) >= channel.minAgeSeconds * 1000);
        return true;
      }),
      { numRuns: 10_000 },
    );
  });
});

// ---- resolveTarget against the sandbox account ----

const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };

function sandbox(t: { after: (fn: () => void) => void }) {
  const clock = new VirtualClock(NOW);
  const account = new SimAccount({ clock }).bind();
  t.after(() => account.restore());
  const parameters = new SsmParameterCache(awsScope(config));
  const ports = { parameters, images: ec2ImageSource(awsScope(config)) };
  const resolve = (group: Partial<TargetGroup>) => resolveTarget(ports, { kubernetesVersion: '1.31', tags: {}, accountId: account.accountId, ...group }, clock.date());
  const imageNamed = (name: string) => [...account.ec2.images.values()].find((r) => r.image.Name === name)!.image;
  return { clock, account, parameters, resolve, imageNamed };
}

const AL2023 = { family: 'al2023' as const, kubernetesVersion: '1.31' };

describe('resolveTarget: EKS-optimized images in the sandbox', () => {
  it('targets the recommended AL2023 image and its release version', async (t) => {
    const { resolve, imageNamed, account } = sandbox(t);

    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD' });

    const expected = naming({ ...AL2023, date: '20261105' });
    assert.equal(target.decision, 'target');
    assert.equal(target.decision === 'target' && target.imageName, expected.imageName);
    assert.equal(target.decision === 'target' && target.imageId, imageNamed(expected.imageName).ImageId);
    assert.equal(target.decision === 'target' && target.release, expected.releaseVersion);
    assert.equal(target.source, 'eks-optimized');
    assert.deepEqual(account.writes(), []);
  });

  it('follows a new release once AWS publishes it', async (t) => {
    const { resolve, account } = sandbox(t);
    const image = releaseAmi(account, { ...AL2023, date: '20261120' });

    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD' });

    assert.equal(target.decision === 'target' && target.imageId, image.image.ImageId);
    assert.equal(target.decision === 'target' && target.release, naming({ ...AL2023, date: '20261120' }).releaseVersion);
  });

  it('falls back to the previous release when the recommended image is recalled (deprecated)', async (t) => {
    const { resolve, account, imageNamed } = sandbox(t);
    const recalled = releaseAmi(account, { ...AL2023, date: '20261120' });
    account.ec2.deprecateImage(recalled.image.ImageId);

    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD' });

    const previous = naming({ ...AL2023, date: '20261105' });
    assert.equal(target.decision === 'target' && target.imageId, imageNamed(previous.imageName).ImageId);
    assert.equal(target.decision === 'target' && target.release, previous.releaseVersion, 'the release version comes from the release\'s own parameter');
    assert.match(target.reason, /recalled/);
    const searches = account.calls.filter((c) => c.command === 'DescribeImages' && (c.input as { Owners?: string[] }).Owners);
    assert.deepEqual((searches[0]!.input as { Owners: string[] }).Owners, ['amazon']);
  });

  it('falls back when the recommended image is disabled', async (t) => {
    const { resolve, account } = sandbox(t);
    const recalled = releaseAmi(account, { ...AL2023, date: '20261120' });
    account.ec2.setImageState(recalled.image.ImageId, 'disabled');

    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD' });

    assert.equal(target.decision === 'target' && target.imageName, naming({ ...AL2023, date: '20261105' }).imageName);
  });

  it('soak: waits for a release to be old enough', async (t) => {
    const { resolve, account } = sandbox(t);
    releaseAmi(account, { ...AL2023, date: '20261119' });
    const tags = (soak: string) => ({ 'eks-node-lifecycle/channel': `soak=${soak}` });

    const week = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: tags('7d') });
    const day = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: tags('1d') });
    const month = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: tags('20d') });
    const never = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: tags('60d') });

    assert.equal(week.decision === 'target' && week.imageName, naming({ ...AL2023, date: '20261105' }).imageName);
    assert.equal(week.decision === 'target' && week.release, naming({ ...AL2023, date: '20261105' }).releaseVersion);
    assert.equal(day.decision === 'target' && day.imageName, naming({ ...AL2023, date: '20261119' }).imageName);
    assert.equal(month.decision === 'target' && month.imageName, naming({ ...AL2023, date: '20261020' }).imageName);
    assert.equal(never.decision, 'none');
  });

  it('pinned: resolves a release by image name, and an image id', async (t) => {
    const { resolve, imageNamed } = sandbox(t);
    const older = naming({ ...AL2023, date: '20261020' });

    const byRelease = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/channel': `pinned=${older.releaseVersion}` } });
    const id = imageNamed(older.imageName).ImageId!;
    const byId = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/channel': `pinned=${id}` } });
    const unknown = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/channel': 'pinned=ami-0fffffffffffffff0' } });
    const noRelease = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/channel': 'pinned=1.31.13-20240101' } });

    assert.equal(byRelease.decision === 'target' && byRelease.imageId, id);
    assert.equal(byRelease.decision === 'target' && byRelease.release, older.releaseVersion);
    assert.equal(byId.decision === 'target' && byId.imageId, id);
    assert.equal(unknown.decision, 'none');
    assert.equal(noRelease.decision, 'none');
  });

  it('resolves Bottlerocket, Windows and AL2 lines', async (t) => {
    const { resolve } = sandbox(t);
    const cases = [
      ['BOTTLEROCKET_x86_64_NVIDIA', { family: 'bottlerocket', variant: 'nvidia' }],
      ['BOTTLEROCKET_ARM_64', { family: 'bottlerocket', architecture: 'arm64' }],
      ['WINDOWS_FULL_2025_x86_64', { family: 'windows', windows: { version: '2025', edition: 'Full' } }],
      ['AL2_ARM_64', { family: 'al2', architecture: 'arm64', date: '20251112' }],
    ] as const;
    for (const [amiType, spec] of cases) {
      const target = await resolve({ amiType });
      const expected = naming({ kubernetesVersion: '1.31', date: '20261105', ...spec });
      assert.equal(target.decision === 'target' && target.imageName, expected.imageName, amiType);
      assert.equal(target.decision === 'target' && target.release, expected.releaseVersion, amiType);
    }
  });

  it('soak on Bottlerocket reports the OS release of the soaked image', async (t) => {
    const { resolve } = sandbox(t);
    const target = await resolve({ amiType: 'BOTTLEROCKET_x86_64', tags: { 'eks-node-lifecycle/channel': 'soak=20d' } });
    const expected = naming({ family: 'bottlerocket', kubernetesVersion: '1.31', date: '20261020' });
    assert.equal(target.decision === 'target' && target.imageName, expected.imageName);
    assert.equal(target.decision === 'target' && target.release, expected.releaseVersion);
  });

  it('has no target for AL2 past its last Kubernetes version', async (t) => {
    const { resolve } = sandbox(t);
    const target = await resolve({ amiType: 'AL2_x86_64', kubernetesVersion: '1.33' });
    assert.equal(target.decision, 'none');
    assert.match(target.reason, /SSM publishes no/);
  });

  it('identifies a self-managed group by its current image and follows the group\'s Kubernetes version', async (t) => {
    const { resolve, imageNamed } = sandbox(t);
    const current = imageNamed(naming({ family: 'al2023', kubernetesVersion: '1.30', architecture: 'arm64', date: '20261020' }).imageName);

    const target = await resolve({ currentImageId: current.ImageId!, kubernetesVersion: '1.31' });

    assert.equal(target.decision === 'target' && target.imageName, naming({ ...AL2023, architecture: 'arm64', date: '20261105' }).imageName);
    assert.deepEqual(target.identity, { family: 'al2023', architecture: 'arm64', variant: 'standard', kubernetesVersion: '1.31' });
  });

  it('reads each SSM parameter once per invocation, however many groups share it', async (t) => {
    const { resolve, parameters, account } = sandbox(t);

    await Promise.all([1, 2, 3].map(() => resolve({ amiType: 'AL2023_x86_64_STANDARD' })));
    await resolve({ amiType: 'AL2023_x86_64_STANDARD' });

    assert.equal(parameters.calls, 1);
    assert.equal(account.calls.filter((c) => c.command === 'GetParameters').length, 1);
  });

  it('lets throttling surface as AwsTransientError', async (t) => {
    const { resolve, account } = sandbox(t);
    account.faults.throttle('DescribeImages', 3); // every attempt the SDK makes (3): it retries throttling itself
    await assert.rejects(resolve({ amiType: 'AL2023_x86_64_STANDARD' }), AwsTransientError);
  });
});

describe('resolveTarget: custom images in the sandbox', () => {
  function customImages(account: SimAccount) {
    const register = (name: string, days: number, extra: { state?: 'available' | 'disabled'; deprecationTime?: string; team?: string } = {}) =>
      account.ec2.registerImage({
        name,
        creationDate: daysAgo(days),
        ...(extra.state ? { state: extra.state } : {}),
        ...(extra.deprecationTime ? { deprecationTime: extra.deprecationTime } : {}),
        tags: [{ Key: 'team', Value: extra.team ?? 'platform' }],
      }).image.ImageId;
    return {
      oldest: register('platform-al2023-1.31-2026-10-01', 50),
      good: register('platform-al2023-1.31-2026-11-10', 11),
      deprecated: register('platform-al2023-1.31-2026-11-15', 6, { deprecationTime: daysAgo(1) }),
      disabled: register('platform-al2023-1.31-2026-11-18', 3, { state: 'disabled' }),
      otherTeam: register('platform-al2023-1.31-2026-11-20', 1, { team: 'data' }),
      otherName: register('scratch-2026-11-20', 1),
    };
  }

  it('picks the newest available, non-deprecated image the selector matches', async (t) => {
    const { resolve, account } = sandbox(t);
    const ids = customImages(account);

    const target = await resolve({ amiType: 'CUSTOM', tags: { 'eks-node-lifecycle/ami-name-prefix': 'platform-al2023-', 'eks-node-lifecycle/ami-tag-team': 'platform' } });

    assert.equal(target.decision === 'target' && target.imageId, ids.good);
    assert.equal(target.source, 'custom');
    const search = account.calls.find((c) => c.command === 'DescribeImages')!.input as { Owners: string[]; Filters: { Name: string; Values: string[] }[] };
    assert.deepEqual(search.Owners, ['self']);
    assert.deepEqual(search.Filters, [
      { Name: 'name', Values: ['platform-al2023-*'] },
      { Name: 'tag:team', Values: ['platform'] },
      { Name: 'state', Values: ['available'] },
    ]);
  });

  it('applies soak and pinned channels to custom images', async (t) => {
    const { resolve, account } = sandbox(t);
    const ids = customImages(account);
    const selector = { 'eks-node-lifecycle/ami-name-prefix': 'platform-al2023-' };

    const soaked = await resolve({ tags: { ...selector, 'eks-node-lifecycle/channel': 'soak=30d' } });
    const pinnedByName = await resolve({ tags: { ...selector, 'eks-node-lifecycle/channel': 'pinned=platform-al2023-1.31-2026-10-01' } });
    const pinnedById = await resolve({ tags: { ...selector, 'eks-node-lifecycle/channel': `pinned=${ids.good}` } });
    const pinnedDeprecated = await resolve({ tags: { ...selector, 'eks-node-lifecycle/channel': `pinned=${ids.deprecated}` } });

    assert.equal(soaked.decision === 'target' && soaked.imageId, ids.oldest);
    assert.equal(pinnedByName.decision === 'target' && pinnedByName.imageId, ids.oldest);
    assert.equal(pinnedById.decision === 'target' && pinnedById.imageId, ids.good);
    assert.equal(pinnedDeprecated.decision, 'none');
    assert.match(pinnedDeprecated.reason, /deprecated/);
  });

  it('a selector wins over an EKS amiType', async (t) => {
    const { resolve, account } = sandbox(t);
    const ids = customImages(account);
    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/ami-tag-team': 'data' } });
    assert.equal(target.decision === 'target' && target.imageId, ids.otherTeam);
  });

  it('has no target for a custom image without a selector, and says how to add one', async (t) => {
    const { resolve, account } = sandbox(t);
    const ids = customImages(account);

    const target = await resolve({ amiType: 'CUSTOM', currentImageId: ids.good });

    assert.equal(target.decision, 'none');
    assert.equal(target.source, 'custom');
    assert.match(target.reason, /eks-node-lifecycle\/ami-name-prefix/);
    assert.equal(account.calls.filter((c) => c.command === 'DescribeImages').length, 1);
  });

  it("keeps a custom AMI group on its Kubernetes minor: images tagged for another minor are left out (issue 15, item 4)", async (t) => {
    const { resolve, account } = sandbox(t);
    const register = (name: string, days: number, minor: string) =>
      account.ec2.registerImage({
        name,
        creationDate: daysAgo(days),
        tags: [{ Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' }, { Key: 'eks-node-lifecycle/kubernetes-version', Value: minor }],
      }).image.ImageId;
    const on131 = register('golden-al2023-a', 10, '1.31');
    const on132 = register('golden-al2023-b', 2, '1.32');
    const selector = { 'eks-node-lifecycle/ami-name-prefix': 'golden-al2023-' };

    const pinned = await resolve({ amiType: 'CUSTOM', kubernetesVersion: '1.31', tags: selector });
    const following = await resolve({ amiType: 'CUSTOM', kubernetesVersion: '1.32', tags: selector });
    const nothing = await resolve({ amiType: 'CUSTOM', kubernetesVersion: '1.30', tags: selector });

    assert.equal(pinned.decision === 'target' && pinned.imageId, on131, 'the newer 1.32 image is not for a 1.31 group');
    assert.equal(following.decision === 'target' && following.imageId, on132);
    assert.equal(nothing.decision, 'none');
    assert.match(nothing.reason, /2 image\(s\) built for another Kubernetes minor than 1\.30 left out/);
  });

  it('reports tag problems along with the decision', async (t) => {
    const { resolve } = sandbox(t);
    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/channel': 'weekly' } });
    assert.equal(target.decision, 'target');
    assert.equal(target.problems.length, 1);
  });
});

describe('resolveTarget: only images from owners the group trusts', () => {
  const FOREIGN = '666666666666';
  const lookalike = (account: SimAccount) =>
    account.ec2.registerImage({ name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261230', ownerId: FOREIGN, public: true, family: 'al2023', description: 'EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: 1.31, release: 1.31.13-20261230)' }).image.ImageId;

  it("refuses a third party's public image named like an EKS AMI, pinned by id on an EKS-optimized group, naming its owner", async (t) => {
    const { resolve, account } = sandbox(t);
    const id = lookalike(account);

    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD', tags: { 'eks-node-lifecycle/channel': `pinned=${id}` } });

    assert.equal(target.decision, 'untrusted');
    assert.equal(target.decision === 'untrusted' && target.owner, FOREIGN);
    assert.match(target.reason, new RegExp(`image ${id} \\(amazon-eks-node-al2023-[^)]+\\) is owned by ${FOREIGN}, not by Amazon`));
    assert.deepEqual(account.writes(), []);
  });

  it("refuses it too on a custom-AMI group that trusts only itself, and accepts an account its ami-owners names", async (t) => {
    const { resolve, account } = sandbox(t);
    const partner = account.ec2.registerImage({ name: 'platform-al2023-1.31-2026-11-20', ownerId: '222222222222', sharedWith: [account.accountId], creationDate: daysAgo(1) }).image.ImageId;
    const selector = { 'eks-node-lifecycle/ami-name-prefix': 'platform-al2023-' };

    const ownOnly = await resolve({ amiType: 'CUSTOM', tags: { ...selector, 'eks-node-lifecycle/channel': `pinned=${partner}` } });
    const allowed = await resolve({ amiType: 'CUSTOM', tags: { ...selector, 'eks-node-lifecycle/ami-owners': `self,222222222222` } });
    const pinnedAllowed = await resolve({ amiType: 'CUSTOM', tags: { ...selector, 'eks-node-lifecycle/ami-owners': `self 222222222222`, 'eks-node-lifecycle/channel': `pinned=${partner}` } });

    assert.equal(ownOnly.decision, 'untrusted');
    assert.match(ownOnly.reason, new RegExp(`owned by 222222222222, which the group's eks-node-lifecycle/ami-owners \\(self\\) does not allow \\(self is ${account.accountId}\\)`));
    assert.equal(allowed.decision === 'target' && allowed.imageId, partner);
    assert.equal(allowed.decision === 'target' && allowed.ownerId, '222222222222');
    assert.equal(pinnedAllowed.decision === 'target' && pinnedAllowed.imageId, partner);
  });

  it('a malformed ami-owners is reported and trusts only this account, never more', async (t) => {
    const { resolve, account } = sandbox(t);
    const partner = account.ec2.registerImage({ name: 'platform-al2023-x', ownerId: '222222222222', public: true }).image.ImageId;
    const target = await resolve({ amiType: 'CUSTOM', tags: { 'eks-node-lifecycle/ami-name-prefix': 'platform-', 'eks-node-lifecycle/ami-owners': '222222222222 aws-marketplace', 'eks-node-lifecycle/channel': `pinned=${partner}` } });
    assert.equal(target.decision, 'untrusted');
    assert.match(target.problems.join('\n'), /ami-owners=222222222222 aws-marketplace .*every Marketplace seller.*; using self/);
  });

  it('keeps Amazon\'s image for an EKS-optimized group, with its owner', async (t) => {
    const { resolve } = sandbox(t);
    const target = await resolve({ amiType: 'AL2023_x86_64_STANDARD' });
    assert.equal(target.decision, 'target');
    assert.deepEqual(target.decision === 'target' && [target.ownerAlias, target.ownerId], ['amazon', '602401143452']);
  });

  it('trusts no self-owned image when the group\'s account is unknown (fails closed)', async (t) => {
    const { resolve, account } = sandbox(t);
    account.ec2.registerImage({ name: 'platform-al2023-1', creationDate: daysAgo(1) });
    const target = await resolve({ amiType: 'CUSTOM', accountId: undefined, tags: { 'eks-node-lifecycle/ami-name-prefix': 'platform-' } });
    assert.equal(target.decision, 'untrusted');
    assert.match(target.reason, /self matches nothing/);
  });
});

describe('resolveTarget: groups it cannot place', () => {
  const ports = {
    parameters: { get: async () => new Map<string, string | undefined>() },
    images: { byId: async () => undefined, search: async () => [] },
  };

  it('says so for an unknown amiType, and for a group naming neither amiType nor image', async () => {
    const unknown = await resolveTarget(ports, { kubernetesVersion: '1.31', amiType: 'AL2025_x86_64', tags: {} }, NOW);
    const nothing = await resolveTarget(ports, { kubernetesVersion: '1.31', tags: {} }, NOW);
    assert.equal(unknown.decision, 'none');
    assert.match(unknown.reason, /amiType AL2025_x86_64/);
    assert.equal(nothing.decision, 'none');
    assert.equal(nothing.source, 'unknown');
  });
});
