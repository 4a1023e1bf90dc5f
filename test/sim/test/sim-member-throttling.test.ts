import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { World } from '../world.js';

const MEMBER = '444455556666';

describe('Sandbox: member accounts are throttled as the hub is', () => {
  it('members follow the hub switch: on at the start, switched later, and regions reached on first use', async () => {
    const world = await World.start({ members: [{ accountId: MEMBER, regions: ['eu-west-1', 'us-east-1'] }], throttling: { aws: { seed: 7 } } });
    try {
      const members = world.places().filter((p) => p.accountId === MEMBER);
      assert.equal(members.length, 2);
      for (const place of members) assert.deepEqual([world.accountAt(place).throttling.enabled, world.accountAt(place).throttling.seed], [true, 7], `${place.accountId}/${place.region}`);
      world.throttling.aws.disable();
      for (const place of members) assert.equal(world.accountAt(place).throttling.enabled, false, 'switched off with the hub');
      world.throttling.aws.enable({ seed: 3 });
      for (const place of members) assert.deepEqual([world.accountAt(place).throttling.enabled, world.accountAt(place).throttling.seed], [true, 3], 'switched on again, with the new options');
      const later = world.cloud!.reach({ accountId: MEMBER, region: 'ap-south-1' });
      assert.deepEqual([later.throttling.enabled, later.throttling.seed], [true, 3], 'a region reached later starts as the hub is');
    } finally {
      await world.stop();
    }
  });

  it('a world started with throttling off leaves members unthrottled until the hub is switched on', async () => {
    const world = await World.start({ members: [{ accountId: MEMBER }], throttling: {} });
    try {
      const place = { accountId: MEMBER, region: 'eu-west-1' };
      assert.equal(world.accountAt(place).throttling.enabled, false);
      world.throttling.aws.enable();
      assert.equal(world.accountAt(place).throttling.enabled, true);
    } finally {
      await world.stop();
    }
  });
});
