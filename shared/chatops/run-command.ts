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
import { type AccessPolicy, authorize, clustersVisibleTo, displayNameOf, requiresApproval } from './access-policy.js';
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
import { commandCluster, formatCommand, parseCommand, requiredLevel } from './grammar.js';
import { awaitBeginDecision, beginHeadline } from './await-begin.js';
import { helpReply } from './help.js';
import { principalMention } from './mentions.js';
import type { RequestGuards } from './request-guards.js';
import { approvalsData, diagnosisData, type GroupStatus, historyData, type PlannedGroup, planData, type ReplyData, statusData } from './reply-data.js';
import type { Command, Principal, Reply } from './types.js';
import { instanceIdOfHostname } from '../ids.js';

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
  inventory: Omit<DetectPorts, 'amiRolloutStateMachineArn'>;
  /** asks the requestDrain function to drain one instance (it owns the drain rules) */
  requestDrain: (request: ManualDrainRequest) => Promise<RequestDrainOutcome>;
  /** asks the requestDrain function to take back what a drain added to one instance's node (it has the cluster access and the drain records) */
  uncordon: (request: ManualUncordonRequest) => Promise<UncordonOutcome>;
  /** asks the doctorProbe function what the service sees of a cluster's Kubernetes API (it is in the service's Kubernetes group) */
  doctorProbe: (cluster: string) => Promise<ClusterProbe>;
  /** a short wait inside the invocation (a rollout's reply waits, bounded, for Begin's decision) */
  sleep: (ms: number) => Promise<void>;
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

  const cluster = commandCluster(command);
  const anonymous = needsAPerson(command, request.principal);
  if (anonymous) return refused(command, anonymous, cluster);
  // a person's burst costs at most COMMANDS_PER_MINUTE commands' worth of AWS calls
  if (!(await ports.guards.takeCommandToken(request.principal.id, request.receivedAt, COMMANDS_PER_MINUTE))) {
    const next = new Date(Math.floor(request.receivedAt.getTime() / 60_000) * 60_000 + 60_000);
    return refused(command, `Too many commands: at most ${COMMANDS_PER_MINUTE} a minute per person. Try again after ${next.toISOString().slice(11, 19)} UTC.`, cluster);
  }
  const policy = await ports.policy();
  const level = requiredLevel(command)!;
  const allowed = authorize(policy, request.principal, level, cluster);
  if (!allowed.allowed) return refused(command, allowed.reason, cluster);

  try {
    const result = await act(command, request, policy, ports);
    return { reply: result.reply, command, audit: { result: result.reply.ok ? 'done' : result.refused ? 'refused' : 'failed', summary: result.reply.title, clusters: result.clusters } };
  } catch (error) {
    ports.log('chat command failed', { command: command.name, error: (error as Error)?.message });
    const reply = failedReply(formatCommand(command), error);
    return { reply, command, audit: { result: 'failed', summary: reply.title, clusters: cluster ? [cluster] : [] } };
  }
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
  if (command.name === 'drain' && command.force) return 'drain --force needs an authenticated person: a direct invocation cannot say who is calling. Drain without --force, or use Slack or the CLI.';
  return undefined;
}

function refused(command: Command, reason: string, cluster: string | undefined): CommandOutcome {
  return { reply: refusedReply(reason), command, audit: { result: 'refused', summary: reason, clusters: cluster ? [cluster] : [] } };
}

interface Acted {
  reply: Reply;
  clusters: string[];
  /** the reply is a refusal (an authorization found late: a drain's cluster, an approval's) */
  refused?: boolean;
}

async function act(command: Exclude<Command, { name: 'help' }>, request: CommandRequest, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const by = request.principal.id;
  switch (command.name) {
    case 'status':
      return status(command, request.principal, policy, ports);
    case 'plan':
      return plan(command, request.principal, policy, ports);
    case 'doctor':
      return doctor(command, request.principal, policy, ports);
    case 'history':
      return history(command, request.principal, policy, ports);
    case 'approvals':
      return approvals(command, request.principal, policy, ports);
    case 'rollout':
      return rollout(command, request, policy, ports);
    case 'drain':
      return drain(command, request.principal, policy, ports);
    case 'uncordon':
      return uncordon(command, request.principal, policy, ports);
    case 'pause':
    case 'resume':
    case 'abort': {
      const { cluster, group } = command.rollout;
      const out = await controlRollout({ kind: 'rollout-control', cluster, group, action: command.name, requestedBy: by, ...(command.pause !== undefined ? { pause: command.pause } : {}) }, ports);
      const reply = out.result === 'done' ? doneReply(`:white_check_mark: ${out.summary}`, [], `execution ${executionName(out.executionArn)}`) : notDoneReply(out.summary);
      return { reply, clusters: [cluster] };
    }
    case 'approve':
    case 'deny':
      return approve(command, request.principal, policy, ports);
  }
}

