import type { DrainRecord, DrainRecords } from '../aws/drain-records.js';
import type { AwsScope } from '../aws/clients.js';
import { executionArnOf, startExecutionOnce } from '../aws/step-functions.js';
import type { NodeDrainInput } from '../events/drain.js';
import { drainDeadline, drainExecutionName, type NodeDrainStart } from './decide-request.js';
import { leaseUntil, START_LEASE_SECONDS } from './drain-owner.js';

export interface StartNodeDrainPorts {
  /** the instance's drain records: their place (DrainRecords.at) is the instance's, and the drain's */
  records: DrainRecords;
  /** where the drains run (Step Functions): the hub's scope; absent, `aws` is (a caller acting in the hub's own place) */
  hub?: AwsScope;
  aws: AwsScope;
  nodeDrainStateMachineArn: string;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export interface StartedNodeDrain {
  executionName: string;
  executionArn: string;
  /** false: an execution of that name exists already (the same start, repeated) */
  started: boolean;
}

/**
 * Makes a new node-drain execution the owner of the instance's drain, then starts it:
 * 1. the record says running, the new generation, owned by the execution about to start,
 *    with a short lease its first pass renews — written only if the record is still as
 *    `seen` (undefined returned otherwise: nothing was started);
 * 2. StartExecution, named `drain-<instance>-<generation>` (a member's instance:
 *    `drain-<account>-<region>-<instance>-<generation>`), its input naming the member's place
 *    for every step: a repeated start is ExecutionAlreadyExists, which means it is under way.
 * Whatever the previous owner was (none, a failed or dead drain, a rollout handing over), the
 * new execution keeps every open lifecycle action alive and completes each.
 */
export async function startNodeDrain(seen: DrainRecord | undefined, start: NodeDrainStart, ports: StartNodeDrainPorts): Promise<StartedNodeDrain | undefined> {
  const now = ports.now();
  const place = ports.records.place;
  const executionName = drainExecutionName(start.instanceId, start.generation, place);
  const executionArn = executionArnOf(ports.nodeDrainStateMachineArn, executionName);
  const written = await ports.records.write(
    start.instanceId,
    seen,
    {
      cluster: start.cluster,
      trigger: start.trigger,
      status: 'running',
      generation: start.generation,
      executionArn,
      leaseUntil: leaseUntil(now, START_LEASE_SECONDS),
      ...(start.lifecycleActions ? { lifecycleActions: start.lifecycleActions } : {}),
    },
    now,
  );
  if (!written) return undefined;
  const input: NodeDrainInput = {
    ...(place ? { accountId: place.accountId, region: place.region } : {}),
    cluster: start.cluster,
    instanceId: start.instanceId,
    trigger: start.trigger,
    deadline: drainDeadline({ trigger: start.trigger, now, ...(start.eventTime ? { eventTime: start.eventTime } : {}), drainTimeoutSeconds: start.policy.drainTimeoutSeconds }).toISOString(),
    policy: start.policy,
    startedAt: now.toISOString(),
    ...(start.rolloutExecutionArn ? { rolloutExecutionArn: start.rolloutExecutionArn } : {}),
  };
  const started = await startExecutionOnce(ports.hub ?? ports.aws, ports.nodeDrainStateMachineArn, executionName, input);
  ports.log(started.started ? 'drain started' : 'drain already under way', { instanceId: start.instanceId, cluster: start.cluster, ...(place ? { place } : {}), executionArn: started.executionArn, trigger: start.trigger, generation: start.generation });
  return { executionName, executionArn: started.executionArn, started: started.started };
}
