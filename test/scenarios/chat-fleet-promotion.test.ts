import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChatDriver, chatParams, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import { AuditLog } from '../../shared/chatops/audit-log.js';
import type { PromotionState } from '../../shared/fleet/promotion-state.js';
import { selfManagedWorld } from './rollout-helpers.js';

/**
 * Issue 21 part 5, through the sandbox's Slack, chatWorker, chatNotify and the fleet table (IAM
 * enforced against serverless.yml's roles): a freeze shows at the top of `status` until it is
 * lifted; a stored promotion is held and released, each stored at its version and told in the
 * promotion's own thread.
 */
const A = 'U0ALICE';
const B = 'U0BOB';
const KEY = 'custom-web-2026.12.1';

describe('Scenario: freezes and holds from chat', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let fleet: FleetRecords;

  const ask = async (user: string, text: string): Promise<string> => {
    const out = await chat.slash(user, text);
    await world.run(20_000);
    return chat.responses(out.responseUrl).map((m) => m.text).join('\n');
  };

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world } = await selfManagedWorld({ nodes: 2, name: 'web', tags: {}, world: { params: chatParams(receiver) } }));
    const policy = sandboxAccessPolicy({ sre: [A, B] }) as { clusters: Record<string, Record<string, unknown>> };
    // the fleet: act and approve on every cluster for the SREs, promotions announced in the sandbox channel
    policy.clusters['*'] = { read: ['group:sre'], act: ['group:sre'], approve: ['group:sre'], notify: SANDBOX_SLACK.channel };
    chat = setupChat(world, receiver, policy);
    fleet = new FleetRecords(awsScope({ region: world.model.region }), process.env['FLEET_TABLE']!);
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('freeze → status shows it first, who, why and since → unfreeze → status shows none; both audited', async () => {
    assert.match(await ask(A, 'freeze ring prod --reason quarter-end change freeze'), /Frozen: ring prod/);
    assert.deepEqual((await fleet.freezes()).map((f) => [f.scope, f.reason]), [[{ kind: 'ring', ring: 'prod' }, 'quarter-end change freeze']]);
    const status = await ask(B, 'status prod');
    assert.match(status, /Frozen \(1\)/, status);
    assert.match(status, /ring prod — quarter-end change freeze \(by <@U0ALICE>, since /, status);
    assert.ok(status.indexOf('Frozen') < status.indexOf('prod/web'), 'the freezes come first');
    assert.match(await ask(B, 'unfreeze ring prod'), /Unfrozen: ring prod/);
    assert.doesNotMatch(await ask(B, 'status prod'), /Frozen/);
    assert.deepEqual(await fleet.freezes(), []);
    const history = await new AuditLog(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!).history('-', { limit: 20 });
    assert.ok(history.some((e) => e.command === 'freeze ring prod --reason quarter-end change freeze' && e.result === 'done'), JSON.stringify(history.map((e) => e.command)));
    assert.ok(history.some((e) => e.command === 'unfreeze ring prod' && e.result === 'done'));
  });

  it('hold → release on a stored promotion: the state saved at its version, each in the promotion thread', async () => {
    const state: PromotionState = {
      key: KEY,
      release: { source: 'custom', release: 'web-2026.12.1' },
      startedAt: world.clock.date().toISOString(),
      rings: [
        { ring: 'canary', status: 'soaking', since: world.clock.date().toISOString() },
        { ring: 'prod', status: 'waiting' },
      ],
    };
    assert.equal(await fleet.createPromotion(state, world.clock.date().toISOString()), true);
    assert.match(await ask(A, `hold ${KEY} --reason crash loops in payments`), new RegExp(`${KEY} held by <@U0ALICE>: crash loops in payments`));
    let stored = (await fleet.promotion(KEY))!;
    assert.equal(stored.version, 2);
    assert.equal(stored.state.hold?.reason, 'crash loops in payments');
    assert.match(await ask(B, 'promotions'), /held \(manual\): crash loops in payments/);
    assert.match(await ask(B, `release ${KEY}`), new RegExp(`${KEY} released by <@U0BOB>; ring canary rolls and soaks again`));
    stored = (await fleet.promotion(KEY))!;
    assert.equal(stored.version, 3);
    assert.equal(stored.state.hold, undefined);
    assert.equal(stored.state.rings[0]!.status, 'rolling');
    await world.run(10_000);
    const posts = receiver.messages.filter((m) => m.kind === 'post' && m.channel === SANDBOX_SLACK.channel);
    const opener = posts.find((m) => m.text.includes(`Promotion of ${KEY}`));
    assert.ok(opener, JSON.stringify(receiver.messages.map((m) => m.text)));
    assert.match(opener.text, /held: ring canary by <@U0ALICE>/);
    const released = posts.find((m) => /released: ring canary by <@U0BOB>/.test(m.text));
    assert.equal(released?.threadTs, opener.ts, 'the release is a line in the promotion thread');
  });
});
