/**
 * `npx eks-node-lifecycle [options] <command>`: the chat commands on the command line — the
 * same grammar, authorization, audit and answers as Slack and Amazon Q Developer.
 *
 *   npx eks-node-lifecycle --sandbox plan prod                # against the sandbox world
 *   npx eks-node-lifecycle --stage prod --region eu-west-1 status prod   # real AWS credentials
 *   npx eks-node-lifecycle status prod -o json                # the answer as data
 *
 * The command is not run here: it is sent, signed with SigV4 by your AWS credentials, to the
 * service's chatApi function URL (AWS_IAM auth), which runs it as the caller Lambda
 * authenticated — `iam:<role or user ARN>` in the access policy — so the policy is the
 * service's to enforce, whatever this process does. What needs no service is done here,
 * with no credentials and no network: `help`, `--version`, and refusing a command that does
 * not parse (the same grammar).
 *
 * Exit codes: 0 done; 1 the operation failed or was refused (or doctor found a blocking
 * problem); 2 bad usage; 3 AWS, the service or a cluster could not be reached.
 */
import { readFileSync } from 'node:fs';
import type { AwsCredentialIdentity } from '@smithy/types';
import { invalidReply } from '../shared/chatops/command-replies.js';
import { parseCommand } from '../shared/chatops/grammar.js';
import { helpReply } from '../shared/chatops/help.js';
import { toTerminal } from '../shared/chatops/render-terminal.js';
import { COMMAND_NAMES, type CommandName, type Reply } from '../shared/chatops/types.js';
import { type CommandAnswer, EXIT, exitCodeOf, type OutputFormat, renderAnswer, sendCommand } from './cli-send.js';
import type { WatchedGroup } from './cli-watch.js';

export interface CliOptions {
  sandbox: boolean;
  stage: string;
  region: string;
  /** `-o` / `--output`: text (aligned columns), wide (every column, nothing cut) or json (the answer's data) */
  output: OutputFormat;
  /** `--version`: print the version and nothing else */
  version: boolean;
  /** `-w` / `--watch`: status and rollout, a live view until the rollouts in view end (scripts/cli-watch.ts) */
  watch: boolean;
  text: string;
}

export const CLI_USAGE = `usage: eks-node-lifecycle [--sandbox | --stage <stage> --region <region>] [-o json|wide] [-w] <command> [args]
  commands: ${COMMAND_NAMES.join(', ')}
  options may come anywhere on the line; \`eks-node-lifecycle help <command>\` explains a command; --version
  exit codes: 0 ok, 1 failed or refused, 2 usage, 3 cannot reach AWS or the cluster`;

/** The commands `-o json` and `-o wide` apply to: those that read. */
export const READ_COMMANDS: readonly CommandName[] = ['status', 'plan', 'doctor', 'history', 'approvals', 'promotions', 'promotion'];

/**
 * What the options' values may be: a region code, as the AWS SDK will accept it in a host
 * name (it refuses anything else with an untyped error, after the CLI has started); a stage,
 * as serverless.yml puts it into stack, function and table names.
 */
const OPTION_VALUES = {
  '--region': { pattern: /^[a-z0-9]+(-[a-z0-9]+)+$/, what: 'an AWS region (like eu-west-1)' },
  '--stage': { pattern: /^[A-Za-z0-9][A-Za-z0-9-]*$/, what: 'a stage name (letters, digits and -)' },
  '--output': { pattern: /^(text|wide|json)$/, what: 'an output format: json, wide or text' },
} as const;

/** A chat flag that takes the rest of the line (`--reason`): what follows it is the reason's, not the CLI's. */
const REST_FLAG = /^(--|[\u2013\u2014])reason(=|$)/i;

