import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandCluster, formatCommand, parseCommand, requiredLevel, usageOf, usageOfAll } from '../../shared/chatops/grammar.js';
import { helpReply } from '../../shared/chatops/help.js';
import { COMMAND_NAMES, type Command, type ReplySection } from '../../shared/chatops/types.js';

const NODE = 'ip-10-0-1-5.eu-west-1.compute.internal';

function parsed(text: string): Command {
  const result = parseCommand(text);
  assert.ok(result.ok, `expected ${JSON.stringify(text)} to parse, got: ${result.ok ? '' : result.error}`);
  return result.command;
}

function failure(text: string): { error: string; usage: string } {
  const result = parseCommand(text);
  assert.ok(!result.ok, `expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result)}`);
  return result;
}

describe('Chat-ops grammar: valid commands', () => {
  const table: [string, Command][] = [
    ['', { name: 'help' }],
    ['   \t ', { name: 'help' }],
    ['help', { name: 'help' }],
    ['help rollout', { name: 'help', topic: 'rollout' }],
    ['help reject', { name: 'help', topic: 'deny' }],
    ['rollout --help', { name: 'help', topic: 'rollout' }],
    ['--help', { name: 'help' }],
    ['status', { name: 'status' }],
    ['status prod', { name: 'status', cluster: 'prod' }],
    ['status prod/web', { name: 'status', cluster: 'prod', group: 'web' }],
    ['plan prod-eu_1/eks-managed.ng-1', { name: 'plan', cluster: 'prod-eu_1', group: 'eks-managed.ng-1' }],
    ['doctor', { name: 'doctor' }],
    ['doctor prod', { name: 'doctor', cluster: 'prod' }],
    ['Doctor prod/web', { name: 'doctor', cluster: 'prod', group: 'web' }],
    ['doctor --help', { name: 'help', topic: 'doctor' }],
    ['rollout prod/web', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, now: false }],
    ['rollout prod/web --ami latest', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, now: false }],
    ['rollout prod/web --ami LATEST', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, now: false }],
    ['rollout prod/web --ami 1.31.3-20250103', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'release', release: '1.31.3-20250103' }, now: false }],
    ['rollout prod/web --ami=v20250103', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'release', release: 'v20250103' }, now: false }],
    ['rollout prod/web --ami 1.29.0-abcd1234', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'release', release: '1.29.0-abcd1234' }, now: false }],
    ['rollout prod/web --ami ami-0abcdef1234567890', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'image', imageId: 'ami-0abcdef1234567890' }, now: false }],
    ['rollout prod/web --ami ami-12345678', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'image', imageId: 'ami-12345678' }, now: false }],
    ['rollout prod/web --max-unavailable 3', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, maxUnavailable: 3, now: false }],
    ['rollout prod/web --max-unavailable=25%', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, maxUnavailable: '25%', now: false }],
    ['rollout prod/web --max-unavailable 1000', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, maxUnavailable: 1000, now: false }],
    ['rollout prod/web --max-unavailable 100%', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, maxUnavailable: '100%', now: false }],
    ['rollout --now prod/web', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, now: true }],
    [`drain ${NODE}`, { name: 'drain', target: { kind: 'node', nodeName: NODE }, force: false }],
    ['drain i-0abcdef1234567890 --force', { name: 'drain', target: { kind: 'instance', instanceId: 'i-0abcdef1234567890' }, force: true }],
    ['drain i-1234abcd', { name: 'drain', target: { kind: 'instance', instanceId: 'i-1234abcd' }, force: false }],
    [`uncordon ${NODE}`, { name: 'uncordon', target: { kind: 'node', nodeName: NODE } }],
    ['UNCORDON i-0abcdef1234567890', { name: 'uncordon', target: { kind: 'instance', instanceId: 'i-0abcdef1234567890' } }],
    ['pause prod/web', { name: 'pause', rollout: { cluster: 'prod', group: 'web' } }],
    ['PAUSE Prod/Web-1', { name: 'pause', rollout: { cluster: 'Prod', group: 'Web-1' } }],
    ['resume prod/web', { name: 'resume', rollout: { cluster: 'prod', group: 'web' } }],
    ['abort prod/web', { name: 'abort', rollout: { cluster: 'prod', group: 'web' } }],
    ['approve apr-7k2m9x4q1z8c', { name: 'approve', approval: { kind: 'id', id: 'apr-7k2m9x4q1z8c' } }],
    ['approve prod/web', { name: 'approve', approval: { kind: 'group', cluster: 'prod', group: 'web' } }],
    ['approve prod/web --reason canary looked healthy', { name: 'approve', approval: { kind: 'group', cluster: 'prod', group: 'web' }, reason: 'canary looked healthy' }],
    ['approve apr-7k2m9x4q1z8c --reason "  spaced out  "', { name: 'approve', approval: { kind: 'id', id: 'apr-7k2m9x4q1z8c' }, reason: 'spaced out' }],
    ['deny apr-7k2m9x4q1z8c --reason "freeze until   Monday"', { name: 'deny', approval: { kind: 'id', id: 'apr-7k2m9x4q1z8c' }, reason: 'freeze until Monday' }],
    ['deny prod/web --reason=don\'t, the "canary" failed', { name: 'deny', approval: { kind: 'group', cluster: 'prod', group: 'web' }, reason: 'don\'t, the "canary" failed' }],
    ['reject apr-7k2m9x4q1z8c', { name: 'deny', approval: { kind: 'id', id: 'apr-7k2m9x4q1z8c' } }],
    ['history', { name: 'history' }],
    ['history prod', { name: 'history', cluster: 'prod' }],
    ['approvals', { name: 'approvals' }],
    ['Approvals prod', { name: 'approvals', cluster: 'prod' }],
  ];
  for (const [text, command] of table) {
    it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parsed(text), command));
  }

  it('reads command and flag names in any case, and keeps the case of values', () => {
    assert.deepEqual(parsed('ROLLOUT Prod/Web --AMI V20250103 --Max-Unavailable 2 --NOW'), {
      name: 'rollout',
      cluster: 'Prod',
      group: 'Web',
      ami: { kind: 'release', release: 'V20250103' },
      maxUnavailable: 2,
      now: true,
    });
  });

  it('unwraps a node name Slack auto-linked', () => {
    assert.deepEqual(parsed(`drain <http://${NODE}|${NODE}> --force`), { name: 'drain', target: { kind: 'node', nodeName: NODE }, force: true });
    assert.deepEqual(parsed(`drain <http://${NODE}>`), { name: 'drain', target: { kind: 'node', nodeName: NODE }, force: false });
  });

  it('leaves Slack mentions alone, so they fail as values rather than vanish', () => {
    assert.match(failure('approve <@U123ABC>').error, /<@U123ABC>/);
  });

  it('undoes Slack escaping of &, < and >, once', () => {
    assert.equal(reasonOf('approve prod/web --reason R&amp;D said &lt;ok&gt;'), 'R&D said <ok>');
    assert.equal(reasonOf('approve prod/web --reason &amp;lt;'), '&lt;');
  });

  it('treats smart quotes as quotes', () => {
    assert.equal(reasonOf('approve prod/web --reason “looks good”'), 'looks good');
    assert.equal(reasonOf('approve prod/web --reason ‘it is fine’'), 'it is fine');
    assert.deepEqual(parsed('status “prod/web”'), { name: 'status', cluster: 'prod', group: 'web' });
  });

  it('keeps apostrophes and inner quotes in an unquoted reason', () => {
    assert.equal(reasonOf('deny prod/web --reason it’s the “canary” again'), 'it’s the “canary” again');
  });

  it('accepts an em or en dash where autocorrect replaced --', () => {
    assert.deepEqual(parsed('rollout prod/web —now —ami latest –max-unavailable 2'), { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, maxUnavailable: 2, now: true });
    assert.equal(reasonOf('approve prod/web —reason fine — really'), 'fine — really');
  });

  it('accepts names up to their AWS and Kubernetes limits, and no longer', () => {
    const [c100, g255, n253] = ['c'.repeat(100), 'g'.repeat(255), 'n'.repeat(253)];
    assert.deepEqual(parsed(`pause ${c100}/${g255}`), { name: 'pause', rollout: { cluster: c100, group: g255 } });
    assert.deepEqual(parsed(`drain ${n253}`), { name: 'drain', target: { kind: 'node', nodeName: n253 }, force: false });
    assert.match(failure(`pause ${c100}c/web`).error, /is not a valid cluster name/);
    assert.match(failure(`pause prod/${g255}g`).error, /is not a valid node group name/);
    assert.match(failure(`drain ${n253}n`).error, /is not a node name/);
  });

  it('accepts the longest allowed input, 1000 characters', () => {
    const reason = 'x'.repeat(500);
    const text = `approve prod/web --reason ${reason}`.padEnd(1000, ' ');
    assert.equal(text.length, 1000);
    assert.equal(reasonOf(text), reason);
  });
});

