import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type KubeNode, populateNodeForDrain, World } from '@eks-node-lifecycle/sandbox';
import { watchInvariants, type InvariantMonitor } from './fault-invariants.js';

/**
 * The invariant monitor in a world with a member account: it watches every place, not only
 * the hub's home. A group named `workers` lives in the hub's `prod` cluster and another
 * `workers` in the member's `prod`; the member's instance is terminated behind everyone's back
 * (Auto Scaling's own terminate, no lifecycle hook) while its node still has pods to evict.
 */
const MEMBER = '444455556666';
const member = { accountId: MEMBER, region: 'eu-west-1' };
const at = (name: string) => `${MEMBER}/eu-west-1/${name}`;

describe('Scenario: the invariant monitor watches every place of the world', () => {
  let world: World;
  let monitor: InvariantMonitor;
  let victim: string;
  let homeInstances: string[];

  before(async () => {
    world = await World.start({ members: [{ accountId: MEMBER, regions: ['eu-west-1'] }] });
    await world.addCluster('prod');
    const away = await world.addCluster('prod', { place: member });
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'workers', min: 1, max: 4, desired: 2 });
    world.accountAt(member).createSelfManagedGroup({ cluster: 'prod', name: 'workers', min: 1, max: 4, desired: 3 });
    await world.settle();
    homeInstances = [...world.account.autoscaling.groups.get('workers')!.instances.keys()];
    victim = [...world.accountAt(member).autoscaling.groups.get('workers')!.instances.keys()][0]!;
    const node = (away.store.list('nodes') as KubeNode[]).find((n) => n.spec?.providerID?.endsWith(`/${victim}`))!.metadata.name!;
    populateNodeForDrain(away.store, node, { pods: 12, spareNodes: 3 });
    await world.run(30_000);

    monitor = watchInvariants(world);
    // scale-in by hand in the member account: no hook, nobody drains the node first
    world.accountAt(member).autoscaling.terminateInstanceInAutoScalingGroup({ InstanceId: victim, ShouldDecrementDesiredCapacity: true });
    await world.settle();
  });
  after(() => world.stop());

  it('follows the capacity of both groups named workers, apart: the home one by its name, the member\'s by its place', () => {
    const capacity = monitor.report().capacity;
    assert.deepEqual(
      capacity.map((c) => [c.group, c.initial, c.now]),
      [
        ['workers', 2, 2],
        [at('workers'), 3, 2],
      ],
    );
  });

  it('catches the member\'s instance terminated with pods still to evict, naming its place, and nothing of the home group', async () => {
    const termination = monitor.report().terminations.find((t) => t.instanceId === victim)!;
    assert.deepEqual(termination.place, member);
    assert.ok(termination.podsToEvict.length > 0);
    const failures = await failuresOf(monitor, { groups: [{ name: 'workers', floor: 2 }] });
    assert.ok(failures.some((f) => f.startsWith(`2. ${at(victim)} (`) && f.includes('terminated with pods still to evict')), failures.join('\n'));
    assert.ok(failures.some((f) => f.startsWith(`1. PodDisruptionBudget violated in ${at('prod')}`)), failures.join('\n'));
    assert.ok(!failures.some((f) => f.includes('workers')), 'the home group held');
    assert.ok(!homeInstances.some((id) => failures.some((f) => f.includes(id))));
  });

  it('judges each same-named group against its own baseline: the member\'s changed sizes, the home one\'s did not', async () => {
    const excused = { terminatedByAws: [at(victim)] };
    const failures = await failuresOf(monitor, { ...excused, groups: [{ name: 'workers', floor: 2 }, { name: 'workers', place: member, floor: 2 }] });
    assert.deepEqual(
      failures.map((f) => f.split(':')[0]),
      [`7. ${at('workers')}`],
      failures.join('\n'),
    );
    assert.match(failures[0]!, /sizes \{"desired":2,"min":1,"max":4\}, expected \{"desired":3,"min":1,"max":4\}/);
    // the same expectations, by the member group's key and with its new size: every invariant holds
    await monitor.assertHeld({ ...excused, groups: [{ name: 'workers', floor: 2 }, { name: at('workers'), floor: 2, sizes: { desired: 2 } }] });
  });

  it('excuses a listed instance only in the place it is listed for', async () => {
    const failures = await failuresOf(monitor, { terminatedByAws: [`${world.home.accountId}/eu-west-1/${victim}`] });
    assert.ok(failures.some((f) => f.startsWith(`2. ${at(victim)}`)), failures.join('\n'));
    // a bare id names the instance wherever it lives, as single-account scenarios list them
    assert.deepEqual(await failuresOf(monitor, { terminatedByAws: [victim] }), []);
  });
});

async function failuresOf(monitor: InvariantMonitor, expect: Parameters<InvariantMonitor['assertHeld']>[0]): Promise<string[]> {
  try {
    await monitor.assertHeld(expect);
    return [];
  } catch (error) {
    return (error as { actual: string[] }).actual;
  }
}
