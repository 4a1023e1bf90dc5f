import * as z from 'zod/mini';
import { clusterName } from './eventbridge.js';

/**
 * `Node Group Configuration Problem` (source `eks-node-lifecycle`): a node group's
 * `eks-node-lifecycle/` tags hold something the service cannot read as written. Published by
 * detection once per distinct problem (see detect/announce-problems.ts); the same schema
 * writes and reads it.
 */
export const CONFIGURATION_PROBLEM = 'Node Group Configuration Problem';

export const ConfigurationProblemDetailSchema = z.object({
  cluster: clusterName,
  group: z.string().check(z.minLength(1), z.maxLength(255)),
  kind: z.enum(['managed', 'self-managed']),
  /** the key under the prefix, as written (`channel`, `max-unavialable`) */
  key: z.string().check(z.maxLength(128)),
  /** what a problem there does: stops automatic rollouts, drains with the default, or nothing */
  governs: z.enum(['rollout', 'drain', 'nothing']),
  stopsAutomaticRollouts: z.boolean(),
  problem: z.string().check(z.maxLength(1000)),
  /** identifies the problem (cluster, group, text): the same problem is announced once */
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{32}$/)),
  summary: z.string().check(z.maxLength(1200)),
});
export type ConfigurationProblemDetail = z.infer<typeof ConfigurationProblemDetailSchema>;
