import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeMrkdwn, progressBar, SLACK_LIMITS, toSlackMessage, toText, truncate } from '../../shared/chatops/render.js';
import { mention } from '../../shared/chatops/mentions.js';
import type { Reply, ReplySection } from '../../shared/chatops/types.js';

type Block = Record<string, any>;

/** the blocks, typed loosely enough to look into */
const blocksOf = (r: Reply): Block[] => toSlackMessage(r).blocks as Block[];

const reply = (sections: ReplySection[], extra: Partial<Reply> = {}): Reply => ({ ok: true, title: 'prod/workers: rolling onto 1.31.3', sections, ...extra });

/** every mrkdwn/plain_text string of a block, to check limits and escaping */
function textsOf(block: Block): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o['type'] === 'mrkdwn' || o['type'] === 'plain_text') && typeof o['text'] === 'string') out.push(o['text']);
      else Object.values(o).forEach(walk);
    }
  };
  walk(block);
  return out;
}

describe('Chat-ops render: plain text', () => {
  it('puts the title first, sections apart by blank lines, actions as commands, the context last', () => {
    const text = toText(
      reply(
        [
          { kind: 'text', heading: 'Plan', lines: ['5 nodes, 2 at a time'] },
          { kind: 'fields', fields: [['Image', 'ami-0abc'], ['Nodes', '5']] },
          { kind: 'progress', label: 'batches', done: 3, total: 10 },
        ],
        {
          actions: [
            { label: 'Approve', actionId: 'approve', value: 'apr-abc', style: 'primary', command: 'approve apr-abc' },
            { label: 'Deny', actionId: 'deny', value: 'apr-abc', style: 'danger', command: 'deny apr-abc' },
          ],
          context: 'Execution prod-workers-1',
        },
      ),
    );
    assert.equal(
      text,
      [
        'prod/workers: rolling onto 1.31.3',
        '',
        'Plan',
        '5 nodes, 2 at a time',
        '',
        'Image: ami-0abc',
        'Nodes: 5',
        '',
        '▰▰▰▱▱▱▱▱▱▱ 3/10 batches',
        '',
        'To approve: approve apr-abc',
        'To deny: deny apr-abc',
        '',
        'Execution prod-workers-1',
      ].join('\n'),
    );
  });

  it('aligns a table in columns under its header, without trailing spaces', () => {
    const text = toText(reply([{ kind: 'table', heading: 'Groups', columns: ['GROUP', 'NODES', 'IMAGE'], rows: [['workers', '12', '1.31.3'], ['gpu', '3', ''], ['system-critical', '2', '1.31.2']] }]));
    assert.equal(
      text.split('\n').slice(2).join('\n'),
      ['Groups', 'GROUP            NODES  IMAGE', 'workers          12     1.31.3', 'gpu              3', 'system-critical  2      1.31.2'].join('\n'),
    );
    for (const line of text.split('\n')) assert.equal(line, line.trimEnd());
  });

  it('keeps data as it is: no escaping in text', () => {
    assert.match(toText(reply([{ kind: 'text', lines: ['a<b&c>'] }])), /a<b&c>/);
  });

  it('never ends a line in spaces and is the same for the same reply', () => {
    const section = fc.oneof(
      fc.record({ kind: fc.constant('text' as const), lines: fc.array(fc.string()) }),
      fc.record({ kind: fc.constant('fields' as const), fields: fc.array(fc.tuple(fc.string(), fc.string())) }),
      fc.record({ kind: fc.constant('table' as const), columns: fc.array(fc.string(), { maxLength: 4 }), rows: fc.array(fc.array(fc.string(), { maxLength: 5 }), { maxLength: 5 }) }),
      fc.record({ kind: fc.constant('progress' as const), label: fc.string(), done: fc.double(), total: fc.double() }),
    );
    fc.assert(
      fc.property(fc.string(), fc.array(section, { maxLength: 6 }), fc.option(fc.string(), { nil: undefined }), (title, sections, context) => {
        const r: Reply = { ok: true, title, sections, ...(context !== undefined ? { context } : {}) };
        const text = toText(r);
        assert.equal(text, toText(r));
        for (const line of text.split('\n')) assert.equal(line, line.trimEnd());
      }),
      { numRuns: 300 },
    );
  });
});

