import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupOutcome, PromoteRequest, RingApproval, StoredPromotion } from '../../shared/aws/fleet-records.js';
import { parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { formatCommand, parseCommand } from '../../shared/chatops/grammar.js';
import { helpReply } from '../../shared/chatops/help.js';
import { mentionsAsText } from '../../shared/chatops/mentions.js';
import { notifyChat, type NotifyPorts } from '../../shared/chatops/notify.js';
import type { FleetStore, PromotionPorts } from '../../shared/chatops/promotion-commands.js';
import { promotionEventReply } from '../../shared/chatops/promotion-replies.js';
import { toSlackMessage, toText } from '../../shared/chatops/render.js';
import { toTerminal } from '../../shared/chatops/render-terminal.js';
import { type CommandPorts, runCommand } from '../../shared/chatops/run-command.js';
import type { Principal } from '../../shared/chatops/types.js';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../../shared/events/promotion-events.js';
import { describeScope, type Freeze, type FreezeScope } from '../../shared/fleet/freeze.js';
import { parsePromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import type { PromotionState } from '../../shared/fleet/promotion-state.js';
import type { HealthReport } from '../../shared/fleet/workload-health.js';

const NOW = new Date('2026-12-07T10:00:00Z');
const KEY = 'custom-web-2026.12.1';
const person = (user: string): Principal => ({ id: `slack:T0:${user}`, display: `<@${user}>`, via: 'slack' });
const ALICE = person('U0ALICE'); // act and approve on *
const BOB = person('U0BOB'); // act and approve on *
const CAROL = person('U0CAROL'); // read everywhere, act on dev only
const MALLORY = person('U0MALLORY'); // nothing

const ACCESS = parseAccessPolicy(
  JSON.stringify({
    clusters: {
      '*': { read: [CAROL.id], act: [ALICE.id, BOB.id], approve: [ALICE.id, BOB.id] },
      dev: { read: [CAROL.id], act: [CAROL.id, ALICE.id, BOB.id], approve: [ALICE.id, BOB.id] },
    },
  }),
);
const POLICY = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'canary', soak: '2h' }, { name: 'prod', soak: '1d', approval: true }] }));

function promotion(extra: Partial<PromotionState> = {}): PromotionState {
  return {
    key: KEY,
    release: { source: 'custom', release: 'web-2026.12.1' },
    startedAt: '2026-12-07T06:00:00Z',
    rings: [
      { ring: 'canary', status: 'soaking', since: '2026-12-07T09:00:00Z', lastEvaluation: { at: '2026-12-07T09:55:00Z', verdict: 'healthy' } },
      { ring: 'prod', status: 'waiting' },
    ],
    ...extra,
  };
}

/** The fleet table in memory, with the same versioned writes. */
class MemoryFleet implements FleetStore {
  frozen: Freeze[] = [];
  stored = new Map<string, StoredPromotion>();
  approvals: (RingApproval & { key: string })[] = [];
  requests = new Map<string, PromoteRequest>();
  groupOutcomes: GroupOutcome[] = [];
  /** writes that lose to a concurrent one (the workflow), before they succeed */
  conflicts = 0;
  async freezes() {
    return [...this.frozen];
  }
  async setFreeze(freeze: Freeze) {
    this.frozen = [...this.frozen.filter((f) => describeScope(f.scope) !== describeScope(freeze.scope)), freeze];
  }
  async liftFreeze(scope: FreezeScope) {
    const lifted = this.frozen.find((f) => describeScope(f.scope) === describeScope(scope));
    this.frozen = this.frozen.filter((f) => f !== lifted);
    return lifted;
  }
  async promotions() {
    return [...this.stored.values()];
  }
  async promotion(key: string) {
    return this.stored.get(key);
  }
  async savePromotion(state: PromotionState, version: number) {
    const now = this.stored.get(state.key);
    if (this.conflicts > 0) {
      this.conflicts--;
      // the workflow wrote in between
      this.stored.set(state.key, { state: now!.state, version: now!.version + 1 });
      return undefined;
    }
    if (!now || now.version !== version) return undefined;
    this.stored.set(state.key, { state, version: version + 1 });
    return version + 1;
  }
  async approveRing(key: string, approval: RingApproval) {
    if (this.approvals.some((a) => a.key === key && a.ring === approval.ring)) return false;
    this.approvals.push({ key, ...approval });
    return true;
  }
  async ringApprovals(key: string) {
    return this.approvals.filter((a) => a.key === key);
  }
  async outcomes() {
    return this.groupOutcomes;
  }
  async requestPromote(request: PromoteRequest) {
    if (this.requests.has(request.id)) return false;
    this.requests.set(request.id, request);
    return true;
  }
  async promoteRequest(id: string) {
    return this.requests.get(id);
  }
  async takePromoteRequest(id: string) {
    const found = this.requests.get(id);
    this.requests.delete(id);
    return found;
  }
}

