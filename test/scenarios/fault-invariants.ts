/**
 * The invariants every fault scenario ends on (issue 7's fault matrix), watched over the whole
 * run and asserted at the end with one call.
 *
 * ```ts
 * const monitor = watchInvariants(world);          // before the fault is injected
 * // … inject the fault, run the product, world.settle() …
 * await monitor.assertHeld({
 *   groups: [{ name: group.autoScalingGroupName, floor: 6 - 2 }], // capacity floor: desired − max-unavailable
 *   forcedInstances: [],      // instances a `force` policy may terminate undrained
 *   terminatedByAws: [],      // instances AWS itself terminated (a terminate hook's deadline passed)
 *   heartbeatsRefused: [],    // instances whose every heartbeat AWS refused (throttled for good)
 * });
 * const figures = monitor.report();                // for messages and reports
 * ```
 *
 * API:
 * - `watchInvariants(world, options?)` starts observing every place of the world (the hub's home
 *   and each member account and region, `world.places()`): options.groups limits the Auto
 *   Scaling groups (or EKS managed node group names) whose capacity is followed (default: every
 *   group that exists now, in any place). What each group looks like now (sizes, suspended
 *   processes) is the baseline invariant 7 compares with.
 * - Groups are named as `world.clusters` names clusters: a bare name is the hub home's group;
 *   a member's is `{ name, place }` or its key `<account>/<region>/<name>` (report().capacity
 *   names it by that key). Instances in `forcedInstances`, `terminatedByAws` and
 *   `heartbeatsRefused` may be bare ids (any place) or `<account>/<region>/<id>`.
 * - `assertHeld(expect)` checks every invariant and throws one AssertionError listing each
 *   violated one with its evidence. `expect.groups` names the groups whose capacity floor
 *   (invariant 3) and final state (invariant 7) are judged; each may say `sizes` (what
 *   desired/min/max must end as, when the scenario changes them; default: as at the start).
 *   The monitor keeps watching afterwards: it can be asserted again later. Budgets,
 *   terminations, hooks and launch template versions are judged in every place; the rollouts
 *   and drains tables and the executions are the hub's.
 * - `report()` returns the figures (minimum capacity per group, violations, terminations,
 *   launch template versions created, executions, locks left) without asserting anything.
 *
 * The invariants:
 * 1. no PodDisruptionBudget violated (test/sim/kube/budget-monitor.ts), except what the listed
 *    instances explain: on a forced instance's node, the pods its force policy deleted; on
 *    the node of an instance AWS terminated, pods lost because the node went NotReady or away
 *    (involuntary: no budget can prevent that);
 * 2. no instance terminated while its node still had pods to evict, unless it is listed as
 *    forced or as terminated by AWS — and a listed-by-AWS one never by our own call
 *    (TerminateInstances, TerminateInstanceInAutoScalingGroup, CompleteLifecycleAction)
 *    (test/sim/termination-observer.ts);
 * 3. each listed group's capacity never below its floor (test/sim/capacity-monitor.ts);
 * 4. at most one launch template version created per (template, image), and no two rollout
 *    executions of one group changing it at the same time (past their preflight together);
 * 5. every lock released: the rollouts table holds no row; no drain record `running` whose owner
 *    execution is not RUNNING (a live owner is fine mid-scenario; once every execution has ended,
 *    none may be left);
 * 6. every Step Functions execution has ended, and every rollout and node-drain execution
 *    published the event that reports its end (`Rollout Finished/Rolled Back/Failed/Aborted/
 *    Rollback Failed/Declined`, `Node Drain Finished`), naming its execution — except one a
 *    person (or the scenario) stopped with StopExecution, which ends ABORTED and cannot report;
 *    a fleet promotion held or awaiting approval lives on by design, and may be running if it
 *    waits between decisions (a Wait state), never in a step;
 * 7. each listed group's final state is consistent: every instance InService on the group's
 *    launch template version, with a Ready, uncordoned node; sizes and suspended processes as
 *    at the start (or as `sizes` says); the launch template *setting* as the group had it — a
 *    group that named `$Latest` or `$Default` names it again, one that named a number names a
 *    number (the target's, after a rollout; or as `launchTemplateVersion` says);
 * 8. no terminate lifecycle action ended by its heartbeat timeout while its node still had pods
 *    to evict (read at the instant Auto Scaling gave up on it), unless its instance is listed in
 *    `heartbeatsRefused` (AWS refused every heartbeat); one ended by its global timeout (≤ 48 h)
 *    with pods left only if the instance is listed in `terminatedByAws`;
 * 9. every hook completed once: no lifecycle action completed successfully twice, and every
 *    terminate action of an instance whose drain ended drained, forced or node-gone was
 *    completed by a call — not left open, not left to expire.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AssertionError } from 'node:assert';
import { accountsOf, awaitsEviction, type BudgetMonitor, type BudgetViolation, type CapacityMonitor, type CapacityViolation, isNodeReady, type KubeNode, nodeOfInstance, observeTerminations, type Pod, SANDBOX_CREDENTIALS, type SimAccount, type SimExecution, type TerminationObserver, type TerminationRecord, watchBudgets, watchCapacity, type World } from '@eks-node-lifecycle/sandbox';
import { type Place, placeKey, samePlace } from '../../shared/aws/places.js';
import { ERROR_NAMES } from '../../shared/errors.js';

/** A group in a place: a bare name or `{ name }` is the hub home's; `{ name, place }` or `<account>/<region>/<name>` a member's. */
export type GroupRef = string | { name: string; place?: Place };

