import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { CLI_USAGE, type CliOptions, main, parseCliArgs } from '../../scripts/cli.js';
import { editString, oddString, RUNS, Tally, type FuzzInput } from './fuzz-inputs.js';

/**
 * Fuzzing the CLI's command line (`eks-node-lifecycle [--sandbox | --stage <stage> --region
 * <region>] [-o json|wide] <command>`, options anywhere): 10,000 argument vectors, generated
 * (flag soups, odd and huge strings, unicode, empty words) or mutated from valid command lines.
 * The command text itself goes to the chat grammar, fuzzed in chatops-grammar-fuzz.slow.test.ts; here:
 * - parsing never throws, and gives either the invocation the usage describes or a usage
 *   error naming the flag at fault and quoting its bad value;
 * - an invocation only ever names a stage, a region and an output that AWS, serverless.yml and
 *   the CLI accept;
 * - a usage error ends the CLI with exit code 2 before any AWS call (nothing is read or written).
 */

/** The documented option values, restated (not imported) so the test checks the parser against the usage. */
const STAGE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const REGION = /^[a-z0-9]+(-[a-z0-9]+)+$/;
const OUTPUT = /^(text|wide|json)$/;
const DEFAULTS = { stage: 'dev', region: 'eu-west-1', output: 'text' as const, version: false, watch: false };

type Expected = { invocation: CliOptions } | { usageError: { flag: string; value: string | undefined } };

/**
 * What the usage says an argument vector means: `--sandbox`, `--version`, `-w`/`--watch`, `--stage <v>`,
 * `--region <v>`, `-o|--output <v>` (or `=<v>`, or `-o<v>`), last one wins, anywhere on the
 * line until `--` or a `--reason` (which takes the rest of the line); every other word, in
 * order and joined by spaces, is the command. A flag's value must be there, not a dash word,
 * and of the documented form.
 */
function expected(argv: readonly string[]): Expected {
  const invocation: CliOptions = { sandbox: false, ...DEFAULTS, text: '' };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (/^(--|\u2013|\u2014)reason(=|$)/i.test(word)) {
      words.push(...argv.slice(i));
      break;
    }
    if (word === '--sandbox') invocation.sandbox = true;
    else if (word === '--version') invocation.version = true;
    else if (word === '-w' || word === '--watch') invocation.watch = true;
    else {
      const long = /^(--stage|--region|--output)(=.*)?$/s.exec(word);
      const short = /^-o/.test(word);
      if (!long && !short) {
        words.push(word);
        continue;
      }
      const flag = long ? long[1]! : '-o';
      const inline = long ? long[2]?.slice(1) : word === '-o' ? undefined : word.slice(2).replace(/^=/, '');
      let value = inline;
      if (value === undefined) {
        value = argv[i + 1];
        i++;
        if (value === undefined || value === '' || value.startsWith('-')) return { usageError: { flag, value } };
      }
      const pattern = flag === '--stage' ? STAGE : flag === '--region' ? REGION : OUTPUT;
      if (value === '' || !pattern.test(value)) return { usageError: { flag, value } };
      if (flag === '--stage') invocation.stage = value;
      else if (flag === '--region') invocation.region = value;
      else invocation.output = value as CliOptions['output'];
    }
  }
  invocation.text = words.join(' ');
  return { invocation };
}

const TOKENS = ['--sandbox', '--stage', '--region', '--', '-', '-o', '-ojson', '-o=wide', '--output', '--output=json', '--output=', 'json', 'wide', 'yaml', '--version', '-w', '--watch', '-W', '--watch=1', '-only', '--stage=prod', '--region=eu-west-1', '--Stage', '—stage', '--help', '-h', 'prod', 'dev', 'prod-2', 'eu-west-1', 'us-gov-west-1', 'EU-WEST-1', 'eu_west_1', '', ' ', 'status', 'plan', 'rollout', 'prod/web', '--now', '--ami', 'latest', 'drain', 'i-0123456789abcdef0', 'approve', 'apr-0123456789ab', '--reason', 'not now'];
const token = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 1, arbitrary: oddString });

