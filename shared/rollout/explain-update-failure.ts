import type { AwsScope } from '../aws/clients.js';
import { describeAccessEntry } from '../aws/access-entries.js';
import { readJsYaml } from '../yaml/read-js-yaml.js';
import { readAwsAuth } from './aws-auth.js';
import { type AuthenticationMode, judgeNodeRoleAccess, type NodeOs, readsAccessEntries, readsAwsAuth } from './node-role-access.js';
import { describeCluster } from '../aws/clusters.js';
import { describeInstanceStates } from '../aws/instances.js';
import { describeSubnets } from '../aws/subnets.js';
import type { UpdateErrorView, UpdateView } from '../aws/nodegroup-updates.js';
import type { NodegroupView } from '../aws/nodegroups.js';
import type { V1Node, V1Pod, V1PodDisruptionBudget } from '../kube/api-types.js';
import { callKube, type KubeClients } from '../kube/client.js';
import { budgetCovers, budgetMayNotApply } from '../kube/drain/blockers.js';
import { selectPodsToDrain } from '../kube/drain/pod-filters.js';
import { isNodeReady } from '../kube/find-node.js';
import { POLICY_TAG_PREFIX } from '../config/node-group-policy.js';
import { INSTANCE_ID } from '../ids.js';

/**
 * Why a managed node group update failed, in words a person can act on.
 *
 * EKS reports a failed update with an error code and a terse message ("Reached max retries
 * while trying to evict pods…"). The cluster knows more: which budgets hold which pods,
 * whether the new instances ever registered, whether the node role may join at all. The
 * adapter `gatherFailureFacts` reads those facts (never failing: what it cannot read it
 * lists as unavailable); `explainUpdateFailure` turns them into a report. A managed group
 * cannot be rolled back, so the report also says what state the update left behind.
 */

export const NODEGROUP_LABEL = 'eks.amazonaws.com/nodegroup';

export interface ManagedFailureReport {
  updateId: string;
  status: 'Failed' | 'Cancelled';
  errors: { code: string; message: string; resourceIds: string[] }[];
  reasons: string[];
  blockers?: { pod: string; pdb: string; disruptionsAllowed: number }[];
  summary: string;
}

/** A pod on a cordoned node of the group that a budget allowing no disruption covers. */
export interface BlockingPod {
  node: string;
  /** namespace/name */
  pod: string;
  /** namespace/name */
  pdb: string;
  disruptionsAllowed: number;
}

export interface PodEvictionFacts {
  /** the group's cordoned nodes: EKS cordons every old node before it drains any */
  cordonedNodes: string[];
  blockers: BlockingPod[];
  /** pods under more than one budget: the eviction API refuses them whatever the budgets allow */
  multiBudgetPods: { pod: string; pdbs: string[] }[];
}

export interface NewInstanceFact {
  instanceId: string;
  /** EC2 state (pending, running, terminated…); absent when EC2 was not asked */
  state?: string;
  subnetId?: string;
  /** a Node with this instance's providerID exists */
  registered: boolean;
  ready: boolean;
  nodeName?: string;
}

export interface NodeCreationFacts {
  instances: NewInstanceFact[];
  nodeRole?: string;
  /** how the node role may join the cluster; 'unknown' when it could not be read */
  roleAccess: 'access-entry' | 'aws-auth' | 'missing' | 'unknown';
  roleAccessDetail?: string;
  subnets: { id: string; zone?: string; freeAddresses: number }[];
  /** instances the update launches beyond the group's size: max(2 × AZs, maxUnavailable) */
  surge?: number;
  /** the launch template names the AMI: EKS merges no bootstrap into its user data */
  customAmi: boolean;
  instanceTypes: string[];
}

export interface FailureFacts {
  cluster: string;
  nodegroup: string;
  podEviction?: PodEvictionFacts;
  nodeCreation?: NodeCreationFacts;
  /** facts that could not be read, and why: the report says so rather than guess */
  unavailable: string[];
}

const MAX_LISTED = 5;

