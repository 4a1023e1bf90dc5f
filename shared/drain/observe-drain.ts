import { describeLifecycleHook } from '../aws/lifecycle-actions.js';
import type { InstanceView } from '../aws/instances.js';
import { hookLeftToDefault } from '../config/observe.js';
import { ConfigurationError } from '../errors.js';
import { type DrainObserved, observedEvent } from '../events/observed.js';
import type { DrainPolicy, DrainTriggerKind } from '../events/drain.js';
import { describeSeconds } from '../config/duration.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';
import { findNodeForInstance } from '../kube/find-node.js';
import { type DrainPreview, previewDrain } from '../kube/drain/preview-drain.js';
import type { PodRef } from '../kube/drain/types.js';
import type { AwsScope } from '../aws/clients.js';
import type { KubeClients } from '../kube/client.js';
import type { PublishServiceEvent } from '../events/service-events.js';

const PODS_NAMED = 20;

/** What observing a drain reads with, and where it reports (requestDrain's ports hold them). */
export interface ObserveDrainPorts {
  aws: AwsScope;
  kube: Pick<KubeClients, 'core' | 'policy'>;
  publish?: PublishServiceEvent;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/**
 * Observe mode's drain (requestDrain's steps 3–5 replaced): what a drain of the instance's node
 * would do right now — the pods it would evict, those a PodDisruptionBudget would hold back —
 * and the lifecycle action it would have kept alive and completed, reported as
 * `Node Drain Observed`. Reads only: no drain record, no execution, no cordon, no eviction, no
 * heartbeat, no completion (the hook's own default result applies at its timeout).
 */
export async function observeDrain(
  request: { kind: DrainTriggerKind; lifecycleAction?: LifecycleAction; policy: DrainPolicy },
  found: { instance: InstanceView; cluster: string },
  ports: ObserveDrainPorts,
): Promise<DrainObserved> {
  const { instance, cluster } = found;
  const now = ports.now();
  const core = await ports.kube.core(cluster);
  const node = await findNodeForInstance(core, cluster, instance);
  const nodeName = node?.metadata?.name ?? null;
  const preview: DrainPreview = nodeName
    ? await previewDrain({ core, policy: await ports.kube.policy(cluster), cluster, now: ports.now }, nodeName)
    : { nodeFound: false, evict: [], blocked: [], skipped: [], terminating: [] };
  const action = request.lifecycleAction;
  const hook = action ? await describeLifecycleHook(ports.aws, action.autoScalingGroupName, action.lifecycleHookName) : undefined;
  const lifecycleAction: DrainObserved['lifecycleAction'] = action
    ? { autoScalingGroupName: action.autoScalingGroupName, lifecycleHookName: action.lifecycleHookName, ...(hook ? { defaultResult: hook.defaultResult, timeoutSeconds: hook.heartbeatTimeoutSeconds } : {}) }
    : undefined;
  const detail = observedEvent('drain', {
    mode: 'observe',
    observedBy: 'service',
    cluster,
    instanceId: instance.instanceId,
    nodeName,
    trigger: request.kind,
    nodeFound: preview.nodeFound,
    evict: preview.evict.map(ref),
    blocked: preview.blocked.map((b) => ({ pod: ref(b.pod), pdb: b.pdb ? `${b.pdb.namespace}/${b.pdb.name}` : null, message: b.message })),
    skipped: preview.skipped.map((s) => ({ pod: ref(s.pod), reason: s.reason })),
    ...(lifecycleAction ? { lifecycleAction } : {}),
    wouldDo: drainSteps(instance.instanceId, nodeName, preview, lifecycleAction, request.policy),
    summary: summaryOf(cluster, instance.instanceId, nodeName, preview, lifecycleAction),
    at: now.toISOString(),
  });
  if (!ports.publish) throw new ConfigurationError('observe mode needs a way to publish its report (ports.publish)');
  await ports.publish(detail.detailType, detail.detail);
  ports.log('observe mode: drain reported', { instanceId: instance.instanceId, cluster, evict: preview.evict.length, blocked: preview.blocked.length });
  return detail.detail;
}

/** The writes a drain would make, in order. Pure. */
export function drainSteps(instanceId: string, nodeName: string | null, preview: DrainPreview, action: DrainObserved['lifecycleAction'], policy?: Pick<DrainPolicy, 'drainTimeoutSeconds' | 'onDrainTimeout'>): string[] {
  const steps: string[] = [];
  if (nodeName && preview.nodeFound) {
    steps.push(`cordon ${nodeName} (spec.unschedulable and the taint eks-node-lifecycle/draining:NoSchedule)`);
    if (preview.evict.length > 0) steps.push(`evict ${preview.evict.length} pod${preview.evict.length === 1 ? '' : 's'} now: ${names(preview.evict)}`);
    if (preview.blocked.length > 0) {
      steps.push(`hold back ${preview.blocked.length} pod${preview.blocked.length === 1 ? '' : 's'} until their PodDisruptionBudgets allow: ${names(preview.blocked.map((b) => b.pod))}`);
      if (policy) {
        const at = `at the drain timeout (${describeSeconds(policy.drainTimeoutSeconds)})`;
        steps.push(policy.onDrainTimeout === 'force' ? `${at}, delete the pods still held back (on-drain-timeout=force)` : `${at}, report the pods still held back and keep the node cordoned (on-drain-timeout=fail)`);
      }
    }
  } else {
    steps.push(`no node of ${instanceId} in the cluster: nothing to cordon or evict`);
  }
  if (action) {
    steps.push(`RecordLifecycleActionHeartbeat on hook ${action.lifecycleHookName} while the drain runs`);
    steps.push(`CompleteLifecycleAction CONTINUE on hook ${action.lifecycleHookName} once drained (${hookLeftToDefault(action)})`);
  }
  return steps;
}

function summaryOf(cluster: string, instanceId: string, nodeName: string | null, preview: DrainPreview, action: DrainObserved['lifecycleAction']): string {
  const what = nodeName ? `${nodeName} (${instanceId})` : instanceId;
  const budgets = [...new Set(preview.blocked.flatMap((b) => (b.pdb ? [`${b.pdb.namespace}/${b.pdb.name}`] : [])))];
  const pods = preview.nodeFound ? `evicting ${preview.evict.length} pod${preview.evict.length === 1 ? '' : 's'} now${preview.blocked.length > 0 ? `, ${preview.blocked.length} held back by ${budgets.join(', ') || 'their budgets'}` : ''}` : 'no node to drain';
  return `observe mode: ${cluster}: would drain ${what}: ${pods}; nothing was changed${action ? ` (${hookLeftToDefault(action)})` : ''}`;
}

function ref(pod: PodRef): { namespace: string; name: string } {
  return { namespace: pod.namespace, name: pod.name };
}

function names(pods: readonly PodRef[]): string {
  const shown = pods.slice(0, PODS_NAMED).map((p) => `${p.namespace}/${p.name}`);
  return pods.length > PODS_NAMED ? `${shown.join(', ')} +${pods.length - PODS_NAMED} more` : shown.join(', ');
}
