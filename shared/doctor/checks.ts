import type { NodeGroupConfig } from '../config/node-group-config.js';
import { describeProblem, rolloutBlockers } from '../config/node-group-config.js';
import { POLICY_TAG_PREFIX } from '../config/tag-vocabulary.js';
import type { GroupPlan } from '../detect/plan-rollouts.js';
import { INSTALLED_HOOK } from '../drain/ensure-terminate-hooks.js';
import { hookOwnership } from '../drain/hook-ownership.js';
import type { AccessQuestion } from '../kube/access-review.js';
import type { TerminationHandlerSighting } from '../kube/neighbours.js';

/**
 * What `doctor` decides, check by check (pure): each takes facts read beforehand
 * (run-doctor.ts) and says ok, warning or problem, why in one line, and what to do. A problem
 * blocks something — rollouts, drains, the service's access — and makes the CLI exit 1.
 */
export type CheckStatus = 'ok' | 'warning' | 'problem';

export interface Check {
  name: string;
  status: CheckStatus;
  reason: string;
  /** what to do about it (warnings and problems) */
  todo?: string;
}

/** A problem blocks something: the answer is not one a script should go on from. */
export function blocking(checks: readonly Check[]): boolean {
  return checks.some((c) => c.status === 'problem');
}

// ---------------------------------------------------------------------------------------
// The cluster
// ---------------------------------------------------------------------------------------

export const SERVICE_KUBERNETES_GROUP = 'eks-node-lifecycle';
const GRANT = (cluster: string) => `run scripts/kubernetes/grant-access.sh ${cluster} <stage> <region> (an access entry per role, then kubectl apply -f scripts/kubernetes/rbac.yaml)`;

export type ApiOutcome =
  | { reached: true; nodes: number }
  | { reached: false; failure: 'denied' | 'unavailable' | 'no-cluster'; message: string };

export function checkApi(cluster: string, api: ApiOutcome): Check {
  const name = 'Kubernetes API';
  if (api.reached) return { name, status: 'ok', reason: `the API answered: ${api.nodes} node${api.nodes === 1 ? '' : 's'}` };
  switch (api.failure) {
    case 'denied':
      return { name, status: 'problem', reason: `the API refused the service: ${api.message}`, todo: GRANT(cluster) };
    case 'unavailable':
      return { name, status: 'problem', reason: `the API did not answer: ${api.message}`, todo: 'check the cluster endpoint is reachable from the functions (a private-only endpoint needs them in its VPC) and the control plane is healthy' };
    case 'no-cluster':
      return { name, status: 'problem', reason: `EKS knows no cluster ${cluster}: ${api.message}`, todo: 'check the name and the region of the deployment' };
  }
}

export interface AccessEntryFacts {
  /** the role the service's function runs as */
  principalArn?: string;
  authenticationMode?: string;
  /** its access entry; null: none; undefined: not read (a failure, in `unread`) */
  entry?: { type: string; kubernetesGroups: string[] } | null;
  unread?: string;
  apiReached: boolean;
}

export function checkAccessEntry(cluster: string, facts: AccessEntryFacts): Check {
  const name = 'Access entry';
  const who = facts.principalArn ?? 'the service role';
  if (facts.authenticationMode === 'CONFIG_MAP') {
    return { name, status: facts.apiReached ? 'ok' : 'problem', reason: `the cluster authenticates through the aws-auth ConfigMap only: access entries do not apply${facts.apiReached ? '' : `, and aws-auth does not map ${who}`}`, ...(facts.apiReached ? {} : { todo: `map ${who} to group ${SERVICE_KUBERNETES_GROUP} in aws-auth (scripts/kubernetes/grant-access.sh shows how)` }) };
  }
  if (facts.entry === undefined) return { name, status: 'warning', reason: `could not read the access entry of ${who}: ${facts.unread ?? 'unknown'}`, todo: 'give the chat functions eks:DescribeAccessEntry (serverless.yml), or check it with aws eks describe-access-entry' };
  if (facts.entry === null) {
    if (facts.apiReached && facts.authenticationMode !== 'API') return { name, status: 'warning', reason: `${who} has no access entry: it gets in through the aws-auth ConfigMap, which EKS deprecates`, todo: GRANT(cluster) };
    return { name, status: 'problem', reason: `${who} has no access entry on ${cluster}`, todo: GRANT(cluster) };
  }
  if (!facts.entry.kubernetesGroups.includes(SERVICE_KUBERNETES_GROUP)) {
    return { name, status: 'warning', reason: `the access entry of ${who} does not map it to the group ${SERVICE_KUBERNETES_GROUP} (groups: ${facts.entry.kubernetesGroups.join(', ') || 'none'}): rbac.yaml's grants do not reach it`, todo: GRANT(cluster) };
  }
  return { name, status: 'ok', reason: `${who} has an access entry (${facts.entry.type}) in group ${SERVICE_KUBERNETES_GROUP}` };
}

