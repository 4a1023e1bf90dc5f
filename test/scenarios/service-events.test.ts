import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import * as z from 'zod/mini';
import { CHAT_EVENT_TYPES } from '../../shared/chatops/event-replies.js';
import { SERVICE_EVENT_SCHEMAS, isServiceDetailType } from '../../shared/events/service-events.js';
import { cliInSandbox, sandboxOperator } from '../../scripts/cli-sandbox.js';
import { putAccessPolicy, releaseAmi, type World } from '@eks-node-lifecycle/sandbox';
import { rolloutControl } from './long-executions.js';
import { rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * The service's own events as the real flows publish them (events/service-events.ts): a
 * rollout that waits for approval and is paused and resumed by a person, then a node Auto
 * Scaling takes away, drained by node-drain. Every event it put on the bus parses with the schema of its
 * detail-type, and chatNotify, which the rule hands every one chat reads, took each of them.
 */

describe('Scenario: every event a rollout and its drains publish reads with its schema', () => {
  let world: World;
  before(async () => {
    const setup = await selfManagedWorld({ nodes: 4, tags: { 'eks-node-lifecycle/rollout': 'approve', 'eks-node-lifecycle/max-unavailable': '2', 'eks-node-lifecycle/canary': '1' } });
    world = setup.world;
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' });
    await world.lambda.invoke('detectStaleGroups', { kind: 'detect' });
    await world.run(60_000);
    // an approval comes from an authenticated person: the CLI, through the service's function URL
    putAccessPolicy(world, { clusters: { prod: { approve: [sandboxOperator(world.model.accountId).id] } } });
    const approval = await cliInSandbox(world)('approve prod/workers');
    assert.equal(approval.ok, true, approval.text);
    await world.run(60_000);
    await rolloutControl(world, 'pause');
    await world.run(20 * 60_000);
    await rolloutControl(world, 'resume');
    await world.settle();
    // then Auto Scaling takes a node away: its terminate hook brings the node-drain workflow
    await new AutoScalingClient({ region: 'eu-west-1' }).send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: setup.group.autoScalingGroupName, MinSize: 3, DesiredCapacity: 3 }));
    await world.settle();
  });
  after(() => world.stop());

  it('ran the rollout to its end, through approval and a pause; then a node drained for Auto Scaling', () => {
    const [execution] = rollouts(world);
    assert.equal(execution!.status, 'SUCCEEDED', `${execution!.error}: ${execution!.cause}`);
    const types = new Set(world.published.map((e) => e['detail-type']));
    for (const type of ['Rollout Approval Requested', 'Rollout Approved', 'Rollout Planned', 'Rollout Canary Passed', 'Rollout Paused', 'Rollout Resumed', 'Rollout Finished', 'Node Drain Finished']) {
      assert.ok(types.has(type), `${type} in ${[...types].join(', ')}`);
    }
  });

  it('published only events whose schema accepts them', () => {
    for (const event of world.published) {
      const type = event['detail-type'];
      assert.ok(isServiceDetailType(type), `${type} has a schema`);
      const read = z.safeParse(SERVICE_EVENT_SCHEMAS[type], event.detail);
      assert.ok(read.success, `${type}: ${JSON.stringify(read.error?.issues)}\n${JSON.stringify(event.detail)}`);
    }
  });

  it('chatNotify took every event chat reads, and refused none', () => {
    const read = new Set<string>(CHAT_EVENT_TYPES);
    const deliveries = world.bus.deliveries.filter((d) => d.function === 'chatNotify');
    assert.equal(deliveries.length, world.published.filter((e) => read.has(e['detail-type'])).length);
    assert.deepEqual(deliveries.filter((d) => d.outcome !== 'succeeded').map((d) => [d.event['detail-type'], d.error]), []);
  });
});
