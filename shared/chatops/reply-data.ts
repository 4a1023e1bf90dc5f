import type { Place } from '../aws/places.js';
import type { GroupPlan } from '../detect/plan-rollouts.js';
import type { GroupView } from '../detect/inventory.js';
import type { Diagnosis } from '../doctor/run-doctor.js';
import type { ApprovalView } from '../rollout/approvals.js';
import type { NodeGroupLockRecord } from '../rollout/node-group-lock.js';
import type { AuditEntry } from './audit-log.js';

/**
 * The read commands' answers as data: what `-o json` prints (the README's "Output as JSON").
 * Built from the very values the text of the reply shows, never parsed back from it. Each
 * document has a `kind` and an `apiVersion`; within a version fields are only ever added, so
 * a script may ignore what it does not know. Times are ISO 8601 in UTC.
 */
export const DATA_API_VERSION = 'eks-node-lifecycle/v1';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

interface Document<Kind extends string> {
  apiVersion: typeof DATA_API_VERSION;
  kind: Kind;
  /** what the command covered: `all clusters`, `prod`, `prod/web` */
  scope: string;
}

/** One node group: its cluster and name first, then every field `status` knows of it (fields added to `GroupStatus` appear here too). */
export type StatusItem = { cluster: string; group: string; kind: string; rollout: JsonObject | null } & JsonObject;
export type PlanItem = { cluster: string; group: string; action: string } & JsonObject;
export type HistoryItem = AuditEntry & JsonObject;
export type ApprovalItem = Pick<ApprovalView, 'id' | 'cluster' | 'group' | 'target' | 'requestedBy' | 'requestedAt' | 'plan' | 'executionArn'> & { expiresAt: string } & JsonObject;

/** A freeze as `status` lists it (fleet/freeze.ts Freeze, its scope also as typed: `ring prod`). */
export type FreezeItem = { scope: string; kind: string; reason: string; by: string; since: string } & JsonObject;

export type ReplyData =
  /**
   * `unreachable`: with member accounts, the places that could not be asked (listed, even when empty);
   * `freezes`: with fleet promotion set up, every freeze (listed, even when empty)
   */
  | (Document<'StatusList'> & { clusters: string[]; items: StatusItem[]; unreachable?: { accountId: string; region: string; reason: string }[]; freezes?: FreezeItem[] })
  /** promotion-replies.ts: every promotion, and one ring by ring */
  | (Document<'PromotionList'> & { items: JsonObject[] })
  | (Document<'Promotion'> & { promotion: JsonObject })
  | (Document<'PlanList'> & { items: PlanItem[] })
  | (Document<'History'> & { items: HistoryItem[] })
  | (Document<'Diagnosis'> & { blocking: boolean; problems: number; warnings: number; clusters: JsonValue[] })
  | (Document<'ApprovalList'> & { items: ApprovalItem[] });

export type ReplyDataKind = ReplyData['kind'];

/**
 * A value as JSON: Dates as ISO strings, Sets as arrays, Maps as objects, undefined and
 * functions left out — so whatever a view type holds (now or later) serializes faithfully.
 */
export function toJsonValue(value: unknown): JsonValue | undefined {
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Set) return [...value].map((v) => toJsonValue(v) ?? null);
  if (value instanceof Map) return toJsonValue(Object.fromEntries(value));
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v) ?? null);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object': {
      const out: JsonObject = {};
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const json = toJsonValue(v);
        if (json !== undefined) out[key] = json;
      }
      return out;
    }
    default:
      return undefined;
  }
}

function objectOf(value: unknown): JsonObject {
  const json = toJsonValue(value);
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {};
}

/** A group's rollout as its lock records it (the lease and its bookkeeping left out), or null when none runs. */
function rolloutOf(lock: NodeGroupLockRecord | undefined): JsonObject | null {
  if (!lock) return null;
  const { lockKey: _key, expiresAt: _ttl, announced: _announced, intent: _intent, ...rest } = lock;
  return { execution: lock.owner.split(':').at(-1) ?? lock.owner, ...objectOf(rest) };
}

/** The group as inventory read it; its image as the few fields people name it by, not EC2's whole description. */
function nodeGroupOf(group: GroupView): JsonObject {
  const { image, ...rest } = group;
  return {
    ...objectOf(rest),
    ...(image ? { image: objectOf({ imageId: image.ImageId, name: image.Name, ownerId: image.OwnerId, creationDate: image.CreationDate, deprecationTime: image.DeprecationTime }) } : {}),
  };
}

/** `accountId` and `region` of an item whose place is known (a deployment with member accounts), else nothing. */
function placeOf(place: Place | undefined): JsonObject {
  return place ? { accountId: place.accountId, region: place.region } : {};
}

