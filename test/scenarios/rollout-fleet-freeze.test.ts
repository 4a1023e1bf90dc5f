import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BusEvent, releaseAmi, type World } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { groupState, rollouts, rolloutRequest, selfManagedWorld } from './rollout-helpers.js';

/**
 * A freeze set while a rollout runs: the batch under way finishes, the next one waits at the
 * boundary (looking every few minutes, few history events), and goes on once unfrozen.
 */
const types = (world: World): string[] => world.published.map((e: BusEvent) => e['detail-type']);

describe('Scenario: a freeze set mid-rollout', () => {
  let world: World;
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let monitor: InvariantMonitor;
  let image: string;
  let fleet: FleetRecords;
  const frozen: { status?: string; batches?: number; historyDuring?: number; pausedEvents?: number } = {};
  before(async () => {
    setup = await selfManagedWorld({ nodes: 3, tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/canary': '1' } });
    world = setup.world;
    monitor = watchInvariants(world);
    fleet = new FleetRecords(awsScope({ region: world.model.region }), process.env['FLEET_TABLE']!);
    image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    const start = await rolloutRequest(world, setup.group);
    start('roll-during-freeze', 'alice');
    await fleet.setFreeze({ scope: { kind: 'all' }, reason: 'incident 42', by: 'bob', since: new Date().toISOString() });
    await world.run(2 * 3600_000);
    const [execution] = rollouts(world);
    frozen.status = execution!.status;
    frozen.batches = types(world).filter((t) => t === 'Rollout Canary Passed' || t === 'Rollout Batch Finished').length;
    const at = execution!.history.length;
    await world.run(3600_000);
    frozen.historyDuring = execution!.history.length - at;
    frozen.pausedEvents = types(world).filter((t) => t === 'Rollout Paused').length;
    await fleet.liftFreeze({ kind: 'all' });
    await world.settle();
  });
  after(() => world.stop());

  it('pauses at the next batch boundary: the canary batch finished, no other began', () => {
    assert.equal(frozen.status, 'RUNNING');
    assert.equal(frozen.batches, 1);
    assert.equal(frozen.pausedEvents, 1, 'announced once');
    const paused = world.published.find((e) => e['detail-type'] === 'Rollout Paused')!.detail as Record<string, unknown>;
    assert.equal(paused.reason, 'freeze');
    assert.match(String(paused.message), /incident 42, by bob/);
  });

  it('waits cheaply: an hour frozen costs a few history events', () => {
    // a look every 3 minutes (freezePollSeconds): its Wait and Roll states, no more
    assert.ok(frozen.historyDuring! <= 20 * 8, `${frozen.historyDuring} history events in an hour frozen`);
    console.log(`history events in one hour frozen: ${frozen.historyDuring}`);
  });

  it('goes on once unfrozen and finishes: every node on the new image', async () => {
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
    assert.ok(types(world).includes('Rollout Resumed'));
    const final = await groupState(setup.group.autoScalingGroupName);
    assert.ok([...final.images.values()].every((id) => id === image));
  });

  it('holds the invariants', async () => {
    await monitor.assertHeld();
  });
});
