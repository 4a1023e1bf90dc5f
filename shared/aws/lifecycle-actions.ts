import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { LifecycleActionGoneError } from '../errors.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** Auto Scaling lifecycle hooks, and the actions they open on instances. */
const autoScaling = (scope: AwsScope) => clientOf(scope, AutoScalingClient);

export interface HookView {
  heartbeatTimeoutSeconds: number;
  globalTimeoutSeconds: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
}

export async function describeLifecycleHook(scope: AwsScope, group: string, hook: string): Promise<HookView | undefined> {
  const out = await callAws('autoscaling:DescribeLifecycleHooks', () =>
    autoScaling(scope).send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group, LifecycleHookNames: [hook] })),
  );
  const found = out.LifecycleHooks?.find((h) => h.LifecycleHookName === hook);
  if (!found) return undefined;
  const heartbeat = found.HeartbeatTimeout ?? 3600;
  return {
    heartbeatTimeoutSeconds: heartbeat,
    globalTimeoutSeconds: found.GlobalTimeout ?? Math.min(172_800, 100 * heartbeat),
    defaultResult: found.DefaultResult === 'CONTINUE' ? 'CONTINUE' : 'ABANDON',
  };
}

/** The names of a group's lifecycle hooks, whoever's, by transition (launching, terminating): one DescribeLifecycleHooks. */
export async function lifecycleHooksOf(scope: AwsScope, group: string): Promise<{ launch: string[]; terminate: string[] }> {
  const out = await callAws('autoscaling:DescribeLifecycleHooks', () => autoScaling(scope).send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group })));
  const named = (transition: string) => (out.LifecycleHooks ?? []).filter((h) => h.LifecycleTransition === transition && h.LifecycleHookName).map((h) => h.LifecycleHookName!);
  return { launch: named('autoscaling:EC2_INSTANCE_LAUNCHING'), terminate: named('autoscaling:EC2_INSTANCE_TERMINATING') };
}

/** The names of a group's lifecycle hooks on one transition, whoever's. */
export async function lifecycleHookNames(scope: AwsScope, group: string, transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING'): Promise<string[]> {
  const hooks = await lifecycleHooksOf(scope, group);
  return transition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? hooks.launch : hooks.terminate;
}

/**
 * Completes a lifecycle action. Auto Scaling answers a ValidationError when the action is
 * no longer open (already completed, or timed out): that is `LifecycleActionGoneError`, which
 * a retried step treats as "already done".
 */
export async function completeLifecycleAction(
  scope: AwsScope,
  action: LifecycleAction,
  result: 'CONTINUE' | 'ABANDON',
): Promise<void> {
  await callAws(
    'autoscaling:CompleteLifecycleAction',
    () =>
      autoScaling(scope).send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: action.autoScalingGroupName,
          LifecycleHookName: action.lifecycleHookName,
          LifecycleActionToken: action.lifecycleActionToken,
          InstanceId: action.instanceId,
          LifecycleActionResult: result,
        }),
      ),
    actionGone(action.instanceId),
  );
}

/** PutLifecycleHook of a terminate hook (creates it, or sets it as given). */
export async function putTerminateHook(scope: AwsScope, group: string, hook: { name: string; heartbeatTimeoutSeconds: number; defaultResult: 'CONTINUE' | 'ABANDON' }): Promise<void> {
  await callAws('autoscaling:PutLifecycleHook', () =>
    autoScaling(scope).send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: group,
        LifecycleHookName: hook.name,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: hook.heartbeatTimeoutSeconds,
        DefaultResult: hook.defaultResult,
      }),
    ),
  );
}

/** The names of a group's terminate lifecycle hooks (`autoscaling:EC2_INSTANCE_TERMINATING`). */
export async function terminateHookNames(scope: AwsScope, group: string): Promise<string[]> {
  return (await lifecycleHooksOf(scope, group)).terminate;
}

/**
 * Completes an instance's action on one hook with CONTINUE by instance id — what to do when
 * its token never reached us (the hook's event was lost). False when the action was not open
 * (completed already, or none): Auto Scaling's ValidationError, as for a token.
 */
export async function continueByInstance(scope: AwsScope, group: string, hook: string, instanceId: string): Promise<boolean> {
  try {
    await callAws(
      'autoscaling:CompleteLifecycleAction',
      () => autoScaling(scope).send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: hook, InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' })),
      actionGone(instanceId),
    );
    return true;
  } catch (error) {
    if (error instanceof LifecycleActionGoneError) return false;
    throw error;
  }
}

/** Keeps a lifecycle action open for another heartbeat timeout (never past its global timeout). */
export async function recordLifecycleActionHeartbeat(scope: AwsScope, action: LifecycleAction): Promise<void> {
  await callAws(
    'autoscaling:RecordLifecycleActionHeartbeat',
    () =>
      autoScaling(scope).send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: action.autoScalingGroupName,
          LifecycleHookName: action.lifecycleHookName,
          LifecycleActionToken: action.lifecycleActionToken,
          InstanceId: action.instanceId,
        }),
      ),
    actionGone(action.instanceId),
  );
}

/** Auto Scaling's answer for an action that is no longer open: a ValidationError with this message. */
function actionGone(instanceId: string) {
  return {
    ValidationError: (error: Error) => (/no active lifecycle action/i.test(error.message) ? new LifecycleActionGoneError(instanceId) : null),
  };
}
