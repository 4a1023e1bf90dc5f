import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { awsScope } from '../shared/aws/clients.js';
import { receiveCliRequest } from '../shared/chatops/cli-front.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { chatPorts } from './lib/chat-ports.js';
import { logger, logInfo } from './lib/handler.js';

/**
 * The CLI's entry (function URL, AWS_IAM auth): the chat commands, run here as the IAM caller
 * Lambda authenticated, authorized by the access policy, audited, answered as text.
 */
const config = loadServiceConfig();
const commands = chatPorts(config, awsScope({ region: config.region }));
const ports = {
  commands,
  acceptOnce: (key: string, keepUntil: Date, at: Date) => commands.guards.acceptRequestOnce(key, keepUntil, at),
  now: commands.now,
  log: logInfo,
};

export const handler = middy(async (event: unknown) => receiveCliRequest(event, ports)).use(injectLambdaContext(logger, { resetKeys: true }));
