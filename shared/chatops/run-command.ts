import type { AwsScope } from '../aws/clients.js';
import { describeImage } from '../ami/image-provenance.js';
import { decideKubernetesMinor, describeKubernetesMinor } from '../ami/kubernetes-version.js';
import { describeGroupMembers } from '../aws/group-members.js';
import { describeInstance, findInstanceByPrivateDnsName, imagesRunningIn } from '../aws/instances.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import { type DetectPorts, planGroups } from '../detect/detect.js';
import { attachImages, type GroupView, listClusterNames, listClusters, listGroups } from '../detect/inventory.js';
import { observeRollout } from '../detect/observe-rollout.js';
import { type GroupPlan, rolloutInputOf } from '../detect/plan-rollouts.js';
import type { ManualDrainRequest, ManualUncordonRequest } from '../events/drain.js';
import type { RolloutInput } from '../events/rollout.js';
import { describeProblem, readNodeGroupConfig, rolloutBlockers } from '../config/node-group-config.js';
import { diagnose, summarize } from '../doctor/run-doctor.js';
import type { ClusterProbe } from '../doctor/probe-cluster.js';
import { metricsOfCommand, recordMetrics } from '../metrics/metrics.js';
import { observeLabel } from '../config/observe.js';
import { clustersNamedBy, karpenterNode } from '../ownership/resolve-cluster.js';
import { windowState } from '../rollout/maintenance-window.js';
import { lockKeyOf, type NodeGroupLocks } from '../rollout/node-group-lock.js';
import { batchShape, resolveMaxUnavailable } from '../rollout/plan-batches.js';
import { readRolloutPolicy } from '../rollout/rollout-policy.js';
import { type ApprovalPorts, answerApproval, controlRollout } from '../rollout/rollout-control.js';
import type { RequestDrainOutcome } from '../drain/request-drain.js';
import type { UncordonOutcome } from '../drain/uncordon-node.js';
import { type AccessPolicy, authorize, displayNameOf, requiresApproval } from './access-policy.js';
import { type Place, placeKey } from '../aws/places.js';
import { mapBounded } from '../kube/drain/bounded.js';
import type { RolloutControlRequest } from '../events/rollout.js';
import { type ClusterRef, FLEET_LIST_CONCURRENCY, type FleetView, listFleetClusters, lockKeyAt, type PlaceListing, policyClusterOf, refAt, refLabel, resolvePlaced, resolveShort, type Resolution } from './fleet-clusters.js';
import { placeFieldsOf } from '../rollout/rollout-place.js';
import { type AuditInput, type AuditLog, NO_CLUSTER } from './audit-log.js';
import {
  approvalsReply,
  doctorReply,
  doneReply,
  executionName,
  failedReply,
  historyReply,
  invalidReply,
  notDoneReply,
  planReply,
  refusedReply,
  rolloutNowOf,
  statusReply,
} from './command-replies.js';
import { commandAddress, formatCommand, parseCommand, requiredLevel, usageOf } from './grammar.js';
import { awaitBeginDecision, beginHeadline } from './await-begin.js';
import { helpReply } from './help.js';
import { principalMention } from './mentions.js';
import type { RequestGuards } from './request-guards.js';
import { approvalsData, diagnosisData, type GroupStatus, historyData, type PlannedGroup, planData, type ReplyData, statusData } from './reply-data.js';
import type { Command, Principal, Reply } from './types.js';
import { instanceIdOfHostname } from '../ids.js';
import type { PromotionPolicy } from '../fleet/promotion-policy.js';
import { type RolloutGate, rolloutRefusal } from './rollout-gate.js';
import { answerPromoteRequest, type PromotionAsk, type PromotionPorts, runPromotionCommand } from './promotion-commands.js';
import { withFreezes } from './promotion-replies.js';

/**
 * Everything a command may touch. Built once per cold start by `functions/lib/chat-ports.ts`
 * (real AWS), and by the CLI's sandbox mode (the simulated world).
 */
export interface CommandPorts extends ApprovalPorts {
  /** the access policy (read from SSM and cached) */
  policy: () => Promise<AccessPolicy>;
  auditLog: AuditLog;
  /** the per-person rate limit, and the grants of forced drains */
  guards: RequestGuards;
  locks: NodeGroupLocks;
  aws: AwsScope;
  amiRolloutStateMachineArn: string;
  /** fleet promotion, as a person's rollout asks it (rollout-gate.ts); absent: rollouts begin as before */
  rolloutGate?: RolloutGate;
  inventory: Omit<DetectPorts, 'amiRolloutStateMachineArn'>;
  /** asks the requestDrain function to drain one instance (it owns the drain rules) */
  requestDrain: (request: ManualDrainRequest) => Promise<RequestDrainOutcome>;
  /** asks the requestDrain function to take back what a drain added to one instance's node (it has the cluster access and the drain records) */
  uncordon: (request: ManualUncordonRequest) => Promise<UncordonOutcome>;
  /** asks the doctorProbe function what the service sees of a cluster's Kubernetes API (it is in the service's Kubernetes group); `place`: a member's */
  doctorProbe: (cluster: string, place?: Place) => Promise<ClusterProbe>;
  /**
   * the places of a deployment with member accounts (fleet-clusters.ts) and how to act in
   * each; absent (or the hub alone): a single-account deployment, answered exactly as before
   */
  fleet?: FleetView;
  /** a short wait inside the invocation (a rollout's reply waits, bounded, for Begin's decision) */
  sleep: (ms: number) => Promise<void>;
  /** fleet promotion (the fleet table, the promotion policy, its thread's events); absent: not set up, its commands say so and status shows no freezes */
  promotions?: PromotionPorts;
}

export interface CommandRequest {
  text: string;
  principal: Principal;
  /** a stable id for this request (kept in the audit trail and in execution names) */
  requestId: string;
  /** when it was received: with the request id, the audit entry's key (a retry rewrites the same entry) */
  receivedAt: Date;
}

