import { AutoScalingClient, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { awsScope } from '../../shared/aws/clients.js';
import { type DrainRecord, DrainRecords } from '../../shared/aws/drain-records.js';
import { type DrainNodeWorkloads, instanceIdsOf, type ObservedRequest, populateNodeForDrain, type SimCluster, type SimExecution, type TerminationRecord, World } from '@eks-node-lifecycle/sandbox';
import { type InvariantExpectation, type InvariantMonitor, watchInvariants } from './fault-invariants.js';

/**
 * The drain fault scenarios' world and what they read back: a cluster `prod` with a
 * self-managed group `workers` whose terminate hook sends its instances through the
 * node-drain workflow, one node of it busy with every kind of pod a drain treats
 * differently, and the invariant monitor watching from before the fault.
 */
const region = 'eu-west-1';
export const GROUP = 'workers';
export const HOOK = 'eks-node-lifecycle-drain';

export interface DrainSetup {
  world: World;
  cluster: SimCluster;
  /** the busy node's instance: the one each scenario drains */
  instanceId: string;
  node: string;
  workloads: DrainNodeWorkloads;
  /** the group's other instances */
  others: string[];
  /** every request the cluster's API server was sent, as it answered it */
  requests: ObservedRequest[];
  monitor: InvariantMonitor;
}

export interface DrainSetupOptions {
  /** pods on the busy node; default 12 */
  pods?: number;
  /** the group's instances; default 2 */
  nodes?: number;
  /** the group's tags (its drain policy) */
  tags?: Record<string, string>;
  /** the terminate hook's heartbeat timeout in seconds; default 300 */
  heartbeatTimeout?: number;
  /** EventBridge deliveries of every event; default 1 */
  deliveries?: number;
  /** what the world looks like before the fault: done before the invariant monitor starts */
  given?: (setup: Omit<DrainSetup, 'monitor'>) => void | Promise<void>;
}

export async function drainWorld(options: DrainSetupOptions = {}): Promise<DrainSetup> {
  const world = await World.start({ deliveries: options.deliveries ?? 1 });
  const requests: ObservedRequest[] = [];
  const cluster = await world.addCluster('prod', { onRequest: (request) => requests.push(request) });
  world.account.seedVpc();
  const nodes = options.nodes ?? 2;
  world.account.createSelfManagedGroup({
    cluster: 'prod',
    name: GROUP,
    min: 0,
    max: nodes + 2,
    desired: nodes,
    tags: options.tags ?? {},
    hooks: { terminate: { name: HOOK, heartbeatTimeout: options.heartbeatTimeout ?? 300, defaultResult: 'CONTINUE' } },
  });
  await world.settle();
  const [instanceId, ...others] = await instanceIdsOf(world, GROUP);
  const node = nodeOf(world, instanceId!)!;
  const workloads = populateNodeForDrain(cluster.store, node, { pods: options.pods ?? 12, spareNodes: 3 });
  await world.run(30_000); // everything Running and Ready, budgets computed
  const setup = { world, cluster, instanceId: instanceId!, node, workloads, others, requests };
  await options.given?.(setup);
  requests.length = 0;
  return { ...setup, monitor: watchInvariants(world) };
}

/** The node's two emptyDir pods take `seconds` to shut down once asked (their terminationGracePeriodSeconds). */
export function slowShutdown(s: DrainSetup, seconds: number): void {
  for (const id of s.workloads.emptyDirPods) {
    const [namespace, name] = id.split('/');
    s.cluster.store.update('pods', namespace, name!, (pod) => {
      pod.spec.terminationGracePeriodSeconds = seconds;
    });
  }
}

/** The node an instance registered as, by providerID. */
export function nodeOf(world: World, instanceId: string): string | undefined {
  const nodes = world.cluster('prod').store.list('nodes') as { metadata: { name: string }; spec: { providerID?: string } }[];
  return nodes.find((n) => n.spec.providerID?.endsWith(`/${instanceId}`))?.metadata.name;
}

/** A scale-in of that instance: the group's terminate hook fires, and with it the drain. */
export async function scaleIn(instanceId: string): Promise<void> {
  await new AutoScalingClient({ region }).send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));
}

