import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatParams, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, World } from '@eks-node-lifecycle/sandbox';

/**
 * The stack's alarms reach the chat channel (alarmsToChat, on by default): CloudWatch's
 * `CloudWatch Alarm State Change` event, routed by serverless.yml's rule on the alarm name
 * prefix, posted by chatNotify — going into ALARM with the reason and what to look at, and
 * back to OK; another stack's alarm is not this service's business.
 */
function alarmEvent(alarmName: string, state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA', previous: string, at: Date) {
  // the shape of the example in CloudWatch's "Alarm events and EventBridge" page
  return {
    version: '0',
    id: `c4c1c1c9-6542-e61b-6ef0-8c4d36933a92-${alarmName}-${state}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '111122223333',
    time: at.toISOString(),
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: state, reason: 'Threshold Crossed: 1 datapoint [1.0 (07/12/26 08:00:00)] was greater than or equal to the threshold (1.0).', timestamp: at.toISOString() },
      previousState: { value: previous, reason: '', timestamp: at.toISOString() },
      configuration: { description: 'a node drain failed: the node is cordoned and its lifecycle actions are left to their default result (see the Node Drain Finished event).', metrics: [] },
    },
  };
}

describe('Scenario: the stack\'s alarms in the chat channel', () => {
  let receiver: SlackReceiver;
  let world: World;
  before(async () => {
    receiver = await startSandboxSlack();
    world = await World.start({ params: { ...chatParams(receiver), chatDefaultChannel: SANDBOX_SLACK.channel } });
    setupChat(world, receiver, sandboxAccessPolicy({ sre: ['U0ALICE'] }));
  });
  after(async () => {
    await world.stop();
    await receiver.close();
  });

  it('posts an alarm going into ALARM with its reason and description, and its return to OK; nothing for INSUFFICIENT_DATA or another stack', async () => {
    const ours = `eks-node-lifecycle-${world.model.stage}-DrainsFailedAlarm`;
    world.put(alarmEvent(ours, 'ALARM', 'OK', world.clock.date()) as never);
    world.put(alarmEvent(ours, 'INSUFFICIENT_DATA', 'ALARM', world.clock.date()) as never);
    world.put(alarmEvent('someone-else-prod-ErrorsAlarm', 'ALARM', 'OK', world.clock.date()) as never);
    world.put(alarmEvent(ours, 'OK', 'ALARM', world.clock.date()) as never);
    await world.settle();
    const posts = receiver.messages.filter((m) => m.kind === 'post' && m.channel === SANDBOX_SLACK.channel).map((m) => m.text);
    assert.equal(posts.length, 2, posts.join('\n---\n'));
    assert.match(posts[0]!, new RegExp(`ALARM: ${ours}`));
    assert.match(posts[0]!, /a node drain failed: the node is cordoned/);
    assert.match(posts[0]!, /Threshold Crossed/);
    assert.match(posts[1]!, new RegExp(`OK again: ${ours}`));
    assert.ok(!posts.some((p) => p.includes('someone-else')));
  });
});