export interface CommandOutcome {
  reply: Reply;
  command?: Command;
  /** what the audit trail recorded */
  audit: Pick<AuditInput, 'result' | 'summary' | 'clusters'>;
}

/** Commands one person may send a minute (help aside), across Slack, the CLI and direct invocations. */
export const COMMANDS_PER_MINUTE = 20;

/**
 * How long `status` and `plan` reuse what they read of a cluster's node groups, per warm
 * execution environment: a burst of them costs one inventory per cluster (locks, rollouts
 * and approvals are always read fresh).
 */
export const INVENTORY_TTL_MS = 30_000;

const inventoryCaches = new WeakMap<CommandPorts, Map<string, { at: number; value: Promise<unknown> }>>();

/** `read()` once per `key` and INVENTORY_TTL_MS, for the environment these ports were built in; a failed read is not kept. */
function cachedInventory<T>(ports: CommandPorts, key: string, read: () => Promise<T>): Promise<T> {
  let cache = inventoryCaches.get(ports);
  if (!cache) inventoryCaches.set(ports, (cache = new Map()));
  const now = ports.now().getTime();
  const hit = cache.get(key);
  if (hit && now - hit.at < INVENTORY_TTL_MS) return hit.value as Promise<T>;
  const value = read();
  cache.set(key, { at: now, value });
  value.catch(() => cache.delete(key));
  return value;
}

/**
 * One command, whoever sent it (Slack, Amazon Q Developer, the CLI):
 * parse → authorize (for its cluster; a drain's cluster is found from the instance) →
 * act → reply, and every request — refused, invalid or done — goes to the audit trail.
 * Nothing is started unless the command parsed and the principal may do it.
 */
export async function runCommand(request: CommandRequest, ports: CommandPorts): Promise<CommandOutcome> {
  const outcome = await decideAndAct(request, ports);
  await ports.auditLog.audit({
    requestId: request.requestId,
    at: request.receivedAt,
    principal: { id: request.principal.id, display: request.principal.display, ...(request.principal.channel ? { channel: request.principal.channel } : {}), via: request.principal.via },
    clusters: outcome.audit.clusters,
    text: request.text,
    ...(outcome.command ? { command: formatCommand(outcome.command) } : {}),
    result: outcome.audit.result,
    summary: outcome.audit.summary,
  });
  ports.log('chat command', { principal: request.principal.id, via: request.principal.via, command: outcome.command?.name ?? 'invalid', result: outcome.audit.result, requestId: request.requestId });
  recordMetrics(metricsOfCommand(outcome.command?.name ?? 'invalid', outcome.audit.result, outcome.audit.clusters));
  return outcome;
}

async function decideAndAct(request: CommandRequest, ports: CommandPorts): Promise<CommandOutcome> {
  const parsed = parseCommand(request.text);
  if (!parsed.ok) return { reply: invalidReply(parsed.error, parsed.usage), audit: { result: 'invalid', summary: parsed.error, clusters: [] } };
  const command = parsed.command;
  if (command.name === 'help') return { reply: helpReply(command.topic), command, audit: { result: 'done', summary: 'help', clusters: [] } };

  const address = commandAddress(command);
  const cluster = address ? (address.place ? `${address.place.accountId}/${address.place.region}/${address.cluster}` : address.cluster) : undefined;
  const anonymous = needsAPerson(command, request.principal);
  if (anonymous) return refused(command, anonymous, cluster);
  // a person's burst costs at most COMMANDS_PER_MINUTE commands' worth of AWS calls
  if (!(await ports.guards.takeCommandToken(request.principal.id, request.receivedAt, COMMANDS_PER_MINUTE))) {
    const next = new Date(Math.floor(request.receivedAt.getTime() / 60_000) * 60_000 + 60_000);
    return refused(command, `Too many commands: at most ${COMMANDS_PER_MINUTE} a minute per person. Try again after ${next.toISOString().slice(11, 19)} UTC.`, cluster);
  }
  const policy = await ports.policy();
  const level = requiredLevel(command)!;
  const ask: Asking = { principal: request.principal, policy, ports };
  let ref: ClusterRef | undefined;
  try {
    const resolved = address ? await resolveAddress(address, level !== 'read', ask) : undefined;
    if (resolved && !resolved.ok) return { reply: invalidReply(resolved.error, usageOf(command.name)), command, audit: { result: 'invalid', summary: resolved.error, clusters: cluster ? [cluster] : [] } };
    ref = resolved?.ref;
  } catch (error) {
    ports.log('chat command failed', { command: command.name, error: (error as Error)?.message });
    const reply = failedReply(formatCommand(command), error);
    return { reply, command, audit: { result: 'failed', summary: reply.title, clusters: cluster ? [cluster] : [] } };
  }
  const allowed = authorize(policy, request.principal, level, ref ? policyClusterOf(ref, hubPlace(ports)) : undefined);
  if (!allowed.allowed) return refused(command, allowed.reason, ref ? refLabel(ref) : cluster);

  try {
    const result = await act(command, ref, request, ask);
    return { reply: result.reply, command, audit: { result: result.reply.ok ? 'done' : result.refused ? 'refused' : 'failed', summary: result.reply.title, clusters: result.clusters } };
  } catch (error) {
    ports.log('chat command failed', { command: command.name, error: (error as Error)?.message });
    const reply = failedReply(formatCommand(command), error);
    return { reply, command, audit: { result: 'failed', summary: reply.title, clusters: ref ? [refLabel(ref)] : cluster ? [cluster] : [] } };
  }
}

/** Who asks, under which policy, with what: what every step of a command reads. */
interface Asking {
  principal: Principal;
  policy: AccessPolicy;
  ports: CommandPorts;
}

/** The hub's place, when the deployment knows its account (members configured, or HUB_ACCOUNT_ID). */
function hubPlace(ports: CommandPorts): Place | undefined {
  const hub = ports.fleet?.places.find((p) => p.home)?.place;
  return hub?.accountId ? hub : undefined;
}

