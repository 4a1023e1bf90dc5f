import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeImage, judgeProvenance, readAmiOwners } from '../../shared/ami/image-provenance.js';
import { accountOfArn } from '../../shared/aws/partition.js';

const SELF = '123456789012';
const TAG = 'eks-node-lifecycle/ami-owners';

describe('Image provenance: the ami-owners tag', () => {
  const table: [string | undefined, string[], boolean][] = [
    [undefined, ['self'], false],
    ['self', ['self'], false],
    ['self,222222222222', ['self', '222222222222'], false],
    [' amazon 222222222222 , self ', ['amazon', '222222222222', 'self'], false],
    ['222222222222 222222222222', ['222222222222'], false],
    ['', ['self'], true],
    ['me,you', ['self'], true],
    ['aws-marketplace', ['self'], true],
    ['22222222222', ['self'], true],
    ['self,*', ['self'], true],
  ];
  for (const [text, owners, problem] of table) {
    it(`reads ${JSON.stringify(text)}${problem ? ' as a problem, trusting only self' : ''}`, () => {
      const read = readAmiOwners(text === undefined ? {} : { [TAG]: text });
      assert.deepEqual(read.owners, owners);
      assert.equal(read.problems.length, problem ? 1 : 0);
      if (problem) assert.match(read.problems[0]!, /; using self$/);
    });
  }

  it('never trusts more than the valid owners it names (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const { owners } = readAmiOwners({ [TAG]: text });
        for (const o of owners) assert.match(o, /^(self|amazon|\d{12})$/);
        for (const o of owners) if (o !== 'self') assert.ok(text.includes(o));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Image provenance: judging an image by its owner', () => {
  const amazon = { imageId: 'ami-0aaaaaaaaaaaaaaaa', name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261230', ownerId: '602401143452', ownerAlias: 'amazon' };
  const lookalike = { ...amazon, imageId: 'ami-0bbbbbbbbbbbbbbbb', ownerId: '666666666666', ownerAlias: undefined };

  it('an EKS-optimized group trusts the amazon alias only, never a name', () => {
    assert.deepEqual(judgeProvenance(amazon, { kind: 'amazon' }, SELF), { trusted: true, owner: 'amazon 602401143452' });
    const refused = judgeProvenance(lookalike, { kind: 'amazon' }, SELF);
    assert.equal(refused.trusted, false);
    assert.match(!refused.trusted ? refused.reason : '', /ami-0bbbbbbbbbbbbbbbb \(amazon-eks-node-al2023-[^)]+\) is owned by 666666666666, not by Amazon/);
    // an account id that Amazon uses is no proof without the alias
    assert.equal(judgeProvenance({ ...lookalike, ownerId: '602401143452' }, { kind: 'amazon' }, SELF).trusted, false);
  });

  it('a custom-AMI group trusts self, amazon and the account ids it names', () => {
    const mine = { imageId: 'ami-0cccccccccccccccc', ownerId: SELF };
    const partner = { imageId: 'ami-0dddddddddddddddd', ownerId: '222222222222' };
    assert.equal(judgeProvenance(mine, { kind: 'owners', owners: ['self'] }, SELF).trusted, true);
    assert.equal(judgeProvenance(partner, { kind: 'owners', owners: ['self'] }, SELF).trusted, false);
    assert.equal(judgeProvenance(partner, { kind: 'owners', owners: ['self', '222222222222'] }, SELF).trusted, true);
    assert.equal(judgeProvenance(amazon, { kind: 'owners', owners: ['self'] }, SELF).trusted, false);
    assert.equal(judgeProvenance(amazon, { kind: 'owners', owners: ['amazon'] }, SELF).trusted, true);
    assert.equal(judgeProvenance(mine, { kind: 'owners', owners: ['self'] }, undefined).trusted, false, 'self unknown: nothing matches');
  });

  it('reads the account of an ARN', () => {
    assert.equal(accountOfArn('arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/web/abc'), SELF);
    assert.equal(accountOfArn('arn:aws-cn:autoscaling:cn-north-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/web'), SELF);
    assert.equal(accountOfArn('web'), undefined);
    assert.equal(accountOfArn(undefined), undefined);
  });

  it('describes an image with its id, name and owner', () => {
    assert.equal(
      describeImage({ release: 'v20261230', imageId: 'ami-0abc', imageName: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261230', ownerAlias: 'amazon', ownerId: '602401143452' }),
      'v20261230 (ami-0abc, amazon-eks-node-al2023-x86_64-standard-1.31-v20261230, owner amazon 602401143452)',
    );
    assert.equal(describeImage({ imageId: 'ami-0abc', imageName: 'golden-1', ownerId: '222222222222' }), 'golden-1 (ami-0abc, owner 222222222222)');
    assert.equal(describeImage({ release: '1.31.3-20250103', imageId: 'ami-0abc' }), '1.31.3-20250103 (ami-0abc)');
    assert.equal(describeImage({ imageId: 'ami-0abc' }), 'ami-0abc');
    assert.equal(describeImage({}), 'unknown');
  });
});