function world(options: { promotions?: boolean } = {}) {
  const records = new MemoryFleet();
  const published: PromotionProgressDetail[] = [];
  const audited: { principal: { id: string }; result: string; clusters: string[]; command?: string; summary: string }[] = [];
  const promotions: PromotionPorts = { records, policy: async () => POLICY, publish: async (d) => void published.push(d) };
  const ports = {
    policy: async () => ACCESS,
    auditLog: { audit: async (entry: (typeof audited)[number]) => void audited.push(entry) },
    guards: { takeCommandToken: async () => true },
    locks: { get: async () => undefined },
    approvals: {},
    aws: { region: 'eu-west-1' },
    now: () => NOW,
    sleep: async () => {},
    log: () => {},
    ...(options.promotions === false ? {} : { promotions }),
  } as unknown as CommandPorts;
  let n = 0;
  const ask = (who: Principal, text: string) => runCommand({ text, principal: who, requestId: `req-${++n}`, receivedAt: NOW }, ports);
  return { records, published, audited, ask };
}

describe('Fleet promotion commands: grammar', () => {
  const parsed = (text: string) => {
    const out = parseCommand(text);
    assert.ok(out.ok, `${text}: ${!out.ok ? out.error : ''}`);
    return out.command;
  };
  const error = (text: string) => {
    const out = parseCommand(text);
    assert.ok(!out.ok, `${text} parsed`);
    return out.error;
  };

  it('reads each command, and writes it back as it reads', () => {
    assert.deepEqual(parsed('freeze all --reason incident INC-1'), { name: 'freeze', scope: { kind: 'all' }, reason: 'incident INC-1' });
    assert.deepEqual(parsed('FREEZE ring prod --reason "quarter end"'), { name: 'freeze', scope: { kind: 'ring', ring: 'prod' }, reason: 'quarter end' });
    assert.deepEqual(parsed('unfreeze cluster prod-eu'), { name: 'unfreeze', scope: { kind: 'cluster', cluster: 'prod-eu' } });
    assert.deepEqual(parsed('promotions'), { name: 'promotions' });
    assert.deepEqual(parsed(`promotion status ${KEY}`), { name: 'promotion', release: KEY });
    assert.deepEqual(parsed(`hold ${KEY} --reason crash loops`), { name: 'hold', release: KEY, reason: 'crash loops' });
    assert.deepEqual(parsed(`release ${KEY}`), { name: 'release', release: KEY });
    assert.deepEqual(parsed(`promote ${KEY} --to prod`), { name: 'promote', release: KEY, ring: 'prod' });
    assert.deepEqual(parsed('approve prm-0123456789ab'), { name: 'approve', approval: { kind: 'promotion', id: 'prm-0123456789ab' } });
    for (const text of ['freeze all --reason x', 'freeze ring prod --reason a b', 'unfreeze cluster dev', 'promotions', `promotion status ${KEY}`, `hold ${KEY} --reason why`, `release ${KEY}`, `promote ${KEY} --to prod`, 'deny prm-0123456789ab --reason no']) {
      assert.deepEqual(parseCommand(formatCommand(parsed(text))), { ok: true, command: parsed(text) }, text);
    }
  });

  it('refuses bad input with an error naming what is wrong', () => {
    assert.match(error('freeze all'), /freeze needs --reason/);
    assert.match(error('freeze --reason x'), /freeze needs what it covers/);
    assert.match(error('freeze everything --reason x'), /`everything` is not what a freeze covers/);
    assert.match(error('freeze ring Prod_1 --reason x'), /`Prod_1` is not a valid ring name/);
    assert.match(error('unfreeze cluster'), /unfreeze cluster needs the cluster's name/);
    assert.match(error("unfreeze cluster prod.eu"), /`prod.eu` is not a valid cluster name/);
    assert.match(error('promotion'), /promotion needs status and the release/);
    assert.match(error(`promotion show ${KEY}`), /`show` is not a promotion subcommand/);
    assert.match(error('hold'), /hold needs the release/);
    assert.match(error(`hold ${KEY}`), /hold needs --reason/);
    assert.match(error('release a/b'), /`a\/b` is not a release key/);
    assert.match(error(`promote ${KEY}`), /promote needs --to <ring>/);
    assert.match(error(`promote ${KEY} --to`), /--to needs a value/);
    assert.match(error(`promote ${KEY} --to PROD!`), /`PROD!` is not a valid --to/);
    assert.match(error('approve prm-XYZ'), /is not a promote request id/);
  });

  it('has help for every new command', () => {
    for (const topic of ['freeze', 'unfreeze', 'promotions', 'promotion', 'hold', 'release', 'promote'] as const) {
      const text = toText(helpReply(topic));
      assert.match(text, /Usage/, topic);
      assert.match(text, /Needs (read|act|approve)|act access|approve access/, topic);
    }
    assert.match(toText(helpReply()), /promote <release> --to <ring>/);
  });
});

describe('Fleet promotion commands: freezes', () => {
  it('freeze all needs act on *; status then shows it first, in text, Slack and JSON; unfreeze lifts it; every request audited', async () => {
    const { records, audited, ask } = world();
    const refused = await ask(CAROL, 'freeze all --reason no');
    assert.equal(refused.reply.ok, false);
    assert.match(refused.reply.title, /Not allowed/);
    assert.equal(records.frozen.length, 0);

    const done = await ask(ALICE, 'freeze all --reason incident INC-7');
    assert.equal(done.reply.ok, true, done.reply.title);
    assert.match(toText(done.reply), /Frozen: all/);
    assert.match(toText(done.reply), /running rollouts pause at their next batch boundary/);
    assert.deepEqual(records.frozen, [{ scope: { kind: 'all' }, reason: 'incident INC-7', by: '<@U0ALICE>', since: NOW.toISOString() }]);
    assert.deepEqual(
      audited.map((a) => [a.principal.id, a.result, a.command]),
      [
        [CAROL.id, 'refused', 'freeze all --reason no'],
        [ALICE.id, 'done', 'freeze all --reason incident INC-7'],
      ],
    );

    // a cluster's freeze needs act on that cluster only
    assert.equal((await ask(CAROL, 'freeze cluster dev --reason db migration')).reply.ok, true);
    assert.equal((await ask(CAROL, 'freeze cluster prod --reason nope')).reply.ok, false);
    assert.deepEqual(audited.at(-2)!.clusters, ['dev']);
    assert.equal(records.frozen.length, 2);

    const unfrozen = await ask(BOB, 'unfreeze all');
    assert.match(unfrozen.reply.title, /Unfrozen: all/);
    assert.match(toText(unfrozen.reply), /frozen by <@U0ALICE>/);
    assert.deepEqual(records.frozen.map((f) => describeScope(f.scope)), ['cluster dev']);
    const nothing = await ask(BOB, 'unfreeze ring prod');
    assert.equal(nothing.reply.ok, false);
    assert.match(nothing.reply.title, /Nothing is frozen at ring prod/);
  });

  it('a person with no grant at all is refused before anything is read', async () => {
    const { records, ask } = world();
    const out = await ask(MALLORY, 'unfreeze cluster dev');
    assert.match(out.reply.title, /Not allowed/);
    const list = await ask(MALLORY, 'promotions');
    assert.match(list.reply.title, /Not allowed/);
    assert.equal(records.frozen.length, 0);
  });

  it('without a fleet table, the commands say fleet promotion is not set up', async () => {
    const { ask } = world({ promotions: false });
    assert.match((await ask(ALICE, 'freeze all --reason x')).reply.title, /not set up/);
  });
});

describe('Fleet promotion commands: hold, release, promote', () => {
  it('hold and release change the stored state at its version, re-read on a conflict, and each tell the thread', async () => {
    const { records, published, ask } = world();
    records.stored.set(KEY, { state: promotion(), version: 3 });
    assert.match((await ask(CAROL, `hold ${KEY} --reason crash loops`)).reply.title, /Not allowed.*cluster \*/);
    records.conflicts = 2;
    const held = await ask(ALICE, `hold ${KEY} --reason crash loops in payments`);
    assert.equal(held.reply.ok, true, held.reply.title);
    const stored = records.stored.get(KEY)!;
    assert.equal(stored.version, 6, 'two conflicting writes, then its own');
    assert.deepEqual(stored.state.hold, { kind: 'manual', since: NOW.toISOString(), reason: 'crash loops in payments', by: '<@U0ALICE>', evidence: [] });
    assert.equal(published.at(-1)!.kind, 'held');
    assert.equal(published.at(-1)!.by, '<@U0ALICE>');
    assert.match((await ask(BOB, `hold ${KEY} --reason again`)).reply.title, /already held/);

    const released = await ask(BOB, `release ${KEY}`);
    assert.equal(released.reply.ok, true, released.reply.title);
    assert.equal(records.stored.get(KEY)!.state.hold, undefined);
    // the ring it was at rolls and soaks again
    assert.equal(records.stored.get(KEY)!.state.rings[0]!.status, 'rolling');
    assert.deepEqual(published.map((p) => [p.kind, p.key, p.by]), [
      ['held', KEY, '<@U0ALICE>'],
      ['released', KEY, '<@U0BOB>'],
    ]);
  });

  it('promote --to records a request a second person approves; the requester cannot approve it', async () => {
    const { records, published, audited, ask } = world();
    records.stored.set(KEY, { state: promotion(), version: 1 });
    const asked = await ask(ALICE, `promote ${KEY} --to prod`);
    assert.equal(asked.reply.ok, true, asked.reply.title);
    const id = /approve (prm-[0-9a-f]{12})/.exec(toText(asked.reply))?.[1];
    assert.ok(id, toText(asked.reply));
    assert.equal(records.stored.get(KEY)!.version, 1, 'nothing changed yet');

    const own = await ask(ALICE, `approve ${id}`);
    assert.equal(own.reply.ok, false);
    assert.match(own.reply.title, /someone else must approve it/);
    assert.equal(audited.at(-1)!.result, 'refused');
    assert.match((await ask(CAROL, `approve ${id}`)).reply.title, /Not allowed/);
    assert.equal(records.stored.get(KEY)!.version, 1);

    const approved = await ask(BOB, `approve ${id}`);
    assert.equal(approved.reply.ok, true, approved.reply.title);
    const rings = records.stored.get(KEY)!.state.rings;
    assert.deepEqual(rings[0], { ring: 'canary', status: 'passed', at: NOW.toISOString(), how: 'promoted', by: '<@U0ALICE>, approved by <@U0BOB>' });
    assert.deepEqual(rings[1], { ring: 'prod', status: 'rolling', since: NOW.toISOString() });
    assert.equal(published.at(-1)!.kind, 'promoted');
    assert.equal(published.at(-1)!.ring, 'prod');
    assert.match((await ask(BOB, `approve ${id}`)).reply.title, /No promote request/);
  });

  it('promote --to the ring that awaits approval is that approval (approve on *)', async () => {
    const { records, ask } = world();
    records.stored.set(KEY, { state: promotion({ rings: [{ ring: 'canary', status: 'passed', at: '2026-12-07T09:00:00Z', how: 'soaked' }, { ring: 'prod', status: 'awaiting-approval', since: '2026-12-07T09:00:00Z' }] }), version: 1 });
    assert.match((await ask(CAROL, `promote ${KEY} --to prod`)).reply.title, /Not allowed/);
    const out = await ask(BOB, `promote ${KEY} --to prod`);
    assert.match(out.reply.title, /entering ring prod approved/);
    assert.deepEqual(records.approvals, [{ key: KEY, ring: 'prod', by: '<@U0BOB>', at: NOW.toISOString() }]);
    assert.match((await ask(ALICE, `promote ${KEY} --to prod`)).reply.title, /approved already/);
  });

  it('promote through a direct invocation is refused: nobody to compare the approver with', async () => {
    const { ask } = world();
    const out = await ask({ id: 'iam:arn:aws:iam::1:role/q', display: 'q', via: 'lambda' }, `promote ${KEY} --to prod`);
    assert.match(out.reply.title, /needs an authenticated person/);
  });
});

const REGRESSED: HealthReport = {
  verdict: 'regressed',
  at: '2026-12-07T09:50:00Z',
  nodes: 3,
  pods: 40,
  signals: [
    { signal: 'crash-loops', status: 'regressed', seen: 4, threshold: 0, baseline: 0, evidence: ['shop/pay-1', 'shop/pay-2', 'shop/pay-3', 'shop/pay-4'], detail: '4 pods crash-looping on the new image' },
    { signal: 'restart-rate', status: 'regressed', seen: 2.5, threshold: 0.6, baseline: 0.2, evidence: ['ip-10-0-1-5'], detail: 'restarts per pod-hour' },
    { signal: 'pending-pods', status: 'ok', seen: 0, threshold: 5, evidence: [], detail: '' },
  ],
};

describe('Fleet promotion: what people read', () => {
  it('promotions and promotion status: rings, groups, soak left, last verdict and the hold with its numbers, as text, Slack and JSON', async () => {
    const { records, ask } = world();
    records.stored.set(KEY, { state: promotion(), version: 1 });
    records.groupOutcomes = [{ ref: { cluster: 'dev', group: 'web' }, ring: 'canary', state: 'current', to: { imageId: 'ami-0new' }, at: '2026-12-07T08:30:00Z' }];
    const list = await ask(CAROL, 'promotions');
    assert.match(toText(list.reply), new RegExp(`${KEY}.*canary.*soaking since 2026-12-07 09:00 UTC`));
    assert.equal(list.reply.data?.kind, 'PromotionList');
    assert.deepEqual((list.reply.data as unknown as { items: { key: string; held: boolean }[] }).items.map((i) => [i.key, i.held]), [[KEY, false]]);

    const status = await ask(CAROL, `promotion status ${KEY}`);
    const text = toTerminal(status.reply, { now: NOW, wide: true });
    assert.match(text, /dev\/web current/);
    assert.match(text, /1 h/, 'soaking since 09:00 for 2 h: 1 h left at 10:00');
    assert.match(text, /healthy at 5m ago \(2026-12-07 09:55 UTC\)/);
    assert.match(text, /needs approval/);
    const data = status.reply.data as unknown as { kind: string; promotion: { rings: { ring: string; soakRemainingSeconds: number | null; groups: unknown[] }[] } };
    assert.equal(data.kind, 'Promotion');
    assert.equal(data.promotion.rings[0]!.soakRemainingSeconds, 3600);
    assert.equal(data.promotion.rings[0]!.groups.length, 1);

    records.stored.set(KEY, { state: promotion({ hold: { kind: 'regression', since: '2026-12-07T09:50:00Z', reason: 'canary regressed', evidence: [{ ring: 'canary', cluster: 'dev', report: REGRESSED }] } }), version: 2 });
    const held = await ask(CAROL, `promotion status ${KEY}`);
    const heldText = toText(held.reply);
    assert.match(heldText, /held/);
    assert.match(heldText, /ring canary, cluster dev: crash-loops 4 against a baseline of 0, threshold 0: shop\/pay-1/);
    assert.match(heldText, /restart-rate 2\.50 against a baseline of 0\.20, threshold 0\.60: ip-10-0-1-5/);
    assert.doesNotMatch(heldText, /pending-pods/);
    assert.match(JSON.stringify(toSlackMessage(held.reply).blocks), /crash-loops 4 against a baseline of 0/);
    assert.match((await ask(CAROL, 'promotion status nope')).reply.title, /No promotion nope/);
  });

  it('status opens with the freezes (who, why, since) and lists them in its data, even when none', async () => {
    const { withFreezes } = await import('../../shared/chatops/promotion-replies.js');
    const { statusData } = await import('../../shared/chatops/reply-data.js');
    const base = { ok: true, title: 'prod: 0 node groups', sections: [{ kind: 'text' as const, lines: ['groups'] }], data: statusData('prod', ['prod'], []) };
    const freeze: Freeze = { scope: { kind: 'ring', ring: 'prod' }, reason: 'quarter end', by: '<@U0ALICE>', since: '2026-12-07T08:00:00Z' };
    const reply = withFreezes(base, [freeze]);
    assert.deepEqual(JSON.parse(mentionsAsText(JSON.stringify(reply.sections[0]))), { kind: 'text', heading: 'Frozen (1): nothing new starts there; running rollouts pause at their next batch boundary', lines: [':snowflake: ring prod — quarter end (by <@U0ALICE>, since 2026-12-07 08:00 UTC)'] });
    assert.deepEqual((reply.data as { freezes: unknown[] }).freezes, [{ scope: 'ring prod', kind: 'ring', ring: 'prod', reason: 'quarter end', by: '<@U0ALICE>', since: '2026-12-07T08:00:00Z' }]);
    assert.match(toTerminal(reply, { now: NOW, wide: false }), /ring prod — quarter end \(by <@U0ALICE>/);
    // in Slack the recorded person is a live mention; the reason, people's own text, is escaped
    assert.match(toSlackMessage(withFreezes(base, [{ ...freeze, reason: 'ping <@U0VICTIM>' }])).text, /ping &lt;@U0VICTIM&gt; \(by <@U0ALICE>/);
    assert.deepEqual((withFreezes(base, []).data as { freezes: unknown[] }).freezes, []);
    assert.equal(withFreezes(base, []).sections.length, 1);
  });

  it('a held event in the promotion thread: which signal, which pods and nodes, the numbers against the baseline and threshold', () => {
    const detail: PromotionProgressDetail = {
      key: KEY,
      release: { source: 'custom', release: 'web-2026.12.1' },
      kind: 'held',
      ring: 'canary',
      at: '2026-12-07T09:50:00Z',
      detail: 'canary regressed in dev',
      rings: promotion().rings,
      hold: { kind: 'regression', since: '2026-12-07T09:50:00Z', reason: 'canary regressed', evidence: [{ ring: 'canary', cluster: 'dev', report: REGRESSED }] },
    };
    const text = toText(promotionEventReply(detail, false));
    assert.match(text, /held: ring canary/);
    assert.match(text, /crash-loops 4 against a baseline of 0, threshold 0: shop\/pay-1, shop\/pay-2, shop\/pay-3, shop\/pay-4 — 4 pods crash-looping/);
    assert.match(text, /restart-rate 2\.50 against a baseline of 0\.20, threshold 0\.60: ip-10-0-1-5/);
    assert.match(text, new RegExp(`release ${KEY}`));
    assert.match(toText(promotionEventReply(detail, true)), new RegExp(`Promotion of ${KEY}`));
  });

  it('chatNotify: the first event of a promotion opens its thread with a header, every later one is a line in it', async () => {
    const posts: { channel: string; text: string; threadTs?: string }[] = [];
    const threads = new Map<string, { channel: string; ts?: string }>();
    const ports = {
      policy: async () => parseAccessPolicy(JSON.stringify({ clusters: { '*': { read: ['*'], notify: 'C0FLEET' } } })),
      slack: {
        postMessage: async (channel: string, message: { text: string }, options?: { threadTs?: string }) => {
          posts.push({ channel, text: message.text, ...(options?.threadTs ? { threadTs: options.threadTs } : {}) });
          return { channel, ts: `ts-${posts.length}` };
        },
      },
      threads: {
        claimThread: async (key: string, channel: string) => {
          const found = threads.get(key);
          if (!found) return threads.set(key, { channel }), { claimed: true };
          return { claimed: false, thread: found.ts ? { channel: found.channel, ts: found.ts } : null };
        },
        setThreadTs: async (key: string, ts: string) => (threads.get(key)!.ts = ts, true),
      },
      now: () => NOW,
      log: () => {},
    } as unknown as NotifyPorts;
    const event = (kind: PromotionProgressDetail['kind'], ring: string) => ({ 'detail-type': PROMOTION_PROGRESS, detail: { key: KEY, release: { source: 'custom', release: 'web-2026.12.1' }, kind, ring, at: NOW.toISOString(), detail: '', rings: promotion().rings } }) as Parameters<typeof notifyChat>[0];
    await notifyChat(event('ring-entered', 'canary'), ports);
    await notifyChat(event('soak-started', 'canary'), ports);
    await notifyChat(event('ring-passed', 'canary'), ports);
    assert.deepEqual(posts.map((p) => [p.channel, p.threadTs ?? null]), [
      ['C0FLEET', null],
      ['C0FLEET', 'ts-1'],
      ['C0FLEET', 'ts-1'],
    ]);
    assert.match(posts[0]!.text, new RegExp(`Promotion of ${KEY} — :arrow_forward: ring entered: ring canary`));
    assert.match(posts[1]!.text, /soak started: ring canary/);
    assert.doesNotMatch(posts[1]!.text, /Promotion of/);
    assert.match(posts[2]!.text, /ring passed: ring canary/);
  });
});