/** Whether the deployment has member accounts: only then is a short name resolved against the fleet, and places shown. */
function hasMembers(ports: CommandPorts): boolean {
  return (ports.fleet?.places.length ?? 0) > 1;
}

/** Every place's clusters (hub and members), read once per INVENTORY_TTL_MS like the hub's list always was. */
function fleetListings(ports: CommandPorts): Promise<PlaceListing[]> {
  return cachedInventory(ports, 'fleet clusters', () => listFleetClusters(ports.fleet!, () => hubClusterNames(ports)));
}

function hubClusterNames(ports: CommandPorts): Promise<string[]> {
  return cachedInventory(ports, 'clusters', () => listClusterNames(ports.inventory));
}

/**
 * The cluster a command names, as a ref: with its place written, checked against the fleet's
 * places; by name alone, the hub's own in a single-account deployment (as always, no lookup),
 * else the one place of the fleet that has it (fleet-clusters.ts resolveShort).
 */
async function resolveAddress(address: { cluster: string; place?: Place }, strict: boolean, ask: Asking): Promise<Resolution> {
  const { ports } = ask;
  const places = ports.fleet?.places ?? [];
  if (address.place) {
    if (places.length === 0) return { ok: false, error: `this deployment has no member accounts and does not know its own account id: name the cluster alone (${address.cluster}).` };
    return resolvePlaced(address.cluster, address.place, places);
  }
  if (!hasMembers(ports)) return { ok: true, ref: { cluster: address.cluster } };
  const visible = (ref: ClusterRef) => authorize(ask.policy, ask.principal, 'read', policyClusterOf(ref, hubPlace(ports))).allowed;
  return resolveShort(address.cluster, await fleetListings(ports), { visible, strict });
}

/** The inventory ports of a cluster's place: the hub's own, or a member's scope and allow-list. */
function inventoryAt(ports: CommandPorts, ref: ClusterRef): CommandPorts['inventory'] {
  if (!ref.place || !ports.fleet) return ports.inventory;
  const at = ports.fleet.places.find((p) => !p.home && p.place.accountId === ref.place!.accountId && p.place.region === ref.place!.region);
  return { ...ports.inventory, aws: ports.fleet.scopeOf(ref.place), managedClusters: at?.clusters ?? [] };
}

/** The place a reply shows for a cluster: a member's own, the hub's (when known) in a deployment with members; none otherwise. */
function shownPlace(ports: CommandPorts, ref: ClusterRef): Place | undefined {
  if (!hasMembers(ports)) return undefined;
  return ref.place ?? hubPlace(ports);
}

/**
 * Why a command needs a known person and this principal is none, or undefined. A direct
 * invocation (`via: 'lambda'`, Amazon Q's custom actions) acts as one shared identity — Lambda
 * does not say who invoked it — so it may read and act as the policy grants that identity,
 * but it cannot approve (the rule "never the requester" would compare nobody with nobody)
 * nor force a drain past PodDisruptionBudgets.
 */
function needsAPerson(command: Command, principal: Principal): string | undefined {
  if (principal.via !== 'lambda') return undefined;
  if (command.name === 'approve' || command.name === 'deny') return `${command.name} needs an authenticated person: a direct invocation cannot say who is calling. Answer from Slack or with the CLI.`;
  if (command.name === 'promote') return 'promote needs an authenticated person: a second person approves it, and a direct invocation cannot say who is calling. Use Slack or the CLI.';
  if (command.name === 'drain' && command.force) return 'drain --force needs an authenticated person: a direct invocation cannot say who is calling. Drain without --force, or use Slack or the CLI.';
  return undefined;
}

function refused(command: Command, reason: string, cluster: string | undefined): CommandOutcome {
  // `cluster`: as the audit trail keys it (refLabel)
  return { reply: refusedReply(reason), command, audit: { result: 'refused', summary: reason, clusters: cluster ? [cluster] : [] } };
}

interface Acted {
  reply: Reply;
  clusters: string[];
  /** the reply is a refusal (an authorization found late: a drain's cluster, an approval's) */
  refused?: boolean;
}

async function act(command: Exclude<Command, { name: 'help' }>, ref: ClusterRef | undefined, request: CommandRequest, ask: Asking): Promise<Acted> {
  const by = request.principal.id;
  const { ports } = ask;
  switch (command.name) {
    case 'status':
      return status(command, ref, ask);
    case 'plan':
      return plan(command, ref, ask);
    case 'doctor':
      return doctor(command, ref, ask);
    case 'history':
      return history(command, ref, ask);
    case 'approvals':
      return approvals(command, ref, ask);
    case 'rollout':
      return rollout(command, ref!, request, ask);
    case 'drain':
      return drain(command, ask);
    case 'uncordon':
      return uncordon(command, ask);
    case 'pause':
    case 'resume':
    case 'abort': {
      const { group } = command.rollout;
      const { cluster } = ref!;
      // the place rides along for the rollout functions' place-aware lock keys (RolloutControlRequest + placeFields)
      const control: RolloutControlRequest & { accountId?: string; region?: string } = { kind: 'rollout-control', cluster, group, action: command.name, requestedBy: by, ...(command.pause !== undefined ? { pause: command.pause } : {}), ...placeFieldsOf(ref!.place) };
      const out = await controlRollout(control, ports);
      const reply = out.result === 'done' ? doneReply(`:white_check_mark: ${out.summary}`, [], `execution ${executionName(out.executionArn)}`) : notDoneReply(out.summary);
      return { reply, clusters: [refLabel(ref!)] };
    }
    case 'approve':
    case 'deny':
      if (command.approval.kind === 'promotion') return answerPromoteRequest(command.approval.id, command.name, command.reason, promotionAsk(request, ask));
      return approve(command, ref, ask);
    case 'freeze':
    case 'unfreeze':
    case 'promotions':
    case 'promotion':
    case 'hold':
    case 'release':
    case 'promote':
      return runPromotionCommand(command, promotionAsk(request, ask));
  }
}

