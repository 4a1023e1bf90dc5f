import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type BusEvent, createDeployment, releaseAmi, SANDBOX_CREDENTIALS, World } from '@eks-node-lifecycle/sandbox';
import { rollouts } from './rollout-helpers.js';

/**
 * An EKS managed node group rolled onto a release whose image makes the pods on its nodes
 * crash-loop: the rollout's watch (managed-update-strategy.ts, health-gate.ts) sees the
 * regression while EKS replaces the nodes, records failed-health for the release, and, the
 * group being rolled by release version (which EKS cannot roll back), lets EKS's update end
 * and ends failed with the signals. The fleet table keeps failed-health for the promotion.
 */
const RELEASE = 'al2023-x86_64-standard-1.31-20261201';
const published = (world: World, type: string): BusEvent[] => world.published.filter((e) => e['detail-type'] === type);
const detailOf = (event: BusEvent | undefined): Record<string, any> => (event?.detail ?? {}) as Record<string, any>;

describe('Scenario: a managed node group rolled onto a release whose image makes pods crash-loop', () => {
  let world: World;
  let badImage: string;
  before(async () => {
    world = await World.start();
    const cluster = await world.addCluster('prod', { version: '1.31' });
    world.account.createManagedNodegroup({ cluster: 'prod', name: 'general', desired: 3, max: 3, tags: { 'eks-node-lifecycle/rollout': 'auto' } });
    await world.settle();
    createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: 6, labels: { app: 'web' } });
    await world.run(60_000);
    const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', badFor: { for: 'workloads', namespaces: ['shop'] } });
    badImage = image.image.ImageId!;
    const detected = (await world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true })) as { plans: { group: string; to: unknown; from: unknown }[] };
    const plan = detected.plans.find((p) => p.group === 'general');
    assert.ok(plan, JSON.stringify(detected.plans));
    const machine = world.model.stateMachines.find((m) => m.name.endsWith('-ami-rollout'))!.arn;
    const input = { cluster: 'prod', group: { kind: 'managed', name: 'general' }, target: plan.to, from: plan.from, startedBy: { kind: 'person', who: 'alice', startNow: true }, fleet: { release: RELEASE, ring: 'canary' } };
    world.stepFunctions.start(machine, 'roll-bad-release-managed', JSON.stringify(input));
    await world.settle();
  });
  after(() => world.stop());

  it('sees the regression on the new nodes and ends failed with the signals (EKS cannot roll a release back)', () => {
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'FAILED', `${execution!.status}: ${execution!.error} ${execution!.cause}`);
    const failed = detailOf(published(world, 'Rollout Failed')[0]);
    assert.equal(failed.cause, 'failed-health', JSON.stringify(failed).slice(0, 1000));
    assert.match(failed.reason, /workloads regressed on the new nodes: crash-loops.*EKS cannot roll back/);
    const crash = failed.signals.find((s: any) => s.signal === 'crash-loops');
    assert.ok(crash.seen >= 1 && crash.evidence.every((e: string) => e.startsWith('shop/web-')), JSON.stringify(crash));
    assert.equal(published(world, 'Rollout Rolling Back').length, 0, 'nothing to roll back to: not announced');
  });

  it('keeps failed-health for the release in the fleet table, though the rollout ended failed', async () => {
    const dynamo = new DynamoDBClient({ region: world.model.region, endpoint: world.dynamo.endpoint, credentials: SANDBOX_CREDENTIALS });
    const table = (world.model.tables as { TableName: string }[]).map((t) => t.TableName).find((t) => t.endsWith('-fleet'))!;
    const items = (await dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `promotion#${RELEASE}` } } }))).Items ?? [];
    assert.equal(items.length, 1);
    assert.equal(items[0]!['state']!.S, 'failed-health');
    assert.equal(items[0]!['to']!.M!['imageId']!.S, badImage);
  });
});
