import * as z from 'zod/mini';
import { describeSeconds, parseDurationSeconds } from '../config/duration.js';
import { didYouMean } from '../config/tag-vocabulary.js';
import { ConfigurationError } from '../errors.js';
import { clusterName } from '../events/eventbridge.js';
import { issuesOf } from '../schema-issues.js';
import { type Limit, limitSchema } from './limit.js';
import { DEFAULT_HEALTH_CRITERIA, type HealthCriteria } from './workload-health.js';

/**
 * The promotion policy: the operator's JSON in an SSM parameter. Strict, as the access policy
 * is: an unknown key (`soka`) or a malformed value is refused with the field named, never
 * read as a default. Durations are written as the tags write them (`90s`, `15m`, `2d`).
 *
 * ```json
 * {
 *   "rings": [
 *     { "name": "dev", "soak": "2h", "concurrency": "50%" },
 *     { "name": "staging", "soak": "2d", "alarms": ["staging-5xx"] },
 *     { "name": "prod", "soak": "4d", "approval": true, "concurrency": 1,
 *       "health": { "restarts": { "ratio": 1.5 } } }
 *   ],
 *   "clusters": { "prod-eu": { "alarms": ["checkout-latency-p99"] } },
 *   "onRegression": "rollback"
 * }
 * ```
 *
 * | key | meaning | default |
 * |---|---|---|
 * | rings[] | in promotion order: `name` (the `eks-node-lifecycle/ring` tag value), `soak` (0s…30d, after the ring's last group rolled), `approval` (a person approves entering it), `concurrency` (groups of the ring rolling at once: N ≥ 1 or "N%" of the ring's groups, rounded down, at least 1), `alarms`, `health` | approval false, concurrency 1 |
 * | evaluateEvery | how often health is evaluated while a ring rolls or soaks (1m…1h) | 5m |
 * | health | thresholds for every ring (below); a ring's own `health` overrides them key by key | see below |
 * | clusters | per cluster name: `alarms` watched while that cluster's groups roll or soak | — |
 * | onRegression | what the groups of a regressed ring do: `rollback` to their previous image, or `hold-in-place` | rollback |
 * | onRecall | groups on a recalled or deprecated release: `offer-rollback` (a person decides) or `rollback` (to the last good release) | offer-rollback |
 *
 * Health thresholds (workload-health.ts), each optional: `notReadyGrace` (10m),
 * `maxNodesNotReady` (0), `maxNodesUnderPressure` (0), `maxJoinFailures` (0),
 * `maxCrashLoopingPods` (0), `restarts` { `window` (30m), `ratio` (2), `floorPerPodHour` (0.5),
 * `minRestarts` (3), `minPodHours` (1) }, `pendingGrace` (10m), `maxPendingPods` (0),
 * `maxEvictionFailures` (0). The `max…` of nodes and pods take N or "N%" (rounded down: fewer
 * failures tolerated); join and eviction failures are counts.
 */

const DAY = 86_400;

function duration(min: number, max: number) {
  return z.pipe(
    z.string().check((ctx) => {
      const seconds = parseDurationSeconds(ctx.value);
      if (seconds === undefined || seconds < min || seconds > max) {
        ctx.issues.push({ code: 'custom', message: `must be a duration from ${show(min)} to ${show(max)} (like 90s, 15m, 2h, 7d)`, input: ctx.value });
      }
    }),
    z.transform((text: string) => parseDurationSeconds(text)!),
  );
}

const show = (seconds: number) => (seconds === 0 ? '0s' : describeSeconds(seconds));

const count = z.int().check(z.gte(0), z.lte(10_000));
const positive = (max: number) => z.number().check(z.gt(0), z.lte(max));

const RestartsSchema = z.strictObject({
  window: z.optional(duration(300, DAY)),
  ratio: z.optional(z.number().check(z.gte(1), z.lte(100))),
  floorPerPodHour: z.optional(z.number().check(z.gte(0), z.lte(1000))),
  minRestarts: z.optional(z.int().check(z.gte(1), z.lte(10_000))),
  minPodHours: z.optional(positive(10_000)),
});

const HealthSchema = z.strictObject({
  notReadyGrace: z.optional(duration(60, 3600)),
  maxNodesNotReady: z.optional(limitSchema(0)),
  maxNodesUnderPressure: z.optional(limitSchema(0)),
  maxJoinFailures: z.optional(count),
  maxCrashLoopingPods: z.optional(limitSchema(0)),
  restarts: z.optional(RestartsSchema),
  pendingGrace: z.optional(duration(60, 3600)),
  maxPendingPods: z.optional(limitSchema(0)),
  maxEvictionFailures: z.optional(count),
});
type HealthOverrides = z.infer<typeof HealthSchema>;

/** A ring's name is a tag value people type: lower case, digits and dashes. */
export const RING_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

// CloudWatch alarm names: 1–255 characters; control characters cannot be typed into one
const alarmName = z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^[^\p{Cc}]+$/u, 'is not an alarm name'));
const alarmList = z.array(alarmName).check(z.maxLength(50));

const RingSchema = z.strictObject({
  name: z.string().check(z.regex(RING_NAME, 'must be lower case letters, digits and dashes (up to 32), like prod or canary-1')),
  soak: duration(0, 30 * DAY),
  approval: z._default(z.boolean(), false),
  concurrency: z._default(limitSchema(1), { count: 1 }),
  alarms: z._default(alarmList, []),
  health: z.optional(HealthSchema),
});