function reasonOf(text: string): string | undefined {
  const command = parsed(text);
  assert.ok(command.name === 'approve' || command.name === 'deny');
  return command.reason;
}

describe('Chat-ops grammar: errors', () => {
  const table: [what: string, text: string, fragments: (string | RegExp)[], usage: string][] = [
    ['an unknown command suggests the closest', 'rolout prod/web', ['`rolout`', 'did you mean `rollout`?'], 'all'],
    ['a transposition is one edit', 'stauts', ['did you mean `status`?'], 'all'],
    ['an unknown command far from all suggests nothing', 'frobnicate', ['`frobnicate` is not a command', 'type help'], 'all'],
    ['help of an unknown command', 'help drian', ['no command `drian`', 'did you mean `drain`?'], 'help'],
    ['a rollout without its group', 'rollout prod', ['`prod` names a cluster but no node group', '<cluster>/<group>'], 'rollout'],
    ['a rollout without anything', 'rollout', ['rollout needs the node group to roll'], 'rollout'],
    ['a group ref with a space for a slash', 'pause prod web', ['`prod/web`'], 'pause'],
    ['an empty group', 'abort prod/', ['no node group after the slash'], 'abort'],
    ['an empty cluster', 'status /web', ['no cluster before the slash'], 'status'],
    ['a bad cluster name', 'status -prod', ['status takes no flags', '`-prod`'], 'status'],
    ['a bad cluster name', 'status pr$d', ['`pr$d` is not a valid cluster name'], 'status'],
    ['a bad group name', 'rollout prod/w@b', ['`w@b` is not a valid node group name'], 'rollout'],
    ['a group name with a slash', 'rollout prod/a/b', ['`a/b`', 'no slash'], 'rollout'],
    ['a malformed ami id', 'rollout prod/web --ami ami-12345', ['`ami-12345` is not an AMI id'], 'rollout'],
    ['an upper-case ami id', 'rollout prod/web --ami ami-0ABCDEF1234567890', ['is not an AMI id'], 'rollout'],
    ['a release that is not one', 'rollout prod/web --ami 1.31/2025', ['`1.31/2025` is not a valid --ami'], 'rollout'],
    ['max-unavailable 0', 'rollout prod/web --max-unavailable 0', ['`0` is not a valid --max-unavailable', '1 to 1000'], 'rollout'],
    ['max-unavailable 101%', 'rollout prod/web --max-unavailable 101%', ['`101%`', '1% to 100%'], 'rollout'],
    ['max-unavailable 0%', 'rollout prod/web --max-unavailable 0%', ['`0%`'], 'rollout'],
    ['max-unavailable 1001', 'rollout prod/web --max-unavailable 1001', ['`1001`'], 'rollout'],
    ['max-unavailable abc', 'rollout prod/web --max-unavailable abc', ['`abc` is not a valid --max-unavailable'], 'rollout'],
    ['max-unavailable 1.5', 'rollout prod/web --max-unavailable=1.5', ['`1.5`'], 'rollout'],
    ['an unknown flag, close to one', 'rollout prod/web --nwo', ['`--nwo`', 'did you mean --now?'], 'rollout'],
    ['an unknown flag, far from all', 'rollout prod/web --colour', ['`--colour`', '--ami, --max-unavailable and --now'], 'rollout'],
    ['a flag the command does not take', 'pause prod/web --force', ['pause takes no flags', '`--force`'], 'pause'],
    ['a flag of another command', 'drain i-1234abcd --now', ['drain does not take `--now`'], 'drain'],
    ['a flag named like an object property', 'rollout prod/web --constructor', ['`--constructor`'], 'rollout'],
    ['a single-dash flag', 'drain i-1234abcd -force', ['`-force`', 'did you mean --force?'], 'drain'],
    ['a repeated flag', 'rollout prod/web --ami latest --AMI=latest', ['`--ami` is given twice'], 'rollout'],
    ['a repeated switch', 'drain i-1234abcd --force --force', ['`--force` is given twice'], 'drain'],
    ['a flag without its value', 'rollout prod/web --ami', ['--ami needs a value'], 'rollout'],
    ['a flag followed by another flag', 'rollout prod/web --max-unavailable --now', ['--max-unavailable needs a value'], 'rollout'],
    ['a flag with an empty inline value', 'rollout prod/web --ami=', ['--ami needs a value'], 'rollout'],
    ['a switch given a value', 'rollout prod/web --now=yes', ['`--now` takes no value'], 'rollout'],
    ['a reason without text', 'approve prod/web --reason', ['--reason needs a value'], 'approve'],
    ['an empty quoted reason', 'approve prod/web --reason ""', ['--reason needs a value'], 'approve'],
    ['a reason too long', `deny prod/web --reason ${'y'.repeat(501)}`, ['501 characters', '500'], 'deny'],
    ['a reason before the approval', 'approve --reason fine prod/web', ['before --reason'], 'approve'],
    ['an extra argument', 'status prod other', ['`other` is one argument too many for status'], 'status'],
    ['an extra argument to doctor', 'doctor prod web', ['`web` is one argument too many for doctor'], 'doctor'],
    ['a doctor flag', 'doctor prod --fix', ['doctor takes no flags'], 'doctor'],
    ['a misspelt doctor', 'docter prod', ['did you mean `doctor`?'], 'all'],
    ['an extra argument to approve hints at --reason', 'deny prod/web not now', ['`not` is one argument too many', '--reason'], 'deny'],
    ['an extra argument to drain', `drain ${NODE} ${NODE}`, ['one argument too many for drain'], 'drain'],
    ['history of a group', 'history prod/web', ['history takes a cluster', '`prod`'], 'history'],
    ['approvals of a group', 'approvals prod/web', ['approvals takes a cluster', '`prod`'], 'approvals'],
    ['an extra argument to approvals', 'approvals prod staging', ['`staging` is one argument too many for approvals'], 'approvals'],
    ['an approvals flag', 'approvals prod --all', ['approvals takes no flags'], 'approvals'],
    ['drain without a node', 'drain', ['drain needs the node'], 'drain'],
    ['uncordon without a node', 'uncordon', ['uncordon needs the node'], 'uncordon'],
    ['uncordon takes no --force', 'uncordon i-1234abcd --force', ['uncordon takes no flags, so `--force`'], 'uncordon'],
    ['an extra argument to uncordon', `uncordon ${NODE} i-1234abcd`, ['one argument too many for uncordon'], 'uncordon'],
    ['a short instance id', 'drain i-12345', ['`i-12345` is not an instance id'], 'drain'],
    ['an upper-case node name', 'drain IP-10-0-1-5.EC2.INTERNAL', ['node names are lowercase'], 'drain'],
    ['a node name that is no DNS name', 'drain node_1', ['`node_1` is not a node name or an instance id'], 'drain'],
    ['a malformed approval id', 'approve apr-123', ['`apr-123` is not an approval id'], 'approve'],
    ['neither an approval id nor a group', 'approve prod', ['neither an approval id'], 'approve'],
    ['an unclosed quote', 'status "prod', ['never closed', '`"prod`'], 'status'],
    ['a control character', 'status pr\u0007od', ['control character (U+0007)'], 'all'],
    ['a bidirectional override', 'approve prod/web --reason ok\u202Egnp.exe', ['--reason contains an invisible format character (U+202E)'], 'all'],
    ['a zero-width space in a reason', 'deny prod/web --reason not\u200B now', ['--reason contains an invisible format character (U+200B)'], 'all'],
    ['a tag character in a reason', 'approve apr-7k2m9x4q1z8c --reason fine\u{E0041}\u{E0042}', ['--reason contains an invisible format character (U+E0041)'], 'all'],
    ['a zero-width joiner in a quoted reason', 'deny prod/web "--reason" "a\u200Db"', ['--reason', 'U+200D'], 'all'],
    ['a zero-width space in a flag value', 'rollout prod/web --ami v1\u200B2 --now', ['--ami contains an invisible format character (U+200B)'], 'all'],
    ['a zero-width space in an inline flag value', 'rollout prod/web --max-unavailable=2\u200B', ['--max-unavailable contains'], 'all'],
    ['a BOM in the command name', '\uFEFFstatus', ['the command name contains an invisible format character (U+FEFF)'], 'all'],
    ['a Hangul filler posing as a word', 'status prod \u3164', ['U+3164'], 'all'],
    ['a private-use character', 'deny prod/web --reason \uE000x', ['--reason', 'U+E000'], 'all'],
    ['over-long input', `status ${'a'.repeat(1000)}`, ['1007 characters', '1000 allowed'], 'all'],
  ];
  for (const [what, text, fragments, usage] of table) {
    it(`refuses ${what}`, () => {
      const { error, usage: shown } = failure(text);
      for (const fragment of fragments) {
        if (typeof fragment === 'string') assert.ok(error.includes(fragment), `error ${JSON.stringify(error)} lacks ${JSON.stringify(fragment)}`);
        else assert.match(error, fragment);
      }
      assert.equal(shown, usage === 'all' ? usageOfAll() : usageOf(usage as Command['name']));
    });
  }

  it('shows an offending word safely: control characters escaped, cut at about 40 characters', () => {
    const { error } = failure(`status ${'z'.repeat(200)}$`);
    assert.ok(error.length < 200, error);
    assert.match(error, /`z{39}…`/);
    const nbsp = failure('status pr\u00A0od');
    assert.ok(nbsp.error.length > 0);
    const hidden = failure('rollout prod/w\u200Beb');
    assert.match(hidden.error, /^the argument `prod\/w\\u\{200b\}eb` contains an invisible format character \(U\+200B\)/);
    assert.doesNotMatch(hidden.error, /\u200B/);
    // a flag name typed inside quotes across a line break (found by the fuzzer): one line, escaped
    const quoted = failure("help \u2018--constructor\n--ami= \u0007 ' ");
    assert.doesNotMatch(quoted.error, /\n/);
    assert.match(quoted.error, /^the flag `--constructor\\u\{a\}--ami` contains an invisible control character \(U\+0007\)/);
  });

  it('never shows a backtick that would end the code span', () => {
    const { error } = failure('status pr`od');
    assert.match(error, /`pr'od`/);
  });

  it('checks the length after Slack escaping is undone, so escaped & does not count five times', () => {
    const reason = '&amp;'.repeat(200);
    assert.equal(reasonOf(`approve prod/web --reason ${reason}`), '&'.repeat(200));
  });
});