describe('Chat-ops render: progress bar', () => {
  const cases: [done: number, total: number, expected: string][] = [
    [0, 10, '▱▱▱▱▱▱▱▱▱▱ 0/10 batches'],
    [3, 10, '▰▰▰▱▱▱▱▱▱▱ 3/10 batches'],
    [10, 10, '▰▰▰▰▰▰▰▰▰▰ 10/10 batches'],
    [11, 10, '▰▰▰▰▰▰▰▰▰▰ 10/10 batches'],
    [0, 0, '▱▱▱▱▱▱▱▱▱▱ 0/0 batches'],
    [3, 0, '▱▱▱▱▱▱▱▱▱▱ 0/0 batches'],
    [-2, 10, '▱▱▱▱▱▱▱▱▱▱ 0/10 batches'],
    [Number.NaN, 10, '▱▱▱▱▱▱▱▱▱▱ 0/10 batches'],
    [5, Number.POSITIVE_INFINITY, '▱▱▱▱▱▱▱▱▱▱ 0/0 batches'],
    // rounded down: full only when everything is done
    [29, 30, '▰▰▰▰▰▰▰▰▰▱ 29/30 batches'],
    [1, 3, '▰▰▰▱▱▱▱▱▱▱ 1/3 batches'],
  ];
  for (const [done, total, expected] of cases) {
    it(`draws ${done}/${total} as ${expected}`, () => assert.equal(progressBar(done, total, 'batches'), expected));
  }

  it('is full only when done equals total', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 500 }), (done, total) => {
        const bar = progressBar(done, total, 'batches');
        assert.equal(bar.startsWith('▰'.repeat(10)), done >= total);
        assert.equal([...bar.split(' ')[0]!].length, 10);
      }),
    );
  });

  it('is a section of its own in Slack', () => {
    const blocks = blocksOf(reply([{ kind: 'progress', label: 'batches', done: 3, total: 10 }]));
    assert.deepEqual(blocks[1], { type: 'section', text: { type: 'mrkdwn', text: '▰▰▰▱▱▱▱▱▱▱ 3/10 batches' } });
  });
});

