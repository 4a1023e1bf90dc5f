/**
 * Which Kubernetes minor a node group's next image is built for (issue 15, item 4). Pure.
 *
 * The tag `eks-node-lifecycle/kubernetes-version` on the group says:
 * - `pinned` (the default, managed and self-managed alike): the minor the group runs now.
 *   After a control plane upgrade the group stays; `status` says how far behind it is.
 * - `follow-control-plane`: the control plane's minor, one minor at a time (1.30 nodes under a
 *   1.32 control plane go to 1.31 first, then 1.32 on the next detection), never past it.
 *
 * Kubernetes' version skew policy: a kubelet must never be newer than the API server, and may
 * be up to three minors older since 1.28 (two before).
 */
export type KubernetesVersionPolicy = 'pinned' | 'follow-control-plane';

export const KUBERNETES_VERSION_POLICIES: readonly KubernetesVersionPolicy[] = ['pinned', 'follow-control-plane'];

interface Minor {
  major: number;
  minor: number;
}

/** `1.31`, `1.31.3`, `v1.31.3-eks-…`, `1.31.3-20241115` → {1, 31}. */
export function parseMinor(text: string | undefined): Minor | undefined {
  const m = /^v?(\d+)\.(\d+)(?:[.-]|$)/.exec(text?.trim() ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function format(v: Minor): string {
  return `${v.major}.${v.minor}`;
}

/** Minors `b` is ahead of `a` (negative when behind); undefined across majors. */
export function minorsBetween(a: string, b: string): number | undefined {
  const x = parseMinor(a);
  const y = parseMinor(b);
  if (!x || !y || x.major !== y.major) return undefined;
  return y.minor - x.minor;
}

/** How many minors older than the API server a kubelet may be: 3 since Kubernetes 1.28, 2 before. */
export function maxKubeletSkew(controlPlane: string): number {
  const v = parseMinor(controlPlane);
  return v && (v.major > 1 || v.minor >= 28) ? 3 : 2;
}

/** Whether kubelets of `kubelet` are supported under an API server of `controlPlane`, and if not why. */
export function skewProblem(kubelet: string, controlPlane: string): string | undefined {
  const ahead = minorsBetween(kubelet, controlPlane);
  if (ahead === undefined) return `cannot compare Kubernetes ${kubelet} with the control plane's ${controlPlane}`;
  if (ahead < 0) return `kubelet ${kubelet} would be newer than the control plane ${controlPlane}, which Kubernetes never supports`;
  const max = maxKubeletSkew(controlPlane);
  if (ahead > max) return `kubelet ${kubelet} would be ${ahead} minors older than the control plane ${controlPlane}; Kubernetes supports at most ${max}`;
  return undefined;
}

export interface KubernetesMinorDecision {
  /** the minor the group's target image is built for */
  minor: string;
  /** the minor the group runs now, as told (or the control plane's when it cannot be) */
  current: string;
  /** how many minors the group runs behind the control plane (0 when level, or unknown) */
  behind: number;
  /** set when the target minor differs from the current one, or the group is behind: for plans and status */
  note?: string;
}

/**
 * The target minor of a group. `groupVersion` is what the group runs (its managed node
 * group version, or its image's minor); empty when it cannot be told, then the control
 * plane's is used, as before there was a policy.
 */
export function decideKubernetesMinor(input: { groupVersion: string; controlPlaneVersion: string; policy: KubernetesVersionPolicy }): KubernetesMinorDecision {
  const current = parseMinor(input.groupVersion);
  const controlPlane = parseMinor(input.controlPlaneVersion);
  if (!current) {
    const fallback = controlPlane ? format(controlPlane) : input.groupVersion;
    return { minor: fallback, current: fallback, behind: 0 };
  }
  const now = format(current);
  if (!controlPlane) return { minor: now, current: now, behind: 0 };
  const behind = minorsBetween(now, format(controlPlane)) ?? 0;
  if (behind < 0) {
    return { minor: now, current: now, behind: 0, note: `runs Kubernetes ${now}, newer than the control plane ${format(controlPlane)} (unsupported); staying on ${now}` };
  }
  if (behind === 0) return { minor: now, current: now, behind: 0 };
  const minors = `${behind} minor${behind === 1 ? '' : 's'}`;
  if (input.policy === 'pinned') {
    return { minor: now, current: now, behind, note: `pinned to Kubernetes ${now}, ${minors} behind the control plane ${format(controlPlane)}` };
  }
  // one minor at a time: the next detection takes the next step
  const next = format({ major: current.major, minor: current.minor + 1 });
  return { minor: next, current: now, behind, note: `follows the control plane ${format(controlPlane)}: Kubernetes ${now} → ${next}` };
}

/**
 * A group's minor for people (chat and CLI `status`): `1.32`; `1.31 (pinned, 1 minor behind
 * the control plane 1.32)`; `1.31 (follows the control plane 1.32: next 1.32)`.
 */
export function describeKubernetesMinor(decision: KubernetesMinorDecision, controlPlaneVersion: string, policy: KubernetesVersionPolicy): string {
  if (!decision.current) return '?';
  const controlPlane = parseMinor(controlPlaneVersion);
  const cp = controlPlane ? format(controlPlane) : controlPlaneVersion;
  const ahead = minorsBetween(decision.current, cp);
  if (ahead !== undefined && ahead < 0) return `${decision.current} (newer than the control plane ${cp})`;
  if (decision.behind === 0) return decision.current;
  const minors = `${decision.behind} minor${decision.behind === 1 ? '' : 's'}`;
  const skew = skewProblem(decision.current, cp);
  const unsupported = skew ? `; unsupported: ${skew}` : '';
  return policy === 'pinned'
    ? `${decision.current} (pinned, ${minors} behind the control plane ${cp}${unsupported})`
    : `${decision.current} (follows the control plane ${cp}: next ${decision.minor}${unsupported})`;
}