describe('Chat-ops grammar: canonical form', () => {
  const table: [Command, string][] = [
    [{ name: 'help' }, 'help'],
    [{ name: 'help', topic: 'drain' }, 'help drain'],
    [{ name: 'status', cluster: 'prod', group: 'web' }, 'status prod/web'],
    [{ name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, now: false }, 'rollout prod/web'],
    [{ name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'image', imageId: 'ami-12345678' }, maxUnavailable: '10%', now: true }, 'rollout prod/web --ami ami-12345678 --max-unavailable 10% --now'],
    [{ name: 'drain', target: { kind: 'instance', instanceId: 'i-1234abcd' }, force: true }, 'drain i-1234abcd --force'],
    [{ name: 'uncordon', target: { kind: 'node', nodeName: 'ip-10-0-1-5.ec2.internal' } }, 'uncordon ip-10-0-1-5.ec2.internal'],
    [{ name: 'abort', rollout: { cluster: 'prod', group: 'web' } }, 'abort prod/web'],
    [{ name: 'deny', approval: { kind: 'id', id: 'apr-7k2m9x4q1z8c' }, reason: 'not on a Friday' }, 'deny apr-7k2m9x4q1z8c --reason not on a Friday'],
    [{ name: 'approve', approval: { kind: 'group', cluster: 'prod', group: 'web' }, reason: '"ship it"' }, 'approve prod/web --reason \'"ship it"\''],
    [{ name: 'approve', approval: { kind: 'group', cluster: 'prod', group: 'web' }, reason: 'see <http://x|y>' }, 'approve prod/web --reason see &lt;http://x|y&gt;'],
    [{ name: 'history' }, 'history'],
    [{ name: 'approvals' }, 'approvals'],
    [{ name: 'approvals', cluster: 'prod' }, 'approvals prod'],
    [{ name: 'doctor' }, 'doctor'],
    [{ name: 'doctor', cluster: 'prod' }, 'doctor prod'],
    [{ name: 'doctor', cluster: 'prod', group: 'web' }, 'doctor prod/web'],
  ];
  for (const [command, text] of table) {
    it(`writes ${text} and reads it back`, () => {
      assert.equal(formatCommand(command), text);
      assert.deepEqual(parsed(text), command);
    });
  }

  it('writes a reason with an ampersand as typed when Slack unescaping would not change it', () => {
    assert.equal(formatCommand({ name: 'approve', approval: { kind: 'id', id: 'apr-7k2m9x4q1z8c' }, reason: 'R&D ok' }), 'approve apr-7k2m9x4q1z8c --reason R&D ok');
  });
});

