import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT, exitCodeOf, renderAnswer } from '../../scripts/cli-send.js';
import { type CliOptions, localAnswer, parseCliArgs, unreachableHint } from '../../scripts/cli.js';

/**
 * The CLI's own command line, decided before (and without) any AWS call: options anywhere,
 * the output formats, what help and usage errors exit with, and which failures mean that
 * AWS or the service could not be reached (exit 3, with what to do).
 */
const parsed = (...argv: string[]) => parseCliArgs(argv, {});
const options = (text: string, rest: Partial<CliOptions> = {}): CliOptions => ({ sandbox: false, stage: 'dev', region: 'eu-west-1', output: 'text', version: false, watch: false, text, ...rest });

describe('CLI: options anywhere on the line', () => {
  const table: [string[], CliOptions][] = [
    [['status', 'prod', '--sandbox'], options('status prod', { sandbox: true })],
    [['--sandbox', 'status', 'prod'], options('status prod', { sandbox: true })],
    [['status', '--stage', 'prod', 'prod/web', '--region=us-east-1'], options('status prod/web', { stage: 'prod', region: 'us-east-1' })],
    [['status', 'prod', '-o', 'json'], options('status prod', { output: 'json' })],
    [['-ojson', 'plan'], options('plan', { output: 'json' })],
    [['history', '-o=wide'], options('history', { output: 'wide' })],
    [['doctor', '--output', 'json', 'prod'], options('doctor prod', { output: 'json' })],
    [['approvals', '--output=json'], options('approvals', { output: 'json' })],
    [['--version'], options('', { version: true })],
    [['rollout', 'prod/web', '--now', '--ami', 'latest', '--sandbox'], options('rollout prod/web --now --ami latest', { sandbox: true })],
    // after --, and inside a --reason (the rest of the line), every word is the command's
    [['--', 'status', '--sandbox'], options('status --sandbox')],
    [['deny', 'prod/web', '--reason', 'not', '-o', 'json', 'today', '--sandbox'], options('deny prod/web --reason not -o json today --sandbox')],
    [['deny', 'prod/web', '--reason=not', '--sandbox'], options('deny prod/web --reason=not --sandbox')],
  ];
  for (const [argv, want] of table) {
    it(`reads ${argv.join(' ')}`, () => assert.deepEqual(parsed(...argv), want));
  }

  const errors: [string[], RegExp][] = [
    [['status', '-o'], /^-o needs a value$/],
    [['status', '-o', 'yaml'], /^-o "yaml" is not an output format/],
    [['status', '--output='], /^--output needs a value$/],
    [['status', '--stage', '-o', 'json'], /^--stage needs a value$/],
    [['status', '--region', 'EU'], /^--region "EU" is not an AWS region/],
  ];
  for (const [argv, error] of errors) {
    it(`refuses ${argv.join(' ')}`, () => {
      const result = parsed(...argv);
      assert.ok('error' in result);
      assert.match(result.error, error);
    });
  }
});

describe('CLI: what is decided here, with no service', () => {
  it('answers help, -h, --help, help <command> and an empty line, exit 0', () => {
    for (const text of ['', 'help', '--help', '-h', 'status --help', 'help approvals', 'approvals -h']) {
      const answer = localAnswer(options(text));
      assert.equal(answer?.code, EXIT.ok, text);
      assert.ok(answer?.stdout && !answer.stderr, text);
      assert.doesNotMatch(answer.stdout, /(^|\s):[a-z_]+:(\s|$)/, 'no emoji codes');
    }
    assert.match(localAnswer(options('help approvals'))!.stdout!, /approvals \[cluster\]/);
    assert.match(localAnswer(options(''))!.stdout!, /exit codes: 0 ok, 1 failed or refused, 2 usage, 3 cannot reach AWS or the cluster/);
  });

  it('refuses an unknown flag, an unknown command and a bad argument with the usage, exit 2', () => {
    for (const [text, error] of [
      ['status prod --bogus', /status takes no flags, so "--bogus" is not understood/],
      ['rolout prod/web', /did you mean "rollout"/],
      ['approvals prod/web', /approvals takes a cluster, not a node group/],
    ] as const) {
      const answer = localAnswer(options(text));
      assert.equal(answer?.code, EXIT.usage, text);
      assert.match(answer!.stderr!, error);
      assert.match(answer!.stderr!, /Usage:/);
    }
  });

  it('takes -o json and -o wide on the commands that read, and refuses them on the others', () => {
    for (const text of ['status', 'plan prod', 'doctor prod/web', 'history', 'approvals prod']) assert.equal(localAnswer(options(text, { output: 'json' })), undefined, text);
    const answer = localAnswer(options('rollout prod/web', { output: 'json' }));
    assert.equal(answer?.code, EXIT.usage);
    assert.match(answer!.stderr!, /-o json is for the commands that read/);
  });
});

describe('CLI: exit codes of answers and failures', () => {
  it('exits 0 when done, 1 when refused, failed or blocking, 3 when the service could not reach a cluster', () => {
    assert.equal(exitCodeOf({ ok: true }), 0);
    assert.equal(exitCodeOf({ ok: false }), 1);
    assert.equal(exitCodeOf({ ok: false, unreachable: true }), 3);
  });

  const where = { stage: 'dev', region: 'eu-west-1' };
  const cases: [string, unknown, RegExp][] = [
    ['no credentials', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), /no AWS credentials found: set AWS_PROFILE .*--region or AWS_REGION .*--sandbox/],
    ['expired credentials', Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' }), /AWS refused your credentials \(ExpiredTokenException\)/],
    ['no such function', Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' }), /no function eks-node-lifecycle-dev-chatApi in eu-west-1: check --stage and --region/],
    ['no DNS name', Object.assign(new Error('getaddrinfo ENOTFOUND lambda.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }), /cannot reach the service \(ENOTFOUND\)/],
    ['a refused connection', new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }), /cannot reach the service \(ECONNREFUSED\)/],
  ];
  for (const [what, error, hint] of cases) {
    it(`says what to do, in one line, for ${what}`, () => {
      const said = unreachableHint(error, where);
      assert.match(said ?? '', hint);
      assert.doesNotMatch(said!, /\n/);
    });
  }
  it('leaves any other error alone', () => assert.equal(unreachableHint(new RangeError('a bug'), where), undefined));
});

describe('CLI: printing an answer', () => {
  const reply = { ok: false, title: ':x: rollout prod/web failed: Error', sections: [], context: 'Try `status`.' };
  it('prints a reply without data, under -o json, as a Result document', () => {
    const printed = JSON.parse(renderAnswer({ ok: false, status: 200, text: 'x', reply, now: '2026-12-07T08:00:00.000Z' }, 'json'));
    assert.deepEqual(printed, { apiVersion: 'eks-node-lifecycle/v1', kind: 'Result', ok: false, title: 'rollout prod/web failed: Error', text: 'rollout prod/web failed: Error\n\nTry "status".' });
  });
  it('prints the text an older service sent when there is no reply to render', () => {
    assert.equal(renderAnswer({ ok: true, status: 200, text: 'as sent' }, 'text'), 'as sent');
  });
});
