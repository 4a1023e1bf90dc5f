import type { AwsScope } from '../../aws/clients.js';
import { describeUpdate, findUpdateInProgress, startConfigUpdate, startVersionUpdate, type StartOutcome, type UpdateView, type VersionUpdateRequest } from '../../aws/nodegroup-updates.js';
import { describeNodegroup, type NodegroupView, type UpdateConfigView } from '../../aws/nodegroups.js';
import { POLICY_TAG_PREFIX, readNodeGroupPolicy } from '../../config/node-group-policy.js';
import { ConfigurationError } from '../../errors.js';
import type { BoundaryVerdict } from '../../fleet/may-start.js';
import type { SignalResult } from '../../fleet/workload-health.js';
import type { KubeClients } from '../../kube/client.js';
import { explainUpdateFailure, gatherFailureFacts, type ManagedFailureReport } from '../explain-update-failure.js';
import { readRolloutPolicy } from '../rollout-policy.js';

export type { ManagedFailureReport } from '../explain-update-failure.js';

/**
 * The managed node group path of a rollout: one short, idempotent step that Step Functions
 * calls again after each `wait` until it answers `succeeded` or `failed`. EKS does the
 * rolling itself (surge, cordon, drain, terminate); this step asks for it and watches.
 *
 * Phases, carried in `state` between calls:
 * 1. config: when the group's tags set max-unavailable or update-strategy and its update
 *    config differs, UpdateNodegroupConfig first (EKS reads it when the version update starts);
 * 2. await-config: poll that update (30 s);
 * 3. version: UpdateNodegroupVersion with the prepared launch template version, or the
 *    release version when EKS picks the AMI; `force` only with on-drain-timeout=force;
 * 4. await-version: poll DescribeUpdate (60 s) until Successful, Failed or Cancelled. A
 *    managed group cannot be rolled back: a failure is explained, not undone.
 *
 * EKS runs one update of a group at a time: ResourceInUseException, or an update already in
 * progress that is not ours, means wait (30 s). One that is ours (a retried call whose first
 * attempt started it) is adopted; EKS's clientRequestToken also makes a repeated start
 * return the same update.
 *
 * The fleet and the workloads (issue 21): an update cannot be cancelled once started, so a
 * freeze or a hold of the release applies right before UpdateNodegroupVersion (a freeze waits,
 * a hold ends the rollout before anything changed). While EKS replaces the nodes, and once it
 * is done, every poll judges the workloads of the nodes already on the new image
 * (health-gate.ts, as a self-managed batch does), and the fleet (a hold of the release). A
 * regression or a hold is recorded at once; the update is let finish, then the group is updated back to the launch template version it ran
 * (phase await-rollback). A group rolled by release version cannot go back (EKS: "You cannot
 * roll back a node group to an earlier Kubernetes version or AMI version", API reference
 * UpdateNodegroupVersion): that rollout ends failed, and the release's promotion decides.
 */

export interface ManagedUpdateState {
  phase: 'config' | 'await-config' | 'version' | 'await-version' | 'await-rollback';
  configUpdateId?: string;
  updateId?: string;
  startedAt: string;
  frozenSince?: string;
  rollback?: { reason: string; cause: 'failed-health' | 'held'; signals?: SignalResult[]; updateId?: string };
}

export type ManagedStep =
  | { kind: 'wait'; state: ManagedUpdateState; seconds: number; phase: 'another-update-running' | 'config-updating' | 'nodes-updating' | 'frozen' | 'rolling-back'; detail?: string }
  /** `alreadyAtTarget`: the group was on the target before any update was started (`updateId` is then '') */
  | { kind: 'succeeded'; state: ManagedUpdateState; updateId: string; alreadyAtTarget?: boolean }
  | { kind: 'failed'; state: ManagedUpdateState; report: ManagedFailureReport }
  /** a hold of the release, seen before the update started: nothing changed */
  | { kind: 'held'; state: ManagedUpdateState; reason: string }
  /** the workloads regressed and the group is back on its previous launch template version */
  | { kind: 'rolled-back'; state: ManagedUpdateState; reason: string }
  /** the workloads regressed and the group cannot go back (rolled by release version): it ends on the new image */
  | { kind: 'regressed'; state: ManagedUpdateState; reason: string };

