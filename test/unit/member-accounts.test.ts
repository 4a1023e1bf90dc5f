import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError } from '../../shared/errors.js';
import { fleetPlaces, loadFleetSettings, parseMemberAccounts } from '../../shared/config/member-accounts.js';

const HUB = '111122223333';

describe('memberAccounts (the stage param)', () => {
  it('reads accounts, their regions (default: the hub region) and clusters (default: managedClusters)', () => {
    assert.deepEqual(parseMemberAccounts(' 444455556666 , 777788889999:eu-west-1+us-east-1:prod+batch,222233334444::*', 'eu-west-1', ['prod']), [
      { accountId: '444455556666', regions: ['eu-west-1'], clusters: ['prod'] },
      { accountId: '777788889999', regions: ['eu-west-1', 'us-east-1'], clusters: ['prod', 'batch'] },
      { accountId: '222233334444', regions: ['eu-west-1'], clusters: '*' },
    ]);
    assert.deepEqual(parseMemberAccounts('', 'eu-west-1', '*'), []);
  });

  for (const [value, why] of [
    ['4444-5555-6666', /names no account id/],
    ['444455556666:eu-west', /names no region: "eu-west"/],
    ['444455556666:eu-west-1:pr od', /names no cluster/],
    ['444455556666:eu-west-1:prod:extra', /more than three parts/],
    ['444455556666,444455556666:us-east-1', /a second time/],
  ] as const) {
    it(`refuses "${value}", naming the entry`, () => {
      assert.throws(() => parseMemberAccounts(value, 'eu-west-1', '*'), (e: unknown) => e instanceof ConfigurationError && why.test(e.message) && e.message.includes('MEMBER_ACCOUNTS'));
    });
  }

  it('needs the hub account to tell members from it, and refuses the hub as a member', () => {
    assert.throws(() => loadFleetSettings({ MEMBER_ACCOUNTS: '444455556666' }, 'eu-west-1', '*'), /HUB_ACCOUNT_ID must be set/);
    assert.throws(() => loadFleetSettings({ MEMBER_ACCOUNTS: HUB, HUB_ACCOUNT_ID: HUB }, 'eu-west-1', '*'), /the hub's own account/);
    assert.throws(() => loadFleetSettings({ HUB_ACCOUNT_ID: 'hub' }, 'eu-west-1', '*'), /HUB_ACCOUNT_ID/);
  });

  it('gives a function its member roles only when members are listed and its role has one', () => {
    const env = { MEMBER_ACCOUNTS: '444455556666', HUB_ACCOUNT_ID: HUB, MEMBER_ROLE_NAME: 'prod-RollStep', MEMBER_EXTERNAL_ID: 'x-123', AWS_LAMBDA_FUNCTION_NAME: 'eks-node-lifecycle-prod-rollStep' };
    assert.deepEqual(loadFleetSettings(env, 'eu-west-1', '*').roles, { roleName: 'prod-RollStep', path: '/eks-node-lifecycle/', sessionName: 'eks-node-lifecycle-prod-rollStep', externalId: 'x-123' });
    assert.equal(loadFleetSettings({ ...env, MEMBER_ROLE_NAME: '' }, 'eu-west-1', '*').roles, undefined);
    assert.equal(loadFleetSettings({ ...env, MEMBER_ACCOUNTS: '' }, 'eu-west-1', '*').roles, undefined);
  });

  it('lists the hub place first, then every member region', () => {
    const settings = loadFleetSettings({ MEMBER_ACCOUNTS: '444455556666:eu-west-1+us-east-1:prod', HUB_ACCOUNT_ID: HUB }, 'eu-west-1', ['staging']);
    assert.deepEqual(fleetPlaces(settings, 'eu-west-1', ['staging']), [
      { place: { accountId: HUB, region: 'eu-west-1' }, clusters: ['staging'], home: true },
      { place: { accountId: '444455556666', region: 'eu-west-1' }, clusters: ['prod'], home: false },
      { place: { accountId: '444455556666', region: 'us-east-1' }, clusters: ['prod'], home: false },
    ]);
  });
});
