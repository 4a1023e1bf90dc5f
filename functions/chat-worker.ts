import { awsScope } from '../shared/aws/clients.js';
import { cachedSecret } from '../shared/aws/secrets.js';
import { RequestGuards } from '../shared/chatops/request-guards.js';
import { ChatWorkSchema, runSlackWork } from '../shared/chatops/slack-front.js';
import { toSlackMessage } from '../shared/chatops/render.js';
import { slackApi } from '../shared/chatops/slack-api.js';
import { slackResponseUrlAllowed, slackTeamAllowed } from '../shared/chatops/slack-request.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { chatPorts } from './lib/chat-ports.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * A Slack command or button click, handed over by chatSlack (asynchronously, so Slack got
 * its answer within three seconds) as the raw signed request: verified again here, run
 * once, authorized as the signed user, acted on, audited, and answered through the signed
 * response_url.
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const guards = new RequestGuards(aws, requireSetting(config.chatopsTable, 'CHATOPS_TABLE'));
const isAllowedResponseUrl = slackResponseUrlAllowed(config.chat.responseUrlPrefixes);
const slack = slackApi({
  // response_url needs no token; the Web API is chatNotify's
  token: async () => '',
  isAllowedResponseUrl,
});
const ports = {
  signingSecret: cachedSecret(aws, requireSetting(config.chat.signingSecretParameter, 'SLACK_SIGNING_SECRET_PARAMETER')),
  isAllowedResponseUrl,
  isAllowedTeam: slackTeamAllowed(config.chat.slackTeamIds),
  claimOnce: (key: string, at: Date) => guards.claimAcceptedRequest(key, at),
  commands: chatPorts(config, aws),
  respond: (url: string, reply: Parameters<typeof toSlackMessage>[0], style: { ephemeral: boolean; replaceOriginal: boolean }) => slack.respond(url, toSlackMessage(reply), style),
  now,
};

export const handler = lambdaHandler({
  schema: ChatWorkSchema,
  run: async (work) => {
    const outcome = await runSlackWork(work, ports);
    return { ok: outcome.reply.ok, result: outcome.audit.result, title: outcome.reply.title };
  },
});