/** The workloads of the new-image nodes, judged (health-gate.ts): regressed, or not (healthy, pending, insufficient data). */
export type WorkloadWatch = { regressed: false } | { regressed: true; reason: string; signals: SignalResult[] };

export interface ManagedUpdateInput {
  cluster: string;
  nodegroup: string;
  /** the launch template version prepared for the new image, or null when EKS picks the AMI by release */
  launchTemplate: { id: string; version: number } | null;
  releaseVersion?: string;
  state: ManagedUpdateState | null;
  /** idempotency: the same token on a retried call never starts a second update (EKS clientRequestToken) */
  clientRequestToken: string;
  /** the launch template version the group ran before the rollout: where a regression takes it back (none: it cannot go back) */
  previous?: { id: string; version: number };
}

export interface ManagedUpdatePorts {
  aws: AwsScope;
  kube: (cluster: string) => Promise<KubeClients>;
  now: () => Date;
  log: (m: string, a?: Record<string, unknown>) => void;
  /** the fleet's word right before UpdateNodegroupVersion: a freeze waits, a hold ends the rollout (absent: not asked) */
  atBatchBoundary?: () => Promise<BoundaryVerdict>;
  /** the workloads of the nodes already on the new image, at each poll of the update and once it is done (absent: not watched) */
  watchHealth?: () => Promise<WorkloadWatch>;
}

/** freeze: how often a held update looks whether the freeze was lifted (as a frozen self-managed roll does) */
export const POLL_SECONDS = { nodes: 60, config: 30, anotherUpdate: 30, freeze: 180 } as const;

// ---------------------------------------------------------------------------------------
// Pure decisions
// ---------------------------------------------------------------------------------------

export type ManagedTarget =
  | { kind: 'launch-template'; id: string; version: number }
  | { kind: 'release'; releaseVersion: string }
  /** neither given: EKS picks the latest release of the group's Kubernetes version */
  | { kind: 'latest' };

export function targetOf(input: Pick<ManagedUpdateInput, 'launchTemplate' | 'releaseVersion'>): ManagedTarget {
  if (input.launchTemplate) return { kind: 'launch-template', id: input.launchTemplate.id, version: input.launchTemplate.version };
  if (input.releaseVersion) return { kind: 'release', releaseVersion: input.releaseVersion };
  return { kind: 'latest' };
}

/** The group already runs the target: nothing to start. 'latest' is never known to be reached. */
export function isAtTarget(nodegroup: Pick<NodegroupView, 'launchTemplate' | 'releaseVersion'>, target: ManagedTarget): boolean {
  switch (target.kind) {
    case 'launch-template':
      return nodegroup.launchTemplate?.id === target.id && nodegroup.launchTemplate.version === String(target.version);
    case 'release':
      return nodegroup.releaseVersion === target.releaseVersion;
    case 'latest':
      return false;
  }
}

/**
 * An update in progress that does what ours would: the same launch template version, or the
 * same release. Adopting it is safe whoever started it: it ends where ours would.
 */
export function updateMatchesTarget(update: Pick<UpdateView, 'type' | 'params'>, target: ManagedTarget): boolean {
  if (update.type !== 'VersionUpdate') return false;
  const param = (type: string) => update.params.find((p) => p.type === type)?.value;
  switch (target.kind) {
    case 'launch-template':
      return param('LaunchTemplateVersion') === String(target.version);
    case 'release':
      return param('ReleaseVersion') === target.releaseVersion && param('LaunchTemplateVersion') === undefined;
    case 'latest':
      return param('LaunchTemplateVersion') === undefined;
  }
}

