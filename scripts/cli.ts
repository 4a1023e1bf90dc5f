/**
 * `npx eks-node-lifecycle [options] <command>`: the chat commands on the command line — the
 * same grammar, authorization, audit and answers as Slack and Amazon Q Developer.
 *
 *   npx eks-node-lifecycle --sandbox plan prod                # against the sandbox world
 *   npx eks-node-lifecycle --stage prod --region eu-west-1 status prod   # real AWS credentials
 *
 * With real credentials the caller is `iam:<role or user ARN>` (from STS) in the access
 * policy, and needs IAM permissions like chatWorker's role (README "Chat-ops").
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { arnOf } from '../shared/aws/partition.js';
import { runCommand } from '../shared/chatops/run-command.js';
import { toText } from '../shared/chatops/render.js';
import type { Principal } from '../shared/chatops/types.js';
import { loadServiceConfig } from '../shared/config/service-config.js';

export interface CliOptions {
  sandbox: boolean;
  stage: string;
  region: string;
  text: string;
}

export const CLI_USAGE = `usage: eks-node-lifecycle [--sandbox | --stage <stage> --region <region>] <command>
  commands: help, status, plan, rollout, drain, pause, resume, abort, approve, deny, history
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

/** The deployed names serverless.yml gives a stage's resources. */
export function deployedEnvironment(stage: string, region: string, accountId: string): Record<string, string> {
  const prefix = `eks-node-lifecycle-${stage}`;
  return {
    AWS_REGION: region,
    CHATOPS_TABLE: `${prefix}-chatops`,
    ROLLOUTS_TABLE: `${prefix}-rollouts`,
    DRAIN_TABLE: `${prefix}-drains`,
    AMI_ROLLOUT_STATE_MACHINE_ARN: arnOf({ region, service: 'states', account: accountId, resource: `stateMachine:${prefix}-ami-rollout` }),
    REQUEST_DRAIN_FUNCTION: `${prefix}-requestDrain`,
    ACCESS_POLICY_PARAMETER: `/eks-node-lifecycle/${stage}/chatops/access-policy`,
  };
}

/** `arn:aws:sts::1:assumed-role/Ops/alice` is the role `arn:aws:iam::1:role/Ops` to the access policy. */
export function iamPrincipalArn(callerArn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : callerArn;
}

/** Runs one command with the given principal against whatever AWS the clients reach; returns the text and whether it was done. */
export async function runCliCommand(text: string, principal: Principal): Promise<{ text: string; ok: boolean }> {
  // loaded late: the service's logger is made when it loads, and must see the environment set by then
  const { chatPorts } = await import('../functions/lib/chat-ports.js');
  const ports = chatPorts(loadServiceConfig());
  const outcome = await runCommand({ text, principal, requestId: `cli-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, receivedAt: ports.now() }, ports);
  return { text: toText(outcome.reply), ok: outcome.reply.ok };
}

/** The CLI: prints the answer; exit 0 when done, 1 when refused or failed, 2 on bad usage. */
export async function main(argv: readonly string[]): Promise<number> {
  const options = parseCliArgs(argv);
  if ('error' in options) {
    console.error(`${options.error}\n${CLI_USAGE}`);
    return 2;
  }
  if (options.sandbox) {
    const { runInSandbox } = await import('./cli-sandbox.js');
    return runInSandbox(options.text, (line) => console.log(line));
  }
  // the service's own log records are for CloudWatch, not for a terminal
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
  // a client, not a deployment: it acts with the operator's credentials and the access policy
  // decides what they may see; MANAGED_CLUSTERS narrows it to the deployment's clusters
  process.env['MANAGED_CLUSTERS'] ??= '*';
  const sts = new STSClient({ region: options.region });
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  Object.assign(process.env, deployedEnvironment(options.stage, options.region, identity.Account!));
  const arn = iamPrincipalArn(identity.Arn!);
  const result = await runCliCommand(options.text, { id: `iam:${arn}`, display: arn, via: 'cli' });
  console.log(result.text);
  return result.ok ? 0 : 1;
}
