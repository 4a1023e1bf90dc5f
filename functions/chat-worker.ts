import { answerStyle, ChatWorkSchema } from '../shared/chatops/slack-front.js';
import { runCommand } from '../shared/chatops/run-command.js';
import { toSlackMessage } from '../shared/chatops/render.js';
import { slackApi } from '../shared/chatops/slack-api.js';
import { slackResponseUrlAllowed } from '../shared/chatops/slack-request.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { chatPorts } from './lib/chat-ports.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * A verified Slack command or button click, handed over by chatSlack (asynchronously, so
 * Slack got its answer within three seconds): authorize, act, audit, and answer through the
 * request's response_url.
 */
const config = loadServiceConfig();
const ports = chatPorts(config);
const slack = slackApi({
  // response_url needs no token; the Web API is chatNotify's
  token: async () => '',
  isAllowedResponseUrl: slackResponseUrlAllowed(config.chat.responseUrlPrefixes),
});

export const handler = lambdaHandler({
  schema: ChatWorkSchema,
  run: async (work) => {
    const outcome = await runCommand({ text: work.text, principal: work.principal, requestId: work.requestId, receivedAt: new Date(work.receivedAt) }, ports);
    await slack.respond(work.responseUrl, toSlackMessage(outcome.reply), answerStyle(work, outcome));
    return { ok: outcome.reply.ok, result: outcome.audit.result, title: outcome.reply.title };
  },
});
