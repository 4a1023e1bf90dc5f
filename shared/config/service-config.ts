import { z } from 'zod';
import { ConfigurationError } from '../errors.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';

/**
 * Service-wide settings, from the function's environment (set by serverless.yml from the
 * stage's params). Read once per cold start; a malformed value fails loudly.
 */
const EnvSchema = z.object({
  AWS_REGION: z.string().min(1),
  MANAGED_CLUSTERS: z.string().default('*'),
  NODE_JOIN_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  NODE_DRAIN_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  DRAIN_TABLE: z.string().min(3).optional(),
  AMI_ROLLOUT_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  ROLLOUTS_TABLE: z.string().min(3).optional(),
});

export interface ServiceConfig {
  region: string;
  managedClusters: ManagedClusters;
  nodeJoinStateMachineArn?: string;
  nodeDrainStateMachineArn?: string;
  drainTable?: string;
  amiRolloutStateMachineArn?: string;
  /** node group locks, with each running rollout's control (pause/abort) and approval token */
  rolloutsTable?: string;
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(`service configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  const list = parsed.data.MANAGED_CLUSTERS.trim();
  return {
    region: parsed.data.AWS_REGION,
    managedClusters: list === '*' ? '*' : list.split(',').map((c) => c.trim()).filter(Boolean),
    nodeJoinStateMachineArn: parsed.data.NODE_JOIN_STATE_MACHINE_ARN,
    nodeDrainStateMachineArn: parsed.data.NODE_DRAIN_STATE_MACHINE_ARN,
    drainTable: parsed.data.DRAIN_TABLE,
    amiRolloutStateMachineArn: parsed.data.AMI_ROLLOUT_STATE_MACHINE_ARN,
    rolloutsTable: parsed.data.ROLLOUTS_TABLE,
  };
}

export function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConfigurationError(`${name} is not set for this function`);
  return value;
}
