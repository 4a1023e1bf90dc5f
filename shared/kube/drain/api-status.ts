import type { V1Status } from '../api-types.js';
import { KubeStatusError } from '../rest-client.js';

/** The `Status` object a Kubernetes API error carries (parsed by the client). */
export type KubeStatus = V1Status;

export function statusOf(error: unknown): KubeStatus | undefined {
  return error instanceof KubeStatusError ? error.status : undefined;
}

/** The message of a Status and of its causes, for reports. */
export function statusMessage(status: KubeStatus | undefined): string {
  if (!status) return 'no details';
  const causes = (status.details?.causes ?? []).map((cause) => cause.message).filter((m): m is string => !!m);
  return [status.message, ...causes].filter((m): m is string => !!m).join(' ') || `HTTP ${status.code ?? '?'}`;
}

// "The disruption budget web needs 19 healthy pods and has 19 currently"
// "The disruption budget web is still being processed by the server."
const BUDGET_NAME = /The disruption budget (\S+?)(?: needs | is still )/;

/**
 * The name of the PodDisruptionBudget that refused an eviction (429), from the Status's
 * DisruptionBudget cause as the eviction subresource writes it; undefined when the 429 did
 * not come from a budget (the API server's own throttling, say).
 */
export function refusingBudgetName(status: KubeStatus | undefined): string | undefined {
  for (const cause of status?.details?.causes ?? []) {
    const name = cause.message ? BUDGET_NAME.exec(cause.message)?.[1] : undefined;
    if (name) return name;
  }
  return status?.message ? BUDGET_NAME.exec(status.message)?.[1] : undefined;
}

/** A 429 of the eviction subresource that names a budget (rather than throttling). */
export function isBudgetRefusal(status: KubeStatus | undefined): boolean {
  if (refusingBudgetName(status) !== undefined) return true;
  if ((status?.details?.causes ?? []).some((cause) => cause.reason === 'DisruptionBudget')) return true;
  return /disruption budget/i.test(status?.message ?? '');
}

/** The 500 the eviction subresource answers for a pod that more than one budget covers. */
export function isMultipleBudgetsError(status: KubeStatus | undefined): boolean {
  return /more than one PodDisruptionBudget/i.test(status?.message ?? '');
}
