import { runningInvocation, type RunningInvocation } from './lambda.js';

/**
 * Names a call by who made it, so that what the sandbox draws for it (a throttle, a jitter,
 * a place in a queue) is the same in every run however concurrent handlers interleave: the
 * Lambda invocation making it (function, virtual time, payload), the call, and how many
 * times that invocation made that call before — never a shared sequence that another
 * handler's calls would shift. (Not from the call's input: inputs carry what differs from
 * run to run, such as the API server's port inside user data.)
 */
export interface CallIdentity {
  /** `drainStep@1795251600000 {…} ec2:DescribeInstances #2`; `sandbox …` outside a Lambda invocation */
  key: string;
  /** the invocation making the call, if any */
  invocation: RunningInvocation | undefined;
}

export class CallIdentities {
  // occurrences of each call, per invocation (calls from outside a handler share one count)
  private readonly outside = new Map<string, number>();
  private readonly seen = new WeakMap<RunningInvocation, { key: string; counts: Map<string, number> }>();

  /** The identity of the call `call` (`ec2:DescribeInstances`) being made now. */
  next(call: string): CallIdentity {
    const invocation = runningInvocation();
    let caller = invocation ? this.seen.get(invocation) : undefined;
    if (invocation && !caller) this.seen.set(invocation, (caller = { key: `${invocation.function}@${invocation.record.at} ${stablePayload(invocation.record.payload)}`, counts: new Map() }));
    const counts = caller?.counts ?? this.outside;
    const nth = (counts.get(call) ?? 0) + 1;
    counts.set(call, nth);
    return { key: `${caller?.key ?? 'sandbox'} ${call} #${nth}`, invocation };
  }
}

/** A payload as JSON, without what is drawn at random each run: an EventBridge event's id. */
function stablePayload(payload: unknown): string {
  const event = payload as { 'detail-type'?: unknown; id?: unknown } | null;
  if (event && typeof event === 'object' && 'detail-type' in event) {
    const { id: _id, ...rest } = event;
    return JSON.stringify(rest);
  }
  return JSON.stringify(payload ?? null);
}