/**
 * Splits the CLI's own options from the command. Options may come anywhere — before, within or
 * after the command (`status prod --sandbox -o json`) — except after `--` or inside a
 * `--reason`, which takes the rest of the line; every other word is the command's, in order.
 * `-o json`, `-ojson`, `-o=json`, `--output json` and `--output=json` are one option.
 */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions | { error: string } {
  const options: CliOptions = { sandbox: false, stage: env['EKS_NODE_LIFECYCLE_STAGE'] ?? 'dev', region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'eu-west-1', output: 'text', version: false, watch: false, text: '' };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (REST_FLAG.test(arg)) {
      words.push(...argv.slice(i));
      break;
    }
    if (arg === '--sandbox') {
      options.sandbox = true;
      continue;
    }
    if (arg === '--version') {
      options.version = true;
      continue;
    }
    if (arg === '-w' || arg === '--watch') {
      options.watch = true;
      continue;
    }
    const option = optionOf(arg);
    if (option === undefined) {
      words.push(arg);
      continue;
    }
    let value = option.inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value === '' || value.startsWith('-')) return { error: `${option.typed} needs a value` };
    } else if (value === '') return { error: `${option.typed} needs a value` };
    // shown escaped and cut short: the value goes to a terminal
    if (!OPTION_VALUES[option.name].pattern.test(value)) return { error: `${option.typed} ${JSON.stringify(value.slice(0, 40))} is not ${OPTION_VALUES[option.name].what}` };
    if (option.name === '--output') options.output = value as OutputFormat;
    else options[option.name === '--stage' ? 'stage' : 'region'] = value;
  }
  options.text = words.join(' ');
  return options;
}

/** `--stage`, `--region`, `--output`/`-o`, as typed, with a value given in the same word (`--stage=prod`, `-ojson`). */
function optionOf(arg: string): { name: keyof typeof OPTION_VALUES; typed: string; inline?: string } | undefined {
  const long = /^(--stage|--region|--output)(?:=(.*))?$/s.exec(arg);
  if (long) return { name: long[1] as keyof typeof OPTION_VALUES, typed: long[1]!, ...(long[2] !== undefined ? { inline: long[2] } : {}) };
  const short = /^-o(?:=?(.*))?$/s.exec(arg);
  if (short) return { name: '--output', typed: '-o', ...(short[1] ? { inline: short[1] } : arg === '-o=' ? { inline: '' } : {}) };
  return undefined;
}

/** The package's version, from package.json. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The chatApi function URL of a stage: EKS_NODE_LIFECYCLE_URL, or asked of Lambda (lambda:GetFunctionUrlConfig), with the credentials to sign with. */
async function chatApiEndpoint(options: CliOptions): Promise<{ url: string; credentials: AwsCredentialIdentity }> {
  // loaded only for a command the service runs: help and usage errors need no SDK
  const { GetFunctionUrlConfigCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const lambda = new LambdaClient({ region: options.region });
  const credentials = await lambda.config.credentials();
  const given = process.env['EKS_NODE_LIFECYCLE_URL'];
  if (given) return { url: given, credentials };
  const out = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: `eks-node-lifecycle-${options.stage}-chatApi` }));
  return { url: out.FunctionUrl!, credentials };
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const REFUSED_CREDENTIALS = new Set(['ExpiredTokenException', 'ExpiredToken', 'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch', 'IncompleteSignatureException']);
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

/**
 * When an error means AWS or the service could not be reached — no credentials, credentials
 * AWS refuses, no such function in that stage and region, no network to it — the one line
 * that says what to do; undefined for any other error.
 */