export interface WatchInvariantsOptions {
  /** Auto Scaling group or EKS managed node group names whose capacity to follow (default: all, in every place) */
  groups?: GroupRef[];
}

export interface GroupExpectation {
  /** the Auto Scaling group's name, or an EKS managed node group's (or its `<account>/<region>/<name>` key) */
  name: string;
  /** where it lives (default: the hub's home, unless `name` is a place's key) */
  place?: Place;
  /** the fewest available nodes allowed: desired − max-unavailable */
  floor: number;
  /** the sizes the group must end with, when the scenario changes them (default: as at the start) */
  sizes?: Partial<GroupSizes>;
  /** the launch template version the group must end naming (default: `$Latest`/`$Default` as at the start, else any number) */
  launchTemplateVersion?: string;
}

export interface InvariantExpectation {
  groups?: GroupExpectation[];
  /** instances a force policy may terminate undrained */
  forcedInstances?: string[];
  /** instances AWS itself terminated (a hook's deadline passed, a Spot reclaim), reported, not by us */
  terminatedByAws?: string[];
  /** instances whose every heartbeat AWS refused (throttled for good): their hooks' heartbeat-timeout expiry is AWS's doing */
  heartbeatsRefused?: string[];
}

/** A lifecycle action Auto Scaling gave up on, as the invariant monitor saw it at that instant. */
export interface HookExpiry {
  at: string;
  instanceId: string;
  token: string;
  why: 'heartbeat timeout' | 'global timeout';
  transition: 'launch' | 'terminate';
  /** pods of its node a drain still had to evict (namespace/name) */
  podsToEvict: string[];
  /** the account and region of the instance, when not the hub's home */
  place?: Place;
}

export interface GroupSizes {
  desired: number;
  min: number;
  max: number;
}

export interface InvariantReport {
  budgetViolations: BudgetViolation[];
  capacity: { group: string; initial: number; min: number; now: number }[];
  terminations: TerminationRecord[];
  /** launch template versions created since the watch began, per template and image */
  launchTemplateVersions: { template: string; imageId: string; versions: number[] }[];
  executions: { name: string; machine: string; status: string; error?: string; output?: unknown }[];
  /** the rollouts table's rows and the drain records still running, as of the last assertHeld */
  locksLeft: unknown[];
  drainsRunning: unknown[];
  /** lifecycle actions Auto Scaling gave up on (their heartbeat or global timeout) */
  hookExpiries: HookExpiry[];
}

export interface InvariantMonitor {
  assertHeld(expect?: InvariantExpectation): Promise<void>;
  report(): InvariantReport;
}

const ENDING_EVENTS = new Set(['Rollout Finished', 'Rollout Rolled Back', 'Rollout Failed', 'Rollout Aborted', 'Rollout Rollback Failed', 'Rollout Declined']);
const DRAIN_FINISHED = 'Node Drain Finished';

