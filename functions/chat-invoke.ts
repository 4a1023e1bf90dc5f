import * as z from 'zod/mini';
import { awsScope } from '../shared/aws/clients.js';
import { runCommand } from '../shared/chatops/run-command.js';
import { toText } from '../shared/chatops/render.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { chatPorts } from './lib/chat-ports.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * Direct invocation, for Amazon Q Developer in chat applications custom actions
 * (`lambda invoke --function-name <this> --payload {"command":"status prod"}`) and other
 * tooling: the same commands, answered as the same text the CLI prints. Lambda does not tell
 * a function who invoked it, so every caller acts as one principal — this function's ARN,
 * `iam:<function ARN>` in the access policy — and IAM (the channel's role and guardrails)
 * decides who may invoke it at all.
 */
const config = loadServiceConfig();
const ports = chatPorts(config, awsScope({ region: config.region }));

export const ChatInvokeSchema = z.strictObject({ command: z.string().check(z.maxLength(1000)) });

export const handler = lambdaHandler({
  schema: ChatInvokeSchema,
  run: async (input, context) => {
    const principal = { id: `iam:${context.invokedFunctionArn.split(':').slice(0, 7).join(':')}`, display: 'direct invocation (Amazon Q Developer)', via: 'lambda' as const };
    const outcome = await runCommand({ text: input.command, principal, requestId: context.awsRequestId, receivedAt: ports.now() }, ports);
    return toText(outcome.reply);
  },
});