export const PromotionPolicySchema = z
  .strictObject({
    rings: z.array(RingSchema).check(z.minLength(1), z.maxLength(10)),
    evaluateEvery: z._default(duration(60, 3600), 300),
    health: z.optional(HealthSchema),
    clusters: z._default(z.record(clusterName, z.strictObject({ alarms: alarmList })), {}),
    onRegression: z._default(z.enum(['rollback', 'hold-in-place']), 'rollback'),
    onRecall: z._default(z.enum(['offer-rollback', 'rollback']), 'offer-rollback'),
  })
  .check(
    z.superRefine(
      (policy, ctx) => {
        // runs even when other parts are malformed, so every problem is told at once
        const rings: unknown = (policy as { rings?: unknown }).rings;
        const seen = new Set<unknown>();
        (Array.isArray(rings) ? rings : []).forEach((ring: { name?: unknown } | null, i) => {
          const name = typeof ring === 'object' && ring !== null ? ring.name : undefined;
          if (typeof name === 'string' && seen.has(name)) ctx.addIssue({ code: 'custom', message: `ring "${name}" is named twice`, path: ['rings', i, 'name'], input: name });
          seen.add(name);
        });
      },
      { when: () => true },
    ),
  );

export type PromotionPolicy = z.infer<typeof PromotionPolicySchema>;
export type RingPolicy = PromotionPolicy['rings'][number];

/**
 * Parses the operator's JSON. Throws ConfigurationError naming every problem at once (bad
 * JSON, unknown keys with the nearest known one, values out of range), so one fix suffices.
 */
export function parsePromotionPolicy(json: string): PromotionPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new ConfigurationError(`promotion policy is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = PromotionPolicySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // an unknown key is named with the nearest known one, as a misspelt tag is
  const unknownKeys = parsed.error.issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [];
    const path = issue.path.map(String).join('.');
    return issue.keys.map((key) => {
      const near = didYouMean(key, knownKeysAt(issue.path));
      return { path: [path, key].filter(Boolean).join('.'), message: `is not a setting${near ? `; did you mean ${near}?` : ''}` };
    });
  });
  const problems = [
    ...issuesOf(parsed.error)
      .filter((i) => !i.message.startsWith('Unrecognized key'))
      .map((i) => (/received undefined$/.test(i.message) ? { ...i, message: 'is required' } : i)),
    ...unknownKeys,
  ];
  throw new ConfigurationError(`promotion policy: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
}

/** The keys an object of the policy may hold, by where it stands. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const at = path.filter((p) => typeof p === 'string' && p !== 'rings' && p !== 'clusters');
  const last = at[at.length - 1];
  if (last === 'restarts') return Object.keys(RestartsSchema.def.shape);
  if (last === 'health') return Object.keys(HealthSchema.def.shape);
  if (path[0] === 'rings') return Object.keys(RingSchema.def.shape);
  if (path[0] === 'clusters') return ['alarms'];
  return Object.keys(PromotionPolicySchema.def.shape);
}

/** The ring's place in the promotion order, or -1. */
export function ringIndex(policy: PromotionPolicy, ring: string): number {
  return policy.rings.findIndex((r) => r.name === ring);
}

/** The thresholds for one cluster of a ring: the defaults, under the policy's `health`, under the ring's; alarms of the ring and of the cluster. */
export function criteriaFor(policy: PromotionPolicy, ring: string, cluster: string): HealthCriteria {
  const own = policy.rings.find((r) => r.name === ring);
  const merged = [policy.health, own?.health].reduce<HealthCriteria>((criteria, overrides) => overlay(criteria, overrides), DEFAULT_HEALTH_CRITERIA);
  const clusterAlarms = Object.hasOwn(policy.clusters, cluster) ? policy.clusters[cluster]!.alarms : [];
  return { ...merged, alarms: [...new Set([...(own?.alarms ?? []), ...clusterAlarms])] };
}

function overlay(criteria: HealthCriteria, o: HealthOverrides | undefined): HealthCriteria {
  if (!o) return criteria;
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
  const r = o.restarts ?? {};
  return {
    notReadyGraceSeconds: pick(o.notReadyGrace, criteria.notReadyGraceSeconds),
    maxNodesNotReady: pick<Limit>(o.maxNodesNotReady, criteria.maxNodesNotReady),
    maxNodesUnderPressure: pick<Limit>(o.maxNodesUnderPressure, criteria.maxNodesUnderPressure),
    maxJoinFailures: pick(o.maxJoinFailures, criteria.maxJoinFailures),
    maxCrashLoopingPods: pick<Limit>(o.maxCrashLoopingPods, criteria.maxCrashLoopingPods),
    restarts: {
      windowSeconds: pick(r.window, criteria.restarts.windowSeconds),
      ratio: pick(r.ratio, criteria.restarts.ratio),
      floorPerPodHour: pick(r.floorPerPodHour, criteria.restarts.floorPerPodHour),
      minRestarts: pick(r.minRestarts, criteria.restarts.minRestarts),
      minPodHours: pick(r.minPodHours, criteria.restarts.minPodHours),
    },
    pendingGraceSeconds: pick(o.pendingGrace, criteria.pendingGraceSeconds),
    maxPendingPods: pick<Limit>(o.maxPendingPods, criteria.maxPendingPods),
    maxEvictionFailures: pick(o.maxEvictionFailures, criteria.maxEvictionFailures),
    alarms: criteria.alarms,
  };
}