/** The clusters a command without one covers: every managed cluster the principal may read. */
async function readableClusters(principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<string[]> {
  return clustersVisibleTo(policy, principal, 'read', (await cachedInventory(ports, 'clusters', () => listClusterNames(ports.inventory))).sort());
}

async function groupsOf(clusters: string[], group: string | undefined, ports: CommandPorts, channel?: string): Promise<{ groups: GroupView[]; plans: GroupPlan[] }> {
  const all = await Promise.all(
    clusters.map((cluster) => cachedInventory(ports, `plan ${cluster} ${group ?? '*'} ${channel ?? ''}`, () => planGroups(ports.inventory, { cluster, ...(group ? { group } : {}), ...(channel ? { channel } : {}) }))),
  );
  return { groups: all.flatMap((a) => a.groups), plans: all.flatMap((a) => a.plans) };
}

function scopeOf(cluster: string | undefined, group: string | undefined): string {
  return cluster ? (group ? `${cluster}/${group}` : cluster) : 'all clusters';
}

async function status(command: Extract<Command, { name: 'status' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const clusters = command.cluster ? [command.cluster] : await readableClusters(principal, policy, ports);
  // the groups as they are: no image targets to resolve, unlike plan; with the images they run
  // (one DescribeImages): a self-managed group's Kubernetes minor is its image's
  const inventories = await Promise.all(
    clusters.map((cluster) =>
      cachedInventory(ports, `status ${cluster}`, async () => {
        const views = await listClusters(ports.inventory, cluster);
        const found = (await Promise.all(views.map((view) => listGroups(ports.inventory, view)))).flat();
        await attachImages(ports.inventory.aws, found);
        return found;
      }),
    ),
  );
  const groups = inventories.flat().filter((g) => !command.group || g.name === command.group);
  // what the instances run now is read fresh (one DescribeInstances for every group), not from the inventory cache: mid-rollout it changes by the minute
  const running = await imagesRunningIn(ports.aws, groups.flatMap((g) => (g.autoScalingGroup ? [g.autoScalingGroup] : [])));
  const nameOf = (id: string) => displayNameOf(policy, id);
  const rows: GroupStatus[] = await Promise.all(
    groups.map(async (g) => {
      const lock = await ports.locks.get(lockKeyOf(g.cluster, g.name));
      // a rolling group's target first (how far it got), then the most common
      const target = lock?.rollout?.target.imageId;
      const images = [...(running.get(g.autoScalingGroup ?? '') ?? new Map<string, number>())].map(([imageId, count]) => ({ imageId, count })).sort((a, b) => Number(b.imageId === target) - Number(a.imageId === target) || b.count - a.count || a.imageId.localeCompare(b.imageId));
      return { group: g, ...configurationOf(g), kubernetes: kubernetesOf(g), lock, images, ...(lock ? { rollout: rolloutNowOf(lock, nameOf) } : {}) };
    }),
  );
  if (command.group && rows.length === 0) return { reply: notDoneReply(`No node group ${command.group} in ${command.cluster}`), clusters };
  return { reply: withData(statusReply(scopeOf(command.cluster, command.group), clusters, rows), statusData(scopeOf(command.cluster, command.group), clusters, rows)), clusters };
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

async function plan(command: Extract<Command, { name: 'plan' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const clusters = command.cluster ? [command.cluster] : await readableClusters(principal, policy, ports);
  const { groups, plans } = await groupsOf(clusters, command.group, ports);
  if (command.group && plans.length === 0) return { reply: notDoneReply(`No node group ${command.group} in ${command.cluster}`), clusters };
  const now = ports.now();
  const planned = plans.map((p) => describePlan(p, groups.find((g) => g.cluster === p.cluster && g.name === p.group), now));
  return { reply: withData(planReply(scopeOf(command.cluster, command.group), planned), planData(scopeOf(command.cluster, command.group), planned)), clusters };
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
async function doctor(command: Extract<Command, { name: 'doctor' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const clusters = command.cluster ? [command.cluster] : await readableClusters(principal, policy, ports);
  const diagnoses = await Promise.all(clusters.map((cluster) => diagnose({ inventory: ports.inventory, probe: ports.doctorProbe }, { cluster, ...(command.group ? { group: command.group } : {}) })));
  const diagnosis = summarize(diagnoses);
  if (command.group && diagnoses.every((d) => d.groups.length === 0 && !diagnosis.blocking)) return { reply: notDoneReply(`No node group ${command.group} in ${command.cluster}`), clusters };
  return { reply: withData(doctorReply(scopeOf(command.cluster, command.group), diagnosis), diagnosisData(scopeOf(command.cluster, command.group), diagnosis)), clusters };
}

async function history(command: Extract<Command, { name: 'history' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const clusters = command.cluster ? [command.cluster] : await readableClusters(principal, policy, ports);
  const entries = (await Promise.all(clusters.map((c) => ports.auditLog.history(c, { limit: 20 })))).flat();
  // an entry naming two clusters appears in both histories: once is enough
  const unique = [...new Map(entries.map((e) => [`${e.requestId}#${e.at}`, e])).values()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 20);
  return { reply: withData(historyReply(scopeOf(command.cluster, undefined), unique), historyData(scopeOf(command.cluster, undefined), unique)), clusters };
}

/** The approvals waiting in each cluster the principal may read, oldest first: one Query per cluster. */
async function approvals(command: Extract<Command, { name: 'approvals' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const clusters = command.cluster ? [command.cluster] : await readableClusters(principal, policy, ports);
  const now = ports.now();
  const waiting = (await Promise.all(clusters.map((c) => ports.approvals.pendingApprovals(c, now)))).flat().sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  const scope = scopeOf(command.cluster, undefined);
  return { reply: withData(approvalsReply(scope, waiting), approvalsData(scope, waiting)), clusters };
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

async function rollout(command: Extract<Command, { name: 'rollout' }>, request: CommandRequest, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const who = `${command.cluster}/${command.group}`;
  const clusters = [command.cluster];
  const lock = await ports.locks.get(lockKeyOf(command.cluster, command.group));
  if (lock && lock.expiresAt > ports.now().getTime() / 1000) {
    return { reply: notDoneReply(`${who} is already rolling (${executionName(lock.owner)}); nothing new was started`, ['Use `status`, `pause`, `resume` or `abort` on it.']), clusters };
  }
  const { groups, plans } = await groupsOf(clusters, command.group, ports, channelFor(command.ami));
  const group = groups[0];
  const plan = plans[0];
  if (!group || !plan) return { reply: notDoneReply(`No node group ${command.group} in ${command.cluster}`, ['`status ' + command.cluster + '` lists its groups.']), clusters };
  // an image from an owner the group does not trust is refused, not merely "nothing to roll"
  if (plan.action === 'skip' && plan.untrusted) return { reply: refusedReply(`${who} may not roll onto ${plan.untrusted.imageId}: ${plan.reason}; nothing was started`), clusters, refused: true };
  if (plan.action !== 'roll') return { reply: notDoneReply(`${who}: nothing to roll — ${plan.reason}`), clusters };

  const approval = plan.mode === 'approve' || requiresApproval(policy, command.cluster);
  if (plan.observe) {
    // observe mode (the service's, or the group's rollout=observe): the rollout planned and told, nothing started
    const instances = group.kind === 'self-managed' && group.autoScalingGroup ? await describeGroupMembers(ports.inventory.aws, group.autoScalingGroup) : [];
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
    mode: approval ? 'approve' : 'auto',
    startedBy: { kind: 'person', who: request.principal.id, startNow: command.now },
    overrides: command.maxUnavailable === undefined ? {} : { maxUnavailable: command.maxUnavailable },
  };
  const name = chatRolloutName(command.cluster, command.group, request.requestId);
  const started = await startExecutionOnce(ports.aws, ports.amiRolloutStateMachineArn, name, input);
  // the reply says what Begin decided (it runs now, waits, or was refused), not merely that it was asked
  const begin = await awaitBeginDecision({ executionArn: started.executionArn, cluster: command.cluster, group: command.group }, ports);
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

async function findInstance(target: NodeTarget, aws: AwsScope): Promise<{ instanceId: string; tags: Record<string, string>; nodeName?: string } | undefined> {
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

type NodeTarget = Extract<Command, { name: 'drain' | 'uncordon' }>['target'];

/**
 * The instance a drain or uncordon names and its cluster, authorized for that cluster (known
 * only now); or the reply that ends the command: no such instance, no cluster the service
 * knows, not allowed, or a Karpenter node (Karpenter's to drain and to put back).
 */
async function nodeOfCommand(target: NodeTarget, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<{ instanceId: string; cluster: string; label: string; tags: Record<string, string> } | { ended: Acted }> {
  const label = target.kind === 'instance' ? target.instanceId : target.nodeName;
  const instance = await findInstance(target, ports.aws);
  if (!instance) return { ended: { reply: notDoneReply(`No running instance is ${label}`), clusters: [] } };
  const cluster = clustersNamedBy(instance.tags)[0];
  // Karpenter's nodes are Karpenter's to drain (its disruption budgets, or kubectl delete node, which it finalizes)
  const karpenter = karpenterNode(instance.tags);
  const karpenterRefusal = (clusters: string[]): { ended: Acted } => ({ ended: { reply: refusedReply(`${label}${label === instance.instanceId ? '' : ` (${instance.instanceId})`} is ${karpenter}`), clusters, refused: true } });
  if (!cluster) return karpenter ? karpenterRefusal([]) : { ended: { reply: notDoneReply(`${label} (${instance.instanceId}) belongs to no EKS cluster this service knows`), clusters: [] } };
  // the cluster is known only now: authorize again, for it
  const allowed = authorize(policy, principal, 'act', cluster);
  if (!allowed.allowed) return { ended: { reply: refusedReply(allowed.reason), clusters: [cluster], refused: true } };
  if (karpenter) return karpenterRefusal([cluster]);
  return { instanceId: instance.instanceId, cluster, label, tags: instance.tags };
}

async function uncordon(command: Extract<Command, { name: 'uncordon' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const found = await nodeOfCommand(command.target, principal, policy, ports);
  if ('ended' in found) return found.ended;
  const { instanceId, cluster, label } = found;
  const what = `${label}${label === instanceId ? '' : ` (${instanceId})`} in ${cluster}`;
  // a rollout drains its old nodes to replace them: pods let back on would go with the instance, unevicted
  const group = found.tags['eks:nodegroup-name'] ?? found.tags['aws:autoscaling:groupName'];
  const lock = group ? await ports.locks.get(lockKeyOf(cluster, group)) : undefined;
  if (lock && lock.expiresAt > ports.now().getTime() / 1000) {
    return { reply: refusedReply(`uncordon ${what}: ${cluster}/${group} is being rolled (${executionName(lock.owner)}), which replaces its nodes; \`abort ${cluster}/${group}\` uncordons the old ones`), clusters: [cluster], refused: true };
  }
  const out = await ports.uncordon({ kind: 'manual-uncordon', cluster, instanceId, requestedBy: principal.id });
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

async function drain(command: Extract<Command, { name: 'drain' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const found = await nodeOfCommand(command.target, principal, policy, ports);
  if ('ended' in found) return found.ended;
  const { cluster, label } = found;
  const instance = { instanceId: found.instanceId };
  // requestDrain forces a drain only with a grant this authorization wrote: it cannot tell who invoked it
  const forceGrant = command.force ? await ports.guards.grantForcedDrain({ instanceId: instance.instanceId, by: principal.id, now: ports.now() }) : undefined;
  const out = await ports.requestDrain({ kind: 'manual-drain', cluster, instanceId: instance.instanceId, force: command.force, ...(forceGrant ? { forceGrant } : {}), requestedBy: principal.id });
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

async function approve(command: Extract<Command, { name: 'approve' | 'deny' }>, principal: Principal, policy: AccessPolicy, ports: CommandPorts): Promise<Acted> {
  const decision = command.name === 'approve' ? 'approved' : 'denied';
  let approvalId: string;
  let cluster: string;
  if (command.approval.kind === 'group') {
    cluster = command.approval.cluster;
    const lock = await ports.locks.get(lockKeyOf(cluster, command.approval.group));
    if (!lock?.approvalId) return { reply: notDoneReply(`No rollout of ${cluster}/${command.approval.group} is waiting for approval`), clusters: [cluster] };
    approvalId = lock.approvalId;
  } else {
    approvalId = command.approval.id;
    const found = await ports.approvals.getApproval(approvalId);
    if (!found) return { reply: notDoneReply(`No approval ${approvalId}`, ['Approvals are kept for a week after they expire.']), clusters: [NO_CLUSTER] };
    cluster = found.cluster;
    // the approval's cluster is known only now: authorize again, for it
    const allowed = authorize(policy, principal, 'approve', cluster);
    if (!allowed.allowed) return { reply: refusedReply(allowed.reason), clusters: [cluster], refused: true };
  }
  const out = await answerApproval(approvalId, { decision, by: principal.id, reason: command.reason }, ports);
  if (out.result === 'done') {
    return { reply: doneReply(`${decision === 'approved' ? ':white_check_mark: Approved' : ':no_entry_sign: Denied'}: ${out.approval.cluster}/${out.approval.group} onto ${out.approval.target}`, [`by ${principalMention(principal)}${command.reason ? `: ${command.reason}` : ''}`], `approval ${approvalId} · execution ${executionName(out.approval.executionArn)}`), clusters: [cluster] };
  }
  return { reply: notDoneReply(out.result === 'own-request' ? `:no_entry: ${out.summary}` : out.summary), clusters: [cluster], refused: out.result === 'own-request' };
}
