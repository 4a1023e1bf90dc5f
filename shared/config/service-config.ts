import * as z from 'zod/mini';
import { ConfigurationError } from '../errors.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import { issuesOf } from '../schema-issues.js';
import { type FleetSettings, loadFleetSettings } from './member-accounts.js';

/**
 * `act` does what it decides; `observe` decides, reports what it would do (events, chat,
 * history) and writes nothing to the user's resources (config/observe.ts).
 */
export const SERVICE_MODES = ['observe', 'act'] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

const arn = z.optional(z.string().check(z.startsWith('arn:')));
const tableName = z.optional(z.string().check(z.minLength(3)));
const name = z.optional(z.string().check(z.minLength(1)));

/**
 * Service-wide settings, from the function's environment (set by serverless.yml from the
 * stage's params). Read once per cold start; a malformed value fails loudly.
 */
const EnvSchema = z.object({
  AWS_REGION: z.string().check(z.minLength(1)),
  // no default: a deployment names the clusters it looks after (`*`, for every one, only when written)
  MANAGED_CLUSTERS: z.string().check(z.trim(), z.minLength(1, 'must name the clusters this deployment looks after (prod,staging), or be * for every cluster of the account')),
  NODE_JOIN_STATE_MACHINE_ARN: arn,
  NODE_DRAIN_STATE_MACHINE_ARN: arn,
  DRAIN_TABLE: tableName,
  AMI_ROLLOUT_STATE_MACHINE_ARN: arn,
  AMI_DETECTION_STATE_MACHINE_ARN: arn,
  ROLLOUTS_TABLE: tableName,
  CHATOPS_TABLE: tableName,
  FLEET_TABLE: tableName,
  PROMOTION_POLICY_PARAMETER: name,
  FLEET_PROMOTION_STATE_MACHINE_ARN: arn,
  ACCESS_POLICY_PARAMETER: name,
  SLACK_SIGNING_SECRET_PARAMETER: name,
  SLACK_BOT_TOKEN_PARAMETER: name,
  SLACK_API_URL: z._default(z.url(), 'https://slack.com/api/'),
  SLACK_RESPONSE_URL_PREFIXES: z._default(z.string(), 'https://hooks.slack.com/'),
  CHAT_DEFAULT_CHANNEL: z._default(z.string(), ''),
  SLACK_TEAM_IDS: z._default(z.string(), ''),
  CHAT_WORKER_FUNCTION: name,
  REQUEST_DRAIN_FUNCTION: name,
  DOCTOR_PROBE_FUNCTION: name,
  // the stage param `mode`: observe runs every decision and writes nothing (README "Observe mode")
  SERVICE_MODE: z._default(z.enum(SERVICE_MODES, 'must be observe or act (the stage param mode)'), 'act'),
  // the stage param `alarmsToChat`: the stack's alarms also posted to the chat channel
  ALARMS_TO_CHAT: z._default(z.enum(['true', 'false'], 'must be true or false (the stage param alarmsToChat)'), 'true'),
});