/** The Kubernetes minor a release version carries (1.31.3-20261201, 1.31-2024.11.12); none for Bottlerocket, whose releases are its own. */
export function releaseKubernetesVersion(amiType: string | undefined, releaseVersion: string): string | undefined {
  if (amiType?.startsWith('BOTTLEROCKET')) return undefined;
  return /^(\d+\.\d+)(?:[.-]|$)/.exec(releaseVersion)?.[1];
}

/**
 * The UpdateNodegroupVersion request. A launch template version excludes releaseVersion and
 * version (EKS refuses them with a template that names an AMI, and ignores them otherwise
 * when the version carries the image); `version` goes with a release only when the release
 * belongs to another Kubernetes minor than the group's, as EKS then requires.
 */
export function planVersionRequest(nodegroup: Pick<NodegroupView, 'version' | 'amiType' | 'tags'>, target: ManagedTarget): VersionUpdateRequest {
  const force = readNodeGroupPolicy(nodegroup.tags).policy.drain.onDrainTimeout === 'force';
  switch (target.kind) {
    case 'launch-template':
      return { launchTemplate: { id: target.id, version: String(target.version) }, force };
    case 'release': {
      const minor = releaseKubernetesVersion(nodegroup.amiType, target.releaseVersion);
      return { releaseVersion: target.releaseVersion, ...(minor && nodegroup.version && minor !== nodegroup.version ? { version: minor } : {}), force };
    }
    case 'latest':
      return { force };
  }
}

export type ConfigPlan = { decision: 'keep'; reason: string } | { decision: 'apply'; updateConfig: UpdateConfigView; changes: string[] };

const STRATEGY = { surge: 'DEFAULT', minimal: 'MINIMAL' } as const;

/**
 * Whether the group's update config must change before the version update: only when its
 * tags set max-unavailable or update-strategy (a group without them keeps what its owner
 * configured in EKS) and the config differs. A malformed tag changes nothing: applying the
 * default because of a typo would override the owner's setting. EKS needs maxUnavailable or
 * maxUnavailablePercentage in every updateConfig, so the current one is repeated when only
 * the strategy changes.
 */
export function planUpdateConfig(tags: Readonly<Record<string, string>>, current: UpdateConfigView | undefined): ConfigPlan {
  const { policy, problems } = readRolloutPolicy(tags);
  const valid = (name: string) => tags[`${POLICY_TAG_PREFIX}${name}`] !== undefined && !problems.some((p) => p.startsWith(`${POLICY_TAG_PREFIX}${name}=`));
  const setsMax = valid('max-unavailable');
  const setsStrategy = valid('update-strategy');
  if (!setsMax && !setsStrategy) return { decision: 'keep', reason: 'the group\'s tags set neither max-unavailable nor update-strategy (or set them malformed): its EKS update config stays' };

  const now = current ?? {};
  const changes: string[] = [];
  let size: Pick<UpdateConfigView, 'maxUnavailable' | 'maxUnavailablePercentage'>;
  if (setsMax) {
    const wanted = policy.maxUnavailable;
    size = typeof wanted === 'number' ? { maxUnavailable: wanted } : { maxUnavailablePercentage: Number.parseInt(wanted, 10) };
    const same = size.maxUnavailable !== undefined ? now.maxUnavailable === size.maxUnavailable : now.maxUnavailablePercentage === size.maxUnavailablePercentage;
    if (!same) changes.push(`max unavailable ${describeSize(now)} → ${describeSize(size)}`);
  } else {
    size = now.maxUnavailable !== undefined ? { maxUnavailable: now.maxUnavailable } : now.maxUnavailablePercentage !== undefined ? { maxUnavailablePercentage: now.maxUnavailablePercentage } : { maxUnavailable: 1 };
  }
  const strategy = setsStrategy ? STRATEGY[policy.strategy] : undefined;
  if (strategy && (now.updateStrategy ?? 'DEFAULT') !== strategy) changes.push(`update strategy ${now.updateStrategy ?? 'DEFAULT'} → ${strategy}`);
  if (changes.length === 0) return { decision: 'keep', reason: 'the group\'s EKS update config already matches its tags' };
  return { decision: 'apply', updateConfig: { ...size, ...(strategy ? { updateStrategy: strategy } : {}) }, changes };
}