interface GroupBaseline {
  autoScalingGroup: string;
  /** undefined: the hub's home */
  place: Place | undefined;
  /** the cluster's name (in the group's place) */
  cluster: string | undefined;
  sizes: GroupSizes;
  suspended: string[];
  /** the launch template version as the group names it: a number, `$Latest` or `$Default` */
  templateSetting: string | undefined;
}

export function watchInvariants(world: World, options: WatchInvariantsOptions = {}): InvariantMonitor {
  // every place's account, the hub's home first (place undefined); keys of a member's things are `<account>/<region>/…`
  const accounts = accountsOf(world);
  const budgets = new Map<string, BudgetMonitor>([...world.clusters].map(([key, c]) => [key, watchBudgets(c.store)]));
  const terminations: TerminationObserver = observeTerminations(world);
  const existingVersions = new Map(accounts.flatMap(({ account, place }) => [...account.ec2.launchTemplates.templates].map(([id, t]) => [placed(place, id), new Set(t.versions.keys())] as const)));

  const baselines = new Map<string, GroupBaseline>();
  const capacity = new Map<string, CapacityMonitor>();
  const wanted = options.groups?.map((ref) => (typeof ref === 'string' ? groupKeyOf(world, ref) : groupKeyOf(world, ref.name, ref.place)));
  for (const { account, place } of accounts) {
    for (const group of account.autoscaling.groups.values()) {
      const key = placed(place, group.name);
      if (wanted && !wanted.includes(key)) continue;
      const cluster = clusterOf(world, group.tags, place);
      const setting = (group.launchTemplate ?? group.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification)?.Version;
      baselines.set(key, { autoScalingGroup: group.name, place, cluster, sizes: { desired: group.desired, min: group.min, max: group.max }, suspended: [...group.suspended].sort(), templateSetting: setting });
      if (cluster) capacity.set(key, watchCapacity(world, { cluster, autoScalingGroup: group.name, floor: 0, ...(place ? { place } : {}) }));
    }
  }

  let locksLeft: unknown[] = [];
  let drainsRunning: unknown[] = [];
  const hookExpiries = watchHookExpiries(world);

  function newVersions(): InvariantReport['launchTemplateVersions'] {
    const byKey = new Map<string, { template: string; imageId: string; versions: number[] }>();
    for (const { account, place } of accounts) {
      for (const [id, record] of account.ec2.launchTemplates.templates) {
        for (const [number, version] of record.versions) {
          if (existingVersions.get(placed(place, id))?.has(number)) continue;
          const imageId = version.LaunchTemplateData?.ImageId ?? '(none)';
          const key = `${placed(place, id)} ${imageId}`;
          const entry = byKey.get(key) ?? { template: `${placed(place, record.template.LaunchTemplateName ?? '')} (${id})`, imageId, versions: [] };
          entry.versions.push(number);
          byKey.set(key, entry);
        }
      }
    }
    return [...byKey.values()];
  }

  function report(): InvariantReport {
    return {
      budgetViolations: [...budgets.values()].flatMap((b) => b.violations),
      capacity: [...capacity].map(([group, m]) => ({ group, initial: m.initial, min: m.min, now: m.available })),
      terminations: [...terminations.terminations],
      launchTemplateVersions: newVersions(),
      executions: [...world.stepFunctions.executions.values()].map((e) => ({
        name: e.name,
        machine: machineOf(e),
        status: e.status,
        ...(e.error ? { error: e.error } : {}),
        ...(e.output !== undefined ? { output: e.output } : {}),
      })),
      locksLeft,
      drainsRunning,
      hookExpiries: [...hookExpiries],
    };
  }

  async function assertHeld(expect: InvariantExpectation = {}): Promise<void> {
    const failures: string[] = [];
    const fail = (invariant: string, evidence: unknown) => failures.push(`${invariant}: ${typeof evidence === 'string' ? evidence : JSON.stringify(evidence, null, 1)}`);

    const forced = new InstanceList(world, expect.forcedInstances);
    const byAws = new InstanceList(world, expect.terminatedByAws);

    // 1. budgets (a node is named by its place and name: two places may both have an ip-10-0-1-5)
    const placeOfCluster = (key: string) => homeless(world, world.clusters.get(key)?.place);
    const nodeOf = (list: InstanceList, id: string): string | undefined => {
      const t = terminations.terminations.find((x) => x.instanceId === id && list.has(id, x.place));
      if (t?.node) return placed(t.place, t.node);
      const found = nodeOfInstance(world, id);
      return found && list.has(id, placeOfCluster(found.cluster)) ? placed(placeOfCluster(found.cluster), found.node) : undefined;
    };
    const nodesOf = (list: InstanceList) => new Set(list.ids.map((id) => nodeOf(list, id)).filter((n): n is string => n !== undefined));
    const [forcedNodes, awsNodes] = [nodesOf(forced), nodesOf(byAws)];
    for (const [cluster, monitor] of budgets) {
      const place = placeOfCluster(cluster);
      const excused = (v: BudgetViolation) => v.node !== undefined && (forcedNodes.has(placed(place, v.node)) || (v.involuntary && awsNodes.has(placed(place, v.node))));
      const violations = monitor.violations.filter((v) => !excused(v));
      if (violations.length > 0) fail(`1. PodDisruptionBudget violated in ${cluster}`, violations);
    }

    // 2. terminations of undrained nodes
    for (const t of terminations.terminations) {
      if (t.podsToEvict.length === 0 || forced.has(t.instanceId, t.place)) continue;
      if (byAws.has(t.instanceId, t.place) && t.cause !== 'call') continue;
      fail(`2. ${placed(t.place, t.instanceId)}${t.node ? ` (${t.node})` : ''} terminated with pods still to evict`, t);
    }

    // 3. capacity floors
    for (const group of expect.groups ?? []) {
      const key = groupKeyOf(world, group.name, group.place);
      const label = labelOf(world, group);
      const monitor = capacity.get(key);
      if (!monitor) {
        fail(`3. capacity of ${label}`, 'not watched: was the group created before watchInvariants, in a cluster of the world?');
        continue;
      }
      const below: CapacityViolation[] = monitor.belowFloor(group.floor);
      if (below.length > 0) fail(`3. capacity of ${label} below its floor ${group.floor} (min ${monitor.min})`, below);
    }

    // 4. duplicate launch template versions, overlapping rollouts of a group
    for (const entry of newVersions()) {
      if (entry.versions.length > 1) fail(`4. ${entry.versions.length} launch template versions of ${entry.template} for ${entry.imageId}`, entry.versions);
    }
    for (const overlap of overlappingRollouts(world)) fail('4. two rollouts changed one group at once', overlap);

    // 5. locks
    // the table also remembers what was announced once (announced#<fingerprint>): not locks
    locksLeft = await heldLocks(world);
    const drainRecords = (await scanTable(world, '-drains')) as StoredDrain[];
    // an owner that went on in a fresh execution runs as long as its latest one does
    const ownerRuns = (r: StoredDrain) => r.executionArn !== undefined && latestOf(world, r.executionArn)?.status === 'RUNNING';
    drainsRunning = drainRecords.filter((r) => r.status === 'running' && !ownerRuns(r));
    if (locksLeft.length > 0) fail('5. rollout locks not released', locksLeft);
    if (drainsRunning.length > 0) fail('5. drain records running without a running owner', drainsRunning);

    // 6. every execution ended and reported
    for (const e of world.stepFunctions.executions.values()) {
      if (e.status === 'RUNNING') {
        // a release's promotion lives until it passed every ring: held, or awaiting a person's approval, it waits
        // between decisions (a Wait state), never in a step
        if (machineOf(e) === 'fleet-promotion' && e.history.at(-1)?.state === 'Wait') continue;
        fail(`6. execution ${e.name} still running`, `${machineOf(e)}, last state ${e.history.at(-1)?.state}`);
        continue;
      }
      // StopExecution from outside: the execution had no chance to report (what it owned is judged by 5, 8, 9)
      if (e.status === 'ABORTED') continue;
      // it went on in a fresh execution: the report is the last one's to make
      if (continuedAs(e) !== undefined) continue;
      const reported = reportOf(world, e);
      if (reported === false) fail(`6. execution ${e.name} (${machineOf(e)}) ended ${e.status} without its report event`, { error: e.error, cause: e.cause?.slice(0, 300), lastStates: e.history.slice(-5).map((h) => h.state) });
    }

    // 7. final state of each listed group
    for (const group of expect.groups ?? []) failures.push(...groupInconsistencies(world, baselines.get(groupKeyOf(world, group.name, group.place)), group).map((f) => `7. ${labelOf(world, group)}: ${f}`));

    // 8. no hook left to time out on a node with pods
    const refused = new InstanceList(world, expect.heartbeatsRefused);
    for (const e of hookExpiries) {
      if (e.transition !== 'terminate' || e.podsToEvict.length === 0) continue;
      if (e.why === 'heartbeat timeout' && refused.has(e.instanceId, e.place)) continue;
      if (e.why === 'global timeout' && byAws.has(e.instanceId, e.place)) continue;
      fail(`8. the terminate hook of ${placed(e.place, e.instanceId)} reached its ${e.why} with pods still to evict`, e);
    }

    // 9. every hook completed once
    for (const { account, place } of accounts) {
      for (const problem of hookCompletionProblems(account, place, drainRecords, hookExpiries, { byAws, refused })) fail(`9. every hook completed once${place ? ` (${placeKey(place)})` : ''}`, problem);
    }

    if (failures.length > 0) {
      throw new AssertionError({ message: `${failures.length} invariant(s) violated:\n- ${failures.join('\n- ')}`, actual: failures, expected: [], operator: 'invariantsHeld' });
    }
  }

  return { assertHeld, report };
}