function promotionAsk(request: CommandRequest, ask: Asking): PromotionAsk {
  return { principal: ask.principal, policy: ask.policy, promotions: ask.ports.promotions, requestId: request.requestId, now: ask.ports.now };
}

/** The clusters a command that names none covers: every managed cluster of every place the principal may read, and the places that could not be asked. */
async function readableClusters(ask: Asking): Promise<{ refs: ClusterRef[]; unreachable: Unreachable[] }> {
  const { ports, policy, principal } = ask;
  const readable = (refs: ClusterRef[]) => refs.filter((ref) => authorize(policy, principal, 'read', policyClusterOf(ref, hubPlace(ports))).allowed);
  if (!hasMembers(ports)) return { refs: readable((await hubClusterNames(ports)).sort().map((cluster) => ({ cluster }))), unreachable: [] };
  const listings = await fleetListings(ports);
  return {
    refs: readable(listings.flatMap((l) => ('clusters' in l ? [...l.clusters].sort().map((c) => refAt(l.at, c)) : []))),
    unreachable: listings.flatMap((l) => ('unreachable' in l ? [{ place: l.at.place, reason: l.unreachable }] : [])),
  };
}

/** The clusters a command covers: the one it names, or every one the principal may read. */
async function clustersOf(ref: ClusterRef | undefined, ask: Asking): Promise<{ refs: ClusterRef[]; unreachable: Unreachable[] }> {
  return ref ? { refs: [ref], unreachable: [] } : readableClusters(ask);
}

/** Each cluster's groups and plans, cluster by cluster (two places' `prod/web` are two groups); `promotionPolicy`: the rings a ring tag may name. */
async function groupsOf(refs: ClusterRef[], group: string | undefined, ports: CommandPorts, channel?: string, promotionPolicy?: PromotionPolicy): Promise<{ ref: ClusterRef; groups: GroupView[]; plans: GroupPlan[] }[]> {
  const inventory = (ref: ClusterRef) => ({ ...inventoryAt(ports, ref), ...(promotionPolicy ? { promotionPolicy } : {}) });
  return Promise.all(
    refs.map(async (ref) => ({
      ref,
      ...(await cachedInventory(ports, `plan ${refLabel(ref)} ${group ?? '*'} ${channel ?? ''}${promotionPolicy ? ' rings' : ''}`, () => planGroups(inventory(ref), { cluster: ref.cluster, ...(group ? { group } : {}), ...(channel ? { channel } : {}) }))),
    })),
  );
}

function scopeOf(ref: ClusterRef | undefined, group: string | undefined): string {
  return ref ? (group ? `${refLabel(ref)}/${group}` : refLabel(ref)) : 'all clusters';
}

/** A member's place that could not be asked, and why (AssumeRole refused, an SCP…): shown in the reply, not failing it. */
type Unreachable = { place: Place; reason: string };

/** The groups of one cluster as they are, with the images they run (cached per INVENTORY_TTL_MS). */
function statusInventory(ports: CommandPorts, ref: ClusterRef): Promise<GroupView[]> {
  // the groups as they are: no image targets to resolve, unlike plan; with the images they run
  // (one DescribeImages): a self-managed group's Kubernetes minor is its image's
  return cachedInventory(ports, `status ${refLabel(ref)}`, async () => {
    const inventory = inventoryAt(ports, ref);
    const views = await listClusters(inventory, ref.cluster);
    const found = (await Promise.all(views.map((view) => listGroups(inventory, view)))).flat();
    await attachImages(inventory.aws, found);
    return found;
  });
}

async function status(command: Extract<Command, { name: 'status' }>, ref: ClusterRef | undefined, ask: Asking): Promise<Acted> {
  const { ports, policy } = ask;
  const { refs, unreachable } = await clustersOf(ref, ask);
  const inventories = await Promise.all(
    refs.map(async (r) => {
      try {
        return { ref: r, groups: (await statusInventory(ports, r)).filter((g) => !command.group || g.name === command.group) };
      } catch (error) {
        // a member that cannot be reached is shown as such; the hub's own failure fails the command, as always
        if (!r.place) throw error;
        const e = error as { name?: string; message?: string };
        unreachable.push({ place: r.place, reason: `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}` });
        return { ref: r, groups: [] };
      }
    }),
  );
  // what the instances run now is read fresh (one DescribeInstances per place), not from the inventory cache: mid-rollout it changes by the minute
  const running = await Promise.all(inventories.map(({ ref: r, groups }) => (groups.length ? imagesRunningIn(r.place ? inventoryAt(ports, r).aws : ports.aws, groups.flatMap((g) => (g.autoScalingGroup ? [g.autoScalingGroup] : []))) : new Map<string, Map<string, number>>())));
  const nameOf = (id: string) => displayNameOf(policy, id);
  const rows: GroupStatus[] = (
    await Promise.all(
      inventories.map(({ ref: r, groups }, i) =>
        Promise.all(
          groups.map(async (g) => {
            const lock = await ports.locks.get(lockKeyAt(r, g.name));
            // a rolling group's target first (how far it got), then the most common
            const target = lock?.rollout?.target.imageId;
            const images = [...(running[i]!.get(g.autoScalingGroup ?? '') ?? new Map<string, number>())].map(([imageId, count]) => ({ imageId, count })).sort((a, b) => Number(b.imageId === target) - Number(a.imageId === target) || b.count - a.count || a.imageId.localeCompare(b.imageId));
            const place = shownPlace(ports, r);
            return { group: g, ...(place ? { place } : {}), ...configurationOf(g), kubernetes: kubernetesOf(g), lock, images, ...(lock ? { rollout: rolloutNowOf(lock, nameOf) } : {}) };
          }),
        ),
      ),
    )
  ).flat();
  const labels = refs.map(refLabel);
  if (command.group && rows.length === 0 && unreachable.length === 0) return { reply: notDoneReply(`No node group ${command.group} in ${refLabel(ref!)}`), clusters: labels };
  const scope = scopeOf(ref, command.group);
  const fleet = hasMembers(ports) ? { unreachable } : undefined;
  const reply = withData(statusReply(scope, labels, rows, fleet), statusData(scope, labels, rows, fleet));
  // the freezes first: a rollout that does not start is explained before the groups are listed
  return { reply: ports.promotions ? withFreezes(reply, await ports.promotions.records.freezes()) : reply, clusters: labels };
}

