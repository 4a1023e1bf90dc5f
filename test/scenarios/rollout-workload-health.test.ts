import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type BusEvent, releaseAmi, SANDBOX_CREDENTIALS, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { cordoned, groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * The batch health gate sees workloads: a release whose image makes the pods on its nodes
 * crash-loop fails the rollout's first batch on workload health (not on a readiness timeout),
 * and the group rolls back. The sandbox's kubelet is told the image is bad for the `shop`
 * workloads (`badFor`): their containers exit at start and restart on the kubelet's back-off.
 */
const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const detailOf = (event: BusEvent | undefined): Record<string, any> => (event?.detail ?? {}) as Record<string, any>;

describe('Scenario: a release whose image makes pods crash-loop', () => {
  let world: World;
  let setup: Awaited<ReturnType<typeof selfManagedWorld>>;
  let before_: Awaited<ReturnType<typeof groupState>>;
  let monitor: InvariantMonitor;
  let badImage: string | undefined;
  before(async () => {
    setup = await selfManagedWorld({ nodes: 3, tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/canary': '1' } });
    world = setup.world;
    before_ = await groupState(setup.group.autoScalingGroupName);
    monitor = watchInvariants(world);
    badImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', badFor: { for: 'workloads', namespaces: ['shop'] } }).image.ImageId!;
    const detected = (await world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true })) as { plans: { group: string; to: unknown; from: unknown }[] };
    const plan = detected.plans.find((p) => p.group === 'workers')!;
    const machine = world.model.stateMachines.find((m) => m.name.endsWith('-ami-rollout'))!.arn;
    const input = {
      cluster: 'prod',
      group: { kind: 'self-managed', name: 'workers', autoScalingGroup: setup.group.autoScalingGroupName, launchTemplate: { id: setup.group.launchTemplateId, version: 1 } },
      target: plan.to,
      from: plan.from,
      startedBy: { kind: 'person', who: 'alice', startNow: true },
      fleet: { release: 'al2023-x86_64-standard-1.31-20261201', ring: 'canary' },
    };
    world.stepFunctions.start(machine, 'roll-bad-release', JSON.stringify(input));
    await world.settle();
  });
  after(() => world.stop());

  it('fails the first batch on workload health and rolls back: the execution ends RolledBack', () => {
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'FAILED', `${execution!.status}: ${execution!.error} ${execution!.cause}`);
    assert.equal(execution!.error, 'RolledBack');
    assert.equal(published(world, 'Rollout Canary Passed').length, 0, 'no batch passed');
  });

  it('reports the regression with its numbers: the crash-looping pods on the new node', () => {
    const rollingBack = detailOf(published(world, 'Rollout Rolling Back')[0]);
    assert.equal(rollingBack.cause, 'failed-health');
    assert.match(rollingBack.reason, /health gate after batch 1 of \d+ \(canary\): workloads regressed on the new nodes: crash-loops/);
    const crash = rollingBack.signals.find((s: any) => s.signal === 'crash-loops');
    assert.ok(crash.seen >= 1 && crash.threshold === 0, JSON.stringify(crash));
    assert.ok(crash.evidence.every((e: string) => e.startsWith('shop/web-')), JSON.stringify(crash.evidence));
    const rolledBack = detailOf(published(world, 'Rollout Rolled Back')[0]);
    assert.equal(rolledBack.cause, 'failed-health');
  });

  it('leaves the group as it was: old image, sizes, nothing cordoned', async () => {
    const final = await groupState(setup.group.autoScalingGroupName);
    assert.ok([...final.images.values()].every((id) => id !== badImage), JSON.stringify([...final.images]));
    assert.deepEqual([final.desired, final.min, final.max], [before_.desired, before_.min, before_.max]);
    assert.equal(final.launchTemplateVersion, before_.launchTemplateVersion);
    assert.deepEqual(cordoned(world), []);
  });

  it('records the group\'s outcome for the release in the fleet table: failed-health, rolled back, with the rollout\'s image', async () => {
    const dynamo = new DynamoDBClient({ region: world.model.region, endpoint: world.dynamo.endpoint, credentials: SANDBOX_CREDENTIALS });
    const table = (world.model.tables as { TableName: string }[]).map((t) => t.TableName).find((t) => t.endsWith('-fleet'))!;
    const items = (await dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'promotion#al2023-x86_64-standard-1.31-20261201' } } }))).Items ?? [];
    assert.equal(items.length, 1);
    // the promotion must see that the release hurt workloads here, not only that the group is back
    assert.equal(items[0]!['state']!.S, 'failed-health');
    assert.equal(items[0]!['rolledBack']!.BOOL, true);
    assert.equal(items[0]!['ring']!.S, 'canary');
    assert.equal(items[0]!['to']!.M!['imageId']!.S, badImage);
  });

  it('holds the invariants: no budget violated, nothing terminated undrained, the lock released, every execution reported', async () => {
    await monitor.assertHeld();
  });
});
