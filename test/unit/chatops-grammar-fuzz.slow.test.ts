import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatCommand, parseCommand } from '../../shared/chatops/grammar.js';
import { COMMAND_NAMES, type Command, type ParseResult } from '../../shared/chatops/types.js';

/*
 * Properties of the chat-ops grammar over text nobody would write by hand. The patterns below
 * are the documented ones, restated here rather than imported, so a parser that lets through
 * something the documentation forbids fails these tests.
 */

const RUNS = 10_000;

const CLUSTER = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
const IMAGE_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
/** What no accepted text holds: controls, format characters (U+200B, tags, bidi), surrogates, private use, Hangul fillers. */
const INVISIBLE = /(?![\t\n\v\f\r])[\p{Cc}\p{Cf}\p{Cs}\p{Co}\u115F\u1160\u3164\uFFA0]/u;
const APPROVAL_ID = /^apr-[a-z0-9]{12}$/;
const DOUBLE_QUOTES = '"\u201C\u201D\u201E';
const SINGLE_QUOTES = "'\u2018\u2019\u201A";

// ---------------------------------------------------------------------------------------
// What a valid command is
// ---------------------------------------------------------------------------------------

function assertKeys(value: object, required: string[], optional: string[] = []): void {
  const keys = Object.keys(value);
  for (const key of required) assert.ok(keys.includes(key), `missing ${key} in ${JSON.stringify(value)}`);
  for (const key of keys) {
    assert.ok(required.includes(key) || optional.includes(key), `unexpected ${key} in ${JSON.stringify(value)}`);
    assert.notEqual((value as Record<string, unknown>)[key], undefined, `${key} is present but undefined`);
  }
}

function assertGroupRef(value: { cluster: string; group: string }): void {
  assert.match(value.cluster, CLUSTER);
  assert.match(value.group, GROUP);
}

/** A reason as the documentation promises it: trimmed, single spaces, visible, at most 500. */
function assertReason(reason: string): void {
  assert.ok(reason.length >= 1 && reason.length <= 500, `reason of ${reason.length} characters`);
  assert.equal(reason, reason.trim());
  assert.doesNotMatch(reason, /\s\s|[^\S ]/, 'reason whitespace is single spaces');
  assert.doesNotMatch(reason, INVISIBLE, 'reason holds an invisible character');
}

function assertValidCommand(command: Command): void {
  assert.ok((COMMAND_NAMES as readonly string[]).includes(command.name), `unknown name ${command.name}`);
  switch (command.name) {
    case 'help':
      assertKeys(command, ['name'], ['topic']);
      if (command.topic !== undefined) assert.ok((COMMAND_NAMES as readonly string[]).includes(command.topic));
      return;
    case 'status':
    case 'plan':
      assertKeys(command, ['name'], ['cluster', 'group']);
      if (command.cluster !== undefined) assert.match(command.cluster, CLUSTER);
      if (command.group !== undefined) {
        assert.ok(command.cluster !== undefined, 'a group without a cluster');
        assert.match(command.group, GROUP);
      }
      return;
    case 'history':
    case 'approvals':
      assertKeys(command, ['name'], ['cluster']);
      if (command.cluster !== undefined) assert.match(command.cluster, CLUSTER);
      return;
    case 'rollout':
      assertKeys(command, ['name', 'cluster', 'group', 'ami', 'now'], ['maxUnavailable']);
      assertGroupRef(command);
      assert.equal(typeof command.now, 'boolean');
      if (command.ami.kind === 'latest') assertKeys(command.ami, ['kind']);
      else if (command.ami.kind === 'image') {
        assertKeys(command.ami, ['kind', 'imageId']);
        assert.match(command.ami.imageId, IMAGE_ID);
      } else {
        assert.equal(command.ami.kind, 'release');
        assertKeys(command.ami, ['kind', 'release']);
        assert.match(command.ami.release, RELEASE);
        assert.doesNotMatch(command.ami.release, /^ami-|^latest$/i);
      }
      if (typeof command.maxUnavailable === 'number') assert.ok(Number.isInteger(command.maxUnavailable) && command.maxUnavailable >= 1 && command.maxUnavailable <= 1000);
      else if (command.maxUnavailable !== undefined) {
        assert.match(command.maxUnavailable, /^[1-9]\d{0,2}%$/);
        assert.ok(parseInt(command.maxUnavailable, 10) <= 100);
      }
      return;
    case 'drain':
    case 'uncordon':
      assertKeys(command, command.name === 'drain' ? ['name', 'target', 'force'] : ['name', 'target']);
      if (command.name === 'drain') assert.equal(typeof command.force, 'boolean');
      if (command.target.kind === 'instance') {
        assertKeys(command.target, ['kind', 'instanceId']);
        assert.match(command.target.instanceId, INSTANCE_ID);
      } else {
        assert.equal(command.target.kind, 'node');
        assertKeys(command.target, ['kind', 'nodeName']);
        assert.match(command.target.nodeName, NODE_NAME);
      }
      return;
    case 'pause':
    case 'resume':
    case 'abort':
      assertKeys(command, ['name', 'rollout']);
      assertKeys(command.rollout, ['cluster', 'group']);
      assertGroupRef(command.rollout);
      return;
    case 'approve':
    case 'deny':
      assertKeys(command, ['name', 'approval'], ['reason']);
      if (command.approval.kind === 'id') {
        assertKeys(command.approval, ['kind', 'id']);
        assert.match(command.approval.id, APPROVAL_ID);
      } else {
        assert.equal(command.approval.kind, 'group');
        assertKeys(command.approval, ['kind', 'cluster', 'group']);
        assertGroupRef(command.approval);
      }
      if (command.reason !== undefined) assertReason(command.reason);
      return;
  }
}

