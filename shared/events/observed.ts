import * as z from 'zod/mini';
import { clusterName, instanceId } from './eventbridge.js';

/**
 * Observe mode's reports (source `eks-node-lifecycle`): what a flow decided and would have
 * done, had it acted (config/observe.ts). One detail-type per flow, each detail carrying
 * `mode: 'observe'`, the reason it only observed (`observedBy`: the service's `mode` param,
 * or the group's `rollout=observe` tag), what it would write (`wouldDo`, in words) and a
 * `summary` for people. The same schemas write (`observedEvent`) and read them (chat).
 */
export const OBSERVED_EVENTS = {
  rollout: 'Rollout Observed',
  drain: 'Node Drain Observed',
  launch: 'Node Launch Observed',
  hooks: 'Terminate Hooks Observed',
} as const;

export type ObservedEventName = keyof typeof OBSERVED_EVENTS;

const text = z.string().check(z.maxLength(2000));
const base = {
  mode: z.literal('observe'),
  observedBy: z.enum(['service', 'group']),
  /** the writes it would have made, in order, each in words (`CreateTags kubernetes.io/cluster/prod=owned on i-…`) */
  wouldDo: z.array(text),
  summary: text,
  at: z.iso.datetime(),
};

const podRef = z.object({ namespace: z.string(), name: z.string() });

export const RolloutObservedSchema = z.object({
  ...base,
  cluster: clusterName,
  group: z.string().check(z.minLength(1), z.maxLength(255)),
  groupKind: z.enum(['managed', 'self-managed']),
  /** what asked: detection's trigger, or `chat` */
  trigger: z.string(),
  from: z.object({ imageId: z.optional(z.string()), release: z.optional(z.string()) }),
  target: z.object({ imageId: z.string(), imageName: z.optional(z.string()), release: z.optional(z.string()), ownerId: z.optional(z.string()), ownerAlias: z.optional(z.string()) }),
  reason: text,
  /** how the group would be rolled: an EKS managed node group update, batches of instances, or an instance refresh */
  update: z.enum(['eks-update', 'batches', 'instance-refresh']),
  /** the batches a self-managed group would be rolled in, canary first (the instances it runs now) */
  batches: z.optional(z.array(z.object({ canary: z.boolean(), instances: z.array(z.object({ instanceId, availabilityZone: z.string() })) }))),
  maxUnavailable: z.string(),
  /** when it would start: `now`, or the group's maintenance window */
  window: text,
  /** whether a person would have to approve it first (the group's tag; the cluster's access policy may also require one) */
  approval: z.boolean(),
});
export type RolloutObserved = z.infer<typeof RolloutObservedSchema>;

export const DrainObservedSchema = z.object({
  ...base,
  cluster: clusterName,
  instanceId,
  nodeName: z.nullable(z.string()),
  trigger: z.string(),
  /** a node that is not (or no longer) in the cluster: nothing to evict */
  nodeFound: z.boolean(),
  /** the pods a drain would ask to evict now */
  evict: z.array(podRef),
  /** pods a PodDisruptionBudget would hold back now, with the budget */
  blocked: z.array(z.object({ pod: podRef, pdb: z.nullable(z.string()), message: text })),
  /** pods a drain leaves alone (DaemonSet, mirror, finished) */
  skipped: z.array(z.object({ pod: podRef, reason: z.string() })),
  /** the lifecycle action it would have completed after the drain: left to the hook's default result */
  lifecycleAction: z.optional(z.object({ autoScalingGroupName: z.string(), lifecycleHookName: z.string(), defaultResult: z.optional(z.string()), timeoutSeconds: z.optional(z.number()) })),
});
export type DrainObserved = z.infer<typeof DrainObservedSchema>;

export const LaunchObservedSchema = z.object({
  ...base,
  cluster: clusterName,
  instanceId,
  /** the ownership tags it would write on the instance, and the group tag it would make propagate */
  instanceTags: z.record(z.string(), z.string()),
  groupTag: z.optional(z.object({ group: z.string(), key: z.string(), value: z.string() })),
  /** the launch hook it would have answered CONTINUE once the node is Ready: left to its default result */
  lifecycleAction: z.optional(z.object({ autoScalingGroupName: z.string(), lifecycleHookName: z.string(), defaultResult: z.optional(z.string()), timeoutSeconds: z.optional(z.number()) })),
});
export type LaunchObserved = z.infer<typeof LaunchObservedSchema>;

export const HooksObservedSchema = z.object({
  ...base,
  /** the self-managed groups that would get the service's terminate hook */
  groups: z.array(z.string()),
});
export type HooksObserved = z.infer<typeof HooksObservedSchema>;

export const OBSERVED_SCHEMAS = { rollout: RolloutObservedSchema, drain: DrainObservedSchema, launch: LaunchObservedSchema, hooks: HooksObservedSchema } as const;

export type ObservedDetail<K extends ObservedEventName> = z.infer<(typeof OBSERVED_SCHEMAS)[K]>;

/** The detail-type and the detail, checked against its schema: a report the reader could not read is a bug here. */
export function observedEvent<K extends ObservedEventName>(kind: K, detail: ObservedDetail<K>): { detailType: (typeof OBSERVED_EVENTS)[K]; detail: ObservedDetail<K> } {
  return { detailType: OBSERVED_EVENTS[kind], detail: OBSERVED_SCHEMAS[kind].parse(detail) as ObservedDetail<K> };
}