/** A drain record as the table holds it (fields the monitor reads). */
interface StoredDrain {
  instanceId: string;
  status?: string;
  executionArn?: string;
}

/**
 * Every lifecycle action Auto Scaling gives up on, noted at that instant (its expiry writes the
 * timeline just before it applies the DefaultResult): with the pods its node still had to evict.
 */
function watchHookExpiries(world: World): HookExpiry[] {
  const expiries: HookExpiry[] = [];
  for (const { account, place } of accountsOf(world)) {
    account.onLog((_message, entry) => {
      const found = / lifecycle action (\S+) on (i-[0-9a-f]+) reached its (heartbeat|global) timeout/.exec(entry.source === 'autoscaling' ? entry.message : '');
      if (!found) return;
      const [, token, instanceId, why] = found;
      const state = [...account.autoscaling.groups.values()].map((g) => g.instances.get(instanceId!)).find((i) => i !== undefined)?.lifecycleState;
      const node = nodeOfInstance(world, instanceId!, place ?? world.home);
      const pods = node ? (node.store.list('pods') as Pod[]).filter((p) => p.spec?.nodeName === node.node && awaitsEviction(p)) : [];
      expiries.push({
        at: account.clock.iso(),
        instanceId: instanceId!,
        token: token!,
        why: `${why} timeout` as HookExpiry['why'],
        transition: state?.startsWith('Terminating') ? 'terminate' : 'launch',
        podsToEvict: pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
        ...(place ? { place } : {}),
      });
    });
  }
  return expiries;
}