/**
 * What every answer must be: a valid command whose canonical form reads back as itself, or
 * an error a person can be shown — one line, no control characters, the offending word cut.
 */
function assertWellFormed(result: ParseResult): void {
  if (result.ok) {
    assertValidCommand(result.command);
    assert.deepEqual(parseCommand(formatCommand(result.command)), result);
    return;
  }
  assert.deepEqual(Object.keys(result).sort(), ['error', 'ok', 'usage']);
  assert.ok(result.error.length > 0 && result.usage.length > 0);
  assert.doesNotMatch(result.error, /\p{C}/u, `control character in ${JSON.stringify(result.error)}`);
  assert.doesNotMatch(result.error, /\n/);
  assert.ok(result.error.length <= 320, `error of ${result.error.length} characters: ${result.error}`);
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

const TOKENS = [
  ...COMMAND_NAMES,
  'reject', 'ROLLOUT', 'Drain', 'rolout', 'stauts', 'hist',
  '--ami', '--AMI=', '--ami=', '--max-unavailable', '--max-unavailable=', '--now', '--now=', '--force', '--reason', '--reason=', '--help', '-h', '--', '-',
  '\u2014now', '\u2013force', '\u2014reason', '\u2014ami', '--constructor', '--__proto__',
  '/', '=', '"', "'", '\u201C', '\u201D', '\u2018', '\u2019', '&amp;', '&lt;', '&gt;', '&', '<', '>', '|', '<http://', '<mailto:', '<@U123>',
  'prod', 'Prod', 'web', 'prod/web', 'prod/', '/web', 'a/b/c', 'p_r-o-d', '0', '1', '25%', '100%', '101%', '0%', '1000', '1001', 'abc', '1.5',
  'latest', 'LATEST', 'ami-12345678', 'ami-0abcdef1234567890', 'ami-123', 'AMI-12345678', '1.31.3-20250103', 'v20250103', '1.29.0-abcd1234',
  'i-1234abcd', 'i-0abcdef1234567890', 'i-123', 'ip-10-0-1-5.eu-west-1.compute.internal', 'IP-10-0-1-5', '.node', 'node-',
  `${'c'.repeat(100)}/g`, `${'c'.repeat(101)}/g`, `c/${'g'.repeat(255)}`, `c/${'g'.repeat(256)}`, 'n'.repeat(253), 'n'.repeat(254),
  'apr-7k2m9x4q1z8c', 'apr-123', 'apr-7K2M9X4Q1Z8C', "don't", 'it\u2019s', '\u{1F680}', '\u0007', '\u202E', '\u00A0', '\u200B', '\uD800', 'x'.repeat(300),
];
const SEPARATORS = [' ', ' ', ' ', '', '  ', '\t', '\n'];

const words = fc.array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom(...SEPARATORS)), { maxLength: 12 }).map((parts) => parts.map(([token, separator]) => token + separator).join(''));

/** Text assembled from the grammar's own words, mostly led by a command, so the fuzzer reaches deep into every command. */
const tokenText = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom(...COMMAND_NAMES, 'reject', 'ROLLOUT', 'Approve'), words).map(([name, rest]) => `${name} ${rest}`), weight: 4 },
  { arbitrary: words, weight: 1 },
);

