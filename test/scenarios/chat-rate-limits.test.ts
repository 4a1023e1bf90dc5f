import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMMANDS_PER_MINUTE, INVENTORY_TTL_MS } from '../../shared/chatops/run-command.js';
import { chatParams, runDefaultScenario, setupChat, type SlackReceiver, startSandboxSlack, World } from '@eks-node-lifecycle/sandbox';

/**
 * A person's burst of commands is bounded: at most COMMANDS_PER_MINUTE a minute (the next
 * refused with when to retry, before any AWS call), and `status`/`plan` reuse what they read
 * of a cluster for INVENTORY_TTL_MS, so ten of them cost one inventory.
 */
describe('Scenario: chat commands, rate-limited per person, the inventory read once for a burst', () => {
  let receiver: SlackReceiver;
  let world: World;

  before(async () => {
    receiver = await startSandboxSlack();
    world = await World.start({ params: chatParams(receiver) });
    const invoker = `iam:arn:aws:lambda:${world.model.region}:${world.model.accountId}:function:eks-node-lifecycle-sandbox-chatInvoke`;
    setupChat(world, receiver, { groups: { ops: [invoker] }, clusters: { prod: { read: ['group:ops'], act: ['group:ops'], approve: ['group:ops'] } } });
    await runDefaultScenario(world, { release: false });
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  const run = (command: string) => world.lambda.invoke('chatInvoke', { command }) as Promise<string>;
  const inventoryCalls = () => world.account.calls.filter((c) => c.caller === 'chatInvoke' && /^Describe(AutoScalingGroups|Nodegroup|Cluster|Images)$|^ListNodegroups$/.test(c.command)).length;

  it('answers ten status and plan commands in a burst from one inventory per kind, and reads afresh once it is stale', async () => {
    await world.run(60_000); // a fresh minute
    const before = inventoryCalls();
    const first = await run('status prod');
    const afterFirst = inventoryCalls();
    assert.ok(afterFirst > before, 'the first status read the inventory');
    for (let i = 0; i < 4; i++) assert.equal(await run('status prod'), first);
    assert.equal(inventoryCalls(), afterFirst, 'four more status commands cost no inventory call');
    await run('plan prod');
    const afterPlan = inventoryCalls();
    for (let i = 0; i < 4; i++) await run('plan prod');
    assert.equal(inventoryCalls(), afterPlan, 'four more plan commands cost no inventory call');
    await world.run(INVENTORY_TTL_MS + 1_000);
    await run('status prod');
    assert.ok(inventoryCalls() > afterPlan, 'a stale inventory is read again');
  });

  it(`refuses a person's command past ${COMMANDS_PER_MINUTE} in a minute, saying when to retry, before any AWS call; the next minute it runs`, async () => {
    await world.run(60_000 - (world.clock.now() % 60_000) + 1_000); // the start of a minute
    for (let i = 0; i < COMMANDS_PER_MINUTE; i++) assert.doesNotMatch(await run('status prod'), /Too many commands/);
    const callsBefore = world.account.calls.length;
    const refused = await run('status prod');
    assert.match(refused, new RegExp(`Too many commands: at most ${COMMANDS_PER_MINUTE} a minute per person\\. Try again after \\d\\d:\\d\\d:00 UTC\\.`));
    assert.equal(world.account.calls.length, callsBefore, 'nothing was read for it');
    assert.match(await run('help'), /status/, 'help is never limited');
    await world.run(60_000);
    assert.doesNotMatch(await run('status prod'), /Too many commands/);
  });
});