/** The group's opt-in as it stands (a problem in a rollout setting stops it) and its configuration problems and notes. */
function configurationOf(group: GroupView): Pick<GroupStatus, 'optIn' | 'problems' | 'notes'> {
  const config = readNodeGroupConfig(group.tags);
  const stopped = config.policy.rollout !== 'off' && rolloutBlockers(config).length > 0;
  return { optIn: stopped ? `${config.policy.rollout} (stopped: configuration problems)` : config.policy.rollout, problems: config.problems.map(describeProblem), notes: config.notes };
}

/** `1.31`, or `1.31 (pinned, 1 minor behind 1.32)`, or `1.31 (follows 1.32: next 1.32)`. */
function kubernetesOf(group: GroupView): string {
  const policy = readNodeGroupConfig(group.tags).policy.kubernetesVersion;
  return describeKubernetesMinor(decideKubernetesMinor({ groupVersion: group.kubernetesVersion, controlPlaneVersion: group.controlPlaneVersion, policy }), group.controlPlaneVersion, policy);
}

async function plan(command: Extract<Command, { name: 'plan' }>, ref: ClusterRef | undefined, ask: Asking): Promise<Acted> {
  const { ports } = ask;
  const { refs } = await clustersOf(ref, ask);
  // with the promotion policy: a ring tag reads as its ring, as detection reads it, not as a problem
  const perCluster = await groupsOf(refs, command.group, ports, undefined, await ports.rolloutGate?.policy());
  const labels = refs.map(refLabel);
  if (command.group && perCluster.every((c) => c.plans.length === 0)) return { reply: notDoneReply(`No node group ${command.group} in ${refLabel(ref!)}`), clusters: labels };
  const now = ports.now();
  const planned = perCluster.flatMap(({ ref: r, groups, plans }) => {
    const place = shownPlace(ports, r);
    return plans.map((p) => {
      const described = describePlan(p, groups.find((g) => g.cluster === p.cluster && g.name === p.group), now);
      return place ? { ...described, place } : described;
    });
  });
  return { reply: withData(planReply(scopeOf(ref, command.group), planned), planData(scopeOf(ref, command.group), planned)), clusters: labels };
}

/** The batches and window a rollout of this group would use (its tags; --max-unavailable overrides). */
export function describePlan(plan: GroupPlan, group: GroupView | undefined, now: Date, override?: number | `${number}%`): PlannedGroup {
  if (!group) return { plan };
  const { policy } = readRolloutPolicy(group.tags);
  const size = group.size?.desired;
  const maxUnavailable = override ?? policy.maxUnavailable;
  const planned: PlannedGroup = { plan, ...(size !== undefined ? { size } : {}), maxUnavailable: String(maxUnavailable) };
  if (policy.window) {
    const state = windowState(policy.window, now);
    planned.window = state.open ? `open until ${state.closesAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : `opens ${state.opensAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }
  if (size !== undefined && group.kind === 'self-managed' && policy.selfManagedStrategy === 'batches' && size > 0) {
    planned.batches = batchShape(size, resolveMaxUnavailable(maxUnavailable, size), policy.canary).batches;
  }
  return planned;
}

/** Read only, and never cached: what doctor reports is what the service sees now. */
async function doctor(command: Extract<Command, { name: 'doctor' }>, ref: ClusterRef | undefined, ask: Asking): Promise<Acted> {
  const { ports } = ask;
  const { refs } = await clustersOf(ref, ask);
  const clusters = refs.map(refLabel);
  const promotionPolicy = await ports.rolloutGate?.policy();
  const diagnoses = await Promise.all(
    refs.map(async (r) => {
      const found = await diagnose({ inventory: { ...inventoryAt(ports, r), ...(promotionPolicy ? { promotionPolicy } : {}) }, probe: (cluster) => ports.doctorProbe(cluster, r.place) }, { cluster: r.cluster, ...(command.group ? { group: command.group } : {}) });
      // a member's cluster is named with its place, in the text and the data alike
      return r.place ? { ...found, cluster: refLabel(r), groups: found.groups.map((g) => ({ ...g, cluster: refLabel(r) })) } : found;
    }),
  );
  const diagnosis = summarize(diagnoses);
  if (command.group && diagnoses.every((d) => d.groups.length === 0 && !diagnosis.blocking)) return { reply: notDoneReply(`No node group ${command.group} in ${refLabel(ref!)}`), clusters };
  return { reply: withData(doctorReply(scopeOf(ref, command.group), diagnosis), diagnosisData(scopeOf(ref, command.group), diagnosis)), clusters };
}

/** The audit trail keys a member's cluster by its label (`444455556666/eu-west-1/prod`), the hub's by name as always: history reads it so. */
async function history(_command: Extract<Command, { name: 'history' }>, ref: ClusterRef | undefined, ask: Asking): Promise<Acted> {
  const { ports } = ask;
  const clusters = (await clustersOf(ref, ask)).refs.map(refLabel);
  const entries = (await Promise.all(clusters.map((c) => ports.auditLog.history(c, { limit: 20 })))).flat();
  // an entry naming two clusters appears in both histories: once is enough
  const unique = [...new Map(entries.map((e) => [`${e.requestId}#${e.at}`, e])).values()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 20);
  return { reply: withData(historyReply(scopeOf(ref, undefined), unique), historyData(scopeOf(ref, undefined), unique)), clusters };
}

/** The approvals waiting in each cluster the principal may read, oldest first: one Query per cluster. */
async function approvals(_command: Extract<Command, { name: 'approvals' }>, ref: ClusterRef | undefined, ask: Asking): Promise<Acted> {
  const { ports } = ask;
  const { refs } = await clustersOf(ref, ask);
  const now = ports.now();
  const waiting = (await Promise.all(refs.map((r) => ports.approvals.pendingApprovals(r.cluster, now, r.place)))).flat().sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  const scope = scopeOf(ref, undefined);
  return { reply: withData(approvalsReply(scope, waiting), approvalsData(scope, waiting)), clusters: refs.map(refLabel) };
}

/** A read command's reply with its answer as data (what the CLI's `-o json` prints), built from the same values as its text. */
function withData(reply: Reply, data: ReplyData): Reply {
  return { ...reply, data };
}

function channelFor(ami: Extract<Command, { name: 'rollout' }>['ami']): string {
  switch (ami.kind) {
    case 'latest':
      return 'recommended';
    case 'release':
      return `pinned=${ami.release}`;
    case 'image':
      return `pinned=${ami.imageId}`;
  }
}

/** An execution name for a person's rollout: unique per request, so a retry after a failure is a new rollout. */
export function chatRolloutName(cluster: string, group: string, requestId: string): string {
  const slug = (s: string, n: number) => s.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, n);
  return `chat-${slug(cluster, 20)}-${slug(group, 30)}-${requestId.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}`.slice(0, 80);
}