describe('Chat-ops grammar: authorization facts', () => {
  const cases: [string, ReturnType<typeof requiredLevel>, string | undefined][] = [
    ['help', null, undefined],
    ['help rollout', null, undefined],
    ['status', 'read', undefined],
    ['status prod/web', 'read', 'prod'],
    ['plan prod', 'read', 'prod'],
    ['doctor', 'read', undefined],
    ['doctor prod/web', 'read', 'prod'],
    ['history prod', 'read', 'prod'],
    ['history', 'read', undefined],
    ['approvals prod', 'read', 'prod'],
    ['approvals', 'read', undefined],
    ['rollout prod/web', 'act', 'prod'],
    [`drain ${NODE}`, 'act', undefined],
    ['drain i-1234abcd', 'act', undefined],
    ['uncordon i-1234abcd', 'act', undefined],
    ['pause prod/web', 'act', 'prod'],
    ['resume prod/web', 'act', 'prod'],
    ['abort prod/web', 'act', 'prod'],
    ['approve prod/web', 'approve', 'prod'],
    ['approve apr-7k2m9x4q1z8c', 'approve', undefined],
    ['deny staging/web', 'approve', 'staging'],
    ['reject apr-7k2m9x4q1z8c', 'approve', undefined],
  ];
  for (const [text, level, cluster] of cases) {
    it(`${text}: needs ${level ?? 'nothing'}, names ${cluster ?? 'no cluster'}`, () => {
      const command = parsed(text);
      assert.equal(requiredLevel(command), level);
      assert.equal(commandCluster(command), cluster);
    });
  }
});