function listSome(items: readonly string[], max = MAX_LISTED): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} (+${items.length - max} more)`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------
// Pure: facts → report
// ---------------------------------------------------------------------------------------

/**
 * The pods on the given nodes that a budget blocks: pods a drain would move (not DaemonSet,
 * mirror or finished pods), not already terminating, covered by a budget that allows no
 * disruption now (unless the budget may not apply to them: Pending or not Ready pods), or
 * by two budgets. Pure.
 */
export function findBlockingPods(
  podsByNode: ReadonlyMap<string, readonly V1Pod[]>,
  budgets: readonly V1PodDisruptionBudget[],
): { blockers: BlockingPod[]; multiBudgetPods: { pod: string; pdbs: string[] }[] } {
  const blockers: BlockingPod[] = [];
  const multiBudgetPods: { pod: string; pdbs: string[] }[] = [];
  const ref = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;
  for (const [node, pods] of podsByNode) {
    for (const pod of selectPodsToDrain(pods).evict) {
      const covering = budgets.filter((pdb) => budgetCovers(pdb, pod));
      if (covering.length > 1) {
        multiBudgetPods.push({ pod: ref(pod), pdbs: covering.map(ref) });
        continue;
      }
      const only = covering[0];
      if (!only || budgetMayNotApply(pod)) continue;
      const allowed = only.status?.disruptionsAllowed ?? 0;
      if (allowed <= 0) blockers.push({ node, pod: ref(pod), pdb: ref(only), disruptionsAllowed: allowed });
    }
  }
  return { blockers, multiBudgetPods };
}

interface Explanation {
  reasons: string[];
  /** one or two sentences: the cause and what to do */
  summary: string;
  blockers?: ManagedFailureReport['blockers'];
}

function explainPodEviction(name: string, error: UpdateErrorView, facts: FailureFacts): Explanation {
  const found = facts.podEviction;
  const reasons: string[] = [];
  if (!found) {
    reasons.push('the pods blocking the drain could not be read from the cluster');
    return {
      reasons,
      summary: `The update of ${name} failed: EKS could not evict the pods of ${listSome(error.resourceIds) || 'an old node'} within 15 minutes, most likely because of a PodDisruptionBudget; the cluster could not be read to say which. Check the budgets with disruptionsAllowed 0 (kubectl get pdb -A).`,
    };
  }
  const byBudget = new Map<string, BlockingPod[]>();
  for (const b of found.blockers) byBudget.set(b.pdb, [...(byBudget.get(b.pdb) ?? []), b]);
  for (const [pdb, pods] of byBudget) {
    reasons.push(
      `PodDisruptionBudget ${pdb} allows ${pods[0]!.disruptionsAllowed} disruptions and covers ${plural(pods.length, 'pod')} still on cordoned nodes: ${listSome(pods.map((p) => p.pod))}`,
    );
  }
  for (const m of found.multiBudgetPods) {
    reasons.push(`pod ${m.pod} is covered by ${m.pdbs.length} budgets (${m.pdbs.join(', ')}): the eviction API refuses to evict it`);
  }
  if (byBudget.size === 0 && found.multiBudgetPods.length === 0) {
    reasons.push(
      'no pod left on the cordoned nodes is held by a budget now: a budget may have recovered since, or a pod took longer than its grace period to stop; check the events of the pods on ' +
        (listSome(error.resourceIds.length > 0 ? error.resourceIds : found.cordonedNodes) || 'the old nodes'),
    );
  }
  if (found.cordonedNodes.length > 0) {
    reasons.push(
      `EKS does not roll a failed update back: ${plural(found.cordonedNodes.length, 'node')} of the group stay cordoned (${listSome(found.cordonedNodes)}) until an update succeeds or they are uncordoned`,
    );
  }
  const blockers = found.blockers.map((b) => ({ pod: b.pod, pdb: b.pdb, disruptionsAllowed: b.disruptionsAllowed }));
  const budgets = [...byBudget.keys()];
  const force = `tag the group ${POLICY_TAG_PREFIX}on-drain-timeout=force to let EKS delete such pods`;
  let summary: string;
  if (budgets.length > 0) {
    const count = found.blockers.length;
    summary =
      `The update of ${name} failed: EKS could not evict pods for 15 minutes because ${budgets.length === 1 ? `PodDisruptionBudget ${budgets[0]}` : `PodDisruptionBudgets ${listSome(budgets, 3)}`} ` +
      `${budgets.length === 1 ? 'allows' : 'allow'} no disruption (${plural(count, 'pod')} on cordoned nodes). ` +
      `Scale the workload up or relax the budget, then start the rollout again (or ${force}).`;
  } else if (found.multiBudgetPods.length > 0) {
    summary = `The update of ${name} failed: EKS could not evict ${found.multiBudgetPods[0]!.pod}, which ${found.multiBudgetPods[0]!.pdbs.length} PodDisruptionBudgets cover. Leave one budget per pod, then start the rollout again.`;
  } else {
    summary = `The update of ${name} failed: EKS could not evict the pods of ${listSome(error.resourceIds) || 'an old node'} within 15 minutes, and no budget blocks them now. Start the rollout again; if it fails the same way, check those pods' events (or ${force}).`;
  }
  return { reasons, summary, blockers };
}

