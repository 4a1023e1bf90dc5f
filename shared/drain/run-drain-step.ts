import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describeLifecycleHook, recordLifecycleActionHeartbeat } from '../aws/auto-scaling.js';
import type { DrainRecords } from '../aws/drain-records.js';
import { describeInstance } from '../aws/instances.js';
import { AwsTransientError, LifecycleActionGoneError } from '../errors.js';
import type { DrainLoop, DrainStepInput } from '../events/drain.js';
import type { KubeClients } from '../kube/client.js';
import { drainPass } from '../kube/drain/drain-pass.js';
import { forcePass } from '../kube/drain/force-pass.js';
import { nextPassDelaySeconds } from '../kube/drain/next-wait.js';
import type { DrainProgress } from '../kube/drain/types.js';
import { findNodeForInstance } from '../kube/find-node.js';
import { decidePass, heartbeatEverySeconds } from './decide-pass.js';

export interface DrainStepPorts {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  records: DrainRecords;
  kube: KubeClients;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** What one pass reports to the workflow (kept small: Step Functions state is ≤ 256 KB). */
export interface DrainStepResult {
  nodeName: string | null;
  phase: DrainProgress['phase'];
  remaining: number;
  evicted: number;
  terminating: number;
  skipped: number;
  blocked: { pod: string; pdb: { namespace: string; name: string; disruptionsAllowed: number } | null; message: string }[];
  deadlinePassed: boolean;
  waitSeconds: number;
  /** `deferred`: Auto Scaling throttled the heartbeat; the pass went on, and the next one sends it */
  heartbeat: 'sent' | 'not-due' | 'deferred' | 'no-hook' | 'expired';
  loop: DrainLoop;
}

const MAX_BLOCKERS_REPORTED = 20;

/**
 * One pass of a drain, as a workflow step (seconds; safe to repeat):
 * 1. keep the lifecycle hook alive when a heartbeat is due (the action may have been
 *    noted by a later trigger, so it is read from the drain record every pass) — before any
 *    Kubernetes call, so a pass that fails (the API down, retried by the workflow) still
 *    keeps the hook from expiring under the drain; a throttled heartbeat waits for the next pass;
 * 2. first pass only: find the node by providerID (instance gone or no node: node-gone);
 * 3. one engine pass — evict (budgets respected) or, once the policy says so, force;
 * 4. decide (pure): over, deadline passed, and how long to wait before the next pass.
 */
export async function runDrainStep(input: DrainStepInput, ports: DrainStepPorts): Promise<DrainStepResult> {
  const loop: DrainLoop = input.loop ?? { passes: 0, consecutiveBlocked: 0, lastHeartbeatAt: null, heartbeatEverySeconds: null };
  // 1. the hook
  const now = ports.now();
  const record = await ports.records.get(input.instanceId);
  let heartbeat: DrainStepResult['heartbeat'] = 'no-hook';
  let { lastHeartbeatAt, heartbeatEverySeconds: every } = loop;
  if (record?.lifecycleAction) {
    if (every === null) {
      const hook = await describeLifecycleHook(ports.autoscaling, record.lifecycleAction.autoScalingGroupName, record.lifecycleAction.lifecycleHookName);
      every = heartbeatEverySeconds(hook?.heartbeatTimeoutSeconds ?? 3600);
    }
    heartbeat = 'not-due';
    const due = decidePass({ phase: 'draining', engineDelaySeconds: 0, now, deadline: new Date(input.deadline), heartbeat: { everySeconds: every, lastAt: new Date(lastHeartbeatAt ?? input.startedAt) } }).heartbeatDue;
    if (due) {
      try {
        await recordLifecycleActionHeartbeat(ports.autoscaling, record.lifecycleAction);
        heartbeat = 'sent';
        lastHeartbeatAt = now.toISOString();
      } catch (error) {
        // a throttled heartbeat must not stop the drain: the next pass (at most a minute on) tries again
        if (error instanceof AwsTransientError) {
          heartbeat = 'deferred';
          ports.log('lifecycle heartbeat deferred', { instanceId: input.instanceId, error: error.message });
        } else if (error instanceof LifecycleActionGoneError) {
          heartbeat = 'expired';
          ports.log('lifecycle action no longer open while draining', { instanceId: input.instanceId });
        } else {
          throw error;
        }
      }
    }
  }


  // 2. the node (first pass)
  const nodeName = input.nodeName ?? (await locateNode(input, ports));


  // 3. the pass
  const progress: DrainProgress | undefined = nodeName
    ? await (input.mode === 'force' ? forcePass : drainPass)(
        { core: await ports.kube.core(input.cluster), policy: await ports.kube.policy(input.cluster), cluster: input.cluster },
        nodeName,
        { maxGracePeriodSeconds: input.policy.maxGracePeriodSeconds },
      )
    : undefined;
  const phase = progress?.phase ?? 'node-gone';
  const blockedOnly = (progress?.blocked.length ?? 0) > 0 && (progress?.evicted.length ?? 0) === 0;
  const consecutiveBlocked = blockedOnly ? loop.consecutiveBlocked + 1 : 0;

  // 4. what next
  const decision = decidePass({
    phase,
    engineDelaySeconds: progress ? nextPassDelaySeconds(progress, consecutiveBlocked) : 0,
    now,
    deadline: new Date(input.deadline),
    ...(heartbeat === 'sent' || heartbeat === 'not-due' || heartbeat === 'deferred' ? { heartbeat: { everySeconds: every!, lastAt: new Date(lastHeartbeatAt ?? input.startedAt) } } : {}),
  });
  const result: DrainStepResult = {
    nodeName,
    phase,
    remaining: progress?.remaining.length ?? 0,
    evicted: progress?.evicted.length ?? 0,
    terminating: progress?.terminating.length ?? 0,
    skipped: progress?.skipped.length ?? 0,
    // the hook closed under the drain, or the node went: Auto Scaling took it, and what blocked
    // the drain is what the last pass found (this one finds the pods going, or nothing)
    blocked:
      (heartbeat === 'expired' || phase === 'node-gone') && (progress?.blocked.length ?? 0) === 0
        ? (input.blocked ?? [])
        : (progress?.blocked ?? []).slice(0, MAX_BLOCKERS_REPORTED).map((b) => ({ pod: `${b.pod.namespace}/${b.pod.name}`, pdb: b.pdb, message: b.message })),
    deadlinePassed: decision.deadlinePassed,
    waitSeconds: decision.waitSeconds,
    heartbeat,
    loop: { passes: loop.passes + 1, consecutiveBlocked, lastHeartbeatAt, heartbeatEverySeconds: every },
  };
  ports.log('drain pass', { ...result, blocked: result.blocked.map((b) => `${b.pod} (${b.pdb ? `${b.pdb.namespace}/${b.pdb.name}` : b.message})`) });
  return result;
}

async function locateNode(input: DrainStepInput, ports: DrainStepPorts): Promise<string | null> {
  const instance = await describeInstance(ports.ec2, input.instanceId);
  if (!instance || instance.state === 'terminated') return null;
  const node = await findNodeForInstance(await ports.kube.core(input.cluster), input.cluster, instance);
  return node?.metadata?.name ?? null;
}
