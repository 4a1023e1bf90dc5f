/**
 * Whether a launching instance has joined its cluster, and what the launch hook should do.
 * Pure: the instance state, the node (if any) and the time are fetched beforehand.
 */
export type JoinDecision =
  | { status: 'ready'; nodeName: string }
  | { status: 'instance-gone'; reason: string }
  | { status: 'timed-out'; reason: string }
  | { status: 'waiting'; reason: string; nodeName?: string };

export function decideJoin(input: {
  instanceState: string | undefined;
  node: { name: string; ready: boolean } | undefined;
  now: Date;
  deadline: Date;
}): JoinDecision {
  const { instanceState, node, now, deadline } = input;
  // EC2 keeps terminated instances visible for a while, so "unknown" means "not visible yet"
  // (eventual consistency), which is waited out like a node that has not registered
  if (instanceState !== undefined && ['shutting-down', 'terminated', 'stopping', 'stopped'].includes(instanceState)) {
    return { status: 'instance-gone', reason: `instance is ${instanceState}` };
  }
  if (node?.ready) return { status: 'ready', nodeName: node.name };
  if (now.getTime() >= deadline.getTime()) {
    return {
      status: 'timed-out',
      reason: node ? `node ${node.name} registered but not Ready by ${deadline.toISOString()}` : `no node registered by ${deadline.toISOString()}`,
    };
  }
  return node
    ? { status: 'waiting', reason: `node ${node.name} is not Ready yet`, nodeName: node.name }
    : { status: 'waiting', reason: instanceState === undefined ? 'EC2 does not show the instance yet' : 'no node with this providerID yet' };
}

/**
 * When to give up on a launching node: before the hook's heartbeat timeout, so that our
 * ABANDON (with a reason in the logs) lands rather than the hook's silent default result.
 */
export function joinDeadline(eventTime: Date, heartbeatTimeoutSeconds: number): Date {
  const margin = Math.min(60, Math.floor(heartbeatTimeoutSeconds / 10));
  return new Date(eventTime.getTime() + (heartbeatTimeoutSeconds - margin) * 1000);
}