/** What `status` could not see: the member places it could not ask. */
export interface FleetStatus {
  unreachable: { place: Place; reason: string }[];
}

export function statusData(scope: string, clusters: string[], rows: readonly GroupStatus[], fleet?: FleetStatus): ReplyData {
  return {
    apiVersion: DATA_API_VERSION,
    kind: 'StatusList',
    scope,
    clusters,
    // `rollout`: what status shows of it (phase, target, batches done, who started and paused it),
    // with the lock's own record beside it under `lock`; null when the group is idle
    items: rows.map(({ group, lock, rollout, place, ...rest }) => ({ ...placeOf(place), cluster: group.cluster, group: group.name, kind: group.kind, ...objectOf(rest), nodeGroup: nodeGroupOf(group), rollout: rollout ? { ...objectOf(rollout), lock: rolloutOf(lock) } : rolloutOf(lock) })),
    ...(fleet ? { unreachable: fleet.unreachable.map((u) => ({ accountId: u.place.accountId, region: u.place.region, reason: u.reason })) } : {}),
  };
}

export function planData(scope: string, planned: readonly PlannedGroup[]): ReplyData {
  return {
    apiVersion: DATA_API_VERSION,
    kind: 'PlanList',
    scope,
    items: planned.map(({ plan, place, ...rest }) => ({ ...placeOf(place), ...objectOf(plan), ...objectOf(rest), cluster: plan.cluster, group: plan.group, action: plan.action })),
  };
}

export function historyData(scope: string, entries: readonly AuditEntry[]): ReplyData {
  return { apiVersion: DATA_API_VERSION, kind: 'History', scope, items: entries.map((e) => objectOf(e) as HistoryItem) };
}

export function diagnosisData(scope: string, diagnosis: Diagnosis): ReplyData {
  const checks = diagnosis.clusters.flatMap((c) => [...c.checks, ...c.groups.flatMap((g) => g.checks)]);
  return {
    apiVersion: DATA_API_VERSION,
    kind: 'Diagnosis',
    scope,
    blocking: diagnosis.blocking,
    problems: checks.filter((c) => c.status === 'problem').length,
    warnings: checks.filter((c) => c.status === 'warning').length,
    clusters: diagnosis.clusters.map((c) => toJsonValue(c) ?? null),
  };
}

export function approvalsData(scope: string, approvals: readonly ApprovalView[]): ReplyData {
  return {
    apiVersion: DATA_API_VERSION,
    kind: 'ApprovalList',
    scope,
    items: approvals.map((a) => ({
      id: a.id,
      cluster: a.cluster,
      group: a.group,
      target: a.target,
      requestedBy: a.requestedBy,
      requestedAt: a.requestedAt,
      expiresAt: a.expiresAtIso,
      plan: a.plan,
      executionArn: a.executionArn,
    })),
  };
}

/** What a rollout is doing, from its lock alone (read by `status` anyway): the steps keep there what they announced. */
export type RolloutPhase = 'starting' | 'waiting for approval' | 'rolling' | 'paused' | 'aborting' | 'rolling back';

/** A group's rollout as `status` shows it: plain values (they are the JSON too). */
export interface RolloutNow {
  /** the execution's name */
  execution: string;
  /** the image it rolls onto (unknown for a lock taken before Begin recorded it) */
  target?: { imageId: string; release?: string };
  phase: RolloutPhase;
  /** batches finished so far (the canary is the first) */
  batchesDone: number;
  /** who started it, as people read them (the policy's display name when it has one) */
  startedBy?: string;
  /** with phase paused or aborting: who asked for it, and the pause's number (what `resume --pause N` names) */
  controlBy?: string;
  pause?: number;
  approvalId?: string;
  /** what held its last drain pass back: `ns/pod (PodDisruptionBudget ns/name)` */
  blockedBy?: string[];
}

export interface GroupStatus {
  group: GroupView;
  /** where the group's cluster lives: set in a deployment with member accounts (the hub's own too), absent otherwise */
  place?: Place;
  /** `auto`, `off`…; with `(stopped: configuration problems)` when a problem stops its rollouts */
  optIn: string;
  /** the group's configuration problems and notes, as shown to people */
  problems?: string[];
  notes?: string[];
  /** the group's Kubernetes minor, and how it stands against the control plane's (its kubernetes-version policy) */
  kubernetes: string;
  lock: NodeGroupLockRecord | undefined;
  /** the images the group's instances run now: a rollout's target first, then the most common (read fresh, not the group's configured image) */
  images: { imageId: string; count: number }[];
  /** the rollout holding the group, if one does */
  rollout?: RolloutNow;
}

export interface PlannedGroup {
  plan: GroupPlan;
  /** as GroupStatus.place */
  place?: Place;
  size?: number;
  batches?: number;
  maxUnavailable?: string;
  window?: string;
}