/** Command lines an operator would type. */
const VALID: string[][] = [
  ['status'],
  ['--sandbox', 'plan', 'prod'],
  ['--stage', 'prod', '--region', 'eu-west-1', 'status', 'prod'],
  ['--region', 'us-east-1', '--stage', 'dev', 'rollout', 'prod/web', '--ami', 'latest', '--now'],
  ['--stage', 'prod-2', 'approve', 'apr-0123456789ab', '--reason', 'looks good'],
  ['--', '--stage', 'drain', 'i-0123456789abcdef0'],
  ['--sandbox', '--region', 'ap-southeast-2', 'history'],
  ['status', 'prod', '--sandbox', '-o', 'json'],
  ['approvals', '--output=wide', '--stage', 'prod'],
  ['deny', 'prod/web', '--reason', 'not', '-o', 'json', 'today'],
];

type ArgvOp = 'delete' | 'insert' | 'replace' | 'duplicate' | 'swap' | 'edit';
const argvMutation = fc.record({ op: fc.constantFrom<ArgvOp>('delete', 'insert', 'replace', 'duplicate', 'swap', 'edit'), at: fc.nat(), pick: fc.nat(), token });

/** A word removed, added, replaced, repeated, moved or edited. */
function mutateArgv(seed: readonly string[], mutations: readonly { op: ArgvOp; at: number; pick: number; token: string }[]): string[] {
  const argv = [...seed];
  for (const m of mutations) {
    const i = argv.length === 0 ? 0 : m.at % argv.length;
    switch (m.op) {
      case 'delete':
        argv.splice(i, 1);
        break;
      case 'insert':
        argv.splice(m.at % (argv.length + 1), 0, m.token);
        break;
      case 'replace':
        argv[i] = m.token;
        break;
      case 'duplicate':
        if (argv.length > 0) argv.splice(i, 0, argv[i]!);
        break;
      case 'swap':
        if (i + 1 < argv.length) [argv[i], argv[i + 1]] = [argv[i + 1]!, argv[i]!];
        break;
      case 'edit':
        argv[i] = editString(argv[i] ?? '', m.pick, m.token.slice(0, 100));
        break;
    }
  }
  return argv;
}

const argvs: fc.Arbitrary<FuzzInput<string[]>> = fc.oneof(
  { weight: 1, arbitrary: fc.array(token, { maxLength: 8 }).map((value): FuzzInput<string[]> => ({ origin: 'generated', value })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...VALID), fc.array(argvMutation, { minLength: 1, maxLength: 3 }))
      .map(([seed, ms]): FuzzInput<string[]> => ({ origin: 'mutated', value: mutateArgv(seed, ms) })),
  },
);

const sts = mockClient(STSClient);
const stderr: string[] = [];
const consoleError = console.error;
before(() => {
  console.error = (...args: unknown[]) => {
    stderr.push(args.map(String).join(' '));
  };
});
after(() => {
  console.error = consoleError;
  sts.restore();
});

describe(`Fuzz: the CLI's command line (fast-check, ${RUNS} argument vectors)`, () => {
  it('parses every argument vector into the invocation the usage describes, or a usage error naming the bad flag and value that ends the CLI before any AWS call', async (t) => {
    const startedAt = performance.now();
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(argvs, async ({ origin, value: argv }) => {
        const parsed = parseCliArgs(argv, {});
        const want = expected(argv);
        if ('invocation' in want) {
          assert.deepEqual(parsed, want.invocation);
          assert.match(want.invocation.stage, STAGE);
          assert.match(want.invocation.region, REGION);
          tally.count(origin, 'accepted');
          return;
        }
        tally.count(origin, 'rejected');
        assert.ok('error' in parsed, `expected a usage error for ${want.usageError.flag}, got ${JSON.stringify(parsed).slice(0, 200)}`);
        const { flag, value } = want.usageError;
        assert.ok(parsed.error.includes(flag), `the usage error does not name ${flag}: ${parsed.error}`);
        const missing = value === undefined || value === '' || value.startsWith('-');
        tally.note(missing ? `${flag} without a value` : `${flag} with a bad value`);
        if (!missing) assert.ok(parsed.error.includes(JSON.stringify(value.slice(0, 40))), `the usage error does not quote the bad value: ${parsed.error}`);

        // the CLI stops there: exit 2, the error and the usage on stderr, no AWS call
        stderr.length = 0;
        sts.resetHistory();
        assert.equal(await main(argv), 2);
        assert.deepEqual(stderr, [`${parsed.error}\n${CLI_USAGE}`]);
        assert.equal(sts.calls().length, 0);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    assert.equal(tally.total, RUNS);
    t.diagnostic(`cli: ${RUNS} runs in ${((performance.now() - startedAt) / 1000).toFixed(1)} s — ${tally}`);
    tally.assertBothSides();
  });
});