async function rollout(command: Extract<Command, { name: 'rollout' }>, ref: ClusterRef, request: CommandRequest, ask: Asking): Promise<Acted> {
  const { ports, policy } = ask;
  const who = `${refLabel(ref)}/${command.group}`;
  const clusters = [refLabel(ref)];
  const lock = await ports.locks.get(lockKeyAt(ref, command.group));
  if (lock && lock.expiresAt > ports.now().getTime() / 1000) {
    return { reply: notDoneReply(`${who} is already rolling (${executionName(lock.owner)}); nothing new was started`, ['Use `status`, `pause`, `resume` or `abort` on it.']), clusters };
  }
  const gate = ports.rolloutGate;
  const [found] = await groupsOf([ref], command.group, ports, channelFor(command.ami), await gate?.policy());
  const group = found?.groups[0];
  const plan = found?.plans[0];
  if (!group || !plan) return { reply: notDoneReply(`No node group ${command.group} in ${refLabel(ref)}`, ['`status ' + refLabel(ref) + '` lists its groups.']), clusters };
  // an image from an owner the group does not trust is refused, not merely "nothing to roll"
  if (plan.action === 'skip' && plan.untrusted) return { reply: refusedReply(`${who} may not roll onto ${plan.untrusted.imageId}: ${plan.reason}; nothing was started`), clusters, refused: true };
  if (plan.action !== 'roll') return { reply: notDoneReply(`${who}: nothing to roll — ${plan.reason}`), clusters };
  // a freeze, a hold of the release, or a ring its promotion has not reached: what stops detection stops a person too
  const refusal = gate ? rolloutRefusal(plan, await gate.fleetView()) : undefined;
  if (refusal) return { reply: notDoneReply(`${who} may not roll now: ${refusal.reason}; nothing was started`, refusal.next), clusters };

  const approval = plan.mode === 'approve' || requiresApproval(policy, policyClusterOf(ref, hubPlace(ports)));
  if (plan.observe) {
    // observe mode (the service's, or the group's rollout=observe): the rollout planned and told, nothing started
    const instances = group.kind === 'self-managed' && group.autoScalingGroup ? await describeGroupMembers(inventoryAt(ports, ref).aws, group.autoScalingGroup) : [];
    const maxUnavailable: Record<string, string> = command.maxUnavailable === undefined ? {} : { 'eks-node-lifecycle/max-unavailable': String(command.maxUnavailable) };
    const observed = observeRollout({
      group: { ...group, tags: { ...group.tags, ...maxUnavailable } },
      plan,
      observedBy: plan.observe,
      trigger: 'chat',
      instances,
      startedBy: 'person',
      ...(command.now ? { startNow: true } : {}),
      approvalRequired: approval,
      now: ports.now(),
    });
    return { reply: doneReply(`:eyes: ${observed.summary.replace(/^observe mode: would/, `${observeLabel(plan.observe)}: would`)}`, observed.wouldDo, 'nothing was started'), clusters };
  }
  const input: RolloutInput = {
    ...rolloutInputOf(group, plan),
    // the member's place (RolloutInputSchema placeFields); none for the hub's own, as before
    ...placeFieldsOf(ref.place),
    mode: approval ? 'approve' : 'auto',
    startedBy: { kind: 'person', who: request.principal.id, startNow: command.now },
    overrides: command.maxUnavailable === undefined ? {} : { maxUnavailable: command.maxUnavailable },
  };
  // unique per request, so no two places' rollouts can share it; the state machine is the hub's
  const name = chatRolloutName(ref.cluster, command.group, request.requestId);
  const started = await startExecutionOnce(ports.aws, ports.amiRolloutStateMachineArn, name, input);
  // the reply says what Begin decided (it runs now, waits, or was refused), not merely that it was asked
  const begin = await awaitBeginDecision({ executionArn: started.executionArn, cluster: ref.cluster, group: command.group, lockKey: lockKeyAt(ref, command.group) }, ports);
  const headline = beginHeadline(who, begin);
  const context = `execution ${name}${started.started ? '' : ' (already started by this request)'}`;
  if (!headline.ok) return { reply: notDoneReply(headline.title, ['nothing was changed in the group']), clusters };
  const described = describePlan(plan, group, ports.now(), command.maxUnavailable);
  const lines = [
    `from ${plan.from.release ?? plan.from.imageId ?? 'unknown'} to ${describeImage(plan.to)}`,
    described.batches ? `${described.batches} batches of at most ${described.maxUnavailable} node(s), canary first` : group.kind === 'managed' ? `an EKS managed node group update (max unavailable ${described.maxUnavailable})` : `max unavailable ${described.maxUnavailable}`,
    ...(headline.next ? [headline.next] : []),
    ...(begin.kind === 'decided' && begin.decision.decision === 'proceed' && begin.decision.approval ? ['approval by someone other than you'] : []),
    'progress follows in the rollout thread',
  ];
  return { reply: doneReply(headline.title, lines, context), clusters };
}