/** Any UTF-16 code unit, lone surrogates included: what a byte-level client can send. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

const cluster = fc.stringMatching(CLUSTER);
const group = fc.stringMatching(GROUP);
const groupRef = fc.record({ cluster, group }, { noNullPrototype: true });
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const imageId = fc.oneof(hex(8), hex(17)).map((h) => `ami-${h}`);
const instanceId = fc.oneof(hex(8), hex(17)).map((h) => `i-${h}`);
const release = fc.oneof(
  fc.constantFrom('1.31.3-20250103', 'v20250103', '1.29.0-abcd1234', '1.30.8-20241213'),
  fc.stringMatching(RELEASE).filter((r) => !/^ami-|^latest$/i.test(r)),
);
const nodeName = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('eu-west-1', 'us-east-1')).map(([a, b, region]) => `ip-10-0-${a}-${b}.${region}.compute.internal`),
  fc.stringMatching(NODE_NAME).filter((n) => !/^i-[0-9a-f]*$/.test(n)),
);
const approvalId = fc.stringMatching(APPROVAL_ID);

const REASON_PIECES = ['ok', 'canary', 'looked', 'healthy', "don't", 'it\u2019s', '"', "'", '\u201C', '\u201D', '\u2018', '\u2019', '&', 'amp;', 'lt;', '<', '>', '<http://x', '|', 'y>', '\u2014', '--now', '=', '\u{1F680}', 'é', '  ', '\t'];

/** Does a reason survive reading: the one shape no typed text produces is “quoted whole” that also holds the other quote family. */
function representable(reason: string): boolean {
  const family = (c: string | undefined) => (c !== undefined && DOUBLE_QUOTES.includes(c) ? 'double' : c !== undefined && SINGLE_QUOTES.includes(c) ? 'single' : undefined);
  const first = family(reason[0]);
  const inner = [...reason.slice(1, -1)].map(family);
  const quotedWhole = reason.length >= 2 && first !== undefined && family(reason[reason.length - 1]) === first && !inner.includes(first);
  return !(quotedWhole && inner.some((f) => f !== undefined && f !== first));
}

const reason = fc
  .oneof(
    fc.array(fc.tuple(fc.constantFrom(...REASON_PIECES), fc.constantFrom(' ', '')), { minLength: 1, maxLength: 20 }).map((parts) => parts.map(([p, s]) => p + s).join('')),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 480, maxLength: 520 }),
  )
  .map((text) => text.replace(/\s+/g, ' ').trim())
  .filter((text) => text.length >= 1 && text.length <= 500 && representable(text) && !INVISIBLE.test(text));

const maxUnavailable = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100 }).map((n) => `${n}%` as `${number}%`));
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** Drops the keys whose value is undefined: a parsed command never carries one. */
const compact = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const validCommand: fc.Arbitrary<Command> = fc.oneof(
  optional(fc.constantFrom(...COMMAND_NAMES)).map((topic) => compact<Command>({ name: 'help', topic })),
  fc.tuple(fc.constantFrom('status' as const, 'plan' as const, 'doctor' as const), optional(cluster), optional(group)).map(([name, c, g]) => compact<Command>({ name, cluster: c, group: c === undefined ? undefined : g })),
  fc.tuple(fc.constantFrom('history' as const, 'approvals' as const), optional(cluster)).map(([name, c]) => compact<Command>({ name, cluster: c })),
  fc
    .record({
      ref: groupRef,
      ami: fc.oneof(fc.constant({ kind: 'latest' as const }), release.map((r) => ({ kind: 'release' as const, release: r })), imageId.map((i) => ({ kind: 'image' as const, imageId: i }))),
      maxUnavailable: optional(maxUnavailable),
      now: fc.boolean(),
    }, { noNullPrototype: true })
    .map(({ ref, ami, maxUnavailable: mu, now }) => compact<Command>({ name: 'rollout', ...ref, ami, maxUnavailable: mu, now })),
  fc
    .tuple(fc.oneof(nodeName.map((n) => ({ kind: 'node' as const, nodeName: n })), instanceId.map((i) => ({ kind: 'instance' as const, instanceId: i }))), fc.boolean())
    .map(([target, force]) => ({ name: 'drain' as const, target, force })),
  fc.oneof(nodeName.map((n) => ({ kind: 'node' as const, nodeName: n })), instanceId.map((i) => ({ kind: 'instance' as const, instanceId: i }))).map((target) => ({ name: 'uncordon' as const, target })),
  fc.tuple(fc.constantFrom('pause' as const, 'resume' as const, 'abort' as const), groupRef).map(([name, rollout]) => ({ name, rollout })),
  fc
    .tuple(fc.constantFrom('approve' as const, 'deny' as const), fc.oneof(approvalId.map((id) => ({ kind: 'id' as const, id })), groupRef.map((ref) => ({ kind: 'group' as const, ...ref }))), optional(reason))
    .map(([name, approval, r]) => compact<Command>({ name, approval, reason: r })),
);

