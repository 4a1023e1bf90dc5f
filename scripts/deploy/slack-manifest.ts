/**
 * The Slack app of a deployed stage, as a manifest to paste in https://api.slack.com/apps →
 * *Create New App* → *From an app manifest* (or to update an existing app's *App Manifest*):
 *
 *   npx tsx scripts/deploy/slack-manifest.ts --stage prod --region eu-west-1 > slack-app.yaml
 *
 * The slash command and the interactivity (the approval buttons) both go to the `chatSlack`
 * function URL, read from the stack's `ChatSlackLambdaFunctionUrl` output; the bot needs
 * `commands` and `chat:write` (and `chat:write.public` with `--public`: posting in channels it
 * was not invited to). Field limits as the manifest reference gives them:
 * https://docs.slack.dev/reference/app-manifest (display name ≤ 35, description ≤ 140, a
 * slash command ≤ 32 characters starting with `/`, its description ≤ 2000 and usage hint ≤
 * 1000, request URLs https).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import * as z from 'zod/mini';
import { issuesOf } from '../../shared/schema-issues.js';

const https = z.url({ protocol: /^https$/, hostname: z.regexes.domain });

export const SlackManifestSchema = z.object({
  display_information: z.object({ name: z.string().check(z.minLength(1), z.maxLength(35)), description: z.optional(z.string().check(z.maxLength(140))) }),
  features: z.object({
    bot_user: z.object({ display_name: z.string().check(z.minLength(1), z.maxLength(80)), always_online: z.boolean() }),
    slash_commands: z.array(
      z.object({
        command: z.string().check(z.regex(/^\/[a-z0-9_-]{1,31}$/, 'must be / and at most 31 lower-case letters, digits, - or _')),
        url: https,
        description: z.string().check(z.minLength(1), z.maxLength(2000)),
        usage_hint: z.optional(z.string().check(z.maxLength(1000))),
        should_escape: z.boolean(),
      }),
    ),
  }),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.enum(['commands', 'chat:write', 'chat:write.public'])) }) }),
  settings: z.object({
    interactivity: z.object({ is_enabled: z.literal(true), request_url: https }),
    org_deploy_enabled: z.boolean(),
    socket_mode_enabled: z.literal(false),
    token_rotation_enabled: z.boolean(),
  }),
});

export type SlackManifest = z.infer<typeof SlackManifestSchema>;

export interface ManifestOptions {
  /** the chatSlack function URL */
  url: string;
  stage: string;
  command?: string;
  /** the bot may post in channels it was not invited to */
  publicChannels?: boolean;
}

/** The manifest, checked against the limits Slack enforces (a ConfigurationError-like Error naming the field otherwise). */
export function slackManifest(options: ManifestOptions): SlackManifest {
  const name = `EKS nodes (${options.stage})`.slice(0, 35);
  const manifest = {
    display_information: { name, description: 'Rollouts, drains and approvals of EKS worker nodes (eks-node-lifecycle)' },
    features: {
      bot_user: { display_name: 'eks-node-lifecycle', always_online: true },
      slash_commands: [
        {
          command: options.command ?? '/nodes',
          url: options.url,
          description: 'See, plan, roll and drain EKS worker nodes; approve rollouts',
          usage_hint: 'status prod | plan prod/web | rollout prod/web | help',
          // no command takes a user or channel: Slack's escaping of them is off (links and entities
          // Slack still writes are undone by the grammar: shared/chatops/grammar.ts)
          should_escape: false,
        },
      ],
    },
    oauth_config: { scopes: { bot: ['commands', 'chat:write', ...(options.publicChannels ? (['chat:write.public'] as const) : [])] } },
    settings: { interactivity: { is_enabled: true, request_url: options.url }, org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false },
  };
  const checked = SlackManifestSchema.safeParse(manifest);
  if (!checked.success) throw new Error(`the Slack manifest is not valid: ${issuesOf(checked.error).map((i) => `${i.path} ${i.message}`).join('; ')}`);
  return checked.data;
}

/** The chatSlack function URL of a deployed stack (its `ChatSlackLambdaFunctionUrl` output). */
export async function chatSlackUrl(cloudformation: CloudFormationClient, stackName: string): Promise<string> {
  const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const url = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'ChatSlackLambdaFunctionUrl')?.OutputValue;
  if (!url) throw new Error(`stack ${stackName} has no ChatSlackLambdaFunctionUrl output: is it deployed (npx serverless deploy)?`);
  return url;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { stage: { type: 'string' }, region: { type: 'string' }, url: { type: 'string' }, command: { type: 'string' }, public: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.stage) {
    process.stderr.write('usage: slack-manifest.ts --stage <stage> [--region <region>] [--url <chatSlack function URL>] [--command /nodes] [--public]\n');
    return 2;
  }
  const url = values.url ?? (await chatSlackUrl(new CloudFormationClient(values.region ? { region: values.region } : {}), `eks-node-lifecycle-${values.stage}`));
  process.stdout.write(stringify(slackManifest({ url, stage: values.stage, ...(values.command ? { command: values.command } : {}), publicChannels: values.public })));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      process.stderr.write(`slack-manifest: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
