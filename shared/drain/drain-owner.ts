import type { AwsScope } from '../aws/clients.js';
import type { DrainRecord } from '../aws/drain-records.js';
import { executionStatus } from '../aws/step-functions.js';

/**
 * Who owns an instance's drain, and for how long that is believed without asking. The owner
 * (a node-drain or an ami-rollout execution) renews its lease on the drain record as it
 * passes; a record whose lease lapsed is trusted only if Step Functions says the owner still
 * runs — otherwise the next trigger takes the drain over. A `running` record is never trusted
 * forever on its own word.
 */

/** The owner passes at least every five minutes (waits, retries), heartbeats included. */
export const DRAIN_LEASE_SECONDS = 600;
/**
 * The lease of a node-drain just asked to start: its first pass renews it within seconds. If
 * the start never happened (StartExecution throttled, the request retried), the next trigger
 * finds out this soon rather than after a whole lease.
 */
export const START_LEASE_SECONDS = 90;

export function leaseUntil(now: Date, seconds = DRAIN_LEASE_SECONDS): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

/** Pure. A record of the old shape has no lease: it is checked. */
export function leaseHolds(record: Pick<DrainRecord, 'leaseUntil'>, now: Date): boolean {
  return record.leaseUntil !== undefined && Date.parse(record.leaseUntil) > now.getTime();
}

/** Pure. Renewed once less than half of it is left: an owner passing every minute writes every five. */
export function leaseRenewalDue(record: Pick<DrainRecord, 'leaseUntil'>, now: Date): boolean {
  return record.leaseUntil === undefined || Date.parse(record.leaseUntil) - now.getTime() < (DRAIN_LEASE_SECONDS * 1000) / 2;
}

const ENDED: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Whether a running record's owner still drains the instance: its lease holds, or its
 * execution is RUNNING. `verify` asks Step Functions even while the lease holds (a terminate
 * hook is about to be trusted to the owner: a stopped owner would let it expire) — and then a
 * lease is believed unless the execution is known to have ended, since DescribeExecution is
 * eventually consistent and may not show an execution started a moment ago.
 */
export async function ownerAlive(record: Pick<DrainRecord, 'leaseUntil' | 'executionArn'>, now: Date, aws: AwsScope, options: { verify?: boolean } = {}): Promise<boolean> {
  const holds = leaseHolds(record, now);
  if (holds && !options.verify) return true;
  if (!record.executionArn) return holds;
  const status = await executionStatus(aws, record.executionArn);
  return holds ? !ENDED.has(status) : status === 'RUNNING';
}