describe('Chat-ops render: Slack Block Kit', () => {
  it('renders the title as a header, text as mrkdwn, fields, a table as a code block, the context last', () => {
    const blocks = blocksOf(
      reply(
        [
          { kind: 'text', heading: 'Plan', lines: ['5 nodes', '*2* at a time'] },
          { kind: 'fields', heading: 'Target', fields: [['Image', 'ami-0abc']] },
          { kind: 'table', columns: ['GROUP', 'NODES'], rows: [['workers', '12']] },
        ],
        { context: 'Execution prod-workers-1' },
      ),
    );
    assert.deepEqual(blocks, [
      { type: 'header', text: { type: 'plain_text', text: 'prod/workers: rolling onto 1.31.3', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: '*Plan*\n5 nodes\n*2* at a time' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*Target*' }, fields: [{ type: 'mrkdwn', text: '*Image*\nami-0abc' }] },
      { type: 'section', text: { type: 'mrkdwn', text: '```GROUP    NODES\nworkers  12```' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Execution prod-workers-1' }] },
    ]);
  });

  it('escapes &, < and > in data everywhere in mrkdwn — typed mentions too — keeping only its own mentions and formatting', () => {
    const message = toSlackMessage(
      reply(
        [
          { kind: 'text', heading: 'h<1>', lines: ['a<b&c>', `by ${mention('U1')}: <@U0VICTIM> please`, '<!channel>'] },
          { kind: 'fields', fields: [['x&y', 'a<b&c>']] },
          { kind: 'table', columns: ['A'], rows: [['a<b&c>']] },
        ],
        { context: 'a<b&c>' },
      ),
    );
    const [, text, fields, table, context] = message.blocks as Block[];
    assert.equal(text!['text'].text, '*h&lt;1&gt;*\na&lt;b&amp;c&gt;\nby <@U1>: &lt;@U0VICTIM&gt; please\n&lt;!channel&gt;');
    assert.equal(fields!['fields'][0].text, '*x&amp;y*\na&lt;b&amp;c&gt;');
    assert.equal(table!['text'].text, '```A\na&lt;b&amp;c&gt;```');
    assert.equal(context!['elements'][0].text, 'a&lt;b&amp;c&gt;');
    assert.equal(escapeMrkdwn(`${mention('U1')} & ${mention('W2ABC')}`), '<@U1> &amp; <@W2ABC>');
    assert.equal(escapeMrkdwn('<@U1> & <@W2ABC>'), '&lt;@U1&gt; &amp; &lt;@W2ABC&gt;', 'a mention in data is text');
    assert.match(message.text, /by <@U1>: &lt;@U0VICTIM&gt; please/);
    assert.match(toText(reply([{ kind: 'text', lines: [`by ${mention('U1')}`] }])), /^by <@U1>$/m, 'plain text names the person as <@U…>');
  });

  it('has `text` equal to toText (escaped for Slack only where the data needs it)', () => {
    const plain = reply([{ kind: 'fields', fields: [['Image', 'ami-0abc']] }], { context: 'ctx' });
    assert.equal(toSlackMessage(plain).text, toText(plain));
    const withData = reply([{ kind: 'text', lines: ['a<b&c>'] }]);
    assert.equal(toSlackMessage(withData).text, escapeMrkdwn(toText(withData)));
  });

  it('renders actions as one actions block: action_id, the value given and nothing else, a confirm on deny', () => {
    const blocks = blocksOf(
      reply([], {
        actions: [
          { label: 'Approve', actionId: 'approve', value: 'apr-abc', style: 'primary', command: 'approve apr-abc' },
          { label: 'Deny', actionId: 'deny', value: 'apr-abc', style: 'danger', command: 'deny apr-abc' },
        ],
      }),
    );
    const actions = blocks.find((b) => b['type'] === 'actions') as Block;
    assert.equal(actions['elements'].length, 2);
    const [approve, deny] = actions['elements'] as Block[];
    assert.deepEqual(approve, { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve', emoji: true }, value: 'apr-abc', style: 'primary' });
    assert.equal(deny!['action_id'], 'deny');
    assert.equal(deny!['value'], 'apr-abc');
    assert.equal(deny!['style'], 'danger');
    assert.equal(deny!['confirm'].style, 'danger');
    assert.equal(deny!['confirm'].confirm.type, 'plain_text');
    // the command text is for the text rendering only
    assert.ok(!JSON.stringify(actions).includes('deny apr-abc'));
  });

  it('keeps to 50 blocks: 60 sections become 48, a "more" note, and the title', () => {
    const sections = Array.from({ length: 60 }, (_, i): ReplySection => ({ kind: 'text', lines: [`line ${i}`] }));
    const blocks = blocksOf(reply(sections));
    assert.equal(blocks.length, 50);
    assert.equal(blocks.at(-1)!['text'].text, '…12 more not shown');
    assert.equal(blocks.at(-2)!['text'].text, 'line 47');
  });

  it('keeps the buttons and the context when sections are cut', () => {
    const sections = Array.from({ length: 60 }, (_, i): ReplySection => ({ kind: 'text', lines: [`line ${i}`] }));
    const blocks = blocksOf(reply(sections, { actions: [{ label: 'Approve', actionId: 'approve', value: 'apr-1', command: 'approve apr-1' }], context: 'ctx' }));
    assert.equal(blocks.length, 50);
    assert.deepEqual(blocks.slice(-3).map((b) => b['type']), ['section', 'actions', 'context']);
    assert.match(blocks.at(-3)!['text'].text, /^…14 more not shown$/);
  });

  it('cuts a 5000-character line to 3000 characters ending in …', () => {
    const blocks = blocksOf(reply([{ kind: 'text', lines: ['x'.repeat(5000)] }]));
    const text: string = blocks[1]!['text'].text;
    assert.equal(text.length, 3000);
    assert.ok(text.endsWith('…'));
  });

  it('splits long text between lines rather than losing lines', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')} ${'y'.repeat(96)}`);
    const blocks = blocksOf(reply([{ kind: 'text', lines }]));
    const texts = blocks.slice(1).map((b) => b['text'].text as string);
    assert.equal(texts.length, 4);
    for (const t of texts) assert.ok(t.length <= 3000);
    assert.deepEqual(texts.join('\n').split('\n'), lines);
  });

  it('cuts a title over 150 characters for the header, but not in the text', () => {
    const title = `prod/${'g'.repeat(200)}`;
    const message = toSlackMessage({ ok: true, title, sections: [] });
    const header: string = (message.blocks[0] as Block)['text'].text;
    assert.equal(header.length, 150);
    assert.ok(header.endsWith('…'));
    assert.equal(message.text, title);
  });

  it('splits more than 10 fields into sections of 10, each field at most 2000 characters', () => {
    const fields = Array.from({ length: 23 }, (_, i): [string, string] => [`f${i}`, i === 0 ? 'v'.repeat(2500) : `v${i}`]);
    const blocks = blocksOf(reply([{ kind: 'fields', fields }]));
    const sections = blocks.slice(1);
    assert.deepEqual(sections.map((b) => b['fields'].length), [10, 10, 3]);
    assert.equal(sections[0]!['fields'][0].text.length, 2000);
  });

  it('replaces table rows that do not fit with a count, inside the code block', () => {
    const rows = Array.from({ length: 300 }, (_, i) => [`node-${i}`, 'i-0123456789abcdef0', 'Ready']);
    const blocks = blocksOf(reply([{ kind: 'table', heading: 'Nodes', columns: ['NODE', 'INSTANCE', 'STATUS'], rows }]));
    const text: string = blocks[1]!['text'].text;
    assert.ok(text.length <= 3000);
    assert.ok(text.startsWith('*Nodes*\n```NODE'));
    assert.match(text, /\n…\d+ more rows```$/);
  });

  it('keeps the message text within 40,000 characters', () => {
    const lines = Array.from({ length: 500 }, () => 'z'.repeat(100));
    const { text } = toSlackMessage(reply([{ kind: 'text', lines }]));
    assert.equal(text.length, SLACK_LIMITS.messageText);
  });

  it('never cuts an escaped entity or a surrogate pair in half', () => {
    assert.equal(truncate('ab&amp;cd', 5), 'ab…');
    assert.equal(truncate('a😀b', 3), 'a…');
  });

  it('stays within Slack limits for any reply', () => {
    const text = fc.string({ maxLength: 4000, unit: 'grapheme' });
    const section = fc.oneof(
      fc.record({ kind: fc.constant('text' as const), heading: fc.option(text, { nil: undefined }), lines: fc.array(text, { maxLength: 5 }) }),
      fc.record({ kind: fc.constant('fields' as const), fields: fc.array(fc.tuple(fc.string(), text), { maxLength: 25 }) }),
      fc.record({ kind: fc.constant('table' as const), columns: fc.array(fc.string(), { maxLength: 4 }), rows: fc.array(fc.array(text, { maxLength: 4 }), { maxLength: 8 }) }),
      fc.record({ kind: fc.constant('progress' as const), label: fc.string(), done: fc.integer(), total: fc.integer() }),
    );
    fc.assert(
      fc.property(text, fc.array(section, { maxLength: 70 }), (title, sections) => {
        const { blocks, text: fallback } = toSlackMessage({ ok: true, title, sections, context: title });
        assert.ok(blocks.length <= SLACK_LIMITS.blocks);
        assert.ok(fallback.length <= SLACK_LIMITS.messageText);
        for (const block of blocks) {
          if (block['type'] === 'header') assert.ok((block['text'] as { text: string }).text.length <= SLACK_LIMITS.headerText);
          if (block['type'] === 'section') {
            const t = block['text'] as { text: string } | undefined;
            if (t) assert.ok(t.text.length <= SLACK_LIMITS.sectionText && t.text.length > 0);
            const f = (block['fields'] ?? []) as { text: string }[];
            assert.ok(f.length <= SLACK_LIMITS.sectionFields);
            for (const x of f) assert.ok(x.text.length <= SLACK_LIMITS.fieldText);
            assert.ok(t || f.length > 0);
          }
          for (const t of textsOf(block)) assert.ok(t.length > 0);
        }
      }),
      { numRuns: 150 },
    );
  });
});
