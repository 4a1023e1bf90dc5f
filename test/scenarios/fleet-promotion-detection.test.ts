import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putAccessPolicy, releaseAmi, type SimExecution, World } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import { RolloutInputSchema } from '../../shared/events/rollout.js';
import type { PromotionState } from '../../shared/fleet/promotion-state.js';
import { RING_TAG } from '../../shared/fleet/ring-membership.js';

/**
 * Detection and fleet promotion in the sandbox (IAM enforced on every call detectStaleGroups
 * makes): a cluster in ring dev, one in ring prod, one in no ring, the promotion policy in SSM.
 * A new release: detection begins its promotion once (the fleet table's record, then the
 * fleet-promotion execution named after the release), starts no ring's rollout before the
 * promotion reaches that ring, and starts the ring-less group as it always has. The promotion's
 * own workflow is not what is under test: the state machine runs a one-state stand-in, and the
 * test moves the promotion on as the workflow would (dev soaking).
 */
const P = 'eks-node-lifecycle/';
const POLICY = { rings: [{ name: 'dev', soak: '2h' }, { name: 'prod', soak: '1d' }] };

describe('Scenario: detection waits for the promotion to reach a ring', () => {
  let world: World;
  let records: FleetRecords;
  let promotionMachine: string;
  let first: any;
  let second: any;
  let third: any;
  let afterFirst: SimExecution[];
  let afterSecond: SimExecution[];
  let promotion: PromotionState | undefined;
  let personProd: string;

  const executionsOf = (suffix: string) => [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith(suffix));
  const rolledClusters = () => executionsOf('-ami-rollout').map((e) => (JSON.parse(e.input) as { cluster: string }).cluster).sort();

  before(async () => {
    world = await World.start();
    for (const name of ['dev', 'prod', 'plain']) {
      await world.addCluster(name, { version: '1.31' });
      world.account.createSelfManagedGroup({ cluster: name, name: `${name}-web`, min: 0, max: 2, desired: 0, tags: { [`${P}rollout`]: 'auto' } });
    }
    // the ring on the cluster, for all its groups (EKS TagResource on the cluster)
    for (const ring of ['dev', 'prod']) world.account.eks.clusters.get(ring)!.cluster.tags![RING_TAG] = ring;
    // the parameter the function is told (PROMOTION_POLICY_PARAMETER: the stage param promotionPolicyParameter)
    const parameter = String(world.model.functions.find((f) => f.key === 'detectStaleGroups')!.environment.PROMOTION_POLICY_PARAMETER);
    world.account.ssm.putParameter(parameter, JSON.stringify(POLICY));
    // the fleet-promotion state machine (the promotion's workflow, not under test here): a stand-in that ends at once
    promotionMachine = `arn:aws:states:${world.model.region}:${world.model.accountId}:stateMachine:${world.model.service}-${world.model.stage}-fleet-promotion`;
    (world.stepFunctions as unknown as { machines: Map<string, unknown> }).machines.set(promotionMachine, {
      key: 'fleetPromotion',
      id: 'FleetPromotionStateMachine',
      name: promotionMachine.split(':').at(-1),
      arn: promotionMachine,
      definition: { StartAt: 'Begun', States: { Begun: { Type: 'Succeed' } } },
      logging: false,
    });
    records = new FleetRecords(awsScope({ region: world.model.region }), `${world.model.service}-${world.model.stage}-fleet`);
    await world.settle();

    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
    first = await world.lambda.invoke('detectStaleGroups', { kind: 'scheduled-detection' });
    await world.settle();
    afterFirst = executionsOf('-fleet-promotion');
    second = await world.lambda.invoke('detectStaleGroups', { kind: 'scheduled-detection' });
    await world.settle();
    afterSecond = executionsOf('-fleet-promotion');
    promotion = (await records.promotions())[0]?.state;

    // the promotion reaches ring dev and its groups soak (what the workflow's decisions write)
    const stored = (await records.promotions())[0]!;
    const soaking: PromotionState = { ...stored.state, rings: stored.state.rings.map((r) => (r.ring === 'dev' ? { ring: 'dev', status: 'soaking', since: world.clock.date().toISOString() } : r)) };
    assert.ok(await records.savePromotion(soaking, stored.version, world.clock.date().toISOString()));
    third = await world.lambda.invoke('detectStaleGroups', { kind: 'scheduled-detection' });
    await world.settle();

    // a person asks for prod by hand (chatInvoke: the same command path as Slack and the CLI)
    const invoker = `iam:arn:aws:lambda:${world.model.region}:${world.model.accountId}:function:${world.model.service}-${world.model.stage}-chatInvoke`;
    putAccessPolicy(world, { groups: { ops: [invoker] }, clusters: { prod: { read: ['group:ops'], act: ['group:ops'], approve: ['group:ops'] } } });
    personProd = (await world.lambda.invoke('chatInvoke', { command: 'rollout prod/prod-web' })) as string;
    await world.settle();
  });

  after(() => world?.stop());

  it('begins the promotion of the release once: its record, then one execution named after the release, input its key', () => {
    assert.ok(promotion, 'the promotion is recorded in the fleet table');
    assert.deepEqual(promotion.rings.map((r) => [r.ring, r.status]), [['dev', 'waiting'], ['prod', 'waiting']]);
    assert.equal(afterFirst.length, 1);
    assert.deepEqual(JSON.parse(afterFirst[0]!.input), { key: promotion.key });
    assert.deepEqual(first.promotions, [{ release: promotion.key, executionName: afterFirst[0]!.name, outcome: 'begun' }]);
    // detecting again finds the promotion: nothing new is recorded or started
    assert.equal(afterSecond.length, 1);
    assert.equal(second.promotions, undefined);
  });

  it('starts no ring rollout before the promotion reaches the ring; the group in no ring rolls as always, naming its release', () => {
    assert.deepEqual(first.started.map((s: any) => s.cluster), ['plain']);
    assert.deepEqual(first.deferred.map((d: any) => [d.cluster, d.verdict]).sort(), [['dev', 'waiting-for-ring'], ['prod', 'waiting-for-ring']]);
    const plain = RolloutInputSchema.parse(JSON.parse(executionsOf('-ami-rollout')[0]!.input));
    assert.deepEqual(plain.fleet, { release: promotion!.key });
  });

  it('once the promotion soaks ring dev, detection starts dev (with its release and ring), and still not prod', () => {
    assert.deepEqual(third.deferred.map((d: any) => [d.cluster, d.verdict]), [['prod', 'waiting-for-ring']]);
    assert.deepEqual(rolledClusters(), ['dev', 'plain']);
    const dev = executionsOf('-ami-rollout').find((e) => JSON.parse(e.input).cluster === 'dev')!;
    assert.deepEqual(RolloutInputSchema.parse(JSON.parse(dev.input)).fleet, { release: promotion!.key, ring: 'dev' });
  });

  it("a person's rollout of a ring the promotion has not reached is refused with the reason and the way on; nothing starts", () => {
    assert.match(personProd, new RegExp(`prod/prod-web may not roll now: the promotion of ${promotion!.key.replace(/\./g, '\\.')} has not reached ring prod`));
    assert.match(personProd, new RegExp(`promote ${promotion!.key.replace(/\./g, '\\.')} --to prod`));
    assert.deepEqual(rolledClusters(), ['dev', 'plain']);
  });

  it('every call was allowed by the roles serverless.yml gives (the policy, the fleet table, the promotion machine)', () => {
    assert.deepEqual(world.iam.denials, []);
    const asked = (fn: string) => [...world.iam.asked.values()].filter((d) => d.caller.includes(fn)).map((d) => d.request.action);
    for (const action of ['ssm:GetParameter', 'dynamodb:Query', 'dynamodb:PutItem', 'states:StartExecution']) assert.ok(asked('detectStaleGroups').includes(action), action);
    for (const action of ['ssm:GetParameter', 'dynamodb:Query']) assert.ok(asked('chatInvoke').includes(action), `chatInvoke ${action}`);
  });
});
