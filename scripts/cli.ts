/**
 * `npx eks-node-lifecycle [options] <command>`: the chat commands on the command line — the
 * same grammar, authorization, audit and answers as Slack and Amazon Q Developer.
 *
 *   npx eks-node-lifecycle --sandbox plan prod                # against the sandbox world
 *   npx eks-node-lifecycle --stage prod --region eu-west-1 status prod   # real AWS credentials
 *
 * The command is not run here: it is sent, signed with SigV4 by your AWS credentials, to the
 * service's chatApi function URL (AWS_IAM auth), which runs it as the caller Lambda
 * authenticated — `iam:<role or user ARN>` in the access policy — so the policy is the
 * service's to enforce, whatever this process does.
 */
import { randomUUID } from 'node:crypto';
import { GetFunctionUrlConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

export interface CliOptions {
  sandbox: boolean;
  stage: string;
  region: string;
  text: string;
}

export const CLI_USAGE = `usage: eks-node-lifecycle [--sandbox | --stage <stage> --region <region>] <command>
  commands: help, status, plan, doctor, rollout, drain, pause, resume, abort, approve, deny, history
  (\`eks-node-lifecycle help\` explains them)`;

/**
 * What the options' values may be: a region code, as the AWS SDK will accept it in a host
 * name (it refuses anything else with an untyped error, after the CLI has started); a stage,
 * as serverless.yml puts it into stack, function and table names.
 */
const OPTION_VALUES = {
  '--region': { pattern: /^[a-z0-9]+(-[a-z0-9]+)+$/, what: 'an AWS region (like eu-west-1)' },
  '--stage': { pattern: /^[A-Za-z0-9][A-Za-z0-9-]*$/, what: 'a stage name (letters, digits and -)' },
} as const;

/** Splits the CLI's own options from the command; everything after the first non-option word is the command. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions | { error: string } {
  const options: CliOptions = { sandbox: false, stage: env['EKS_NODE_LIFECYCLE_STAGE'] ?? 'dev', region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'eu-west-1', text: '' };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--sandbox') options.sandbox = true;
    else if (arg === '--stage' || arg === '--region') {
      const value = argv[++i];
      if (!value || value.startsWith('--')) return { error: `${arg} needs a value` };
      // shown escaped and cut short: the value goes to a terminal
      if (!OPTION_VALUES[arg].pattern.test(value)) return { error: `${arg} ${JSON.stringify(value.slice(0, 40))} is not ${OPTION_VALUES[arg].what}` };
      options[arg === '--stage' ? 'stage' : 'region'] = value;
    } else if (arg === '--') {
      i++;
      break;
    } else break;
  }
  options.text = argv.slice(i).join(' ');
  return options;
}

/** What a signed request needs: where, as whom, when (the sandbox signs at its virtual time). */
export interface SignedRequestOptions {
  url: string;
  region: string;
  credentials: AwsCredentialIdentity;
  signingDate?: Date;
  /** `fetch`, or the sandbox's function URL endpoint */
  send?: (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{ status: number; text(): Promise<string> }>;
}

/**
 * Sends one command to the chatApi function URL, signed with SigV4 for the `lambda` service
 * (Lambda developer guide, "Invoking Lambda function URLs": an AWS_IAM URL takes only
 * SigV4-signed requests). The body carries a fresh request id, covered by the signature, so
 * the service runs a captured request at most once. Returns the service's text answer.
 */
export async function sendCommand(text: string, options: SignedRequestOptions): Promise<{ text: string; ok: boolean; status: number }> {
  const url = new URL(options.url);
  const body = JSON.stringify({ command: text, requestId: randomUUID() });
  const signer = new SignatureV4({ credentials: options.credentials, region: options.region, service: 'lambda', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const send = options.send ?? ((u, init) => fetch(u, init));
  const response = await send(url.toString(), { method: 'POST', headers: signed.headers as Record<string, string>, body });
  const raw = await response.text();
  let answer: { ok?: boolean; text?: string; error?: string; Message?: string } = {};
  try {
    answer = JSON.parse(raw);
  } catch {
    // not JSON: shown as it came
  }
  if (response.status !== 200) return { text: `refused by the service (HTTP ${response.status}): ${answer.error ?? answer.Message ?? raw.slice(0, 300)}`, ok: false, status: response.status };
  return { text: answer.text ?? raw, ok: answer.ok === true, status: response.status };
}

/** The chatApi function URL of a stage: EKS_NODE_LIFECYCLE_URL, or asked of Lambda (lambda:GetFunctionUrlConfig). */
async function chatApiUrl(options: CliOptions, lambda: LambdaClient): Promise<string> {
  const given = process.env['EKS_NODE_LIFECYCLE_URL'];
  if (given) return given;
  const out = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: `eks-node-lifecycle-${options.stage}-chatApi` }));
  return out.FunctionUrl!;
}

/**
 * The exit code of an answer: 0 when done, 1 when refused or failed — or when the answer found
 * something blocking (`doctor`'s problems: the service sends `ok: false` for it).
 */
export function exitCodeOf(answer: { ok: boolean }): number {
  return answer.ok ? 0 : 1;
}

/** The CLI: prints the answer; exits as `exitCodeOf` says, 2 on bad usage. */
export async function main(argv: readonly string[]): Promise<number> {
  const options = parseCliArgs(argv);
  if ('error' in options) {
    console.error(`${options.error}\n${CLI_USAGE}`);
    return 2;
  }
  if (options.sandbox) {
    // a running `npm run sandbox` first; else a one-shot world (and a line on stderr says so)
    const { runInRunningSandbox } = await import('./sandbox-connection.js');
    const answered = await runInRunningSandbox(options.text, (line) => console.log(line), (line) => console.error(line));
    if (answered !== undefined) return answered;
    const sandbox = await import('./cli-sandbox.js').catch((error: NodeJS.ErrnoException) => {
      // the sandbox is the project's test world: it lives in the development dependencies
      if (error?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
      throw error;
    });
    if (!sandbox) {
      console.error('--sandbox needs the development dependencies (the simulated AWS and Kubernetes): run npm ci without --omit=dev.');
      return 1;
    }
    return sandbox.runInSandbox(options.text, (line) => console.log(line));
  }
  const lambda = new LambdaClient({ region: options.region });
  const result = await sendCommand(options.text, { url: await chatApiUrl(options, lambda), region: options.region, credentials: await lambda.config.credentials() });
  console.log(result.text);
  return exitCodeOf(result);
}
