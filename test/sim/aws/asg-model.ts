/**
 * The state an Auto Scaling group keeps, and the rules its lifecycle hooks follow.
 */
import type {
  Activity,
  LaunchTemplateSpecification,
  LifecycleHook,
  LifecycleState,
  MixedInstancesPolicy,
  TagDescription,
} from '@aws-sdk/client-auto-scaling';
import type { Timer } from '../clock';

export type Transition = 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
export type LifecycleResult = 'CONTINUE' | 'ABANDON';

export const LAUNCHING: Transition = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING: Transition = 'autoscaling:EC2_INSTANCE_TERMINATING';

/** Documented limits of lifecycle hooks (seconds). */
export const HOOK_LIMITS = {
  defaultHeartbeat: 3600,
  minHeartbeat: 30,
  maxHeartbeat: 7200,
  maxGlobal: 172_800,
  globalFactor: 100,
} as const;

/** The longest a lifecycle action can be kept alive by heartbeats. */
export function globalTimeoutSeconds(heartbeatTimeout: number): number {
  return Math.min(HOOK_LIMITS.maxGlobal, HOOK_LIMITS.globalFactor * heartbeatTimeout);
}

export interface LifecycleAction {
  token: string;
  hook: Required<Pick<LifecycleHook, 'LifecycleHookName' | 'HeartbeatTimeout' | 'DefaultResult'>> & LifecycleHook;
  transition: Transition;
  instanceId: string;
  startedAt: number;
  /** Absolute virtual time after which no heartbeat can extend the action. */
  globalDeadline: number;
  /** Fires the DefaultResult; replaced on every heartbeat. */
  timer: Timer;
}

export interface GroupInstance {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  subnetId: string;
  imageId: string;
  lifecycleState: LifecycleState;
  health: 'Healthy' | 'Unhealthy';
  launchTemplate?: LaunchTemplateSpecification;
  protectedFromScaleIn: boolean;
  launchedAt: number;
  /** Active lifecycle actions by hook name. */
  actions: Map<string, LifecycleAction>;
  /** The launch or termination activity in progress. */
  activity: Activity;
}

export interface GroupRecord {
  name: string;
  arn: string;
  createdTime: Date;
  launchTemplate?: LaunchTemplateSpecification;
  mixedInstancesPolicy?: MixedInstancesPolicy;
  min: number;
  max: number;
  desired: number;
  subnetIds: string[];
  tags: TagDescription[];
  hooks: Map<string, LifecycleHook & { LifecycleHookName: string; HeartbeatTimeout: number; DefaultResult: string; LifecycleTransition: Transition }>;
  instances: Map<string, GroupInstance>;
  activities: Activity[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  defaultCooldown: number;
  terminationPolicies: string[];
  newInstancesProtectedFromScaleIn: boolean;
  capacityRebalance: boolean;
  maxInstanceLifetime?: number;
  suspended: Set<string>;
  /** Consecutive failed launches (EC2 errors, abandoned launch hooks). */
  launchFailures: number;
  /** No launch before this virtual time (the group's backoff after failures). */
  nextLaunchAt: number;
  /** Why capacity last changed, quoted in activity causes as AWS does. */
  lastCapacityChange: string;
  reconcileTimer?: Timer;
  deleting: boolean;
}

export function isTerminating(state: LifecycleState | string): boolean {
  return state.startsWith('Terminating') || state === 'Terminated';
}

/** Auto Scaling's retry delay after `failures` consecutive failed launches. */
export function launchBackoffMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(300_000, 10_000 * 2 ** (failures - 1));
}
