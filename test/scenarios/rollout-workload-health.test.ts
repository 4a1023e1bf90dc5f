import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type BusEvent, releaseAmi, SANDBOX_CREDENTIALS, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { cordoned, groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * The batch health gate sees workloads: a release whose image makes the pods on its nodes
 * crash-loop fails the rollout's first batch on workload health (not on a readiness timeout),
 * and the group rolls back. The crash loops are the test's own (a store listener turns the
 * pods on a node of the bad image to CrashLoopBackOff, as a kubelet would report them) until
 * the sandbox's kubelet can be told an image is bad for workloads.
 */
const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const detailOf = (event: BusEvent | undefined): Record<string, any> => (event?.detail ?? {}) as Record<string, any>;

/** Pods of `namespace` on a node running `image` crash-loop: not Ready, restarting, waiting in CrashLoopBackOff. */
function crashLoopOn(world: World, image: () => string | undefined, namespace: string): void {
  const store = world.cluster('prod').store;
  const imageOfNode = (name: string) => {
    const id = (store.peek('nodes', undefined, name) as any)?.spec?.providerID?.split('/').at(-1);
    return id ? world.account.ec2.instances.records.get(id)?.instance.ImageId : undefined;
  };
  store.on((event) => {
    if (event.resource !== 'pods' || event.type === 'DELETED') return;
    const pod = event.object as any;
    if (pod.metadata.namespace !== namespace || pod.status?.phase !== 'Running' || !pod.spec.nodeName) return;
    if ((pod.status.containerStatuses ?? []).some((c: any) => c.state?.waiting?.reason === 'CrashLoopBackOff')) return;
    if (!image() || imageOfNode(pod.spec.nodeName) !== image()) return;
    queueMicrotask(() => {
      if (!store.peek('pods', namespace, pod.metadata.name)) return;
      store.update('pods', namespace, pod.metadata.name, (p: any) => {
        p.status.containerStatuses = (p.status.containerStatuses ?? []).map((c: any) => ({ ...c, ready: false, started: false, restartCount: c.restartCount + 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } } }));
        p.status.conditions = (p.status.conditions ?? []).map((c: any) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False' } : c));
      });
    });
  });
}

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
    crashLoopOn(world, () => badImage, 'shop');
    badImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
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

  it('records the group\'s outcome for the release in the fleet table: rolled-back, with the rollout\'s image', async () => {
    const dynamo = new DynamoDBClient({ region: world.model.region, endpoint: world.dynamo.endpoint, credentials: SANDBOX_CREDENTIALS });
    const table = (world.model.tables as { TableName: string }[]).map((t) => t.TableName).find((t) => t.endsWith('-fleet'))!;
    const items = (await dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'promotion#al2023-x86_64-standard-1.31-20261201' } } }))).Items ?? [];
    assert.equal(items.length, 1);
    assert.equal(items[0]!['state']!.S, 'rolled-back');
    assert.equal(items[0]!['ring']!.S, 'canary');
    assert.equal(items[0]!['to']!.M!['imageId']!.S, badImage);
  });

  it('holds the invariants: no budget violated, nothing terminated undrained, the lock released, every execution reported', async () => {
    await monitor.assertHeld();
  });
});