export function drains(world: World): SimExecution[] {
  return [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-node-drain'));
}

export interface DrainFinishedDetail {
  outcome: string;
  instanceId: string;
  trigger: string;
  lifecycleAction: string;
  remaining: number;
  blockers: { pod: string; pdb: { namespace: string; name: string; disruptionsAllowed: number } | null; message: string }[];
  executionArn?: string;
}

/** The `Node Drain Finished` events published, with their virtual time. */
export function drainsFinished(world: World, instanceId?: string): (DrainFinishedDetail & { at: number })[] {
  return world.published
    .filter((e) => e['detail-type'] === 'Node Drain Finished')
    .map((e) => ({ ...(e.detail as DrainFinishedDetail), at: Date.parse(e.time) }))
    .filter((d) => instanceId === undefined || d.instanceId === instanceId);
}

/** The `Node Drain Blocked` events published (a drain holding its node past the deadline), with their virtual time. */
export function drainsBlocked(world: World, instanceId?: string): { instanceId: string; budgets: string[]; blockers: DrainFinishedDetail['blockers']; at: number }[] {
  return world.published
    .filter((e) => e['detail-type'] === 'Node Drain Blocked')
    .map((e) => ({ ...(e.detail as { instanceId: string; budgets: string[]; blockers: DrainFinishedDetail['blockers'] }), at: Date.parse(e.time) }))
    .filter((d) => instanceId === undefined || d.instanceId === instanceId);
}

/** Our calls to the simulated account of one command (e.g. CompleteLifecycleAction), optionally about one instance. */
export function callsOf(world: World, command: string, instanceId?: string) {
  return world.account.calls.filter((c) => c.command === command && (instanceId === undefined || JSON.stringify(c.input).includes(instanceId)));
}

/**
 * Calls that terminate an instance at once (made by the service, or by the test: both go
 * through the same SDK, so pass `since`, the count of calls before the product acted).
 */
export function terminatingCalls(world: World, since = 0) {
  return world.account.calls.slice(since).filter(
    (c) => !c.error && (c.command === 'TerminateInstances' || c.command === 'TerminateInstanceInAutoScalingGroup' || c.command === 'CompleteLifecycleAction'),
  );
}

/** When Auto Scaling gave up on a lifecycle action of the instance (heartbeat or global timeout), in virtual ms. */
export function hookExpiries(world: World, instanceId: string): { at: number; why: string }[] {
  return world.account.log
    .filter((entry) => entry.instanceId === instanceId && / reached its (heartbeat|global) timeout/.test(entry.message))
    .map((entry) => ({ at: entry.at, why: / reached its (\w+ timeout)/.exec(entry.message)![1]! }));
}

/** The drain's heartbeats that Auto Scaling accepted, in virtual ms. */
export function heartbeats(world: World, instanceId: string): number[] {
  return callsOf(world, 'RecordLifecycleActionHeartbeat', instanceId)
    .filter((c) => !c.error)
    .map((c) => c.at);
}

/** The longest stretch, from `from` to `to`, without an accepted heartbeat. */
export function longestHeartbeatGap(times: readonly number[], from: number, to: number): number {
  const points = [from, ...times.filter((t) => t > from && t < to), to];
  return Math.max(...points.slice(1).map((t, i) => t - points[i]!));
}

/** Errors the functions raised, by function (drainStep's are the workflow's to retry). */
export function functionErrors(world: World, fn: string): string[] {
  return world.lambda.invocations.filter((i) => i.function === fn && !('result' in i.outcome)).map((i) => (i.outcome as { errorType: string }).errorType);
}

/** How the instance's termination looked at the instant it happened, as the invariant monitor saw it. */
export function terminationOf(monitor: InvariantMonitor, instanceId: string): TerminationRecord | undefined {
  return monitor.report().terminations.find((t) => t.instanceId === instanceId);
}

/** The Kubernetes writes the product made (anything but get/list/watch), as `verb resource name`. */
export function kubeWrites(requests: readonly ObservedRequest[]): string[] {
  return requests
    .filter((r) => r.verb && !['get', 'list', 'watch'].includes(r.verb))
    .map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''} ${[r.namespace, r.name].filter(Boolean).join('/')}`);
}

/** The instance's drain record, as requestDrain and finishDrain left it. */
export async function drainRecord(world: World, instanceId: string): Promise<DrainRecord | undefined> {
  const table = world.model.tables.map((t) => (t as { TableName?: string }).TableName ?? '').find((name) => name.endsWith('-drains'))!;
  return new DrainRecords(awsScope({ region }), table).get(instanceId);
}

/** `monitor.assertHeld(expect)`; then its figures in one line, for the test's diagnostics. */
export async function assertInvariantsHeld(s: Pick<DrainSetup, 'monitor'>, expect: InvariantExpectation = {}): Promise<string> {
  await s.monitor.assertHeld(expect);
  return invariantFigures(s.monitor);
}

/** The invariant monitor's figures in one line, for the test's diagnostics. */
export function invariantFigures(monitor: InvariantMonitor): string {
  const r = monitor.report();
  const budgets = r.budgetViolations.length === 0 ? 'no budget broken' : `${r.budgetViolations.length} budget losses (${r.budgetViolations.filter((v) => v.involuntary).length} involuntary)`;
  const terminations = r.terminations.map((t) => `${t.instanceId} by ${t.call ?? t.cause} with ${t.podsToEvict.length} pods to evict, ${t.podsTerminating.length} terminating`);
  const executions = r.executions.map((e) => `${e.name} ${e.status}${e.error ? ` (${e.error})` : ''}`);
  return [budgets, `terminations: ${terminations.join('; ') || 'none'}`, `executions: ${executions.join('; ') || 'none'}`, `locks left ${r.locksLeft.length}, drains running ${r.drainsRunning.length}`].join(' | ');
}

/** Every moment the node went from cordoned back to schedulable (nobody should uncordon a failed drain's node). */
export function watchUncordons(world: World, node: string): number[] {
  const uncordons: number[] = [];
  world.cluster('prod').store.on((event) => {
    if (event.resource !== 'nodes' || event.object.metadata.name !== node || event.type !== 'MODIFIED') return;
    const was = (event.oldObject as { spec?: { unschedulable?: boolean } } | undefined)?.spec?.unschedulable === true;
    const is = (event.object as { spec?: { unschedulable?: boolean } }).spec?.unschedulable === true;
    if (was && !is) uncordons.push(world.clock.now());
  });
  return uncordons;
}

/** What requestDrain answered each trigger, per instance: `started`, `joined`, `completed-now`, `ignored`. */
export function drainRequests(world: World, instanceId: string): string[] {
  return world.lambda.invocations
    .filter((i) => i.function === 'requestDrain' && 'result' in i.outcome && (i.outcome.result as { instanceId?: string }).instanceId === instanceId)
    .map((i) => ((i.outcome as { result: { outcome: string } }).result.outcome));
}
