import type { AwsScope } from '../../aws/clients.js';
import type { ManagedRoll } from '../../events/rollout.js';
import type { BoundaryVerdict } from '../../fleet/may-start.js';
import type { HealthCriteria } from '../../fleet/workload-health.js';
import { instancesRunning } from '../../aws/instances.js';
import type { KubeClients } from '../../kube/client.js';
import { NODEGROUP_LABEL } from '../explain-update-failure.js';
import { checkHealth, readNodes } from '../health-gate.js';
import { type AnnouncePort, type Announcement, endOnFailure, type RollContext, type RollStrategy, type StepOutcome, targetImage } from '../roll-strategy.js';
import { type ManagedStep, stepManagedUpdate, type WorkloadWatch } from './managed-update.js';

/** An EKS managed node group: EKS rolls it (UpdateNodegroupVersion); the steps watch, and explain a failure. */
export interface ManagedUpdateStrategyPorts extends AnnouncePort {
  aws: AwsScope;
  kube: KubeClients;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
  /** the thresholds of the workload health gate (the promotion policy's for the group's ring and cluster, else the defaults) */
  healthCriteria: () => Promise<HealthCriteria>;
  /** the fleet's word: right before the update starts a freeze waits and a hold ends it; while it runs a hold takes the group back after it */
  atBatchBoundary: () => Promise<BoundaryVerdict>;
  /** the group's outcome for its release in the fleet table (does nothing for a rollout of no release) */
  recordOutcome: (state: 'failed-health' | 'stopped', detail: string) => Promise<void>;
}


export const managedUpdate: RollStrategy<ManagedRoll, ManagedUpdateStrategyPorts> = {
  kind: 'managed',

  async plan({ input }, ports) {
    await ports.notify('planned', { strategy: 'eks-managed-update', summary: `${input.cluster}/${input.group.name}: EKS managed node group update onto ${targetImage(input)}` }, 'planned');
    return { state: { kind: 'managed', managed: null, end: null, report: null }, next: 'step', wait: null, summary: 'starting the EKS managed node group update', outcome: null };
  },

  async step(state, { input, control }, ports) {
    const lt = input.launchTemplate;
    // where a regression takes the group back: the launch template version it ran (not a release: EKS cannot go back)
    const previous = lt.launchTemplateId && input.group.launchTemplate?.id === lt.launchTemplateId ? { id: lt.launchTemplateId, version: input.group.launchTemplate.version } : undefined;
    const step = await stepManagedUpdate(
      {
        cluster: input.cluster,
        nodegroup: input.group.name,
        launchTemplate: lt.launchTemplateId ? { id: lt.launchTemplateId, version: lt.version } : null,
        ...(input.target.release ? { releaseVersion: input.target.release } : {}),
        state: state.managed,
        clientRequestToken: clientToken(input.executionArn),
        ...(previous ? { previous } : {}),
      },
      {
        aws: ports.aws,
        kube: () => Promise.resolve(ports.kube),
        now: ports.now,
        log: ports.log,
        atBatchBoundary: ports.atBatchBoundary,
        ...(input.target.imageId ? { watchHealth: () => watchWorkloads(input.cluster, input.group.name, input.target.imageId, ports) } : {}),
      },
    );
    if (control) ports.log('pause and abort do not apply to an EKS managed update already under way', { control });
    const { outcome, announce, record } = managedOutcome(state, step, input, previous !== undefined);
    if (record) await ports.recordOutcome(record.state, record.detail);
    if (announce) await ports.notify(announce.event, announce.detail, announce.once);
    return outcome;
  },

  afterFailure: (state, error, _context, ports) => endOnFailure(state, error, ports),
};

/**
 * The workloads of the group's nodes on the new image (health-gate.ts, as a self-managed
 * batch judges its new nodes): one DescribeInstances filtered by the image (EKS tags a managed
 * group's instances eks:nodegroup-name; its nodegroup-image label is missing on a custom AMI,
 * whose bootstrap EKS leaves alone), one LIST of nodes and one of pods; the group's other
 * nodes (its eks.amazonaws.com/nodegroup label) are the restart baseline. Insufficient data
 * (nodes too young) is not a regression.
 */
