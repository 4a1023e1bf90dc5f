import { parseDurationSeconds } from '../config/duration.js';
import { matchValue, NODE_GROUP_TAGS, POLICY_TAG_PREFIX, tagValue } from '../config/tag-vocabulary.js';
import { type MaintenanceWindow, parseWindow } from './maintenance-window.js';

/**
 * How a node group is rolled onto a new AMI, from its tags (prefix `eks-node-lifecycle/`). Pure.
 *
 * | tag | values | default |
 * |---|---|---|
 * | max-unavailable | N (1…100) or N% (1%…100%) — nodes replaced at once, like EKS updateConfig | 1 |
 * | canary | N (0 = no canary) — nodes in the first batch, which must succeed before the rest | 1 |
 * | update-strategy | surge (replacements launch first, like EKS DEFAULT), minimal (terminate first, like EKS MINIMAL) | surge |
 * | window | `<days> <HH:MM-HH:MM> <zone>`, see maintenance-window.ts | none: any time |
 * | on-window-close | wait (the rest waits for the window to open again), end (the rollout ends at the batch boundary) | wait |
 * | max-pause | how long a rollout may stay paused (by a person, or by someone else's change) before it ends, tidily: 1h … 30d | 7d |
 * | rollout | approve → a person confirms each rollout (read with the rest in node-group-policy.ts) | |
 * | strategy | batches, instance-refresh — how a self-managed group is rolled | batches |
 * | max-pods | N (1…1000) — the kubelet's max pods on the new nodes, over what the user data says and what is computed | computed (VPC CNI, instance type) |
 *
 * A malformed value never throws: the default applies and the problem is reported. Every one
 * of these keys governs rollouts (config/tag-vocabulary.ts), so callers that start automatic
 * rollouts (detection, beginRollout) do not start one while any is reported — the default
 * may be riskier than what was meant (for `window` it is "no window", i.e. any time).
 */
export interface RolloutPolicy {
  maxUnavailable: number | `${number}%`;
  canary: number;
  strategy: 'surge' | 'minimal';
  window?: MaintenanceWindow;
  approval: boolean;
  selfManagedStrategy: 'batches' | 'instance-refresh';
  /** the window closed mid-rollout: the running batch finishes, then the rest waits for it to open again, or the rollout ends */
  onWindowClose: 'wait' | 'end';
  /** a pause longer than this ends the rollout (its lock, its announcements, the group as it stands) */
  maxPauseSeconds: number;
  /** the operator's max pods for the new nodes; absent: the user data's own, else the computed one */
  maxPods?: number;
}

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = {
  maxUnavailable: 1,
  canary: 1,
  strategy: 'surge',
  approval: false,
  selfManagedStrategy: 'batches',
  onWindowClose: 'wait',
  maxPauseSeconds: 7 * 86_400,
};

/** A pause is bounded: at least an hour, at most 30 days. */
export const MAX_PAUSE_RANGE = { min: 3600, max: 30 * 86_400 } as const;

/** a max pods beyond this is surely a typo (the largest computed is 737, the CNI's ceiling 250) */
export const MAX_PODS_TAG_RANGE = { min: 1, max: 1000 } as const;

/** EKS caps maxUnavailable at 100 nodes; a canary larger than that is surely a typo */
const MAX_NODES = 100;