export function unreachableHint(error: unknown, options: Pick<CliOptions, 'stage' | 'region'>): string | undefined {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  const name = e?.name ?? '';
  const code = e?.code ?? e?.cause?.code ?? /\b(E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/.exec(`${e?.message ?? ''} ${e?.cause?.message ?? ''}`)?.[1] ?? '';
  const sandbox = 'or try the simulated world with --sandbox';
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials/i.test(e?.message ?? '')) {
    return `no AWS credentials found: set AWS_PROFILE (then aws sso login, if it is an SSO profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, choose the region with --region or AWS_REGION (now ${options.region}), ${sandbox}.`;
  }
  if (REFUSED_CREDENTIALS.has(name)) return `AWS refused your credentials (${name}): refresh them (aws sso login, or a new session) or pick another AWS_PROFILE; region ${options.region}; ${sandbox}.`;
  if (name === 'ResourceNotFoundException') return `no function eks-node-lifecycle-${options.stage}-chatApi in ${options.region}: check --stage and --region (or set EKS_NODE_LIFECYCLE_URL), ${sandbox}.`;
  if (/region is missing/i.test(e?.message ?? '')) return `no AWS region: give --region or set AWS_REGION, ${sandbox}.`;
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || (name === 'TypeError' && /fetch failed/i.test(e?.message ?? ''))) {
    return `cannot reach the service (${code || e?.cause?.message || name}): check your network or proxy, --stage ${options.stage} and --region ${options.region} (or EKS_NODE_LIFECYCLE_URL), ${sandbox}.`;
  }
  return undefined;
}

/** What is decided here, with no service: help, a command that does not parse, `-o` on a command that does not read. */
export function localAnswer(options: CliOptions): { code: number; stdout?: string; stderr?: string } | undefined {
  const parsed = parseCommand(options.text);
  const now = new Date();
  if (!parsed.ok) return { code: EXIT.usage, stderr: toTerminal(invalidReply(parsed.error, parsed.usage), { now, wide: true }) };
  if (parsed.command.name === 'help') return { code: EXIT.ok, stdout: toTerminal(withCliHelp(helpReply(parsed.command.topic), parsed.command.topic === undefined), { now, wide: true }) };
  if (options.watch && parsed.command.name !== 'status' && parsed.command.name !== 'rollout') return { code: EXIT.usage, stderr: `-w is for status and rollout, not ${parsed.command.name}.\n${CLI_USAGE}` };
  if (options.watch && options.output === 'json') return { code: EXIT.usage, stderr: `-w draws a live view: it does not go with -o json (ask status -o json again instead).\n${CLI_USAGE}` };
  if (options.output !== 'text' && !READ_COMMANDS.includes(parsed.command.name)) {
    return { code: EXIT.usage, stderr: `-o ${options.output} is for the commands that read (${READ_COMMANDS.join(', ')}), not ${parsed.command.name}.\n${CLI_USAGE}` };
  }
  return undefined;
}

/** The overview ends with the CLI's own options and exit codes. */
function withCliHelp(reply: Reply, overview: boolean): Reply {
  if (!overview) return reply;
  return { ...reply, sections: [...reply.sections, { kind: 'text', heading: 'On the command line', lines: CLI_USAGE.split('\n').map((line) => line.trim()) }] };
}