/**
 * Invariant 9: no lifecycle action completed successfully twice (by token, or by instance and
 * hook for a call without one); every terminate action of an instance whose drain record ended
 * drained, forced or node-gone completed by a call — unless Auto Scaling ended it itself, as the
 * scenario expects: its global timeout on an instance listed as terminated by AWS, its heartbeat
 * timeout on one whose heartbeats AWS refused. Judged per place: its account's calls, events
 * and timeline; a member's drain records are keyed `<account>/<region>/<instance>`.
 */
function hookCompletionProblems(account: SimAccount, place: Place | undefined, records: readonly StoredDrain[], expiries: readonly HookExpiry[], excused: { byAws: InstanceList; refused: InstanceList }): unknown[] {
  const problems: unknown[] = [];
  // what Auto Scaling carried out, whatever the caller saw after (an answer cut short)
  const completions = account.calls
    .filter((c) => c.command === 'CompleteLifecycleAction' && c.acted)
    .map((c) => c.input as { LifecycleActionToken?: string; InstanceId?: string; LifecycleHookName?: string; LifecycleActionResult?: string });
  const actions = account.events
    .filter((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')
    .map((e) => e.detail as { LifecycleActionToken: string; EC2InstanceId: string; LifecycleHookName: string });
  const unique = new Map(actions.map((a) => [a.LifecycleActionToken, a]));
  const completedBy = (a: (typeof actions)[number]) =>
    completions.filter((c) => (c.LifecycleActionToken !== undefined ? c.LifecycleActionToken === a.LifecycleActionToken : c.InstanceId === a.EC2InstanceId && c.LifecycleHookName === a.LifecycleHookName));
  for (const action of unique.values()) {
    const done = completedBy(action);
    if (done.length > 1) problems.push({ completedTwice: action, calls: done });
  }
  const drained = new Set(records.filter((r) => r.status === 'drained' || r.status === 'forced' || r.status === 'node-gone').map((r) => r.instanceId));
  for (const action of unique.values()) {
    if (!drained.has(placed(place, action.EC2InstanceId)) || completedBy(action).length > 0) continue;
    const expiry = expiries.find((e) => e.token === action.LifecycleActionToken && keyOfPlace(e.place) === keyOfPlace(place));
    if (expiry?.why === 'global timeout' && excused.byAws.has(action.EC2InstanceId, place)) continue;
    if (expiry?.why === 'heartbeat timeout' && excused.refused.has(action.EC2InstanceId, place)) continue;
    const deleted = account.log.some((l) => l.instanceId === action.EC2InstanceId && l.message.includes(`${action.LifecycleHookName} on ${action.EC2InstanceId} completed with`) && l.message.includes('(hook deleted)'));
    if (deleted) continue;
    problems.push({ notCompleted: action, drain: 'drained, forced or node-gone', ended: expiry ? `its ${expiry.why}` : 'still open' });
  }
  return problems;
}

/** `ami-rollout`, `node-drain`, … */
function machineOf(e: SimExecution): string {
  return e.stateMachineArn.split(':').at(-1)!.replace(/^eks-node-lifecycle-[a-z]+-/, '');
}

/** The event that reports an execution's end, true when found, undefined when none is owed. */
function reportOf(world: World, e: SimExecution): boolean | undefined {
  const machine = machineOf(e);
  // a drain or rollout is named by its first execution in every execution it goes on in
  const origin = originOf(e);
  const names = (event: { detail: unknown; resources?: string[] }) => (event.detail as { executionArn?: string }).executionArn === origin || (event.resources ?? []).includes(origin);
  if (machine === 'ami-rollout') return world.published.some((p) => ENDING_EVENTS.has(p['detail-type']) && names(p));
  if (machine === 'node-drain') return world.published.some((p) => p['detail-type'] === DRAIN_FINISHED && names(p));
  return undefined;
}

/** The first execution of the drain or rollout `e` belongs to (it is its own unless it continues another). */
function originOf(e: SimExecution): string {
  return (JSON.parse(e.input) as { lineage?: { origin?: string } }).lineage?.origin ?? e.executionArn;
}

/** The execution `e` went on in, when it did (it SUCCEEDED with `{ continuedAs }`). */
export function continuedAs(e: SimExecution): string | undefined {
  const output = (typeof e.output === 'string' ? JSON.parse(e.output) : e.output) as { continuedAs?: unknown } | undefined;
  return e.status === 'SUCCEEDED' && typeof output?.continuedAs === 'string' ? output.continuedAs : undefined;
}

/** The latest execution of the lineage an execution ARN starts: followed through every continuation. */
export function latestOf(world: World, executionArn: string): SimExecution | undefined {
  let e = world.stepFunctions.executions.get(executionArn);
  for (let next = e && continuedAs(e); next; next = e && continuedAs(e)) e = world.stepFunctions.executions.get(next);
  return e;
}

/** Rollout executions of one group that were past their preflight at the same time (a rollout's continuations are one span). */
function overlappingRollouts(world: World): { group: string; executions: string[] }[] {
  const spans = [...world.stepFunctions.executions.values()]
    .filter((e) => machineOf(e) === 'ami-rollout' && originOf(e) === e.executionArn)
    .flatMap((e) => {
      const changing = e.history.find((h) => h.state === 'PrepareLaunchTemplate');
      if (!changing) return [];
      const input = JSON.parse(e.input) as { cluster?: string; group?: { name?: string }; accountId?: string; region?: string };
      const last = latestOf(world, e.executionArn) ?? e;
      // a member's rollout names its place (absent: the hub's home)
      const place = homeless(world, input.accountId ? { accountId: input.accountId, region: input.region ?? world.home.region } : undefined);
      return [{ group: placed(place, `${input.cluster}/${input.group?.name}`), name: e.name, from: Date.parse(changing.at), to: last.stopDate?.getTime() ?? Number.POSITIVE_INFINITY }];
    });
  const overlaps: { group: string; executions: string[] }[] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const [a, b] = [spans[i]!, spans[j]!];
      if (a.group === b.group && a.from < b.to && b.from < a.to) overlaps.push({ group: a.group, executions: [a.name, b.name] });
    }
  }
  return overlaps;
}

