import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsScope } from '../../shared/aws/clients.js';
import { PlaceScopes, REFUSAL_REMEMBERED_MS, RENEW_BEFORE_EXPIRY_MS } from '../../shared/aws/places.js';
import { MemberAccessError } from '../../shared/errors.js';

const HUB = '111122223333';
const MEMBER = { accountId: '444455556666', region: 'us-east-1' };
const ROLES = { roleName: 'prod-RollStep', path: '/eks-node-lifecycle/', sessionName: 'eks-node-lifecycle-prod-rollStep', externalId: 'ext-1' };

function setup() {
  const sts = mockClient(STSClient);
  let t = Date.parse('2026-12-07T10:00:00Z');
  let n = 0;
  sts.on(AssumeRoleCommand).callsFake(() => {
    n++;
    return { Credentials: { AccessKeyId: `ASIA${n}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(t + 3_600_000) } };
  });
  const places = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: HUB }), ROLES, () => t);
  return { sts, places, advance: (ms: number) => (t += ms) };
}

describe('PlaceScopes', () => {
  it('acts in the hub with the function role, in a member with its member role, one scope per place', () => {
    const { sts, places } = setup();
    try {
      assert.equal(places.scopeOf(), places.home);
      assert.equal(places.scopeOf({ accountId: HUB, region: 'eu-west-1' }), places.home);
      const otherRegion = places.scopeOf({ accountId: HUB, region: 'us-east-1' });
      assert.equal(otherRegion.region, 'us-east-1');
      assert.equal(otherRegion.credentials, undefined);
      const member = places.scopeOf(MEMBER);
      assert.equal(places.scopeOf({ ...MEMBER }), member);
      assert.deepEqual([member.accountId, member.region], [MEMBER.accountId, MEMBER.region]);
      assert.equal(places.roleArnOf(MEMBER), 'arn:aws:iam::444455556666:role/eks-node-lifecycle/prod-RollStep-us-east-1');
      assert.equal(places.roleArnOf({ accountId: '444455556666', region: 'cn-north-1' }), 'arn:aws-cn:iam::444455556666:role/eks-node-lifecycle/prod-RollStep-cn-north-1');
    } finally {
      sts.restore();
    }
  });

  it('assumes the role once however many ask at once, and again only shortly before expiry', async () => {
    const { sts, places, advance } = setup();
    try {
      const [a, b] = await Promise.all([places.credentialsOf(MEMBER), places.credentialsOf(MEMBER)]);
      assert.equal(a, b);
      assert.equal(places.assumeRoleCalls, 1);
      const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
      assert.deepEqual(input, { RoleArn: 'arn:aws:iam::444455556666:role/eks-node-lifecycle/prod-RollStep-us-east-1', RoleSessionName: ROLES.sessionName, ExternalId: 'ext-1', DurationSeconds: 3600 });
      advance(3_600_000 - RENEW_BEFORE_EXPIRY_MS - 1);
      assert.equal((await places.credentialsOf(MEMBER)).accessKeyId, 'ASIA1');
      advance(2);
      assert.equal((await places.credentialsOf(MEMBER)).accessKeyId, 'ASIA2');
      assert.equal(places.assumeRoleCalls, 2);
    } finally {
      sts.restore();
    }
  });

  it('reports a refused AssumeRole as MemberAccessError naming the place, and does not ask again at once', async () => {
    const { sts, places, advance } = setup();
    try {
      sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied', $fault: 'client' }));
      const refused = (e: unknown) => e instanceof MemberAccessError && e.accountId === MEMBER.accountId && e.region === MEMBER.region && /prod-RollStep-us-east-1/.test(e.message);
      await assert.rejects(places.credentialsOf(MEMBER), refused);
      await assert.rejects(places.credentialsOf(MEMBER), refused);
      assert.equal(sts.commandCalls(AssumeRoleCommand).length, 1);
      advance(REFUSAL_REMEMBERED_MS);
      await assert.rejects(places.credentialsOf(MEMBER), refused);
      assert.equal(sts.commandCalls(AssumeRoleCommand).length, 2);
    } finally {
      sts.restore();
    }
  });

  it('a function without member roles refuses to act in a member', async () => {
    const places = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: HUB }), undefined);
    await assert.rejects(places.credentialsOf(MEMBER), (e: unknown) => e instanceof MemberAccessError && /no member role/.test(e.message));
  });
});