/** The causes of new nodes never becoming Ready: what the facts confirm, rule out, or leave to check. Pure. */
export interface ConfirmedCause {
  cause: string;
  /** what a person does about it */
  fix: string;
}

export function nodeCreationCauses(facts: NodeCreationFacts): { confirmed: ConfirmedCause[]; ruledOut: string[]; toCheck: string[] } {
  const confirmed: ConfirmedCause[] = [];
  const ruledOut: string[] = [];
  const toCheck: string[] = [];
  const neverRegistered = facts.instances.filter((i) => !i.registered && (i.state === undefined || i.state === 'running' || i.state === 'pending'));
  const notReady = facts.instances.filter((i) => i.registered && !i.ready);
  const gone = facts.instances.filter((i) => !i.registered && i.state !== undefined && i.state !== 'running' && i.state !== 'pending');
  const role = facts.nodeRole ?? 'the node role';

  // 1. the node role may not join: certain when the cluster has neither an access entry nor a mapping
  if (facts.roleAccess === 'missing') {
    confirmed.push({
      cause: `node role ${role} may not join the cluster: ${facts.roleAccessDetail ?? 'it has no EC2_LINUX/EC2_WINDOWS access entry and no aws-auth mapping'}`,
      fix: 'create an EC2_LINUX (or EC2_WINDOWS) access entry for it, or map it in aws-auth to system:bootstrappers and system:nodes',
    });
  } else if (facts.roleAccess === 'unknown') {
    toCheck.push(`node role ${role} mapped to the cluster (an EC2_LINUX/EC2_WINDOWS access entry, or aws-auth)${facts.roleAccessDetail ? `: ${facts.roleAccessDetail}` : ''}`);
  } else {
    ruledOut.push(`node role access: ${role} ${facts.roleAccess === 'access-entry' ? 'has a node access entry' : 'is mapped in aws-auth'}${facts.roleAccessDetail ? ` (${facts.roleAccessDetail})` : ''}`);
  }

  // 2. addresses: the update launches `surge` instances at once across the group's subnets
  if (facts.subnets.length > 0) {
    const free = facts.subnets.reduce((sum, s) => sum + s.freeAddresses, 0);
    const empty = facts.subnets.filter((s) => s.freeAddresses === 0);
    const needed = facts.surge ?? 1;
    const described = listSome(facts.subnets.map((s) => `${s.id} ${s.freeAddresses} free`));
    if (free < needed || empty.length === facts.subnets.length) {
      confirmed.push({ cause: `the group's subnets are out of addresses (${described}; the update launches ${needed} at once)`, fix: 'free addresses in those subnets or add subnets with room to the group' });
    }
    else if (empty.length > 0) toCheck.push(`subnet addresses: ${listSome(empty.map((s) => s.id))} ${empty.length === 1 ? 'has' : 'have'} none left (${described})`);
    else ruledOut.push(`subnet addresses: ${described}`);
  } else {
    toCheck.push("free addresses in the group's subnets (DescribeSubnets AvailableIpAddressCount)");
  }

  // 3. instances that ran but never registered: bootstrap or network, the facts cannot tell
  if (neverRegistered.length > 0 && facts.roleAccess !== 'missing') {
    toCheck.push(
      facts.customAmi
        ? "the custom AMI's bootstrap: EKS merges nothing into the user data of a launch template that names an AMI, so it must join the node itself (check an instance's console output)"
        : "the launch template's user data: EKS merges its bootstrap into it, and a script that exits early or breaks the MIME parts stops the join (check an instance's console output)",
    );
    toCheck.push('network access to the cluster endpoint on port 443: the cluster and node security groups, private endpoint access, NAT or VPC endpoints for private subnets');
  }
  // 4. registered but never Ready: the node's networking add-ons
  if (notReady.length > 0) {
    confirmed.push({
      cause: `${plural(notReady.length, 'node')} registered but never became Ready (${listSome(notReady.map((i) => i.nodeName ?? i.instanceId))})`,
      fix: 'check the aws-node (VPC CNI) and kube-proxy pods on them and the nodes\' conditions',
    });
  }
  // 5. instances that went away, or none reported: capacity
  if (gone.length > 0) {
    toCheck.push(`instance capacity: ${listSome(gone.map((i) => `${i.instanceId} ${i.state}`))} ended before joining; check the Auto Scaling activity history for InsufficientInstanceCapacity${facts.instanceTypes.length > 0 ? ` (${facts.instanceTypes.join(', ')})` : ''}`);
  } else if (facts.instances.length === 0) {
    toCheck.push(`instance capacity or launch failures: no new instance was reported; check the Auto Scaling activity history${facts.instanceTypes.length > 0 ? ` (${facts.instanceTypes.join(', ')})` : ''}`);
  }
  return { confirmed, ruledOut, toCheck };
}

