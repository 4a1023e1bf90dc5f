import { type SlackReceiver, blockActionBody, signedSlackEvent, slashCommandBody, startSlackReceiver } from './slack-receiver.js';
import type { World, WorldOptions } from './world.js';

/**
 * Chat-ops in the sandbox: Slack on 127.0.0.1 (the receiver), the service's chat secrets and
 * access policy in the simulated SSM (SecureString, as deployed), and people who type
 * commands and click buttons — each request signed as Slack signs it and delivered to the
 * real chatSlack function as a function URL event.
 */
export const SANDBOX_SLACK = {
  team: 'T0SANDBOX',
  signingSecret: 'sandbox-signing-secret-0123456789abcdef',
  botToken: 'xoxb-sandbox-bot-token',
  channel: 'C0PROD',
};

/** A policy for the sandbox's `prod`: SREs act and approve, anyone in #prod-ops reads, rollouts need a second person. */
export function sandboxAccessPolicy(people: { sre: string[]; readers?: string[] }): Record<string, unknown> {
  return {
    groups: { sre: people.sre.map((u) => `slack:${SANDBOX_SLACK.team}:${u}`) },
    clusters: {
      prod: {
        read: ['group:sre', `channel:${SANDBOX_SLACK.team}:${SANDBOX_SLACK.channel}`, ...(people.readers ?? []).map((u) => `slack:${SANDBOX_SLACK.team}:${u}`)],
        act: ['group:sre'],
        approve: ['group:sre'],
        notify: SANDBOX_SLACK.channel,
        requireApproval: true,
      },
    },
  };
}

/** The serverless params that point the service at the sandbox's Slack. */
export function chatParams(receiver: SlackReceiver): NonNullable<WorldOptions['params']> {
  return { slackApiUrl: receiver.apiUrl, slackResponseUrlPrefixes: `${receiver.url}/response/`, slackTeamIds: SANDBOX_SLACK.team };
}

export async function startSandboxSlack(): Promise<SlackReceiver> {
  return startSlackReceiver({ botToken: SANDBOX_SLACK.botToken });
}

export interface ChatDriver {
  receiver: SlackReceiver;
  /** `/nodes <text>` typed by `user`; resolves with what Slack shows at once (the 3-second answer) */
  slash(user: string, text: string, options?: { channel?: string }): Promise<{ statusCode: number; body: any; responseUrl: string }>;
  /** `user` clicks a button (approve/deny) carrying `value` */
  click(user: string, actionId: string, value: string): Promise<{ statusCode: number; body: any; responseUrl: string }>;
  /** what was posted to one response_url */
  responses(responseUrl: string): SlackReceiver['messages'];
}

/** Stores the chat-ops access policy where serverless.yml's params say it is. */
export function putAccessPolicy(world: World, policy: Record<string, unknown>): void {
  world.account.ssm.putParameter(world.model.params['chatAccessPolicyParameter']!.replace('${sls:stage}', world.model.stage), JSON.stringify(policy));
}

/** Stores the chat secrets and policy where serverless.yml's params say they are, and returns people who type. */
export function setupChat(world: World, receiver: SlackReceiver, policy: Record<string, unknown>): ChatDriver {
  const params = world.model.params;
  const resolve = (value: string) => value.replace('${sls:stage}', world.model.stage);
  world.account.ssm.putSecureString(resolve(params['slackSigningSecretParameter']!), SANDBOX_SLACK.signingSecret);
  world.account.ssm.putSecureString(resolve(params['slackBotTokenParameter']!), SANDBOX_SLACK.botToken);
  putAccessPolicy(world, policy);
  const send = async (body: string, responseUrl: string) => {
    const response = (await world.lambda.invoke('chatSlack', signedSlackEvent(SANDBOX_SLACK.signingSecret, body, world.clock.date()))) as { statusCode: number; body: string };
    return { statusCode: response.statusCode, body: response.body ? JSON.parse(response.body) : null, responseUrl };
  };
  return {
    receiver,
    slash: (user, text, options = {}) => {
      const responseUrl = receiver.responseUrl();
      return send(slashCommandBody({ team: SANDBOX_SLACK.team, user, channel: options.channel ?? SANDBOX_SLACK.channel, text, responseUrl }), responseUrl);
    },
    click: (user, actionId, value) => {
      const responseUrl = receiver.responseUrl();
      return send(blockActionBody({ team: SANDBOX_SLACK.team, user, channel: SANDBOX_SLACK.channel, actionId, value, responseUrl }), responseUrl);
    },
    responses: (responseUrl) => receiver.messages.filter((m) => m.kind === 'response' && responseUrl.endsWith(`/response/${m.responseId}`)),
  };
}
