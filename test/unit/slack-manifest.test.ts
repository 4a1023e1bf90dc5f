import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { chatSlackUrl, main, SlackManifestSchema, slackManifest } from '../../scripts/deploy/slack-manifest.js';

const URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/';

describe('Slack app manifest', () => {
  it('sends the slash command and the buttons to the chatSlack function URL, with the bot scopes chat-ops uses', () => {
    const m = slackManifest({ url: URL, stage: 'prod' });
    assert.equal(m.features.slash_commands[0]!.command, '/nodes');
    assert.equal(m.features.slash_commands[0]!.url, URL);
    assert.equal(m.settings.interactivity.request_url, URL);
    assert.deepEqual(m.oauth_config.scopes.bot, ['commands', 'chat:write']);
    assert.deepEqual(slackManifest({ url: URL, stage: 'prod', publicChannels: true }).oauth_config.scopes.bot, ['commands', 'chat:write', 'chat:write.public']);
    assert.equal(m.display_information.name, 'EKS nodes (prod)');
  });

  it('refuses what Slack would: a URL that is not https, a command that is not one, a name past 35 characters', () => {
    assert.throws(() => slackManifest({ url: 'http://example.com/', stage: 'prod' }), /request_url|url/);
    assert.throws(() => slackManifest({ url: URL, stage: 'prod', command: 'nodes' }), /command must be \//);
    assert.throws(() => slackManifest({ url: URL, stage: 'prod', command: '/Nodes' }), /command/);
    const long = { ...slackManifest({ url: URL, stage: 'prod' }) };
    long.display_information = { ...long.display_information, name: 'x'.repeat(36) };
    assert.equal(SlackManifestSchema.safeParse(long).success, false);
  });

  it('reads the URL from the deployed stack, and says so when the stack has none', async () => {
    const cf = mockClient(CloudFormationClient);
    try {
      cf.on(DescribeStacksCommand, { StackName: 'eks-node-lifecycle-prod' }).resolves({ Stacks: [{ StackName: 'eks-node-lifecycle-prod', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [{ OutputKey: 'ChatSlackLambdaFunctionUrl', OutputValue: URL }] }] });
      cf.on(DescribeStacksCommand, { StackName: 'eks-node-lifecycle-dev' }).resolves({ Stacks: [{ StackName: 'eks-node-lifecycle-dev', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
      const client = new CloudFormationClient({ region: 'eu-west-1' });
      assert.equal(await chatSlackUrl(client, 'eks-node-lifecycle-prod'), URL);
      await assert.rejects(chatSlackUrl(client, 'eks-node-lifecycle-dev'), /has no ChatSlackLambdaFunctionUrl output/);
    } finally {
      cf.restore();
    }
  });

  it('prints YAML that reads back as a valid manifest', async () => {
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
    try {
      assert.equal(await main(['--stage', 'prod', '--url', URL]), 0);
    } finally {
      process.stdout.write = write;
    }
    const read = parse(out) as unknown;
    assert.ok(SlackManifestSchema.safeParse(read).success);
    assert.equal((read as { settings: { socket_mode_enabled: boolean } }).settings.socket_mode_enabled, false);
  });
});