function explainNodeCreation(name: string, error: UpdateErrorView, facts: FailureFacts): Explanation {
  const found = facts.nodeCreation;
  if (!found) {
    return {
      reasons: ['the new instances and the node role could not be inspected'],
      summary: `The update of ${name} failed: its new nodes did not become Ready within 15 minutes (${listSome(error.resourceIds) || 'no instance reported'}). Check the node role's access entry, the subnets' free addresses, the launch template's user data and the instances' console output.`,
    };
  }
  const { confirmed, ruledOut, toCheck } = nodeCreationCauses(found);
  const reasons: string[] = [];
  const neverRegistered = found.instances.filter((i) => !i.registered && (i.state === undefined || i.state === 'running' || i.state === 'pending'));
  if (found.instances.length > 0) {
    const ready = found.instances.filter((i) => i.ready).length;
    reasons.push(
      `${plural(found.instances.length, 'new instance')} did not become Ready nodes: ${[
        neverRegistered.length > 0 ? `${neverRegistered.length} ran but never registered (${listSome(neverRegistered.map((i) => i.instanceId))})` : '',
        ready > 0 ? `${ready} Ready by now` : '',
      ]
        .filter(Boolean)
        .join('; ') || 'see below'}`,
    );
  }
  reasons.push(...confirmed.map((c) => `cause: ${c.cause}; ${c.fix}`));
  reasons.push(...ruledOut.map((r) => `ruled out: ${r}`));
  if (toCheck.length > 0) reasons.push(`likely causes to check: ${toCheck.join('; ')}`);
  reasons.push('EKS does not roll a failed update back: the old nodes keep running and the group keeps the instances it launched until a new update or a scale-in removes them');

  let summary: string;
  if (confirmed.length > 0) {
    summary = `The update of ${name} failed because its new nodes never became Ready: ${confirmed[0]!.cause}. To fix it, ${confirmed[0]!.fix}, then start the rollout again.`;
  } else if (neverRegistered.length > 0) {
    summary =
      `The update of ${name} failed: ${plural(neverRegistered.length, 'new instance')} ran but never registered with the cluster, while the node role and subnets look fine. ` +
      `The likely cause is the ${found.customAmi ? "custom AMI's bootstrap (user data)" : "launch template's user data"}, else network access to the cluster endpoint; check an instance's console output.`;
  } else {
    summary = `The update of ${name} failed: its new nodes did not become Ready within 15 minutes. Likely causes to check: ${listSome(toCheck, 2)}.`;
  }
  return { reasons, summary };
}