type FoundInstance = { instanceId: string; tags: Record<string, string>; nodeName?: string };

async function findInstance(target: NodeTarget, aws: AwsScope): Promise<FoundInstance | undefined> {
  if (target.kind === 'instance') {
    const found = await describeInstance(aws, target.instanceId);
    return found && found.state !== 'terminated' ? { instanceId: found.instanceId, tags: found.tags, ...(found.privateDnsName ? { nodeName: found.privateDnsName } : {}) } : undefined;
  }
  // node names are the instance's private DNS name, or (resource-name hostnames) its id
  const byId = instanceIdOfHostname(target.nodeName);
  if (byId) return findInstance({ kind: 'instance', instanceId: byId }, aws);
  const instance = await findInstanceByPrivateDnsName(aws, target.nodeName);
  return instance ? { ...instance, nodeName: target.nodeName } : undefined;
}

/**
 * Where a node lives: the place written with it; else the hub (as always), then — with
 * members — every member place, FLEET_LIST_CONCURRENCY at a time. Two places with the node
 * (private DNS names repeat across VPCs) is an error naming them; a member that cannot be
 * asked is skipped.
 */
async function findInstanceInFleet(target: NodeTarget, place: Place | undefined, ports: CommandPorts): Promise<{ instance: FoundInstance; place?: Place } | { error: string } | undefined> {
  const label = target.kind === 'instance' ? target.instanceId : target.nodeName;
  if (place) {
    const at = ports.fleet?.places.find((p) => p.place.accountId === place.accountId && p.place.region === place.region);
    if (!at) return { error: `${placeKey(place)} is not a place this deployment looks after.` };
    const instance = await findInstance(target, at.home ? ports.aws : ports.fleet!.scopeOf(place));
    return instance ? { instance, ...(at.home ? {} : { place }) } : undefined;
  }
  const home = await findInstance(target, ports.aws);
  if (home || !hasMembers(ports)) return home ? { instance: home } : undefined;
  const members = ports.fleet!.places.filter((p) => !p.home);
  const found = (await mapBounded(members, FLEET_LIST_CONCURRENCY, async (at) => {
    const instance = await findInstance(target, ports.fleet!.scopeOf(at.place)).catch(() => undefined);
    return instance ? [{ instance, place: at.place }] : [];
  })).flat();
  if (found.length > 1) return { error: `${label} is in ${found.length} places: ${found.map((f) => `${placeKey(f.place)}/${label}`).join(', ')} — name one.` };
  return found[0];
}

type NodeTarget = Extract<Command, { name: 'drain' | 'uncordon' }>['target'];

/**
 * The instance a drain or uncordon names and its cluster, authorized for that cluster (known
 * only now); or the reply that ends the command: no such instance, no cluster the service
 * knows, not allowed, or a Karpenter node (Karpenter's to drain and to put back).
 */
async function nodeOfCommand(command: Extract<Command, { name: 'drain' | 'uncordon' }>, ask: Asking): Promise<{ instanceId: string; ref: ClusterRef; label: string; tags: Record<string, string> } | { ended: Acted }> {
  const { ports, policy, principal } = ask;
  const target = command.target;
  const label = target.kind === 'instance' ? target.instanceId : target.nodeName;
  const located = await findInstanceInFleet(target, command.place, ports);
  if (located && 'error' in located) return { ended: { reply: notDoneReply(located.error), clusters: [] } };
  if (!located) return { ended: { reply: notDoneReply(`No running instance is ${label}`), clusters: [] } };
  const { instance } = located;
  const cluster = clustersNamedBy(instance.tags)[0];
  // Karpenter's nodes are Karpenter's to drain (its disruption budgets, or kubectl delete node, which it finalizes)
  const karpenter = karpenterNode(instance.tags);
  const karpenterRefusal = (clusters: string[]): { ended: Acted } => ({ ended: { reply: refusedReply(`${label}${label === instance.instanceId ? '' : ` (${instance.instanceId})`} is ${karpenter}`), clusters, refused: true } });
  if (!cluster) return karpenter ? karpenterRefusal([]) : { ended: { reply: notDoneReply(`${label} (${instance.instanceId}) belongs to no EKS cluster this service knows`), clusters: [] } };
  const ref: ClusterRef = located.place ? { cluster, place: located.place } : { cluster };
  // the cluster is known only now: authorize again, for it
  const allowed = authorize(policy, principal, 'act', policyClusterOf(ref, hubPlace(ports)));
  if (!allowed.allowed) return { ended: { reply: refusedReply(allowed.reason), clusters: [refLabel(ref)], refused: true } };
  if (karpenter) return karpenterRefusal([refLabel(ref)]);
  return { instanceId: instance.instanceId, ref, label, tags: instance.tags };
}