type Mutation = (text: string, at: number, extra: string) => string;
const MUTATIONS: Record<string, Mutation> = {
  deleteChar: (t, i) => t.slice(0, i) + t.slice(i + 1),
  insertChar: (t, i, x) => t.slice(0, i) + x + t.slice(i),
  swapChars: (t, i) => (i + 1 < t.length ? t.slice(0, i) + t[i + 1] + t[i] + t.slice(i + 2) : t),
  duplicateChar: (t, i) => t.slice(0, i) + (t[i] ?? '') + t.slice(i),
  deleteToken: (t, i) => mutateTokens(t, i, (tokens, k) => tokens.splice(k, 1)),
  duplicateToken: (t, i) => mutateTokens(t, i, (tokens, k) => tokens.splice(k, 0, tokens[k]!)),
  swapTokens: (t, i) => mutateTokens(t, i, (tokens, k) => (k + 1 < tokens.length ? tokens.splice(k, 2, tokens[k + 1]!, tokens[k]!) : tokens)),
  insertToken: (t, i, x) => mutateTokens(t, i, (tokens, k) => tokens.splice(k, 0, x)),
};

function mutateTokens(text: string, at: number, change: (tokens: string[], index: number) => unknown): string {
  const tokens = text.split(' ');
  change(tokens, at % tokens.length);
  return tokens.join(' ');
}

const mutated = fc
  .record({
    command: validCommand,
    mutations: fc.array(
      fc.record({
        kind: fc.constantFrom(...Object.keys(MUTATIONS)),
        at: fc.nat(),
        extra: fc.oneof(fc.constantFrom(...TOKENS), anyCodeUnit, fc.constantFrom('-', '/', '.', '%', ' ', '"', '\u2014', 'A', 'z', '0')),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ command, mutations }) =>
    mutations.reduce((text, m) => {
      const at = text.length === 0 ? 0 : m.at % (text.length + 1);
      return MUTATIONS[m.kind]!(text, at, m.extra);
    }, formatCommand(command)),
  );

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

describe('Chat-ops grammar: properties', () => {
  it('answers any full-Unicode string with a valid command or a showable error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => assertWellFormed(parseCommand(text))),
      { numRuns: RUNS },
    );
  });

  it('answers any string of UTF-16 code units, lone surrogates and control characters included', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyCodeUnit, maxLength: 200 }), (text) => assertWellFormed(parseCommand(text))),
      { numRuns: RUNS },
    );
  });

  it('answers any text made of the grammar’s own words, quotes, dashes and escapes', () => {
    fc.assert(
      fc.property(tokenText, (text) => assertWellFormed(parseCommand(text))),
      { numRuns: RUNS },
    );
  });

  it('reads back every valid command from its canonical form', () => {
    fc.assert(
      fc.property(validCommand, (command) => {
        const text = formatCommand(command);
        assert.ok(text.length <= 1000, `canonical form of ${text.length} characters`);
        assert.deepEqual(parseCommand(text), { ok: true, command });
      }),
      { numRuns: RUNS },
    );
  });

  it('reads the canonical form the same however Slack and autocorrect mangle it', () => {
    fc.assert(
      fc.property(validCommand, fc.boolean(), fc.boolean(), fc.boolean(), (command, upper, dashes, linked) => {
        const text = formatCommand(command);
        // the words before a reason: the command name and flags; the reason is free text
        const cut = text.indexOf(' --reason ');
        let head = cut < 0 ? text : text.slice(0, cut + ' --reason'.length);
        const tail = cut < 0 ? '' : text.slice(cut + ' --reason'.length);
        if (upper) head = head.replace(/^\S+|(?<= )--[a-z-]+/g, (word) => word.toUpperCase());
        if (dashes) head = head.replace(/ --/g, ' \u2014');
        if (linked && (command.name === 'drain' || command.name === 'uncordon') && command.target.kind === 'node') head = head.replace(command.target.nodeName, `<http://${command.target.nodeName}|${command.target.nodeName}>`);
        let typed = head + tail;
        // Slack escapes &, < and > in what a person typed; text holding no entity or link reads the same either way
        if (!/&(amp|lt|gt);|</.test(typed)) typed = typed.replace(/&/g, '&amp;').replace(/>/g, '&gt;');
        assert.deepEqual(parseCommand(typed), { ok: true, command });
      }),
      { numRuns: RUNS },
    );
  });

  it('answers mutated valid commands with a valid command or a showable error', () => {
    fc.assert(
      fc.property(mutated, (text) => assertWellFormed(parseCommand(text))),
      { numRuns: RUNS },
    );
  });

  it('refuses anything longer than 1000 characters, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 1001, maxLength: 1200 }).map((t) => t.replace(/[&<]/g, '+')), (text) => {
        const result = parseCommand(text);
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.error, /more than the 1000 allowed/);
      }),
      { numRuns: 1000 },
    );
  });
});