/** The CLI: prints the answer; exits 0 ok, 1 failed or refused, 2 on bad usage, 3 when AWS, the service or a cluster cannot be reached. */
export async function main(argv: readonly string[]): Promise<number> {
  const options = parseCliArgs(argv);
  if ('error' in options) {
    console.error(`${options.error}\n${CLI_USAGE}`);
    return EXIT.usage;
  }
  if (options.version) {
    console.log(cliVersion());
    return EXIT.ok;
  }
  const local = localAnswer(options);
  if (local) {
    if (local.stdout !== undefined) console.log(local.stdout);
    if (local.stderr !== undefined) console.error(local.stderr);
    return local.code;
  }
  if (options.watch) return watchCommand(options);
  if (options.sandbox) {
    // a running `npm run sandbox` first; else a one-shot world (and a line on stderr says so)
    const { runInRunningSandbox } = await import('./sandbox-connection.js');
    const answered = await runInRunningSandbox(options.text, (line) => console.log(line), (line) => console.error(line), undefined, options.output);
    if (answered !== undefined) return answered;
    const sandbox = await import('./cli-sandbox.js').catch((error: NodeJS.ErrnoException) => {
      // the sandbox is the project's test world: it lives in the development dependencies
      if (error?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
      throw error;
    });
    if (!sandbox) {
      console.error('--sandbox needs the development dependencies (the simulated AWS and Kubernetes): run npm ci without --omit=dev.');
      return EXIT.failed;
    }
    return sandbox.runInSandbox(options.text, (line) => console.log(line), options.output);
  }
  let answer: CommandAnswer;
  try {
    const endpoint = await chatApiEndpoint(options);
    answer = await sendCommand(options.text, { ...endpoint, region: options.region, output: options.output === 'json' ? 'json' : 'text' });
  } catch (error) {
    const hint = unreachableHint(error, options);
    if (hint === undefined) throw error;
    console.error(`eks-node-lifecycle: ${hint}`);
    return EXIT.unreachable;
  }
  console.log(renderAnswer(answer, options.output));
  return exitCodeOf(answer);
}

/**
 * `-w`: `rollout …` is sent first (its answer printed as usual; a refusal ends there), then the
 * group — or `status`'s scope — is followed live (scripts/cli-watch.ts). Against the sandbox
 * only a running `npm run sandbox` has a clock that moves: a one-shot world would show a still.
 */
async function watchCommand(options: CliOptions): Promise<number> {
  const parsed = parseCommand(options.text);
  if (!parsed.ok || (parsed.command.name !== 'status' && parsed.command.name !== 'rollout')) return EXIT.usage;
  const command = parsed.command;
  let ask: (text: string, output: 'text' | 'json') => Promise<{ ok: boolean; text: string; data?: unknown; unreachable?: boolean; code: number }>;
  try {
    if (options.sandbox) {
      const { askRunningSandbox, findRunningSandbox } = await import('./sandbox-connection.js');
      const found = await findRunningSandbox();
      if (found.state !== 'running') {
        console.error('-w with --sandbox needs a running sandbox (npm run sandbox): a one-shot world does not move.');
        return EXIT.usage;
      }
      ask = async (text, output) => {
        const answer = await askRunningSandbox(found.endpoint, text, output);
        const data = output === 'json' && answer.ok ? (JSON.parse(answer.text) as unknown) : undefined;
        return { ok: answer.ok, text: answer.text, data, unreachable: answer.exitCode === EXIT.unreachable, code: answer.exitCode };
      };
    } else {
      const endpoint = await chatApiEndpoint(options);
      ask = async (text, output) => {
        const answer = await sendCommand(text, { ...endpoint, region: options.region, output });
        return { ok: answer.ok, text: output === 'json' ? answer.text : renderAnswer(answer, 'text'), data: answer.data, ...(answer.unreachable ? { unreachable: true } : {}), code: exitCodeOf(answer) };
      };
    }
    if (command.name === 'rollout') {
      const started = await ask(options.text, 'text');
      console.log(started.text);
      if (started.code !== EXIT.ok) return started.code;
    }
  } catch (error) {
    const hint = unreachableHint(error, options);
    if (hint === undefined) throw error;
    console.error(`eks-node-lifecycle: ${hint}`);
    return EXIT.unreachable;
  }
  // the place as typed (`444455556666/eu-west-1/prod/web`), so the watch asks about the same cluster
  const at = 'place' in command && command.place ? `${command.place.accountId}/${command.place.region}/` : '';
  const scope = command.name === 'rollout' ? `${at}${command.cluster}/${command.group}` : command.cluster ? `${at}${command.group ? `${command.cluster}/${command.group}` : command.cluster}` : '';
  const { watch } = await import('./cli-watch.js');
  return watch(
    scope,
    {
      status: async (s) => {
        const answer = await ask(`status ${s}`.trim(), 'json');
        const items = (answer.data as { items?: WatchedGroup[] } | undefined)?.items;
        return { ok: answer.ok, text: answer.text, ...(items ? { items } : {}), ...(answer.unreachable ? { unreachable: true } : {}) };
      },
      write: (text) => process.stdout.write(text),
      tty: process.stdout.isTTY === true,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: () => new Date(),
      intervalMs: Number(process.env['EKS_NODE_LIFECYCLE_WATCH_INTERVAL_MS'] ?? 5000),
    },
    command.name === 'rollout' ? { group: command.group } : {},
  );
}