describe('Chat-ops help', () => {
  const textOf = (sections: ReplySection[]): string =>
    sections
      .map((s) => (s.kind === 'text' ? s.lines.join('\n') : s.kind === 'fields' ? s.fields.flat().join('\n') : s.kind === 'table' ? s.rows.flat().join('\n') : s.label))
      .join('\n');

  it('lists every command with its usage and who may do what', () => {
    const reply = helpReply();
    assert.equal(reply.ok, true);
    assert.equal(reply.title, 'eks-node-lifecycle commands');
    const table = reply.sections.find((s) => s.kind === 'table');
    assert.ok(table && table.kind === 'table');
    assert.deepEqual(
      table.rows.map((row) => row[0]),
      COMMAND_NAMES.map((name) => usageOf(name)),
    );
    for (const row of table.rows) assert.ok((row[1] ?? '').length > 10, `no description for ${row[0]}`);
    const text = textOf(reply.sections);
    assert.match(text, /read access/);
    assert.match(text, /act access/);
    assert.match(text, /approve access/);
    assert.match(text, /requested a rollout can never approve it/);
  });

  for (const name of COMMAND_NAMES) {
    it(`explains ${name}: usage, arguments, examples that parse`, () => {
      const reply = helpReply(name);
      assert.equal(reply.ok, true);
      assert.ok(reply.title.startsWith(`${name}:`));
      const usage = reply.sections.find((s) => s.kind === 'text' && s.heading === 'Usage');
      assert.ok(usage && usage.kind === 'text');
      assert.deepEqual(usage.lines, [usageOf(name)]);
      const examples = reply.sections.find((s) => s.kind === 'text' && s.heading === 'Examples');
      assert.ok(examples && examples.kind === 'text' && examples.lines.length > 0);
      for (const example of examples.lines) {
        const command = parsed(example);
        assert.equal(command.name, name, `${example} is an example of ${name}`);
      }
    });
  }

  it('documents every flag a command takes', () => {
    const flags: Record<string, string[]> = { rollout: ['--ami', '--max-unavailable', '--now'], drain: ['--force'], approve: ['--reason'], deny: ['--reason'] };
    for (const [name, expected] of Object.entries(flags)) {
      const text = textOf(helpReply(name as Command['name']).sections);
      for (const flag of expected) assert.ok(text.includes(flag), `help ${name} lacks ${flag}`);
    }
  });
});
