import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { awsScope } from '../../shared/aws/clients.js';
import { DrainRecords, drainRecordKey } from '../../shared/aws/drain-records.js';
import { fleetPlaces, parseMemberAccounts } from '../../shared/config/member-accounts.js';
import { drainExecutionName } from '../../shared/drain/decide-request.js';
import { joinExecutionName } from '../../shared/ownership/plan-tagging.js';
import { locatePlace } from '../../shared/ownership/place-in-fleet.js';

const HUB = '111122223333';
const MEMBER = { accountId: '444455556666', region: 'us-east-1' };
const INSTANCE = 'i-0123456789abcdef0';
const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const fleet = (hubAccountId: string | undefined, members: string) =>
  fleetPlaces({ ...(hubAccountId ? { hubAccountId } : {}), members: parseMemberAccounts(members, 'eu-west-1', ['prod']) }, 'eu-west-1', ['prod']);

describe('Places of the drain path: which place an event or input is', () => {
  const places = fleet(HUB, '444455556666:us-east-1+eu-west-1:prod+batch, 777788889999');

  it('the hub\'s own (no place: unchanged keys) for its account and region, or when nothing is named', () => {
    assert.deepEqual(locatePlace(places, { accountId: HUB, region: 'eu-west-1' }), { clusters: ['prod'] });
    assert.deepEqual(locatePlace(places, undefined), { clusters: ['prod'] });
    assert.deepEqual(locatePlace(places, {}), { clusters: ['prod'] });
  });

  it('a listed member\'s account and region, with that member\'s cluster allow-list', () => {
    assert.deepEqual(locatePlace(places, MEMBER), { place: MEMBER, clusters: ['prod', 'batch'] });
    assert.deepEqual(locatePlace(places, { accountId: '444455556666', region: 'eu-west-1' }), { place: { accountId: '444455556666', region: 'eu-west-1' }, clusters: ['prod', 'batch'] });
    // no region listed: the hub's region, and the hub's managedClusters
    assert.deepEqual(locatePlace(places, { accountId: '777788889999', region: 'eu-west-1' }), { place: { accountId: '777788889999', region: 'eu-west-1' }, clusters: ['prod'] });
    assert.deepEqual(locatePlace(places, { accountId: '777788889999' }), { place: { accountId: '777788889999', region: 'eu-west-1' }, clusters: ['prod'] }, 'an absent region is the hub\'s');
  });

  it('none for an account nobody listed, a member\'s unlisted region, or the hub account in another region', () => {
    assert.equal(locatePlace(places, { accountId: '999988887777', region: 'eu-west-1' }), undefined);
    assert.equal(locatePlace(places, { accountId: '777788889999', region: 'us-east-1' }), undefined);
    assert.equal(locatePlace(places, { accountId: HUB, region: 'us-east-1' }), undefined);
  });

  it('a single-account deployment that was not told its account takes any account in its region as its own, as before', () => {
    const single = fleet(undefined, '');
    assert.deepEqual(locatePlace(single, { accountId: '123456789012', region: 'eu-west-1' }), { clusters: ['prod'] });
    assert.equal(locatePlace(single, { accountId: '123456789012', region: 'us-east-2' }), undefined);
  });
});

describe('Places of the drain path: keys', () => {
  it('the hub\'s drain and join executions keep their names; a member\'s name its account and region', () => {
    assert.equal(drainExecutionName(INSTANCE, 3), `drain-${INSTANCE}-3`);
    assert.equal(drainExecutionName(INSTANCE, 3, MEMBER), `drain-444455556666-us-east-1-${INSTANCE}-3`);
    const token = '11111111-2222-3333-4444-555555555555';
    const hub = joinExecutionName(INSTANCE, token);
    assert.match(hub, new RegExp(`^join-${INSTANCE}-[0-9a-f]{16}$`));
    assert.equal(joinExecutionName(INSTANCE, token, MEMBER), hub.replace('join-', 'join-444455556666-us-east-1-'));
  });

  it('property: a member\'s execution names are valid Step Functions names, distinct per place', () => {
    const region = fc.constantFrom('us-east-1', 'ap-southeast-4', 'us-gov-west-1', 'cn-northwest-1', 'eu-central-2', 'me-central-1');
    const account = fc.stringMatching(/^\d{12}$/);
    const instance = fc.stringMatching(/^i-[0-9a-f]{17}$/);
    fc.assert(
      fc.property(account, account, region, region, instance, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.string(), (a1, a2, r1, r2, id, generation, token) => {
        const [p1, p2] = [{ accountId: a1, region: r1 }, { accountId: a2, region: r2 }];
        for (const name of [drainExecutionName(id, generation, p1), joinExecutionName(id, token, p1)]) assert.match(name, NAME);
        if (a1 !== a2 || r1 !== r2) {
          assert.notEqual(drainExecutionName(id, generation, p1), drainExecutionName(id, generation, p2));
          assert.notEqual(joinExecutionName(id, token, p1), joinExecutionName(id, token, p2));
        }
      }),
    );
  });

  it('drain records: the hub\'s keyed by the instance id as before, a member\'s by account/region/instance, the view naming the instance and its place', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    try {
      ddb.on(UpdateCommand).callsFake((input) => ({ Attributes: { ...input.ExpressionAttributeValues, instanceId: input.Key.instanceId, accountId: input.ExpressionAttributeValues[':accountId'], region: input.ExpressionAttributeValues[':region'], status: 'running', revision: 1 } }));
      ddb.on(GetCommand).callsFake((input) => ({ Item: { instanceId: input.Key.instanceId, cluster: 'prod', status: 'running', generation: 0, revision: 1, updatedAt: '', expiresAt: 0, ...(input.Key.instanceId.includes('/') ? { accountId: MEMBER.accountId, region: MEMBER.region } : {}) } }));
      const hub = new DrainRecords(awsScope({ region: 'eu-west-1' }), 'drains');
      const member = hub.at(MEMBER);
      assert.equal(hub.at(undefined), hub);
      assert.equal(hub.at({ ...MEMBER }), member, 'one view per place');
      assert.equal(member.at(undefined), hub);

      const now = new Date('2026-12-07T10:00:00Z');
      await hub.write(INSTANCE, undefined, { cluster: 'prod', status: 'running' }, now);
      const written = await member.write(INSTANCE, undefined, { cluster: 'prod', status: 'running' }, now);
      const [atHub, atMember] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      assert.deepEqual(atHub!.Key, { instanceId: INSTANCE });
      assert.ok(!JSON.stringify(atHub!.ExpressionAttributeNames).includes('accountId'), 'a hub record is written as before');
      assert.deepEqual(atMember!.Key, { instanceId: `444455556666/us-east-1/${INSTANCE}` });
      assert.equal(atMember!.ExpressionAttributeValues![':accountId'], MEMBER.accountId);
      assert.deepEqual([written!.instanceId, written!.place], [INSTANCE, MEMBER]);

      const read = await member.get(INSTANCE);
      assert.deepEqual(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key), [{ instanceId: `444455556666/us-east-1/${INSTANCE}` }]);
      assert.deepEqual([read!.instanceId, read!.place], [INSTANCE, MEMBER]);
      assert.equal(drainRecordKey(INSTANCE), INSTANCE);
      assert.equal(drainRecordKey(INSTANCE, { accountId: '777788889999', region: 'us-east-1' }) === drainRecordKey(INSTANCE, MEMBER), false, 'one instance id in two accounts: two records');
    } finally {
      ddb.restore();
    }
  });
});