export async function watchWorkloads(cluster: string, group: string, imageId: string, ports: Pick<ManagedUpdateStrategyPorts, 'aws' | 'kube' | 'healthCriteria' | 'now'>): Promise<WorkloadWatch> {
  const fresh = (await instancesRunning(ports.aws, [imageId])).filter((i) => i.tags['eks:nodegroup-name'] === group && i.tags['eks:cluster-name'] === cluster).map((i) => i.instanceId);
  if (fresh.length === 0) return { regressed: false };
  const core = await ports.kube.core(cluster);
  const listed = await readNodes(core, cluster);
  const names = new Set(listed.items.filter((n) => n.metadata?.labels?.[NODEGROUP_LABEL] === group).map((n) => n.metadata?.name));
  const isNew = new Set(fresh);
  const old = [...listed.byInstance].filter(([id, fact]) => names.has(fact.name) && !isNew.has(id)).map(([id]) => id);
  const verdict = await checkHealth(core, cluster, fresh, listed, { criteria: await ports.healthCriteria(), oldInstanceIds: old, now: ports.now() });
  return verdict.verdict === 'regressed' ? { regressed: true, reason: verdict.reason, signals: verdict.report.signals.filter((s) => s.status === 'regressed') } : { regressed: false };
}

/** What a step of the update means for the roll, what it announces, and the group's outcome for its release when it regressed or was held. Pure. */
export function managedOutcome(
  previous: ManagedRoll,
  step: ManagedStep,
  names: Pick<RollContext['input'], 'cluster' | 'group'>,
  /** a regression takes the group back to its launch template version (else it stays: announced at the end only) */
  canGoBack = true,
): { outcome: StepOutcome; announce?: Announcement; record?: { state: 'failed-health' | 'stopped'; detail: string } } {
  const rollback = step.state.rollback;
  const why = rollback ? { cause: rollback.cause, ...(rollback.signals?.length ? { signals: rollback.signals } : {}) } : {};
  // a regression seen in this step: recorded at once (the update may run on for a while), announced once
  const fresh = rollback && !previous.managed?.rollback ? { record: { state: rollback.cause === 'held' ? ('stopped' as const) : ('failed-health' as const), detail: rollback.reason.slice(0, 1000) } } : {};
  const rollingBack = rollback && !previous.managed?.rollback && canGoBack ? { announce: { event: 'rolling-back', detail: { reason: rollback.reason, ...why }, once: 'rolling-back' } as Announcement } : {};
  switch (step.kind) {
    case 'wait':
      if (step.phase === 'frozen') {
        const since = step.state.frozenSince ?? '';
        return {
          outcome: { state: { ...previous, managed: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'paused' }, summary: `paused: ${step.detail ?? 'frozen'}`, outcome: null },
          announce: { event: 'paused', detail: { reason: 'freeze', ...(step.detail ? { message: step.detail } : {}) }, once: `paused:${since}` },
        };
      }
      return { outcome: { state: { ...previous, managed: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'nodegroup-update' }, summary: step.detail ?? step.phase, outcome: null }, ...rollingBack, ...fresh };
    case 'held':
      return {
        outcome: { state: { ...previous, managed: step.state, end: 'refused' }, next: 'end', wait: null, summary: step.reason, outcome: 'refused' },
        announce: { event: 'aborted', detail: { reason: step.reason, cause: 'held' }, once: 'end' },
        record: { state: 'stopped', detail: step.reason.slice(0, 1000) },
      };
    case 'rolled-back':
      return {
        outcome: { state: { ...previous, managed: step.state, end: 'rolled-back' }, next: 'end', wait: null, summary: `rolled back: ${step.reason}`, outcome: 'rolled-back' },
        announce: { event: 'rolled-back', detail: { reason: step.reason, ...why }, once: 'end' },
        ...fresh,
      };
    case 'regressed':
      return {
        outcome: { state: { ...previous, managed: step.state, end: 'failed' }, next: 'end', wait: null, summary: step.reason, outcome: 'failed' },
        announce: { event: 'failed', detail: { reason: step.reason, summary: `${names.cluster}/${names.group.name}: ${step.reason}`.slice(0, 1000), ...why }, once: 'end' },
        ...fresh,
      };
    case 'succeeded':
      return {
        outcome: { state: { ...previous, managed: step.state, end: 'finished' }, next: 'end', wait: null, summary: `EKS update ${step.updateId} succeeded: every node runs the new image`, outcome: 'finished' },
        announce: { event: 'finished', detail: { updateId: step.updateId }, once: 'end' },
      };
    case 'failed':
      return {
        outcome: { state: { ...previous, managed: step.state, end: 'failed', report: step.report as unknown as Record<string, unknown> }, next: 'end', wait: null, summary: step.report.summary, outcome: 'failed' },
        announce: { event: 'failed', detail: { report: step.report, summary: `${names.cluster}/${names.group.name}: ${step.report.summary}` }, once: 'end' },
      };
  }
}

/** EKS clientRequestToken: ≤ 64 characters, the same for every retry of this execution. */
function clientToken(executionArn: string): string {
  const name = executionArn.split(':').at(-1) ?? executionArn;
  return name.length <= 64 ? name : name.slice(name.length - 64);
}
