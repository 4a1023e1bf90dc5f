import type { DrainRecord, NotedLifecycleAction } from '../aws/drain-records.js';
import type { LifecycleAction } from '../events/lifecycle-action.js';

/**
 * The lifecycle actions of an instance's drain record, as data. Pure.
 *
 * An instance may have several terminate hooks, each its own action (token, event, heartbeat
 * timeout); whatever owns the drain keeps every open one alive and completes each once.
 */

/**
 * The actions once `incoming` is noted, or undefined when nothing changes: a hook's first
 * action is added; the same token again (a redelivered event) changes nothing; another token
 * of the same hook replaces the one noted only if it opened later (Auto Scaling gives an
 * instance one action per hook at a time, so the later one is the live one).
 */
export function noteLifecycleAction(actions: readonly NotedLifecycleAction[], incoming: LifecycleAction, openedAt: Date): NotedLifecycleAction[] | undefined {
  const noted = actions.find((a) => a.lifecycleHookName === incoming.lifecycleHookName);
  if (noted?.lifecycleActionToken === incoming.lifecycleActionToken) return undefined;
  if (noted && Date.parse(noted.openedAt) > openedAt.getTime()) return undefined;
  const fresh: NotedLifecycleAction = { ...incoming, openedAt: openedAt.toISOString(), state: 'open' };
  return [...actions.filter((a) => a !== noted), fresh];
}

export function openActions(record: Pick<DrainRecord, 'lifecycleActions'> | undefined): NotedLifecycleAction[] {
  return (record?.lifecycleActions ?? []).filter((a) => a.state === 'open');
}

/** The actions with `updated` in place of the one of the same hook and token (an action replaced meanwhile stays as it is). */
export function withActions(actions: readonly NotedLifecycleAction[], updated: readonly NotedLifecycleAction[]): NotedLifecycleAction[] {
  return actions.map((a) => updated.find((u) => u.lifecycleHookName === a.lifecycleHookName && u.lifecycleActionToken === a.lifecycleActionToken) ?? a);
}

/**
 * When the action's next heartbeat is due: half its hook's heartbeat timeout after the last
 * one, or after it opened; at once when the timeout is not known yet.
 */
export function nextHeartbeatAt(action: NotedLifecycleAction): Date {
  if (action.heartbeatEverySeconds === undefined) return new Date(Date.parse(action.openedAt));
  return new Date(Date.parse(action.lastHeartbeatAt ?? action.openedAt) + action.heartbeatEverySeconds * 1000);
}

/** The earliest heartbeat due among the open actions, if any is open. */
export function earliestHeartbeat(actions: readonly NotedLifecycleAction[]): { at: Date; everySeconds: number } | undefined {
  const open = actions.filter((a) => a.state === 'open' && a.heartbeatEverySeconds !== undefined);
  if (open.length === 0) return undefined;
  const at = Math.min(...open.map((a) => nextHeartbeatAt(a).getTime()));
  return { at: new Date(at), everySeconds: Math.min(...open.map((a) => a.heartbeatEverySeconds!)) };
}

/** Actions that closed under the drain (not completed by it) since `since`. */
export function closedSince(actions: readonly NotedLifecycleAction[], since: Date): NotedLifecycleAction[] {
  return actions.filter((a) => a.state === 'closed' && Date.parse(a.endedAt ?? a.openedAt) >= since.getTime());
}
