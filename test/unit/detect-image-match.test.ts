import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '@aws-sdk/client-ec2';
import { couldTarget, screenImages, type SelectorGroup } from '../../shared/detect/image-match.js';

const SELF = '111122223333';
const image = (overrides: Partial<Image> = {}): Image => ({
  ImageId: 'ami-0123456789abcdef0',
  Name: 'acme-eks-al2023-1.31-20261121',
  OwnerId: SELF,
  State: 'available',
  Tags: [{ Key: 'team', Value: 'platform' }],
  ...overrides,
});
const group = (tags: Record<string, string>, name = 'golden'): SelectorGroup => ({ cluster: 'prod', kind: 'self-managed', name, accountId: SELF, tags: { 'eks-node-lifecycle/rollout': 'auto', ...tags } });
const P = 'eks-node-lifecycle/';

describe('AMI events: which groups an image could be the target of', () => {
  const cases: [string, Image, Record<string, string>, boolean, RegExp][] = [
    ['a name prefix and this account: matches', image(), { [`${P}ami-name-prefix`]: 'acme-eks-al2023-' }, true, /selector matches \(owner 111122223333, name prefix acme-eks-al2023-\)/],
    ['another name', image({ Name: 'packer-base-1' }), { [`${P}ami-name-prefix`]: 'acme-eks-al2023-' }, false, /name does not start with acme-eks-al2023-/],
    ['a prefix is a prefix, not a pattern', image({ Name: 'acme-eks-al2023' }), { [`${P}ami-name-prefix`]: 'acme-eks-al2023-' }, false, /does not start/],
    ['another owner than self', image({ OwnerId: '999999999999' }), { [`${P}ami-name-prefix`]: 'acme-' }, false, /owned by 999999999999/],
    ['an owner the group names', image({ OwnerId: '999999999999' }), { [`${P}ami-name-prefix`]: 'acme-', [`${P}ami-owners`]: '999999999999' }, true, /owner 999999999999/],
    ['the group names another owner: self is no longer trusted', image(), { [`${P}ami-name-prefix`]: 'acme-', [`${P}ami-owners`]: '999999999999' }, false, /does not allow/],
    ['a tag selector, tag present', image(), { [`${P}ami-tag-team`]: 'platform' }, true, /tag team=platform/],
    ['a tag selector, other value', image(), { [`${P}ami-tag-team`]: 'data' }, false, /lacks tag team=data/],
    ['prefix and tag, both needed', image({ Tags: [] }), { [`${P}ami-name-prefix`]: 'acme-', [`${P}ami-tag-team`]: 'platform' }, false, /lacks tag team=platform/],
    ['no selector: the EKS-optimized channel, never moved by an account AMI event', image(), {}, false, /no custom image selector: .*SSM public parameters/],
    ['Amazon\'s own image for an EKS-optimized group: still no (SSM says which)', image({ OwnerId: '602401143452', ImageOwnerAlias: 'amazon', Name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261201' }), {}, false, /no custom image selector/],
    ['pinned to this image', image(), { [`${P}channel`]: 'pinned=ami-0123456789abcdef0' }, true, /pinned to ami-0123456789abcdef0/],
    ['pinned to another image', image(), { [`${P}channel`]: 'pinned=ami-0fedcba9876543210', [`${P}ami-name-prefix`]: 'acme-' }, false, /pinned to another image/],
    ['rollouts off', image(), { [`${P}rollout`]: 'off', [`${P}ami-name-prefix`]: 'acme-' }, false, /rollouts are off/],
  ];
  for (const [name, img, tags, matches, reason] of cases) {
    it(name, () => {
      const verdict = couldTarget(img, group(tags));
      assert.equal(verdict.matches, matches, verdict.reason);
      assert.match(verdict.reason, reason);
    });
  }

  it('self means the group\'s account: unknown, it trusts nothing (fail closed)', () => {
    const { accountId: _, ...unknown } = group({ [`${P}ami-name-prefix`]: 'acme-' });
    assert.equal(couldTarget(image(), unknown).matches, false);
  });

  it('screens several images (an Image Builder image\'s output AMIs) against every group, each group once', () => {
    const groups = [group({ [`${P}ami-name-prefix`]: 'acme-' }, 'golden'), group({ [`${P}ami-tag-team`]: 'data' }, 'data'), group({}, 'web')];
    const out = screenImages([image({ Name: 'other' }), image({ ImageId: 'ami-0aaaaaaaaaaaaaaaa', Tags: [{ Key: 'team', Value: 'data' }] })], groups);
    assert.deepEqual(out.matched, [{ cluster: 'prod', group: 'golden' }, { cluster: 'prod', group: 'data' }]);
    assert.deepEqual(out.verdicts.map((v) => v.matches), [true, true, false]);
  });
});