/** `rejected`: the keys whose tag was given but not used (see node-group-policy.ts). */
export function readRolloutPolicy(tags: Readonly<Record<string, string>>): { policy: RolloutPolicy; problems: string[]; rejected: string[] } {
  const problems: string[] = [];
  const rejected: string[] = [];
  const tag = (name: string) => tags[`${POLICY_TAG_PREFIX}${name}`]?.trim();
  const complain = (name: string, raw: string, expected: string, fallback: unknown) => {
    problems.push(`${POLICY_TAG_PREFIX}${name}=${raw} is not ${expected}; using ${String(fallback)}`);
    rejected.push(name);
  };
  const oneOf = <K extends 'update-strategy' | 'strategy' | 'on-window-close'>(name: K, fallback: (typeof NODE_GROUP_TAGS)[K]['values'][number]) => {
    const values: readonly string[] = NODE_GROUP_TAGS[name].values;
    const raw = tag(name);
    if (raw === undefined) return fallback;
    const match = matchValue(raw, values);
    if (match) return match.value as typeof fallback;
    complain(name, raw, `one of ${values.join(', ')}`, fallback);
    return fallback;
  };

  const maxUnavailable = ((): RolloutPolicy['maxUnavailable'] => {
    const raw = tag('max-unavailable');
    if (raw === undefined) return DEFAULT_ROLLOUT_POLICY.maxUnavailable;
    const match = /^(\d+)(%?)$/.exec(raw);
    const n = match ? Number(match[1]) : NaN;
    if (match && n >= 1 && n <= 100) return match[2] ? `${n}%` : n;
    complain('max-unavailable', raw, 'a node count (1-100) or a percentage (1%-100%)', DEFAULT_ROLLOUT_POLICY.maxUnavailable);
    return DEFAULT_ROLLOUT_POLICY.maxUnavailable;
  })();

  const canary = ((): number => {
    const raw = tag('canary');
    if (raw === undefined) return DEFAULT_ROLLOUT_POLICY.canary;
    if (/^\d+$/.test(raw) && Number(raw) <= MAX_NODES) return Number(raw);
    complain('canary', raw, `a node count (0-${MAX_NODES})`, DEFAULT_ROLLOUT_POLICY.canary);
    return DEFAULT_ROLLOUT_POLICY.canary;
  })();

  const window = ((): MaintenanceWindow | undefined => {
    const raw = tag('window');
    if (raw === undefined || raw === '') return undefined;
    const parsed = parseWindow(raw);
    if ('window' in parsed) return parsed.window;
    problems.push(`${POLICY_TAG_PREFIX}window: ${parsed.problem}; rolling without a window`);
    rejected.push('window');
    return undefined;
  })();

  const maxPauseSeconds = ((): number => {
    const raw = tag('max-pause');
    if (raw === undefined) return DEFAULT_ROLLOUT_POLICY.maxPauseSeconds;
    const seconds = parseDurationSeconds(raw);
    if (seconds !== undefined && seconds >= MAX_PAUSE_RANGE.min && seconds <= MAX_PAUSE_RANGE.max) return seconds;
    complain('max-pause', raw, 'a duration from 1h to 30d (like 36h or 14d)', '7d');
    return DEFAULT_ROLLOUT_POLICY.maxPauseSeconds;
  })();

  const maxPods = ((): number | undefined => {
    const raw = tag('max-pods');
    if (raw === undefined || raw === '') return undefined;
    if (/^\d+$/.test(raw) && Number(raw) >= MAX_PODS_TAG_RANGE.min && Number(raw) <= MAX_PODS_TAG_RANGE.max) return Number(raw);
    complain('max-pods', raw, `a pod count (${MAX_PODS_TAG_RANGE.min}-${MAX_PODS_TAG_RANGE.max})`, 'the user data\'s max pods, else the computed one');
    return undefined;
  })();

  const policy: RolloutPolicy = {
    maxUnavailable,
    canary,
    strategy: oneOf('update-strategy', DEFAULT_ROLLOUT_POLICY.strategy),
    approval: tagValue(tags, 'rollout') === 'approve',
    selfManagedStrategy: oneOf('strategy', DEFAULT_ROLLOUT_POLICY.selfManagedStrategy),
    onWindowClose: oneOf('on-window-close', DEFAULT_ROLLOUT_POLICY.onWindowClose),
    maxPauseSeconds,
  };
  if (window) policy.window = window;
  if (maxPods !== undefined) policy.maxPods = maxPods;
  return { policy, problems, rejected };
}