function describeSize(config: Pick<UpdateConfigView, 'maxUnavailable' | 'maxUnavailablePercentage'>): string {
  if (config.maxUnavailable !== undefined) return String(config.maxUnavailable);
  if (config.maxUnavailablePercentage !== undefined) return `${config.maxUnavailablePercentage}%`;
  return 'unset';
}

/** What the phase 'config' or 'version' step observed. */
export interface StartSnapshot {
  nodegroup: NodegroupView;
  /** the group's update InProgress; looked up only while the group is UPDATING */
  running?: UpdateView;
}

export type StartDecision =
  | { action: 'already-at-target' }
  | { action: 'adopt-version'; updateId: string }
  | { action: 'adopt-config'; updateId: string }
  | { action: 'wait-other'; detail: string }
  | { action: 'refuse'; reason: string }
  | { action: 'start-config'; updateConfig: UpdateConfigView; changes: string[] }
  | { action: 'start-version'; request: VersionUpdateRequest };

/** Groups in these states will never accept an update: stop instead of waiting forever. */
const NOT_UPDATABLE = new Set(['DELETING', 'CREATE_FAILED', 'DELETE_FAILED']);

/**
 * Before starting anything: is the group there already, is an update (ours or another) in
 * progress, and what to start. Pure.
 */
export function decideStart(phase: 'config' | 'version', snapshot: StartSnapshot, target: ManagedTarget): StartDecision {
  const { nodegroup, running } = snapshot;
  if (NOT_UPDATABLE.has(nodegroup.status)) return { action: 'refuse', reason: `node group ${nodegroup.cluster}/${nodegroup.name} is ${nodegroup.status}: it cannot be updated` };
  // an update of ours still running is watched to its end, even if the group shows the target already
  if (running && updateMatchesTarget(running, target)) return { action: 'adopt-version', updateId: running.id };
  if (isAtTarget(nodegroup, target)) return { action: 'already-at-target' };
  if (running) {
    if (phase === 'config' && running.type === 'ConfigUpdate') {
      const plan = planUpdateConfig(nodegroup.tags, nodegroup.updateConfig);
      if (plan.decision === 'apply' && configUpdateMatches(running, plan.updateConfig)) return { action: 'adopt-config', updateId: running.id };
    }
    return { action: 'wait-other', detail: `${running.type} ${running.id} is in progress${running.createdAt ? ` since ${running.createdAt}` : ''}` };
  }
  if (nodegroup.status !== 'ACTIVE' && nodegroup.status !== 'DEGRADED') {
    return { action: 'wait-other', detail: `the node group is ${nodegroup.status}` };
  }
  if (phase === 'config') {
    const plan = planUpdateConfig(nodegroup.tags, nodegroup.updateConfig);
    if (plan.decision === 'apply') return { action: 'start-config', updateConfig: plan.updateConfig, changes: plan.changes };
  }
  return { action: 'start-version', request: planVersionRequest(nodegroup, target) };
}

function configUpdateMatches(update: Pick<UpdateView, 'params'>, config: UpdateConfigView): boolean {
  const param = (type: string) => update.params.find((p) => p.type === type)?.value;
  if (config.maxUnavailable !== undefined) return param('MaxUnavailable') === String(config.maxUnavailable);
  return param('MaxUnavailablePercentage') === String(config.maxUnavailablePercentage);
}

