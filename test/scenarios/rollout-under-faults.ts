import assert from 'node:assert/strict';
import { releaseAmi, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, untypedFailures, watchInvariants } from './fault-invariants.js';
import { groupState, rolloutRequest, selfManagedWorld } from './rollout-helpers.js';

/**
 * What the rollout rows of the fault matrix share: the self-managed `workers` group, a new
 * image released, the invariant monitor watching from before the rollout starts; then the
 * rollout run with a fault on from its start to its end, and the ending every such row
 * expects when the fault is one the service must ride out.
 */

type Setup = Awaited<ReturnType<typeof selfManagedWorld>>;

export interface PreparedRollout extends Setup {
  /** the image released, which the rollout rolls onto */
  image: string;
  before_: Awaited<ReturnType<typeof groupState>>;
  monitor: InvariantMonitor;
  startedAt: number;
  /** starts the rollout as a person would: its execution ARN */
  start(name: string, who: string): string;
}

export async function prepareRollout(options: Parameters<typeof selfManagedWorld>[0]): Promise<PreparedRollout> {
  const setup = await selfManagedWorld(options);
  const { world, group } = setup;
  const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
  const start = await rolloutRequest(world, group);
  const before_ = await groupState(group.autoScalingGroupName);
  const monitor = watchInvariants(world);
  return { ...setup, image, before_, monitor, startedAt: world.clock.now(), start };
}

export interface FaultedRollout extends PreparedRollout {
  finishedAt: number;
  status: string;
  /** `error: cause` of a rollout that did not succeed */
  error: string | undefined;
}

/** A rollout with `inject` on from its start until the world settled; `inject` returns what takes the fault off. */
export async function rolloutUnder(options: Parameters<typeof selfManagedWorld>[0], inject: (setup: Setup) => () => void): Promise<FaultedRollout> {
  const prepared = await prepareRollout(options);
  const { world } = prepared;
  world.throttling.resetTally();
  const stop = inject(prepared);
  const arn = prepared.start('roll-under-faults', 'alice');
  try {
    await world.settle();
  } finally {
    stop();
  }
  const execution = world.stepFunctions.executions.get(arn)!;
  return { ...prepared, finishedAt: world.clock.now(), status: execution.status, error: execution.error && `${execution.error}: ${execution.cause}` };
}

/**
 * The rollout succeeded and reported it once, every old node replaced by one on the new image,
 * no invocation failed with an untyped error, and every invariant held with `floor` nodes at least.
 */
export async function assertRolledAndHeld(run: FaultedRollout, floor: number): Promise<void> {
  assert.equal(run.status, 'SUCCEEDED', run.error);
  const after_ = await groupState(run.group.autoScalingGroupName);
  assert.equal(after_.instances.length, run.before_.instances.length);
  assert.deepEqual(after_.instances.filter((id) => run.before_.instances.includes(id)), [], 'every old instance replaced');
  assert.ok([...after_.images.values()].every((image) => image === run.image), JSON.stringify([...after_.images]));
  assert.equal(run.world.published.filter((e) => e['detail-type'] === 'Rollout Finished').length, 1);
  assert.deepEqual(untypedFailures(run.world), [], 'every failure was a typed error');
  await run.monitor.assertHeld({ groups: [{ name: run.group.autoScalingGroupName, floor }] });
}

/** The account's calls since `since`: how many, their attempts, how many the SDK retried, how many still ended in an error for their caller. */
export function sdkCalls(world: World, since: number) {
  const calls = world.account.calls.filter((c) => c.at >= since);
  return {
    calls: calls.length,
    attempts: calls.reduce((sum, c) => sum + (c.attempts ?? 1), 0),
    retried: calls.filter((c) => (c.attempts ?? 1) > 1).length,
    failed: calls.filter((c) => c.error).length,
  };
}

/** Lambda invocations (workflow steps and event handlers alike) that failed with `errorType`, as `function: message`. */
export function invocationsFailed(world: World, errorType: string): string[] {
  return world.lambda.invocations.flatMap((i) => ('errorType' in i.outcome && i.outcome.errorType === errorType ? [`${i.function}: ${i.outcome.errorMessage}`] : []));
}
