import { runningInvocation } from './lambda.js';
import { clientOf } from './kube/request-counter.js';
import { installSdkGate, READ_COMMAND } from './sdk-gate.js';
import type { World } from './world.js';

/**
 * What the service changed, as the sandbox saw it: every SDK call made inside a Lambda
 * invocation (a function's, or a workflow Task's) and every Kubernetes request the service's
 * client sent. A call is a read when its action reads (`Describe…`, `List…`, `Get…`: READ_COMMAND;
 * Kubernetes `get`, `list`, `watch`), a write otherwise. The scenario's own calls (an operator's
 * SetDesiredCapacity) are made outside any invocation and are not counted. For observe mode's
 * promise (test/scenarios/observe-mode.test.ts) and `npm start`'s summary.
 */
export interface ServiceCall {
  fn: string;
  service: string;
  command: string;
}

/** The user's resources: what observe mode must not change. */
export const USER_RESOURCE_SERVICES: ReadonlySet<string> = new Set(['ec2', 'autoscaling', 'eks']);
const KUBE_READS: ReadonlySet<string> = new Set(['get', 'list', 'watch']);

/** Records every SDK call made inside an invocation, from now on (remove before `world.stop()`). */
export function recordServiceCalls(): { calls: ServiceCall[]; remove: () => void } {
  const calls: ServiceCall[] = [];
  const remove = installSdkGate((call) => {
    const invocation = runningInvocation();
    if (invocation) calls.push({ fn: invocation.function, service: call.service, command: call.command });
    return 'pass';
  });
  return { calls, remove };
}

/** `rollStep autoscaling:UpdateAutoScalingGroup`, for each call that writes to EC2, Auto Scaling or EKS. */
export function userResourceWrites(calls: readonly ServiceCall[]): string[] {
  return calls.filter((c) => USER_RESOURCE_SERVICES.has(c.service) && !READ_COMMAND.test(c.command)).map((c) => `${c.fn} ${c.service}:${c.command}`);
}

/** `prod: create pods/eviction`, for each write request of the service's Kubernetes client (needs `recordKubeRequests`). */
export function kubeWrites(world: World): string[] {
  return world.kubeRequests
    .filter(({ request }) => clientOf(request.userAgent) === 'eks-node-lifecycle' && !KUBE_READS.has(request.verb ?? ''))
    .map(({ cluster, request }) => `${cluster}: ${request.verb} ${request.resource}${request.subresource ? `/${request.subresource}` : ''}`);
}

/** `3 × rollStep autoscaling:UpdateAutoScalingGroup`, most frequent first. */
export function tally(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([line, n]) => `${n} × ${line}`);
}