/** What the service asks of the Kubernetes API (scripts/kubernetes/rbac.yaml grants exactly these; a test holds them equal). */
export interface AccessNeed extends AccessQuestion {
  /** what it is for, in the words a denial is shown with */
  for: string;
  /** a need only some policies have: denied, it is a warning */
  optional?: string;
}

export const ACCESS_NEEDS: readonly AccessNeed[] = [
  { verb: 'get', group: '', resource: 'nodes', for: 'find a node' },
  { verb: 'list', group: '', resource: 'nodes', for: 'find a node by its instance' },
  { verb: 'patch', group: '', resource: 'nodes', for: 'cordon and uncordon' },
  { verb: 'list', group: '', resource: 'pods', for: "list a node's pods" },
  { verb: 'create', group: '', resource: 'pods', subresource: 'eviction', for: 'evict pods' },
  { verb: 'delete', group: '', resource: 'pods', for: 'delete pods budgets still block', optional: 'only groups with on-drain-timeout=force need it' },
  { verb: 'list', group: 'policy', resource: 'poddisruptionbudgets', for: 'name the budget that blocks a drain' },
  { verb: 'get', group: '', resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', for: "check a node role's aws-auth mapping before a rollout" },
  { verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'aws-node', for: "read the VPC CNI's settings for max pods" },
];

export function describeNeed(need: AccessNeed): string {
  const resource = `${need.group ? `${need.group}/` : ''}${need.resource}${need.subresource ? `/${need.subresource}` : ''}`;
  return `${need.verb} ${resource}${need.name ? ` ${need.namespace}/${need.name}` : ''}`;
}

export function checkRbac(cluster: string, reviews: readonly { need: AccessNeed; allowed: boolean }[] | undefined): Check {
  const name = 'RBAC';
  if (reviews === undefined) return { name, status: 'warning', reason: 'not checked: the API was not reached', todo: 'fix the Kubernetes API check first' };
  const denied = reviews.filter((r) => !r.allowed);
  const required = denied.filter((r) => !r.need.optional);
  const list = (rs: typeof denied) => rs.map((r) => `${describeNeed(r.need)} (${r.need.for})`).join('; ');
  if (required.length > 0) return { name, status: 'problem', reason: `the service may not ${list(required)}`, todo: `kubectl apply -f scripts/kubernetes/rbac.yaml on ${cluster}` };
  if (denied.length > 0) return { name, status: 'warning', reason: `the service may not ${list(denied)}: ${denied.map((r) => r.need.optional).join('; ')}`, todo: 'grant it if a group uses on-drain-timeout=force' };
  return { name, status: 'ok', reason: `allowed everything a drain and a rollout ask (${reviews.length} access reviews)` };
}

export function checkKarpenter(nodes: readonly { name: string; nodePool: string }[]): Check {
  const name = 'Karpenter';
  if (nodes.length === 0) return { name, status: 'ok', reason: 'no node of the cluster was launched by Karpenter' };
  const pools = [...new Set(nodes.map((n) => n.nodePool))].sort();
  return {
    name,
    status: 'ok',
    reason: `${nodes.length} node${nodes.length === 1 ? '' : 's'} launched by Karpenter (NodePool ${pools.join(', ')}): every flow of this service leaves them to Karpenter, and drain refuses them`,
  };
}

// ---------------------------------------------------------------------------------------
// A node group
// ---------------------------------------------------------------------------------------

export function checkConfiguration(config: Pick<NodeGroupConfig, 'problems'>): Check {
  const name = 'Configuration';
  const blockers = rolloutBlockers(config);
  if (blockers.length > 0) {
    return { name, status: 'problem', reason: `${blockers.map((b) => `${POLICY_TAG_PREFIX}${b.key}`).join(', ')}: automatic rollouts of this group are stopped until fixed`, todo: 'fix the tags listed under configuration problems' };
  }
  if (config.problems.length > 0) return { name, status: 'warning', reason: `${config.problems.length} problem${config.problems.length === 1 ? '' : 's'} in drain settings: their safe defaults apply`, todo: 'fix the tags listed under configuration problems' };
  return { name, status: 'ok', reason: 'every tag under eks-node-lifecycle/ is valid' };
}

export interface HookFacts {
  kind: 'managed' | 'self-managed';
  /** the group's drain opt-in (eks-node-lifecycle/drain=on) */
  drainOn: boolean;
  policyHooks: NodeGroupConfig['policy']['hooks'];
  /** the hooks on its Auto Scaling group, whoever's; undefined when it has none we could read */
  hooks?: { launch: string[]; terminate: string[] };
}

export function checkHooks(facts: HookFacts): Check {
  const name = 'Lifecycle hooks';
  if (!facts.hooks) return { name, status: 'warning', reason: 'the Auto Scaling group was not found: hooks not checked' };
  const ours = {
    launch: facts.hooks.launch.filter((h) => hookOwnership(h, 'launch', facts.policyHooks).ours),
    terminate: facts.hooks.terminate.filter((h) => hookOwnership(h, 'terminate', facts.policyHooks).ours),
  };
  const others = [...facts.hooks.launch, ...facts.hooks.terminate].filter((h) => !ours.launch.includes(h) && !ours.terminate.includes(h));
  const parts = [
    ...(ours.terminate.length ? [`terminate hook ${ours.terminate.join(', ')} is the service's`] : []),
    ...(ours.launch.length ? [`launch hook ${ours.launch.join(', ')} is the service's`] : []),
    ...(others.length ? [`left alone (another tool's): ${others.join(', ')}`] : []),
  ];
  const listed = parts.length ? `; ${parts.join('; ')}` : '';
  if (facts.kind === 'managed') return { name, status: 'ok', reason: `a managed node group: EKS drains its nodes itself${listed}` };
  if (facts.drainOn && ours.terminate.length === 0) {
    return {
      name,
      status: 'problem',
      reason: `drain=on but the group has no terminate hook of the service: its nodes leave without a drain${listed}`,
      todo: `wait for ensureTerminateHooks (hourly) to install ${INSTALLED_HOOK.name}, or name the group's own hook in ${POLICY_TAG_PREFIX}terminate-hook`,
    };
  }
  if (!facts.drainOn && ours.terminate.length === 0) return { name, status: 'ok', reason: `drain is off: nodes leaving the group are not drained by the service${listed}` };
  return { name, status: 'ok', reason: parts.join('; ') };
}

export function checkTerminationHandler(sighting: TerminationHandlerSighting | undefined, kubeChecked: boolean): Check {
  const name = 'Node Termination Handler';
  if (!kubeChecked) return { name, status: 'warning', reason: 'not checked: the API was not reached' };
  if (!sighting) return { name, status: 'ok', reason: "not seen on the group's nodes" };
  const left = [sighting.drains.spotInterruption ? 'spot interruption' : undefined, sighting.drains.rebalance ? 'rebalance recommendation' : undefined].filter((w) => w !== undefined);
  return {
    name,
    status: 'warning',
    reason: `seen in ${sighting.mode === 'imds' ? 'IMDS' : 'queue-processor'} mode (${sighting.evidence}): ${left.length ? `${left.join(' and ')} drains of this group are left to it` : 'it drains on no warning the service does'}; drains on the service's own terminate hooks go on`,
    todo: "let one tool drain: keep it, or remove it from these nodes and let the service's hooks drain",
  };
}

export function checkImage(plan: GroupPlan | undefined, config: Pick<NodeGroupConfig, 'problems' | 'policy' | 'settings'>): Check {
  const name = 'Image channel';
  const channel = config.settings.find((s) => s.key === 'channel')?.value;
  const of = channel ? ` (channel ${channel})` : '';
  if (rolloutBlockers(config).length > 0) return { name, status: 'warning', reason: 'not resolved: configuration problems stop rollouts', todo: 'fix the configuration problems first' };
  if (!plan) return { name, status: 'warning', reason: 'not resolved: the group was not planned' };
  // a group not opted in is planned as if it were (run-doctor.ts): what its channel would give, nothing rolls
  const off = config.policy.rollout === 'off' ? 'rollout=off, nothing rolls; ' : '';
  switch (plan.action) {
    case 'skip': {
      // blocking only what could roll: a group not opted in is stopped by nothing
      const status = off ? 'warning' : 'problem';
      return { name, status, reason: `${off}resolves to no image${of}: ${plan.reason}`, todo: plan.untrusted ? `trust the image's owner in ${POLICY_TAG_PREFIX}ami-owners, or pin another` : 'check the channel and the custom AMI selector' };
    }
    case 'current':
      return { name, status: 'ok', reason: `${off}resolves${of}: ${plan.reason}` };
    case 'roll':
      return { name, status: 'ok', reason: `${off}resolves${of} to ${plan.to.release ?? plan.to.imageId} (${plan.to.imageId}); the group runs ${plan.from.release ?? plan.from.imageId ?? 'another image'}: ${plan.reason}` };
  }
}

/** The problems as shown under the checks, as everywhere else (config/node-group-config.ts). */
export function problemLines(config: Pick<NodeGroupConfig, 'problems'>): string[] {
  return config.problems.map(describeProblem);
}
