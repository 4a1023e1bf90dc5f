import type { AwsScope } from '../../aws/clients.js';
import type { ManagedRoll } from '../../events/rollout.js';
import type { KubeClients } from '../../kube/client.js';
import { type AnnouncePort, type Announcement, endOnFailure, type RollContext, type RollStrategy, type StepOutcome, targetImage } from '../roll-strategy.js';
import { type ManagedStep, stepManagedUpdate } from './managed-update.js';

/** An EKS managed node group: EKS rolls it (UpdateNodegroupVersion); the steps watch, and explain a failure. */
export interface ManagedUpdateStrategyPorts extends AnnouncePort {
  aws: AwsScope;
  kube: KubeClients;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export const managedUpdate: RollStrategy<ManagedRoll, ManagedUpdateStrategyPorts> = {
  kind: 'managed',

  async plan({ input }, ports) {
    await ports.notify('planned', { strategy: 'eks-managed-update', summary: `${input.cluster}/${input.group.name}: EKS managed node group update onto ${targetImage(input)}` }, 'planned');
    return { state: { kind: 'managed', managed: null, end: null, report: null }, next: 'step', wait: null, summary: 'starting the EKS managed node group update', outcome: null };
  },

  async step(state, { input, control }, ports) {
    const lt = input.launchTemplate;
    const step = await stepManagedUpdate(
      {
        cluster: input.cluster,
        nodegroup: input.group.name,
        launchTemplate: lt.launchTemplateId ? { id: lt.launchTemplateId, version: lt.version } : null,
        ...(input.target.release ? { releaseVersion: input.target.release } : {}),
        state: state.managed,
        clientRequestToken: clientToken(input.executionArn),
      },
      { aws: ports.aws, kube: () => Promise.resolve(ports.kube), now: ports.now, log: ports.log },
    );
    if (control) ports.log('pause and abort do not apply to an EKS managed update already under way', { control });
    const { outcome, announce } = managedOutcome(state, step, input);
    if (announce) await ports.notify(announce.event, announce.detail, announce.once);
    return outcome;
  },

  afterFailure: (state, error, _context, ports) => endOnFailure(state, error, ports),
};

/** What a step of the update means for the roll, and what it announces. Pure. */
export function managedOutcome(previous: ManagedRoll, step: ManagedStep, names: Pick<RollContext['input'], 'cluster' | 'group'>): { outcome: StepOutcome; announce?: Announcement } {
  switch (step.kind) {
    case 'wait':
      return { outcome: { state: { ...previous, managed: step.state }, next: 'wait', wait: { seconds: step.seconds, phase: 'nodegroup-update' }, summary: step.detail ?? step.phase, outcome: null } };
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