async function uncordon(command: Extract<Command, { name: 'uncordon' }>, ask: Asking): Promise<Acted> {
  const { ports, principal } = ask;
  const found = await nodeOfCommand(command, ask);
  if ('ended' in found) return found.ended;
  const { instanceId, ref, label } = found;
  const cluster = refLabel(ref);
  const what = `${label}${label === instanceId ? '' : ` (${instanceId})`} in ${cluster}`;
  // a rollout drains its old nodes to replace them: pods let back on would go with the instance, unevicted
  const group = found.tags['eks:nodegroup-name'] ?? found.tags['aws:autoscaling:groupName'];
  const lock = group ? await ports.locks.get(lockKeyAt(ref, group)) : undefined;
  if (lock && lock.expiresAt > ports.now().getTime() / 1000) {
    return { reply: refusedReply(`uncordon ${what}: ${cluster}/${group} is being rolled (${executionName(lock.owner)}), which replaces its nodes; \`abort ${cluster}/${group}\` uncordons the old ones`), clusters: [cluster], refused: true };
  }
  const out = await ports.uncordon({ kind: 'manual-uncordon', ...placeFieldsOf(ref.place), cluster: ref.cluster, instanceId, requestedBy: principal.id });
  const kept = (lines: string[]) => lines.map((line) => `kept ${line}`);
  switch (out.outcome) {
    case 'uncordoned':
      return { reply: doneReply(`:arrow_forward: Uncordoned ${what}`, [...out.tookBack.map((line) => `took back ${line}`), ...kept(out.kept)], `node ${out.nodeName}`), clusters: [cluster] };
    case 'nothing-to-do':
      return { reply: doneReply(`${what}: nothing to uncordon — ${out.reason}`, kept(out.kept)), clusters: [cluster] };
    case 'refused':
      return { reply: refusedReply(`uncordon ${what}: ${out.reason}`), clusters: [cluster], refused: true };
  }
}

async function drain(command: Extract<Command, { name: 'drain' }>, ask: Asking): Promise<Acted> {
  const { ports, principal } = ask;
  const found = await nodeOfCommand(command, ask);
  if ('ended' in found) return found.ended;
  const { ref, label } = found;
  const cluster = refLabel(ref);
  const instance = { instanceId: found.instanceId };
  // requestDrain forces a drain only with a grant this authorization wrote: it cannot tell who invoked it
  const forceGrant = command.force ? await ports.guards.grantForcedDrain({ instanceId: instance.instanceId, by: principal.id, now: ports.now() }) : undefined;
  const out = await ports.requestDrain({ kind: 'manual-drain', ...placeFieldsOf(ref.place), cluster: ref.cluster, instanceId: instance.instanceId, force: command.force, ...(forceGrant ? { forceGrant } : {}), requestedBy: principal.id });
  const what = `${label}${label === instance.instanceId ? '' : ` (${instance.instanceId})`} in ${cluster}`;
  switch (out.outcome) {
    case 'started':
      return { reply: doneReply(`:droplet: Draining ${what}`, [command.force ? 'force: pods still blocked by a PodDisruptionBudget at the drain timeout are deleted' : 'PodDisruptionBudgets are respected; blockers are reported by name'], out.executionName ? `execution ${out.executionName}` : undefined), clusters: [cluster] };
    case 'joined':
      return { reply: doneReply(`${what} is already being drained`, out.reason ? [out.reason] : []), clusters: [cluster] };
    case 'completed-now':
      return { reply: doneReply(`${what} was already drained`, out.reason ? [out.reason] : []), clusters: [cluster] };
    case 'ignored':
      return { reply: notDoneReply(`Not draining ${what}: ${out.reason}`), clusters: [cluster] };
    case 'observed':
      return { reply: doneReply(`:eyes: ${out.observed.summary.replace(/^observe mode: [^:]+: would/, `${observeLabel(out.observed.observedBy)}: would`)}`, out.observed.wouldDo, 'nothing was changed'), clusters: [cluster] };
  }
}

/** The place an approval record names (the rollout functions may record it for a member's rollout); none: the hub's own. */
function refOfApproval(approval: { cluster: string; accountId?: unknown; region?: unknown }): ClusterRef {
  return typeof approval.accountId === 'string' && typeof approval.region === 'string' ? { cluster: approval.cluster, place: { accountId: approval.accountId, region: approval.region } } : { cluster: approval.cluster };
}

async function approve(command: Extract<Command, { name: 'approve' | 'deny' }>, groupRef: ClusterRef | undefined, ask: Asking): Promise<Acted> {
  const { ports, policy, principal } = ask;
  const decision = command.name === 'approve' ? 'approved' : 'denied';
  let approvalId: string;
  let ref: ClusterRef;
  if (command.approval.kind === 'group') {
    ref = groupRef!;
    const lock = await ports.locks.get(lockKeyAt(ref, command.approval.group));
    if (!lock?.approvalId) return { reply: notDoneReply(`No rollout of ${refLabel(ref)}/${command.approval.group} is waiting for approval`), clusters: [refLabel(ref)] };
    approvalId = lock.approvalId;
  } else {
    approvalId = command.approval.id;
    const found = await ports.approvals.getApproval(approvalId);
    if (!found) return { reply: notDoneReply(`No approval ${approvalId}`, ['Approvals are kept for a week after they expire.']), clusters: [NO_CLUSTER] };
    ref = refOfApproval(found);
    // the approval's cluster is known only now: authorize again, for it
    const allowed = authorize(policy, principal, 'approve', policyClusterOf(ref, hubPlace(ports)));
    if (!allowed.allowed) return { reply: refusedReply(allowed.reason), clusters: [refLabel(ref)], refused: true };
  }
  const cluster = refLabel(ref);
  const out = await answerApproval(approvalId, { decision, by: principal.id, reason: command.reason }, ports);
  if (out.result === 'done') {
    return { reply: doneReply(`${decision === 'approved' ? ':white_check_mark: Approved' : ':no_entry_sign: Denied'}: ${refLabel(refOfApproval(out.approval))}/${out.approval.group} onto ${out.approval.target}`, [`by ${principalMention(principal)}${command.reason ? `: ${command.reason}` : ''}`], `approval ${approvalId} · execution ${executionName(out.approval.executionArn)}`), clusters: [cluster] };
  }
  return { reply: notDoneReply(out.result === 'own-request' ? `:no_entry: ${out.summary}` : out.summary), clusters: [cluster], refused: out.result === 'own-request' };
}