function groupInconsistencies(world: World, baseline: GroupBaseline | undefined, expect: GroupExpectation): string[] {
  if (!baseline) return ['not watched (created after watchInvariants, or left out of its options)'];
  const account = baseline.place ? world.accountAt(baseline.place) : world.account;
  const group = account.autoscaling.groups.get(baseline.autoScalingGroup);
  if (!group) return ['the Auto Scaling group no longer exists'];
  const problems: string[] = [];
  const sizes = { ...baseline.sizes, ...expect.sizes };
  const now = { desired: group.desired, min: group.min, max: group.max };
  if (now.desired !== sizes.desired || now.min !== sizes.min || now.max !== sizes.max) problems.push(`sizes ${JSON.stringify(now)}, expected ${JSON.stringify(sizes)}`);
  const suspended = [...group.suspended].sort();
  if (suspended.join() !== baseline.suspended.join()) problems.push(`suspended processes [${suspended}], at the start [${baseline.suspended}]`);

  const spec = group.launchTemplate ?? group.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const symbolic = (v: string | undefined) => v === '$Latest' || v === '$Default';
  const setting = spec?.Version;
  if (expect.launchTemplateVersion !== undefined ? setting !== expect.launchTemplateVersion : symbolic(baseline.templateSetting) ? setting !== baseline.templateSetting : symbolic(setting)) {
    problems.push(`the group names launch template version ${setting}, it named ${baseline.templateSetting}${expect.launchTemplateVersion !== undefined ? ` (expected ${expect.launchTemplateVersion})` : ''}`);
  }
  const template = spec ? [...account.ec2.launchTemplates.templates.values()].find((t) => t.template.LaunchTemplateId === spec.LaunchTemplateId || t.template.LaunchTemplateName === spec.LaunchTemplateName) : undefined;
  const version = !template || !spec ? undefined : spec.Version === '$Latest' ? Math.max(...template.versions.keys()) : spec.Version === '$Default' || spec.Version === undefined ? template.template.DefaultVersionNumber : Number(spec.Version);

  const nodes = baseline.cluster ? (world.cluster(baseline.cluster, baseline.place ?? world.home).store.list('nodes') as KubeNode[]) : [];
  for (const instance of group.instances.values()) {
    const label = instance.instanceId;
    if (instance.lifecycleState !== 'InService') problems.push(`${label} is ${instance.lifecycleState}`);
    if (version !== undefined && Number(instance.launchTemplate?.Version) !== version) problems.push(`${label} runs launch template version ${instance.launchTemplate?.Version}, the group ${version}`);
    const node = nodes.find((n) => n.spec?.providerID?.endsWith(`/${instance.instanceId}`));
    if (!baseline.cluster) continue;
    if (!node) problems.push(`${label} has no node`);
    else if (!isNodeReady(node)) problems.push(`${label}'s node ${node.metadata.name} is not Ready`);
    else if (node.spec?.unschedulable) problems.push(`${label}'s node ${node.metadata.name} is left cordoned`);
  }
  return problems;
}