/** What other EKS error codes mean, and what to do; the message EKS gives is kept beside it. */
const OTHER_CODES: Record<string, string> = {
  AccessDenied: "EKS was denied an action: the service-linked role AWSServiceRoleForAmazonEKSNodegroup or the node role lacks a permission (the message names it)",
  ClusterUnreachable: "EKS could not reach the cluster's Kubernetes API to drain nodes: check the endpoint access and the cluster's health",
  InsufficientFreeAddresses: "the group's subnets have no free IP addresses left for the new nodes: free addresses or add subnets",
  Ec2SubnetInvalidConfiguration: 'a subnet of the group does not assign public IP addresses (or lacks a route): fix the subnet configuration',
  Ec2LaunchTemplateVersionMaxLimitExceeded: 'the launch template reached its limit of versions: delete old versions (at most 200 per call) and start again',
  Ec2LaunchTemplateNotFound: 'the launch template of the group no longer exists',
  Ec2LaunchTemplateVersionMismatch: "the launch template version does not match the one the group's Auto Scaling group uses",
  AsgInstanceLaunchFailures: 'the Auto Scaling group could not launch instances: check its activity history (capacity, quotas, the image)',
  InstanceLimitExceeded: 'the account reached its EC2 instance (vCPU) quota: raise it or free capacity',
  IamInstanceProfileNotFound: 'the instance profile of the node role is missing',
  IamNodeRoleNotFound: 'the node role is missing',
  AutoScalingGroupNotFound: 'the Auto Scaling group of the node group is missing',
  InternalFailure: 'an internal EKS failure: start the rollout again; if it repeats, open an AWS support case',
};

export function explainUpdateFailure(update: { id: string; status: 'Failed' | 'Cancelled'; errors: readonly UpdateErrorView[] }, facts: FailureFacts): ManagedFailureReport {
  const name = `${facts.cluster}/${facts.nodegroup}`;
  const errors = update.errors.map((e) => ({ code: e.code, message: e.message, resourceIds: [...e.resourceIds] }));
  const base = { updateId: update.id, status: update.status, errors };
  const unavailable = facts.unavailable.map((u) => `not read: ${u}`);

  if (update.status === 'Cancelled') {
    return {
      ...base,
      reasons: ['the update was cancelled before it finished', ...unavailable],
      summary: `The update of ${name} was cancelled before it finished; the group may be partly updated. Start the rollout again when nothing else is changing the group.`,
    };
  }

  const podEviction = errors.find((e) => e.code === 'PodEvictionFailure');
  if (podEviction) {
    const explained = explainPodEviction(name, podEviction, facts);
    return { ...base, reasons: [...explained.reasons, ...others(errors, 'PodEvictionFailure'), ...unavailable], ...(explained.blockers ? { blockers: explained.blockers } : {}), summary: explained.summary };
  }
  const nodeCreation = errors.find((e) => e.code === 'NodeCreationFailure');
  if (nodeCreation) {
    const explained = explainNodeCreation(name, nodeCreation, facts);
    return { ...base, reasons: [...explained.reasons, ...others(errors, 'NodeCreationFailure'), ...unavailable], summary: explained.summary };
  }
  const first = errors[0];
  if (!first) {
    return { ...base, reasons: ['EKS reported the update Failed without an error detail', ...unavailable], summary: `The update of ${name} failed without an error detail from EKS. Check the update with aws eks describe-update, then start the rollout again.` };
  }
  const meaning = OTHER_CODES[first.code];
  return {
    ...base,
    reasons: [...others(errors), ...unavailable],
    summary: `The update of ${name} failed with ${first.code}: ${meaning ?? first.message}.${meaning && first.message ? ` EKS said: ${first.message}` : ''}`,
  };
}

function others(errors: readonly UpdateErrorView[], except?: string): string[] {
  return errors
    .filter((e) => e.code !== except)
    .map((e) => `${e.code}: ${OTHER_CODES[e.code] ?? e.message}${e.resourceIds.length > 0 ? ` (${listSome(e.resourceIds)})` : ''}`);
}

// ---------------------------------------------------------------------------------------
// Adapter: the cluster and the account → facts
// ---------------------------------------------------------------------------------------

