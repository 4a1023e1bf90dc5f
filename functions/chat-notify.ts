import { awsScope } from '../shared/aws/clients.js';
import { cachedSecret } from '../shared/aws/secrets.js';
import { AuditLog } from '../shared/chatops/audit-log.js';
import { ChatEventSchema } from '../shared/chatops/event-replies.js';
import { notifyChat } from '../shared/chatops/notify.js';
import { slackApi } from '../shared/chatops/slack-api.js';
import { SlackThreads } from '../shared/chatops/slack-threads.js';
import { now } from '../shared/clock.js';
import { ALARM_STATE_CHANGE } from '../shared/events/alarm-state-change.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { Approvals } from '../shared/rollout/approvals.js';
import { accessPolicySource } from './lib/access-policy-source.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/**
 * EventBridge: the service's own events (`Rollout …`, `Node Drain Finished`) as Slack messages, one thread per rollout; and the stack's
 * alarms (the rule matches their name prefix), posted when ALARMS_TO_CHAT is on. Each is parsed with its schema: one it refuses is an
 * InvalidInputError naming the field.
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const chatopsTable = requireSetting(config.chatopsTable, 'CHATOPS_TABLE');
const ports = {
  policy: accessPolicySource(aws, requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER')),
  slack: slackApi({
    token: cachedSecret(aws, requireSetting(config.chat.botTokenParameter, 'SLACK_BOT_TOKEN_PARAMETER')),
    baseUrl: config.chat.slackApiUrl,
    // notifications post through the Web API only
    isAllowedResponseUrl: () => false,
  }),
  threads: new SlackThreads(aws, chatopsTable),
  auditLog: new AuditLog(aws, chatopsTable),
  approvals: new Approvals(aws, chatopsTable),
  defaultChannel: config.chat.defaultChannel,
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: ChatEventSchema,
  run: async (event) => (event['detail-type'] === ALARM_STATE_CHANGE && !config.chat.alarmsToChat ? { posted: false, reason: 'alarms are not sent to chat (alarmsToChat)' } : notifyChat(event, ports)),
});