/** A thing's key: its name in the hub's home (no place), `<account>/<region>/<name>` in a member's (as world.clusters and the drain records key them). */
function placed(place: Place | undefined, name: string): string {
  return place ? `${placeKey(place)}/${name}` : name;
}

/** A place's key, '' for the hub's home (undefined). */
function keyOfPlace(place: Place | undefined): string {
  return place ? placeKey(place) : '';
}

/** A place, or undefined for the hub's home. */
function homeless(world: World, place: Place | undefined): Place | undefined {
  return place && !samePlace(place, world.home) ? place : undefined;
}

/** `<account>/<region>/<rest>`: a member's key */
const PLACED = /^(\d{12})\/([a-z]{2}(?:-[a-z]+)+-\d+)\/(.+)$/;

/**
 * The key of a group (see `placed`): an Auto Scaling group's name or an EKS managed node group's,
 * in `place`, or in the place its `<account>/<region>/<name>` key names, else in the hub's home.
 */
function groupKeyOf(world: World, name: string, place?: Place): string {
  const parsed = place ? undefined : PLACED.exec(name);
  const at = homeless(world, place ?? (parsed ? { accountId: parsed[1]!, region: parsed[2]! } : undefined));
  const bare = parsed && at ? parsed[3]! : name;
  const account = at ? world.accountAt(at) : world.account;
  if (account.autoscaling.groups.has(bare)) return placed(at, bare);
  for (const cluster of world.clusters.values()) {
    if (!samePlace(cluster.place, at ?? world.home)) continue;
    try {
      return placed(at, account.eks.requireNodegroup(cluster.name, bare).autoScalingGroupName);
    } catch {
      // not this cluster's
    }
  }
  return placed(at, bare);
}