/** What a poll of our own update means. Pure. */
export function decidePoll(
  phase: 'await-config' | 'await-version',
  update: Pick<UpdateView, 'status' | 'createdAt'>,
  now: Date,
): { action: 'wait'; seconds: number; detail: string } | { action: 'done' } | { action: 'failed' } {
  if (update.status === 'Successful') return { action: 'done' };
  if (update.status === 'Failed' || update.status === 'Cancelled') return { action: 'failed' };
  const minutes = update.createdAt ? Math.floor((now.getTime() - Date.parse(update.createdAt)) / 60_000) : undefined;
  const since = minutes !== undefined && Number.isFinite(minutes) ? ` for ${minutes} min` : '';
  return phase === 'await-config'
    ? { action: 'wait', seconds: POLL_SECONDS.config, detail: `config update in progress${since}` }
    : { action: 'wait', seconds: POLL_SECONDS.nodes, detail: `EKS is replacing the nodes${since}` };
}

// ---------------------------------------------------------------------------------------
// The step
// ---------------------------------------------------------------------------------------

/** Token of the config update: a different request from the version update's, so a different token. */
const configToken = (token: string) => `${token}-config`.slice(-64);
/** Token of the update back to the previous version: another request again. */
const rollbackToken = (token: string) => `${token}-rollback`.slice(-64);

/**
 * What the fleet makes of an update about to start (pure): undefined = start it; a freeze
 * waits (looking again every few minutes), a hold ends the rollout with nothing changed.
 */
export function decideBeforeVersion(boundary: BoundaryVerdict | undefined, state: ManagedUpdateState, now: Date): ManagedStep | undefined {
  if (!boundary || boundary.verdict === 'continue') return undefined;
  if (boundary.verdict === 'stop') return { kind: 'held', state, reason: `stopped before the EKS update started: ${boundary.reason}` };
  return { kind: 'wait', state: { ...state, frozenSince: state.frozenSince ?? now.toISOString() }, seconds: POLL_SECONDS.freeze, phase: 'frozen', detail: `${boundary.reason}; the EKS update starts when unfrozen` };
}

/** A hold of the release seen while the update runs, kept in the state as the rollback's cause (a regression seen first stays). Pure. */
export function noteHold(state: ManagedUpdateState, boundary: BoundaryVerdict): ManagedUpdateState {
  if (boundary.verdict !== 'stop' || state.rollback) return state;
  return { ...state, rollback: { reason: `stopped: ${boundary.reason}`, cause: 'held' } };
}

/** A watch's regression, kept in the state once (the first one is the one reported). Pure. */
export function noteRegression(state: ManagedUpdateState, watch: WorkloadWatch): ManagedUpdateState {
  if (!watch.regressed || state.rollback) return state;
  return { ...state, rollback: { reason: `health gate: ${watch.reason}`, cause: 'failed-health', signals: watch.signals.slice(0, 8) } };
}

/**
 * One step of the managed update; see the phases above. At most two phases advance in one
 * call (a finished config update starts the version update at once).
 */
