import type { AwsScope } from '../aws/clients.js';
import type { Place } from '../aws/places.js';
import { publishEvent } from '../aws/notifications.js';
import type { ReportDrainBlockedInput } from '../events/drain.js';
import { DRAIN_BLOCKED, type DrainBlocked } from '../events/drain-events.js';

/**
 * A drain past its deadline under `on-drain-timeout=fail` whose node is leaving its group (a
 * terminate lifecycle action is open) does not give up: it holds — the node cordoned, passes
 * within the budgets, heartbeats — until the pods can leave, the node goes, or the action
 * reaches its global timeout. This says so, once, with what is in the way, so that a person
 * can free a budget (or let the node go) rather than find out when Auto Scaling decides.
 */
export async function reportDrainBlocked(input: ReportDrainBlockedInput, ports: { hub: AwsScope; place?: Place; now: () => Date; log: (message: string, attributes?: Record<string, unknown>) => void }): Promise<{ publishedAt: string }> {
  const budgets = [...new Set(input.blockers.flatMap((b) => (b.pdb ? [`${b.pdb.namespace}/${b.pdb.name}`] : [])))];
  const node = input.nodeName ?? input.instanceId;
  const blocked = {
    ...(ports.place ? { accountId: ports.place.accountId, region: ports.place.region } : {}),
    cluster: input.cluster,
    instanceId: input.instanceId,
    nodeName: input.nodeName,
    trigger: input.trigger,
    startedAt: input.startedAt,
    deadline: input.deadline,
    remaining: input.remaining,
    blockers: input.blockers,
    budgets,
    summary:
      `${input.cluster}: ${node} is not drained at its deadline (${input.remaining} pod${input.remaining === 1 ? '' : 's'} left` +
      `${budgets.length > 0 ? `, held by ${budgets.join(', ')}` : ''}); its terminate hook is kept alive and the drain goes on within the budgets until the pods can leave`,
    ...(input.executionArn ? { executionArn: input.executionArn } : {}),
    ...(input.executionInput?.rolloutExecutionArn ? { rolloutExecutionArn: input.executionInput.rolloutExecutionArn } : {}),
  } satisfies DrainBlocked;
  await publishEvent(ports.hub, DRAIN_BLOCKED, blocked, input.executionArn ? [input.executionArn] : []);
  ports.log('drain blocked: holding the node', { instanceId: input.instanceId, budgets, remaining: input.remaining });
  return { publishedAt: ports.now().toISOString() };
}
