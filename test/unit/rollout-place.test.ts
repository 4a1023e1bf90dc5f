import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsScope } from '../../shared/aws/clients.js';
import { PlaceScopes } from '../../shared/aws/places.js';
import { lockKeyOf } from '../../shared/rollout/node-group-lock.js';
import { placeFieldsOf, rolloutPlaceOf } from '../../shared/rollout/rollout-place.js';

/** A rollout's place as its keys carry it (rollout-place.ts): the hub's own keeps the keys it had before member accounts. */
describe("Rollout place: the hub's own keys unchanged, any other place's qualified", () => {
  const scopes = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: '123456789012' }), { roleName: 'x', path: '/eks-node-lifecycle/', sessionName: 's' });

  it("the hub's own place, absent, partial or in full, is {}: its lock key is `cluster/group`", () => {
    for (const given of [undefined, {}, { accountId: '123456789012' }, { region: 'eu-west-1' }, { accountId: '123456789012', region: 'eu-west-1' }]) {
      const place = rolloutPlaceOf(scopes, given);
      assert.deepEqual(place, {}, JSON.stringify(given));
      assert.equal(lockKeyOf('prod', 'ng', place), 'prod/ng');
      assert.deepEqual(placeFieldsOf(place), {});
    }
  });

  it("a member's place, and another region of the hub's, are whole places with qualified keys", () => {
    assert.deepEqual(rolloutPlaceOf(scopes, { accountId: '444455556666', region: 'eu-west-2' }), { accountId: '444455556666', region: 'eu-west-2' });
    assert.deepEqual(rolloutPlaceOf(scopes, { accountId: '444455556666' }), { accountId: '444455556666', region: 'eu-west-1' }, "a member's account in the hub's region");
    assert.deepEqual(rolloutPlaceOf(scopes, { region: 'us-east-1' }), { accountId: '123456789012', region: 'us-east-1' });
    const keys = [{ accountId: '444455556666', region: 'eu-west-2' }, { accountId: '777788889999', region: 'eu-west-2' }, { region: 'us-east-1' }, {}].map((p) => lockKeyOf('prod', 'ng', rolloutPlaceOf(scopes, p)));
    assert.deepEqual(keys, ['444455556666/eu-west-2/prod/ng', '777788889999/eu-west-2/prod/ng', '123456789012/us-east-1/prod/ng', 'prod/ng']);
    assert.equal(new Set(keys).size, 4, 'two prod/ng in two accounts: two locks');
  });
});