export interface FailureFactPorts {
  aws: AwsScope;
  kube: (cluster: string) => Promise<KubeClients>;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** cordoned nodes whose pods are listed (one request each): enough to name the blockers */
const MAX_NODES_READ = 25;

/**
 * Reads what explains the update's failure. Never throws: a report with a fact missing is
 * worth more than a failed step, so each read that fails is named in `unavailable`.
 */
export async function gatherFailureFacts(nodegroup: NodegroupView, update: Pick<UpdateView, 'errors'>, ports: FailureFactPorts): Promise<FailureFacts> {
  const facts: FailureFacts = { cluster: nodegroup.cluster, nodegroup: nodegroup.name, unavailable: [] };
  const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      facts.unavailable.push(`${what}: ${(error as Error).message}`);
      ports.log('failure fact not read', { what, error: (error as Error).name, message: (error as Error).message });
      return undefined;
    }
  };
  const codes = new Set(update.errors.map((e) => e.code));
  if (codes.has('PodEvictionFailure')) {
    const found = await attempt('the pods blocking the drain', () => readPodEvictionFacts(nodegroup, update.errors.find((e) => e.code === 'PodEvictionFailure')!, ports));
    if (found) facts.podEviction = found;
  }
  if (codes.has('NodeCreationFailure')) {
    facts.nodeCreation = await readNodeCreationFacts(nodegroup, update.errors.find((e) => e.code === 'NodeCreationFailure')!, ports, attempt);
  }
  return facts;
}

