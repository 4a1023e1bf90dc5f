import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { awsScope } from '../shared/aws/clients.js';
import { invokeFunctionAsync } from '../shared/aws/functions.js';
import { cachedSecret } from '../shared/aws/secrets.js';
import { type AuditInput, AuditLog } from '../shared/chatops/audit-log.js';
import { RequestGuards } from '../shared/chatops/request-guards.js';
import { receiveSlack } from '../shared/chatops/slack-front.js';
import { slackResponseUrlAllowed, slackTeamAllowed } from '../shared/chatops/slack-request.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { logger, logInfo } from './lib/handler.js';

/**
 * Slack's HTTPS entry (Lambda function URL): slash commands and button clicks. Verifies the
 * signature, answers within three seconds, and hands the work to chatWorker asynchronously.
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const chatopsTable = requireSetting(config.chatopsTable, 'CHATOPS_TABLE');
const guards = new RequestGuards(aws, chatopsTable);
const auditLog = new AuditLog(aws, chatopsTable);
const worker = requireSetting(config.chat.workerFunction, 'CHAT_WORKER_FUNCTION');
const ports = {
  signingSecret: cachedSecret(aws, requireSetting(config.chat.signingSecretParameter, 'SLACK_SIGNING_SECRET_PARAMETER')),
  isAllowedResponseUrl: slackResponseUrlAllowed(config.chat.responseUrlPrefixes),
  isAllowedTeam: slackTeamAllowed(config.chat.slackTeamIds),
  acceptOnce: (key: string, keepUntil: Date, at: Date) => guards.acceptRequestOnce(key, keepUntil, at),
  handOver: (work: unknown) => invokeFunctionAsync(aws, worker, work),
  audit: (entry: AuditInput) => auditLog.audit(entry),
  now,
  log: logInfo,
};

export const handler = middy(async (event: unknown, context: Context) => receiveSlack(event, context.awsRequestId, ports)).use(injectLambdaContext(logger, { resetKeys: true }));