export async function stepManagedUpdate(input: ManagedUpdateInput, ports: ManagedUpdatePorts): Promise<ManagedStep> {
  const target = targetOf(input);
  let state: ManagedUpdateState = input.state ?? { phase: 'config', startedAt: ports.now().toISOString() };
  const names = { cluster: input.cluster, nodegroup: input.nodegroup };

  for (let advanced = 0; advanced < 3; advanced++) {
    if (state.phase === 'await-rollback') {
      const id = state.rollback?.updateId;
      if (!id) return rollBack(input, state, ports);
      const update = await describeUpdate(ports.aws, input.cluster, input.nodegroup, id);
      const poll = decidePoll('await-version', update, ports.now());
      if (poll.action === 'wait') return { kind: 'wait', state, seconds: poll.seconds, phase: 'rolling-back', detail: `back to launch template version ${input.previous?.version}: ${poll.detail}` };
      if (poll.action === 'failed') return failed(input, state, update, ports);
      ports.log('managed node group rolled back', { ...names, updateId: id });
      return { kind: 'rolled-back', state, reason: state.rollback!.reason };
    }
    if (state.phase === 'await-config' || state.phase === 'await-version') {
      const id = state.phase === 'await-config' ? state.configUpdateId : state.updateId;
      if (!id) {
        // a state without its update id cannot be polled: look again from the start of the phase
        state = { ...state, phase: state.phase === 'await-config' ? 'config' : 'version' };
        continue;
      }
      const update = await describeUpdate(ports.aws, input.cluster, input.nodegroup, id);
      const poll = decidePoll(state.phase, update, ports.now());
      // the new nodes' workloads, at each poll of the version update and once it is done
      if (state.phase === 'await-version' && poll.action !== 'failed' && ports.watchHealth && !state.rollback) {
        const watched = noteRegression(state, await ports.watchHealth());
        if (watched.rollback) ports.log('managed node group update: workloads regressed on the new nodes', { ...names, updateId: id, reason: watched.rollback.reason });
        state = watched;
      }
      // a hold of the release while EKS replaces the nodes: the update cannot be stopped, the group goes back after it
      if (state.phase === 'await-version' && poll.action === 'wait' && ports.atBatchBoundary && !state.rollback) {
        state = noteHold(state, await ports.atBatchBoundary());
        if (state.rollback) ports.log('managed node group update: the release is held', { ...names, updateId: id, reason: state.rollback.reason });
      }
      if (state.phase === 'await-version' && state.rollback) {
        // EKS's update cannot be cancelled: it is let end, then the group goes back
        if (poll.action === 'wait') return { kind: 'wait', state, seconds: poll.seconds, phase: 'nodes-updating', detail: `${state.rollback.reason}; EKS's update cannot be cancelled: ${input.previous ? 'the group goes back once it ends' : 'it runs to its end'}` };
        return rollBack(input, state, ports);
      }
      if (poll.action === 'wait') return { kind: 'wait', state, seconds: poll.seconds, phase: state.phase === 'await-config' ? 'config-updating' : 'nodes-updating', detail: poll.detail };
      if (poll.action === 'failed') return failed(input, state, update, ports);
      if (state.phase === 'await-version') {
        ports.log('managed node group update succeeded', { ...names, updateId: id });
        return { kind: 'succeeded', state, updateId: id };
      }
      ports.log('managed node group config updated', { ...names, updateId: id });
      state = { ...state, phase: 'version' };
      continue;
    }

    const phase = state.phase;
    const nodegroup = await describeNodegroup(ports.aws, input.cluster, input.nodegroup);
    const running = nodegroup.status === 'UPDATING' ? await findUpdateInProgress(ports.aws, input.cluster, input.nodegroup) : undefined;
    const decision = decideStart(phase, { nodegroup, ...(running ? { running } : {}) }, target);
    switch (decision.action) {
      case 'refuse':
        throw new ConfigurationError(decision.reason);
      case 'already-at-target':
        ports.log('managed node group already at the target', { ...names, target });
        return { kind: 'succeeded', state, updateId: state.updateId ?? '', alreadyAtTarget: state.updateId === undefined };
      case 'adopt-version':
        ports.log('adopting the update in progress', { ...names, updateId: decision.updateId });
        return { kind: 'wait', state: { ...state, phase: 'await-version', updateId: decision.updateId }, seconds: POLL_SECONDS.nodes, phase: 'nodes-updating', detail: `update ${decision.updateId} in progress` };
      case 'adopt-config':
        ports.log('adopting the config update in progress', { ...names, updateId: decision.updateId });
        return { kind: 'wait', state: { ...state, phase: 'await-config', configUpdateId: decision.updateId }, seconds: POLL_SECONDS.config, phase: 'config-updating', detail: `config update ${decision.updateId} in progress` };
      case 'wait-other':
        return { kind: 'wait', state, seconds: POLL_SECONDS.anotherUpdate, phase: 'another-update-running', detail: decision.detail };
      case 'start-config': {
        const outcome = await startConfigUpdate(ports.aws, input.cluster, input.nodegroup, decision.updateConfig, configToken(input.clientRequestToken));
        if ('inUse' in outcome) return inUse(state, outcome);
        ports.log('managed node group config update started', { ...names, updateId: outcome.started.id, changes: decision.changes });
        return { kind: 'wait', state: { ...state, phase: 'await-config', configUpdateId: outcome.started.id }, seconds: POLL_SECONDS.config, phase: 'config-updating', detail: decision.changes.join('; ') };
      }
      case 'start-version': {
        // the last moment the fleet can keep the update from happening: once started it runs to its end
        const held = decideBeforeVersion(ports.atBatchBoundary ? await ports.atBatchBoundary() : undefined, state, ports.now());
        if (held) {
          ports.log('managed node group update held by the fleet', { ...names, kind: held.kind, ...(held.kind === 'wait' ? { detail: held.detail } : {}) });
          return held;
        }
        const outcome = await startVersionUpdate(ports.aws, input.cluster, input.nodegroup, decision.request, input.clientRequestToken);
        if ('inUse' in outcome) return inUse(state, outcome);
        ports.log('managed node group update started', { ...names, updateId: outcome.started.id, request: decision.request });
        return { kind: 'wait', state: { ...state, phase: 'await-version', updateId: outcome.started.id }, seconds: POLL_SECONDS.nodes, phase: 'nodes-updating', detail: `update ${outcome.started.id} started` };
      }
    }
  }
  // unreachable: every path above returns within two turns; a loop here is a bug
  throw new Error(`stepManagedUpdate did not settle in phase ${state.phase}`);
}