async function readPodEvictionFacts(nodegroup: NodegroupView, error: UpdateErrorView, ports: FailureFactPorts): Promise<PodEvictionFacts> {
  const cluster = nodegroup.cluster;
  const clients = await ports.kube(cluster);
  const [core, policy] = await Promise.all([clients.core(cluster), clients.policy(cluster)]);
  const nodes = await callKube(cluster, 'list nodes', () => core.listNode({ labelSelector: `${NODEGROUP_LABEL}=${nodegroup.name}` }));
  const cordoned = nodes.items.filter((n) => n.spec?.unschedulable === true).map((n) => n.metadata?.name ?? '');
  // the nodes EKS named first: their drain is the one that timed out
  const named = new Set(error.resourceIds);
  const toRead = [...cordoned].sort((a, b) => Number(named.has(b)) - Number(named.has(a))).slice(0, MAX_NODES_READ);
  const podsByNode = new Map<string, V1Pod[]>();
  for (const node of toRead) {
    const pods = await callKube(cluster, `list pods on node ${node}`, () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
    podsByNode.set(node, pods.items.filter((pod) => pod.spec?.nodeName === node));
  }
  const budgets = await callKube(cluster, 'list poddisruptionbudgets', () => policy.listPodDisruptionBudgetForAllNamespaces());
  return { cordonedNodes: cordoned, ...findBlockingPods(podsByNode, budgets.items) };
}

async function readNodeCreationFacts(
  nodegroup: NodegroupView,
  error: UpdateErrorView,
  ports: FailureFactPorts,
  attempt: <T>(what: string, read: () => Promise<T>) => Promise<T | undefined>,
): Promise<NodeCreationFacts> {
  const cluster = nodegroup.cluster;
  const instanceIds = error.resourceIds.filter((id) => INSTANCE_ID.test(id));
  const facts: NodeCreationFacts = {
    instances: instanceIds.map((instanceId) => ({ instanceId, registered: false, ready: false })),
    ...(nodegroup.nodeRole ? { nodeRole: nodegroup.nodeRole } : {}),
    roleAccess: 'unknown',
    subnets: [],
    customAmi: nodegroup.amiType === 'CUSTOM',
    instanceTypes: nodegroup.instanceTypes,
  };

  // 1. the instances in EC2, and their Nodes (by providerID: a broken bootstrap may lose the labels)
  if (instanceIds.length > 0) {
    const described = await attempt('the new instances (ec2:DescribeInstances)', () => describeInstanceStates(ports.aws, instanceIds));
    for (const instance of described ?? []) {
      const fact = facts.instances.find((i) => i.instanceId === instance.instanceId);
      if (!fact) continue;
      if (instance.state) fact.state = instance.state;
      if (instance.subnetId) fact.subnetId = instance.subnetId;
    }
  }
  const nodes = await attempt('the cluster nodes', async () => {
    const clients = await ports.kube(cluster);
    const core = await clients.core(cluster);
    return (await callKube(cluster, 'list nodes', () => core.listNode())).items;
  });
  for (const fact of facts.instances) {
    const node = nodes?.find((n: V1Node) => n.spec?.providerID?.endsWith(`/${fact.instanceId}`));
    if (node) {
      fact.registered = true;
      fact.ready = isNodeReady(node);
      fact.nodeName = node.metadata?.name ?? '';
    }
  }

  // 2. may the node role join? an access entry of a node type, else (when the cluster reads it) aws-auth
  if (nodegroup.nodeRole) {
    const access = await attempt('the node role access', () => nodeRoleAccess(cluster, nodegroup.nodeRole!, nodegroup.amiType?.startsWith('WINDOWS') ? 'windows' : 'linux', ports));
    if (access) {
      facts.roleAccess = access.access;
      if (access.detail) facts.roleAccessDetail = access.detail;
    }
  }

  // 3. subnets: free addresses against the surge the update launches
  if (nodegroup.subnets.length > 0) {
    const subnets = await attempt('the subnets (ec2:DescribeSubnets)', () => describeSubnets(ports.aws, nodegroup.subnets, 'byId'));
    for (const s of subnets ?? []) {
      facts.subnets.push({ id: s.subnetId, ...(s.availabilityZone ? { zone: s.availabilityZone } : {}), freeAddresses: s.freeAddresses });
    }
    if (facts.subnets.length > 0) {
      const zones = new Set(facts.subnets.map((s) => s.zone ?? s.id)).size;
      facts.surge = Math.max(2 * zones, maxUnavailableOf(nodegroup));
    }
  }
  return facts;
}

/** EKS's own rounding for a percentage: down, at least one node. */
function maxUnavailableOf(nodegroup: NodegroupView): number {
  const config = nodegroup.updateConfig ?? {};
  if (config.maxUnavailable) return config.maxUnavailable;
  if (config.maxUnavailablePercentage) return Math.max(1, Math.floor(((nodegroup.desiredSize ?? 1) * config.maxUnavailablePercentage) / 100));
  return 1;
}

async function nodeRoleAccess(cluster: string, roleArn: string, os: NodeOs, ports: FailureFactPorts): Promise<{ access: NodeCreationFacts['roleAccess']; detail?: string }> {
  const mode = ((await describeCluster(ports.aws, cluster)).authenticationMode ?? 'CONFIG_MAP') as AuthenticationMode;
  const accessEntry = readsAccessEntries(mode) ? await describeAccessEntry(ports.aws, cluster, roleArn) : undefined;
  const core = async () => (await ports.kube(cluster)).core(cluster);
  const awsAuth = readsAwsAuth(mode, accessEntry) ? await readAwsAuth(core, cluster, roleArn, readJsYaml) : undefined;
  const verdict = judgeNodeRoleAccess({ roleArn, os, authenticationMode: mode, ...(accessEntry !== undefined ? { accessEntry } : {}), ...(awsAuth ? { awsAuth } : {}) });
  if (verdict.canJoin === true) return verdict.via === 'access-entry' ? { access: 'access-entry', detail: `type ${verdict.entryType}` } : { access: 'aws-auth', detail: `authentication mode ${mode}` };
  switch (verdict.problem) {
    case 'wrong-entry-type':
      return { access: 'missing', detail: `its access entry is of type ${verdict.entryType}, not ${os === 'windows' ? 'EC2_WINDOWS' : 'EC2_LINUX/EC2_WINDOWS'}` };
    case 'no-entry':
      return { access: 'missing', detail: 'it has no EC2_LINUX/EC2_WINDOWS access entry, and the cluster (authentication mode API) ignores aws-auth' };
    case 'aws-auth-unreadable':
      return { access: 'unknown', detail: `aws-auth cannot be read: ${verdict.reason}` };
    case 'aws-auth-malformed':
      return { access: 'missing', detail: `aws-auth cannot be read: ${verdict.reason}` };
    case 'mapping-incomplete':
      return {
        access: 'missing',
        detail: `aws-auth maps it ${[
          verdict.missing.length ? `without the group${verdict.missing.length > 1 ? 's' : ''} ${verdict.missing.join(', ')}` : '',
          verdict.username !== undefined ? `as ${verdict.username}, not a node's username` : '',
        ].filter(Boolean).join(' and ')}`,
      };
    case 'not-mapped':
    case 'aws-auth-absent':
      return {
        access: 'missing',
        detail: verdict.problem === 'not-mapped' && verdict.mappedWithPath
          ? `aws-auth maps it as ${verdict.mappedWithPath}, with its path, which the authenticator never matches (map the ARN without the path)`
          : `it has no node access entry and no aws-auth mapping (authentication mode ${mode})`,
      };
  }
}