export interface ServiceConfig {
  region: string;
  /** the member accounts this hub serves, and how this function reaches them (member-accounts.ts) */
  fleet: FleetSettings;
  mode: ServiceMode;
  managedClusters: ManagedClusters;
  nodeJoinStateMachineArn?: string;
  nodeDrainStateMachineArn?: string;
  drainTable?: string;
  amiRolloutStateMachineArn?: string;
  /** the debounced detection of AMI events (workflows/ami-detection.asl.yml) */
  amiDetectionStateMachineArn?: string;
  /** node group locks, with each running rollout's control (pause/abort) and approval token */
  rolloutsTable?: string;
  /** chat-ops: the audit trail, the approvals (with their task tokens) and one Slack thread per rollout */
  chatopsTable?: string;
  /** fleet promotion: promotions, freezes, ring approvals (shared/aws/fleet-records.ts) */
  fleetTable?: string;
  /** SSM parameter holding the promotion policy (JSON, shared/fleet/promotion-policy.ts) */
  promotionPolicyParameter?: string;
  /** the fleet-promotion workflow: one execution per release */
  fleetPromotionStateMachineArn?: string;
  chat: {
    /** the stack's alarms going into ALARM and back to OK are posted to the default channel */
    alarmsToChat: boolean;
    /** SSM parameter holding the access policy (JSON): who may read, act and approve, per cluster */
    accessPolicyParameter?: string;
    /** SSM SecureString parameters (or /aws/reference/secretsmanager/… paths) */
    signingSecretParameter?: string;
    botTokenParameter?: string;
    slackApiUrl: string;
    /** response_url values Slack may give us; anything else is refused (no POSTing elsewhere) */
    responseUrlPrefixes: string[];
    /** the Slack workspaces (T…) and Enterprise Grid orgs (E…) requests are taken from; none: no Slack request is */
    slackTeamIds: string[];
    /** where notifications go when the policy names no channel for the cluster ('' = nowhere) */
    defaultChannel?: string;
    workerFunction?: string;
    requestDrainFunction?: string;
    /** doctor's view of a cluster's Kubernetes API, from a function in the service's Kubernetes group */
    doctorProbeFunction?: string;
  };
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(`service configuration: ${issuesOf(parsed.error).map((i) => `${i.path} ${i.message}`).join('; ')}`);
  }
  const list = parsed.data.MANAGED_CLUSTERS.trim();
  const managedClusters: ManagedClusters = list === '*' ? '*' : list.split(',').map((c) => c.trim()).filter(Boolean);
  return {
    region: parsed.data.AWS_REGION,
    fleet: loadFleetSettings(env, parsed.data.AWS_REGION, managedClusters),
    mode: parsed.data.SERVICE_MODE,
    managedClusters,
    nodeJoinStateMachineArn: parsed.data.NODE_JOIN_STATE_MACHINE_ARN,
    nodeDrainStateMachineArn: parsed.data.NODE_DRAIN_STATE_MACHINE_ARN,
    drainTable: parsed.data.DRAIN_TABLE,
    amiRolloutStateMachineArn: parsed.data.AMI_ROLLOUT_STATE_MACHINE_ARN,
    amiDetectionStateMachineArn: parsed.data.AMI_DETECTION_STATE_MACHINE_ARN,
    rolloutsTable: parsed.data.ROLLOUTS_TABLE,
    chatopsTable: parsed.data.CHATOPS_TABLE,
    fleetTable: parsed.data.FLEET_TABLE,
    promotionPolicyParameter: parsed.data.PROMOTION_POLICY_PARAMETER,
    fleetPromotionStateMachineArn: parsed.data.FLEET_PROMOTION_STATE_MACHINE_ARN,
    chat: {
      alarmsToChat: parsed.data.ALARMS_TO_CHAT === 'true',
      accessPolicyParameter: parsed.data.ACCESS_POLICY_PARAMETER,
      signingSecretParameter: parsed.data.SLACK_SIGNING_SECRET_PARAMETER,
      botTokenParameter: parsed.data.SLACK_BOT_TOKEN_PARAMETER,
      slackApiUrl: parsed.data.SLACK_API_URL,
      responseUrlPrefixes: parsed.data.SLACK_RESPONSE_URL_PREFIXES.split(',').map((p) => p.trim()).filter(Boolean),
      slackTeamIds: parsed.data.SLACK_TEAM_IDS.split(',').map((t) => t.trim()).filter(Boolean),
      ...(parsed.data.CHAT_DEFAULT_CHANNEL ? { defaultChannel: parsed.data.CHAT_DEFAULT_CHANNEL } : {}),
      workerFunction: parsed.data.CHAT_WORKER_FUNCTION,
      requestDrainFunction: parsed.data.REQUEST_DRAIN_FUNCTION,
      doctorProbeFunction: parsed.data.DOCTOR_PROBE_FUNCTION,
    },
  };
}

export function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConfigurationError(`${name} is not set for this function`);
  return value;
}
