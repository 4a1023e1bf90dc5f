import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalsReply, historyReply } from '../../shared/chatops/command-replies.js';
import { mention } from '../../shared/chatops/mentions.js';
import { MAX_CELL, plainWords, relative, toTerminal, withTimes } from '../../shared/chatops/render-terminal.js';
import { toText } from '../../shared/chatops/render.js';

/** The CLI's terminal rendering: what `kubectl get` users expect, from the same reply Slack gets. */
const now = new Date('2026-12-07T08:15:00.000Z');

describe('Terminal rendering: words', () => {
  it('drops emoji codes standing alone, keeps the colons of ARNs and times', () => {
    assert.equal(plainWords(':rocket: Rollout of prod/web started'), 'Rollout of prod/web started');
    assert.equal(plainWords('done :white_check_mark:'), 'done ');
    assert.equal(plainWords('by arn:aws:iam::111122223333:role/ops at 08:12:30'), 'by arn:aws:iam::111122223333:role/ops at 08:12:30');
  });
  it('writes code spans as quotes and bold as plain', () => {
    assert.equal(plainWords('Type `help` for *every* command.'), 'Type "help" for every command.');
  });
});

describe('Terminal rendering: times', () => {
  it('shows every UTC time relative and absolute', () => {
    assert.equal(withTimes('at 2026-12-07 08:12:30', now), 'at 2m ago (2026-12-07 08:12 UTC)');
    assert.equal(withTimes('until 2026-12-08T08:15:00.000Z', now), 'until in 24h (2026-12-08 08:15 UTC)');
    assert.equal(withTimes('opens 2026-12-20 02:00 UTC', now), 'opens in 12d (2026-12-20 02:00 UTC)');
  });
  it('reads ages as kubectl does', () => {
    assert.deepEqual([relative(-2_000), relative(-45_000), relative(-180_000), relative(-5 * 3600_000), relative(3 * 86400_000)], ['now', '45s ago', '3m ago', '5h ago', 'in 3d']);
  });
});

describe('Terminal rendering: tables', () => {
  const approval = {
    id: 'apr-0123456789ab',
    executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:eks-node-lifecycle-dev-ami-rollout:chat-prod-web-abc',
    cluster: 'prod',
    group: 'web',
    requestedBy: 'slack:T1:U0A',
    target: '1.31.13-20261215',
    plan: `2 batches of at most 1 node, canary first; ${'a very long plan '.repeat(6)}`,
    status: 'pending' as const,
    requestedAt: '2026-12-07T08:12:00.000Z',
    expiresAtIso: '2026-12-08T08:12:00.000Z',
  };

  it('aligns columns, with mentions as text and no emoji, and keeps -o wide columns for -o wide', () => {
    const plain = toTerminal(approvalsReply('prod', [approval]), { now });
    const lines = plain.split('\n');
    assert.equal(lines[0], 'prod: 1 approval waiting');
    const header = lines[2]!;
    assert.match(header, /^GROUP\s+TARGET\s+REQUESTED BY\s+REQUESTED AT\s+EXPIRES AT\s+APPROVAL$/);
    const row = lines[3]!;
    assert.equal(row.indexOf('1.31.13-20261215'), header.indexOf('TARGET'), 'the cell starts under its header');
    assert.match(row, /3m ago \(2026-12-07 08:12 UTC\)\s+in 23h \(2026-12-08 08:12 UTC\)\s+apr-0123456789ab$/);
    assert.ok(!plain.includes('PLAN'), 'the plan is a wide column');
    const wide = toTerminal(approvalsReply('prod', [approval]), { now, wide: true });
    assert.match(wide.split('\n')[2]!, /APPROVAL\s+PLAN\s+EXECUTION$/);
    assert.ok(wide.includes(approval.plan.trim()) && wide.includes('chat-prod-web-abc'));
    // Slack and Amazon Q keep their text: no wide columns, emoji codes as they were
    assert.ok(!toText(approvalsReply('prod', [approval])).includes('PLAN'));
  });

  it(`cuts a cell at ${MAX_CELL} characters unless -o wide, but never the last column`, () => {
    const text = `approve apr-0123456789ab --reason ${'x'.repeat(100)}`;
    const summary = 'y'.repeat(100);
    const reply = historyReply('prod', [{ requestId: 'r-1', at: '2026-12-07T08:00:00.000Z', principal: { id: 'iam:arn:aws:iam::1:role/a', via: 'cli' }, clusters: ['prod'], text, command: text, result: 'done', summary }]);
    const plain = toTerminal(reply, { now });
    assert.ok(plain.includes(`${text.slice(0, MAX_CELL - 1)}…`) && !plain.includes(text), plain);
    assert.ok(plain.includes(`done: ${summary}`), 'the last column whole');
    assert.ok(toTerminal(reply, { now, wide: true }).includes(text));
  });

  it('shows the mentions the service wrote as text', () => {
    const reply = { ok: true, title: `:white_check_mark: Approved by ${mention('U0B')}`, sections: [] };
    assert.equal(toTerminal(reply, { now }), 'Approved by <@U0B>');
  });
});