/**
 * After a regression, once EKS's update ended: UpdateNodegroupVersion back to the launch
 * template version the group ran (its own token, so a retry adopts it); without one the
 * rollout ends regressed, the group on the new image.
 */
async function rollBack(input: ManagedUpdateInput, state: ManagedUpdateState, ports: ManagedUpdatePorts): Promise<ManagedStep> {
  const rollback = state.rollback!;
  if (!input.previous) return { kind: 'regressed', state, reason: `${rollback.reason}; the group was rolled by release version, which EKS cannot roll back: it stays on the new image` };
  const nodegroup = await describeNodegroup(ports.aws, input.cluster, input.nodegroup);
  const request = planVersionRequest(nodegroup, { kind: 'launch-template', id: input.previous.id, version: input.previous.version });
  const outcome = await startVersionUpdate(ports.aws, input.cluster, input.nodegroup, request, rollbackToken(input.clientRequestToken));
  if ('inUse' in outcome) return { kind: 'wait', state: { ...state, phase: 'await-rollback' }, seconds: POLL_SECONDS.anotherUpdate, phase: 'rolling-back', detail: outcome.inUse };
  ports.log('managed node group rolling back', { cluster: input.cluster, nodegroup: input.nodegroup, updateId: outcome.started.id, to: input.previous, reason: rollback.reason });
  return { kind: 'wait', state: { ...state, phase: 'await-rollback', rollback: { ...rollback, updateId: outcome.started.id } }, seconds: POLL_SECONDS.nodes, phase: 'rolling-back', detail: `update ${outcome.started.id} back to launch template version ${input.previous.version} started` };
}

function inUse(state: ManagedUpdateState, outcome: Extract<StartOutcome, { inUse: string }>): ManagedStep {
  return { kind: 'wait', state, seconds: POLL_SECONDS.anotherUpdate, phase: 'another-update-running', detail: outcome.inUse };
}

async function failed(input: ManagedUpdateInput, state: ManagedUpdateState, update: UpdateView, ports: ManagedUpdatePorts): Promise<ManagedStep> {
  const nodegroup = await describeNodegroup(ports.aws, input.cluster, input.nodegroup);
  const facts = await gatherFailureFacts(nodegroup, update, ports);
  const report = explainUpdateFailure({ id: update.id, status: update.status as 'Failed' | 'Cancelled', errors: update.errors }, facts);
  ports.log('managed node group update failed', { cluster: input.cluster, nodegroup: input.nodegroup, updateId: update.id, codes: update.errors.map((e) => e.code), summary: report.summary });
  return { kind: 'failed', state, report };
}
