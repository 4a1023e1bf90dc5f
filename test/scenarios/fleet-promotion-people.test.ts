import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChatDriver, chatParams, releaseAmi, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import type { FleetRecords } from '../../shared/aws/fleet-records.js';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../../shared/events/promotion-events.js';
import type { PromotionState } from '../../shared/fleet/promotion-state.js';
import type { InvariantMonitor } from './fault-invariants.js';
import { type ClusterSite, HOUR, type Launch, MINUTE, RINGS, startFleetWorld } from './fleet-promotion-scenario.js';

/**
 * Issue 21, what people do to a promotion, in the fleet of `npm run fleet` (six clusters, three
 * rings, three accounts) with chat: ring `prod` asks for an approval before a release enters it;
 * a person holds a release whose ring 0 is rolling (the running rollouts stop at their next batch
 * boundary and roll back, nothing else starts) and releases it (the ring rolls and soaks again);
 * AWS recalls a release mid-promotion (its recommended parameter moves back): held, no further ring.
 */
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const RECOMMENDED = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended';
const POLICY = {
  rings: [
    { name: 'canary', soak: '1h', concurrency: '100%' },
    { name: 'staging', soak: '1h', concurrency: '100%' },
    { name: 'prod', soak: '1h', concurrency: '100%', approval: true },
  ],
  evaluateEvery: '10m',
};

