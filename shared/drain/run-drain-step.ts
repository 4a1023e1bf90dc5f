import type { AwsScope } from '../aws/clients.js';
import type { DrainRecords } from '../aws/drain-records.js';
import { describeInstance } from '../aws/instances.js';
import type { ExecutionSteps } from '../events/continuation.js';
import { type DrainLoop, type DrainStepInput, type ForcedPodReport, MAX_FORCED_REPORTED } from '../events/drain.js';
import type { KubeClients } from '../kube/client.js';
import { drainPass } from '../kube/drain/drain-pass.js';
import { forcePass } from '../kube/drain/force-pass.js';
import { countBlockedPasses } from '../kube/drain/next-wait.js';
import type { DrainProgress, ForcedPod } from '../kube/drain/types.js';
import { findNodeForInstance } from '../kube/find-node.js';
import { decidePass, type PassNext } from './decide-pass.js';
import { closedSince, openActions } from './lifecycle-actions.js';
import { type KeptAlive, keepDrainAlive } from './own-drain.js';
import { stepTaken } from '../workflow/continuation.js';

export interface DrainStepPorts {
  aws: AwsScope;
  records: DrainRecords;
  kube: KubeClients;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** What one pass reports to the workflow (kept small: Step Functions state is ≤ 256 KB). */
export interface DrainStepResult {
  nodeName: string | null;
  phase: DrainProgress['phase'];
  /** what the workflow does next (see decide-pass.ts) */
  next: PassNext;
  remaining: number;
  evicted: number;
  terminating: number;
  skipped: number;
  blocked: { pod: string; pdb: { namespace: string; name: string; disruptionsAllowed: number } | null; message: string }[];
  /** every pod the drain's force passes deleted so far, with the budget it went past when known */
  forced: ForcedPodReport[];
  deadlinePassed: boolean;
  waitSeconds: number;
  /** `deferred`: Auto Scaling throttled a heartbeat; the pass went on, and the next one sends it */
  heartbeat: KeptAlive['heartbeat'];
  /** open lifecycle actions of the instance, after this pass */
  openActions: number;
  loop: DrainLoop;
  /** passes in this execution; `continue`: about to wait, the drain goes on in a fresh execution */
  here: ExecutionSteps;
}

const MAX_BLOCKERS_REPORTED = 20;

/**
 * One pass of a drain, as a workflow step (seconds; safe to repeat):
 * 1. keep the drain's own: renew its lease and heartbeat every open lifecycle action of the
 *    instance that is due (actions may have been noted by later triggers, so they are read
 *    from the record every pass) — before any Kubernetes call, so a pass that fails (the API
 *    down, retried by the workflow) still keeps the hooks from expiring under the drain;
 *    `keep-alive` mode (the API unreachable past the retries) stops here;
 * 2. first pass only: find the node by providerID (instance gone or no node: node-gone);
 * 3. one engine pass — evict (budgets respected) or, once the policy says so, force;
 * 4. decide (pure): what next, and how long to wait first.
 */
export async function runDrainStep(input: DrainStepInput, ports: DrainStepPorts): Promise<DrainStepResult> {
  const loop: DrainLoop = input.loop ?? { passes: 0, consecutiveBlocked: 0, lastHeartbeatAt: null, heartbeatEverySeconds: null };
  // 1. the hooks
  const kept = input.executionArn ? await keepDrainAlive(input.instanceId, input.executionArn, ports) : undefined;
  if (input.executionArn && !kept) ports.log('the drain record is owned by another execution: this drain keeps no hook alive', { instanceId: input.instanceId, executionArn: input.executionArn });
  const actions = kept?.record.lifecycleActions ?? [];

  // 2.–3. the node and the pass
  let nodeName = input.nodeName;
  let progress: DrainProgress | undefined;
  if (input.mode !== 'keep-alive') {
    nodeName ??= await locateNode(input, ports);
    progress = nodeName
      ? await (input.mode === 'force' ? forcePass : drainPass)(
          { core: await ports.kube.core(input.cluster), policy: await ports.kube.policy(input.cluster), cluster: input.cluster },
          nodeName,
          { maxGracePeriodSeconds: input.policy.maxGracePeriodSeconds },
        )
      : undefined;
  }
  const phase = input.mode === 'keep-alive' ? 'draining' : (progress?.phase ?? 'node-gone');
  const consecutiveBlocked = progress ? countBlockedPasses(loop.consecutiveBlocked, progress) : loop.consecutiveBlocked;

  // 4. what next
  const now = ports.now();
  const open = openActions(kept?.record);
  const decision = decidePass({
    phase,
    mode: input.mode,
    ...(progress ? { progress } : {}),
    consecutiveBlocked,
    now,
    deadline: new Date(input.deadline),
    onDrainTimeout: input.policy.onDrainTimeout,
    actionOpen: open.length > 0,
    actionClosed: closedSince(actions, new Date(input.startedAt)).length > 0,
    ...(kept?.next ? { nextHeartbeatAt: kept.next.at } : {}),
    maxGracePeriodSeconds: input.policy.maxGracePeriodSeconds,
  });
  const lastHeartbeat = actions.map((a) => a.lastHeartbeatAt).filter((at): at is string => at !== undefined).sort().at(-1) ?? loop.lastHeartbeatAt;
  const result: DrainStepResult = {
    nodeName,
    phase,
    next: decision.next,
    remaining: progress?.remaining.length ?? (input.mode === 'keep-alive' ? (input.blocked?.length ?? 0) : 0),
    evicted: progress?.evicted.length ?? 0,
    terminating: progress?.terminating.length ?? 0,
    skipped: progress?.skipped.length ?? 0,
    // the hooks closed under the drain, the node went, or the API is away: what blocked the
    // drain is what the last pass that looked found
    blocked:
      !progress || ((decision.next === 'closed' || phase === 'node-gone') && progress.blocked.length === 0)
        ? (input.blocked ?? [])
        : progress.blocked.slice(0, MAX_BLOCKERS_REPORTED).map((b) => ({ pod: `${b.pod.namespace}/${b.pod.name}`, pdb: b.pdb, message: b.message })),
    forced: [...(input.forced ?? []), ...(progress?.forced ?? []).map(forcedReport)].slice(0, MAX_FORCED_REPORTED),
    deadlinePassed: decision.deadlinePassed,
    waitSeconds: decision.waitSeconds,
    heartbeat: kept?.heartbeat ?? 'no-hook',
    openActions: open.length,
    loop: { passes: loop.passes + 1, consecutiveBlocked, lastHeartbeatAt: lastHeartbeat, heartbeatEverySeconds: kept?.next?.everySeconds ?? loop.heartbeatEverySeconds },
    here: stepTaken(input.here, decision.next === 'wait' || decision.next === 'hold'),
  };
  ports.log('drain pass', { ...result, mode: input.mode, blocked: result.blocked.map((b) => `${b.pod} (${b.pdb ? `${b.pdb.namespace}/${b.pdb.name}` : b.message})`), forced: result.forced.length });
  return result;
}

export function forcedReport(forced: ForcedPod): ForcedPodReport {
  return { pod: `${forced.pod.namespace}/${forced.pod.name}`, pdb: forced.pdb ? `${forced.pdb.namespace}/${forced.pdb.name}` : null };
}

async function locateNode(input: DrainStepInput, ports: DrainStepPorts): Promise<string | null> {
  const instance = await describeInstance(ports.aws, input.instanceId);
  if (!instance || instance.state === 'terminated') return null;
  const node = await findNodeForInstance(await ports.kube.core(input.cluster), input.cluster, instance);
  return node?.metadata?.name ?? null;
}