/** How failures name an expected group: as the scenario named it, with its place when a member's. */
function labelOf(world: World, group: GroupExpectation): string {
  const at = homeless(world, group.place);
  return placed(at, group.name);
}

/** The cluster a group's instances join (its name, in the group's place): its `kubernetes.io/cluster/<name>` or `eks:cluster-name` tag. */
function clusterOf(world: World, tags: readonly { Key?: string; Value?: string }[], place: Place | undefined): string | undefined {
  for (const tag of tags) {
    const name = tag.Key === 'eks:cluster-name' ? tag.Value : /^kubernetes\.io\/cluster\/(.+)$/.exec(tag.Key ?? '')?.[1];
    if (name && world.clusters.has(placed(place, name))) return name;
  }
  return undefined;
}

/**
 * Instances a scenario lists (forced, terminated by AWS, heartbeats refused): a bare id matches
 * the instance in any place, `<account>/<region>/<id>` only in that place.
 */
class InstanceList {
  private readonly entries: Set<string>;
  private readonly home: Place;
  /** the instance ids listed, without their places */
  readonly ids: string[];

  constructor(world: World, entries: readonly string[] = []) {
    this.entries = new Set(entries);
    this.home = world.home;
    this.ids = entries.map((e) => e.slice(e.lastIndexOf('/') + 1));
  }

  /** `place`: the instance's (undefined: the hub's home) */
  has(instanceId: string, place: Place | undefined): boolean {
    return this.entries.has(instanceId) || this.entries.has(`${placeKey(place ?? this.home)}/${instanceId}`);
  }
}

/**
 * The node group locks left in the rollouts table: its other item families (`announced#…`,
 * a problem announced once; `begin#…`, what Begin decided, for the person who started it;
 * `detect-window#…`, an AMI event's debounce window) expire by TTL and hold nothing.
 */
export async function heldLocks(world: World): Promise<unknown[]> {
  return (await scanTable(world, '-rollouts')).filter((item) => !/^(announced|begin|detect-window)#/.test(String((item as { lockKey?: string }).lockKey)));
}

export async function scanTable(world: World, suffix: string): Promise<unknown[]> {
  const table = world.model.tables.map((t) => (t as { TableName?: string }).TableName ?? '').find((name) => name.endsWith(suffix));
  if (!table) throw new Error(`no table ending ${suffix} in serverless.yml`);
  const client = new DynamoDBClient({ region: world.model.region, endpoint: world.dynamo.endpoint, credentials: SANDBOX_CREDENTIALS });
  try {
    const out = await DynamoDBDocumentClient.from(client).send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    return out.Items ?? [];
  } finally {
    client.destroy();
  }
}

/**
 * Lambda invocations that failed with an error no workflow names as what it is — not one of
 * shared/errors.ts, nor Lambda's own (`Lambda.*`, `Sandbox.Timedout`): a transient failure
 * that escaped its classification would reach `States.ALL` and fail the step for good.
 */
export function untypedFailures(world: World): string[] {
  const typed = new Set<string>(ERROR_NAMES);
  return world.lambda.invocations.flatMap((i) =>
    'errorType' in i.outcome && !typed.has(i.outcome.errorType) && !/^(Lambda|Sandbox)\./.test(i.outcome.errorType) ? [`${i.function}: ${i.outcome.errorType}: ${i.outcome.errorMessage}`] : [],
  );
}
