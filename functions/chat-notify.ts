import * as z from 'zod/mini';
import { awsScope } from '../shared/aws/clients.js';
import { cachedSecret } from '../shared/aws/secrets.js';
import { ChatopsTable } from '../shared/chatops/chatops-table.js';
import { ALARM_STATE_CHANGE } from '../shared/chatops/event-replies.js';
import { notifyChat } from '../shared/chatops/notify.js';
import { slackApi } from '../shared/chatops/slack-api.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { accessPolicySource } from './lib/access-policy-source.js';
import { dynamoDbOf } from './lib/dynamodb.js';
import { lambdaHandler, logInfo } from './lib/handler.js';

/** EventBridge: the service's own events (`Rollout …`, `Node Drain Finished`) as Slack messages, one thread per rollout; and the stack's alarms. */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = {
  policy: accessPolicySource(aws, requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER')),
  slack: slackApi({
    token: cachedSecret(aws, requireSetting(config.chat.botTokenParameter, 'SLACK_BOT_TOKEN_PARAMETER')),
    baseUrl: config.chat.slackApiUrl,
    // notifications post through the Web API only
    isAllowedResponseUrl: () => false,
  }),
  table: new ChatopsTable(dynamoDbOf(aws), requireSetting(config.chatopsTable, 'CHATOPS_TABLE')),
  defaultChannel: config.chat.defaultChannel,
  now,
  log: logInfo,
};

export const ServiceEventSchema = z.object({
  id: z.optional(z.string()),
  source: z.literal('eks-node-lifecycle'),
  'detail-type': z.string().check(z.minLength(1), z.maxLength(128)),
  // as EventBridge sends it (the rollout's audit entry is dated by it)
  time: z.optional(z.iso.datetime()),
  detail: z.record(z.string(), z.unknown()),
});

/** The stack's own alarms changing state (the rule matches their name prefix): posted when ALARMS_TO_CHAT is on. */
export const AlarmStateChangeSchema = z.object({
  id: z.optional(z.string()),
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal(ALARM_STATE_CHANGE),
  time: z.optional(z.iso.datetime()),
  detail: z.looseObject({ alarmName: z.string().check(z.minLength(1), z.maxLength(255)), state: z.looseObject({ value: z.string() }) }),
});

export const handler = lambdaHandler({
  schema: z.union([ServiceEventSchema, AlarmStateChangeSchema]),
  run: async (event) => (event.source === 'aws.cloudwatch' && !config.chat.alarmsToChat ? { posted: false, reason: 'alarms are not sent to chat (alarmsToChat)' } : notifyChat(event, ports)),
});
