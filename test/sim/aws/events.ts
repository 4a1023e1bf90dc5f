/**
 * EventBridge events as AWS services put them on the default bus.
 *
 * The envelope is the one every AWS service event carries; `time` is second precision
 * without milliseconds, like the real events.
 */
export interface AwsEvent<TDetail = Record<string, unknown>> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}

export interface LifecycleActionDetail {
  LifecycleActionToken: string;
  AutoScalingGroupName: string;
  LifecycleHookName: string;
  EC2InstanceId: string;
  LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  NotificationMetadata?: string;
  Origin: string;
  Destination: string;
}

export interface InstanceStateChangeDetail {
  'instance-id': string;
  state: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
}

export type EmitEvent = (event: AwsEvent) => void;

/** `2026-11-21T09:00:00Z`: EventBridge drops the milliseconds. */
export function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