describe('Scenario: people and AWS act on promotions (approval between rings, hold and release, recall)', () => {
  let receiver: SlackReceiver;
  let world: World;
  let sites: ClusterSite[];
  let fleet: FleetRecords;
  let launches: Launch[];
  let monitor: InvariantMonitor;
  let chat: ChatDriver;

  const ask = async (user: string, text: string): Promise<string> => {
    const out = await chat.slash(user, text);
    await world.run(20_000);
    return chat.responses(out.responseUrl).map((m) => m.text).join('\n');
  };
  const places = () => sites.filter((s, i) => sites.findIndex((o) => o.account === s.account) === i);
  const release = (date: string) => {
    const images = new Map<ClusterSite, string>();
    for (const s of places()) {
      const image = releaseAmi(s.account, { family: 'al2023', kubernetesVersion: '1.31', date }).image.ImageId!;
      for (const o of sites.filter((x) => x.account === s.account)) images.set(o, image);
    }
    return images;
  };
  const promotion = async (date: string): Promise<PromotionState | undefined> => (await fleet.promotions()).map((p) => p.state).find((s) => s.key.endsWith(`-${date}`));
  const detect = () => world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
  const runUntil = async (done: () => Promise<boolean>, maxMs: number, stepMs = 10 * MINUTE) => {
    const deadline = world.clock.now() + maxMs;
    while (!(await done()) && world.clock.now() < deadline) await world.run(stepMs);
    return done();
  };
  const ran = (images: Map<ClusterSite, string>, ring: string) => sites.filter((s) => s.ring === ring && launches.some((l) => l.site === s && l.imageId === images.get(s)));
  const progress = (key: string) => world.published.filter((e) => e['detail-type'] === PROMOTION_PROGRESS).map((e) => e.detail as PromotionProgressDetail).filter((d) => d.key === key);
  const rolloutsOf = (images: Map<ClusterSite, string>) => [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout') && [...images.values()].some((id) => e.input.includes(id)));

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world, sites, fleet, launches, monitor } = await startFleetWorld({ policy: POLICY, params: chatParams(receiver) }));
    const policy = sandboxAccessPolicy({ sre: [ALICE, BOB] }) as { clusters: Record<string, Record<string, unknown>> };
    policy.clusters['*'] = { read: ['group:sre'], act: ['group:sre'], approve: ['group:sre'], notify: SANDBOX_SLACK.channel };
    chat = setupChat(world, receiver, policy);
  });
  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('`plan` and `doctor` read a ring tag with the promotion policy, as detection does: a ring, not a problem', async () => {
    const plan = await ask(BOB, 'plan canary-eu');
    assert.doesNotMatch(plan, /no promotion policy|not a ring of|configuration is fixed/, plan);
    const doctor = await ask(BOB, 'doctor canary-eu');
    assert.doesNotMatch(doctor, /no promotion policy|not a ring of/, doctor);
    assert.match(doctor, /ring/, doctor);
  });

  describe('approval between rings', () => {
    let images: Map<ClusterSite, string>;
    let key: string;
    it('stops before the ring that asks for an approval: no group of it rolls, the promotion says so', async () => {
      images = release('20261210');
      await detect();
      assert.ok(await runUntil(async () => (await promotion('20261210'))?.rings.find((r) => r.ring === 'prod')?.status === 'awaiting-approval', 6 * HOUR), 'prod awaits approval');
      key = (await promotion('20261210'))!.key;
      await world.run(2 * HOUR);
      assert.equal((await promotion('20261210'))!.rings.find((r) => r.ring === 'prod')!.status, 'awaiting-approval', 'it keeps waiting');
      assert.deepEqual(ran(images, 'prod'), []);
      assert.equal(ran(images, 'staging').length, 2);
      assert.ok(progress(key).some((e) => e.kind === 'awaiting-approval' && e.ring === 'prod'));
      const status = await ask(BOB, `promotion status ${key}`);
      assert.match(status, /prod/);
      assert.match(status, /approv/i, status);
    });

    it('a person\'s `promote --to prod` is the approval: prod is entered, rolled and soaked, and the release reaches every ring', async () => {
      const reply = await ask(ALICE, `promote ${key} --to prod`);
      assert.match(reply, /prod/, reply);
      assert.deepEqual((await fleet.ringApprovals(key)).map((a) => a.ring), ['prod']);
      assert.ok(await runUntil(async () => (await promotion('20261210'))?.finishedAt !== undefined, 4 * HOUR), 'done');
      const entered = progress(key).find((e) => e.kind === 'ring-entered' && e.ring === 'prod')!;
      assert.match(entered.detail, /approved by/);
      assert.equal(ran(images, 'prod').length, 2);
    });
  });

  describe('a person holds a release mid-ring, then releases it', () => {
    let images: Map<ClusterSite, string>;
    let key: string;
    let heldAt: number;
    it('`hold` while ring 0 rolls: its rollouts stop at their next batch boundary and roll back; nothing else starts it', async () => {
      images = release('20261215');
      await detect();
      assert.ok(await runUntil(async () => rolloutsOf(images).length > 0, HOUR, MINUTE), 'ring 0 began rolling');
      key = (await promotion('20261215'))!.key;
      const reply = await ask(BOB, `hold ${key} --reason pager: checkout errors in canary`);
      assert.match(reply, /held/i, reply);
      heldAt = world.clock.now();
      const started = rolloutsOf(images).length;
      await world.run(3 * HOUR);
      await detect();
      await world.settle(world.clock.now() + 30 * MINUTE);
      const state = (await promotion('20261215'))!;
      assert.equal(state.hold?.kind, 'manual');
      assert.deepEqual(state.rings.filter((r) => r.status !== 'waiting').map((r) => r.ring), ['canary'], 'no ring after ring 0 reached');
      assert.equal(rolloutsOf(images).length, started, 'no rollout of it started after the hold');
      assert.deepEqual([...ran(images, 'staging'), ...ran(images, 'prod')], []);
      // ring 0's groups are back on the previous release (stopped at a boundary, or rolled back)
      for (const s of sites.filter((x) => x.ring === 'canary')) {
        const running = [...s.account.autoscaling.group(s.group).instances.keys()].map((id) => s.account.ec2.instances.get(id)?.instance.ImageId);
        assert.ok(running.every((id) => id !== images.get(s)), `${s.cluster.key} runs ${running.join(', ')}`);
      }
      assert.ok(progress(key).some((e) => e.kind === 'held' && e.by !== undefined), 'the hold is a line in the thread, with who');
    });

    it('`release` lifts it: ring 0 rolls and soaks again from the start', async () => {
      const reply = await ask(ALICE, `release ${key}`);
      assert.match(reply, /released/i, reply);
      assert.ok(await runUntil(async () => (await promotion('20261215'))?.rings[0]?.status === 'passed', 4 * HOUR), 'ring 0 passed after the release');
      const passed = progress(key).find((e) => e.kind === 'ring-passed' && e.ring === 'canary')!;
      assert.ok(Date.parse(passed.at) - heldAt >= HOUR, 'a full soak after the release');
      assert.equal(ran(images, 'canary').length, 2);
    });
  });

  describe('AWS recalls a release mid-promotion', () => {
    it('the recommended parameter moves back: the release is held as recalled, no further ring is entered', async () => {
      const previous = new Map(places().map((s) => [s, { image: s.account.ssm.value(`${RECOMMENDED}/image_id`)!, version: s.account.ssm.value(`${RECOMMENDED}/release_version`)! }]));
      const images = release('20261220');
      await detect();
      assert.ok(await runUntil(async () => (await promotion('20261220'))?.rings[0]?.status === 'soaking', 2 * HOUR), 'ring 0 soaking');
      const key = (await promotion('20261220'))!.key;
      for (const [s, was] of previous) {
        s.account.ssm.publish(`${RECOMMENDED}/image_id`, was.image);
        s.account.ssm.publish(`${RECOMMENDED}/release_version`, was.version);
      }
      assert.ok(await runUntil(async () => (await promotion('20261220'))?.hold !== undefined, HOUR), 'held');
      const state = (await promotion('20261220'))!;
      assert.equal(state.hold!.kind, 'recalled', state.hold!.reason);
      assert.match(state.hold!.reason, /recalled/);
      await world.run(3 * HOUR);
      assert.deepEqual((await promotion('20261220'))!.rings.filter((r) => r.status !== 'waiting').map((r) => r.ring), [RINGS[0]], 'no further ring');
      assert.deepEqual([...ran(images, 'staging'), ...ran(images, 'prod')], []);
      assert.ok(progress(key).some((e) => e.kind === 'held'));
    });
  });

  it('holds the invariants in every account; no IAM denial', async () => {
    // the promotions still running (one awaits an approval, one is held) never end by themselves: run on a while, not to the end
    await world.run(30 * MINUTE);
    await monitor.assertHeld({ groups: sites.map((s) => ({ name: s.group, place: s.place, floor: 1 })) });
    assert.deepEqual(world.iam.denials.map((d) => `${d.caller} ${d.request.action}`), []);
  });
});
