/**
 * Benchmark (issue 20): one detection over 3 member accounts × 2 regions × 50 clusters × 20
 * groups, dry run, as production runs it: the deployed detectStaleGroups function invoked in a
 * multi-account sandbox World (IAM on every call, AssumeRole of each place's member role with
 * the ExternalId and its trust policy, every place at the default API budget of 50 %, and AWS's
 * token buckets with the SDK's retries on in every account-region). The hub's own place is
 * listed too, and holds no cluster.
 *
 * The clusters need no Kubernetes API server (detection reads AWS only), so each member place's
 * SimAccount is seeded directly (seedDetectionWorld), not through world.addCluster.
 *
 * Measured: AWS calls per group (every account-region's calls, SSM's and STS's included), set
 * against the single-account bench at the same size per place (detection.ts) as a ratio;
 * AssumeRole calls (target: one per member account-region); wall time, real and virtual; and
 * each account-region's busiest virtual second per API bucket — every attempt, retries
 * included — against the bucket's documented refill rate (shared/aws/request-budget.ts).
 */
import { placeKey, samePlace } from '../../shared/aws/places.js';
import { type BudgetedService, documentedBucket } from '../../shared/aws/request-budget.js';
import { World } from '@eks-node-lifecycle/sandbox';
import { benchDetection, type DetectionFigures, seedDetectionWorld } from './detection.js';

export interface FleetDetectionFigures {
  accounts: number;
  regions: number;
  clustersPerPlace: number;
  groupsPerCluster: number;
  /** places with clusters (the members' account-regions) */
  memberPlaces: number;
  groups: number;
  /** groups planned, over all places */
  planned: number;
  unreachable: number;
  /** every AWS call of the detection, over all places, AssumeRole included */
  totalCalls: number;
  /** attempts (each retry counted) */
  totalAttempts: number;
  throttledAttempts: number;
  callsPerGroup: number;
  /** the single-account bench's calls per group at the same size per place */
  singleCallsPerGroup: number;
  /** callsPerGroup / singleCallsPerGroup */
  ratioToSingle: number;
  byOperation: Record<string, number>;
  perPlace: { place: string; groups: number; calls: number; callsPerGroup: number }[];
  assumeRoleCalls: number;
  assumeRolesPerPlace: Record<string, number>;
  wallMs: number;
  virtualSeconds: number;
  /**
   * per account-region and API bucket: the busiest virtual second (attempts) and its share of
   * the documented refill; and `drawn`, the deepest the service's attempts alone emptied the
   * documented bucket (full at the start, refilled at its rate), as a share of its capacity
   */
  peaks: { place: string; bucket: string; perSecond: number; refillPerSecond: number; share: number; capacity: number; drawn: number }[];
  /** SSM and other services without a documented bucket in request-budget.ts: their busiest second */
  otherPeaks: { place: string; api: string; perSecond: number }[];
}

const MEMBERS = ['444455556666', '777788889999', '222233334444'];
const REGIONS = ['eu-west-1', 'us-east-1'];
const BUDGETED: ReadonlySet<string> = new Set(['ec2', 'autoscaling', 'eks']);

interface DetectionResult {
  plans: { cluster: string; group: string; action: string; accountId?: string; region?: string }[];
  unreachable?: unknown[];
}

/**
 * `single`: the single-account bench's figures at the same size (run here when not given).
 * `accounts`, `regions`: how many member accounts and regions (3 and 2 by default).
 */
export async function benchFleetDetection(
  clustersPerPlace = 50,
  groupsPerCluster = 20,
  { single, accounts = MEMBERS.length, regions = REGIONS.length }: { single?: DetectionFigures; accounts?: number; regions?: number } = {},
): Promise<FleetDetectionFigures> {
  const alone = single ?? (await benchDetection(clustersPerPlace, groupsPerCluster));
  const members = MEMBERS.slice(0, accounts).map((accountId) => ({ accountId, regions: REGIONS.slice(0, regions) }));
  // AWS's buckets on in every account-region (members follow the hub's switch); no cluster has an API server to throttle
  const world = await World.start({ members, throttling: { aws: true } });
  try {
    const memberPlaces = world.places().filter((p) => !samePlace(p, world.home));
    for (const place of memberPlaces) seedDetectionWorld(world.accountAt(place), clustersPerPlace, groupsPerCluster);
    await world.settle();
    for (const place of world.places()) {
      world.accountAt(place).calls.length = 0;
      world.accountAt(place).throttling.resetTally();
    }
    const assumedBefore = world.cloud!.assumeRoles.length;

    const started = performance.now();
    const startedAt = world.clock.now();
    let endedAt = startedAt;
    const run = world.lambda.invoke('detectStaleGroups', { kind: 'detect', dryRun: true }).finally(() => (endedAt = world.clock.now()));
    // the world runs while it detects: the budgets' waits and the SDK's retries pass on the virtual clock
    await world.settle();
    const result = (await run) as DetectionResult;
    const wallMs = performance.now() - started;

    const records = world.places().flatMap((place) => world.accountAt(place).calls.filter((c) => c.service !== 'sts').map((call) => ({ place: placeKey(place), call })));
    const assumed = world.cloud!.assumeRoles.slice(assumedBefore);
    const assumeRolesPerPlace: Record<string, number> = {};
    for (const a of assumed) {
      // arn:aws:iam::<account>:role/eks-node-lifecycle/<stage>-<Role>-<region>
      const account = a.roleArn.split(':')[4]!;
      const region = REGIONS.find((r) => a.roleArn.endsWith(`-${r}`)) ?? '?';
      assumeRolesPerPlace[`${account}/${region}`] = (assumeRolesPerPlace[`${account}/${region}`] ?? 0) + 1;
    }
    const byOperation: Record<string, number> = {};
    for (const { call } of records) byOperation[`${call.service}:${call.command}`] = (byOperation[`${call.service}:${call.command}`] ?? 0) + 1;
    if (assumed.length > 0) byOperation['sts:AssumeRole'] = assumed.length;

    // every attempt in the virtual second it reached its account (`sent`: after the budget's wait and any retry's backoff; `at` is when the call began)
    const seconds = new Map<string, Map<number, number>>();
    const sends = new Map<string, number[]>();
    for (const { place, call } of records) {
      const key = BUDGETED.has(call.service) ? `${place} ${documentedBucket(call.service as BudgetedService, call.command, call.input).key}` : `${place} ${call.service}:${call.command}`;
      const perSecond = seconds.get(key) ?? new Map<number, number>();
      seconds.set(key, perSecond);
      for (const at of call.sent ?? [call.at]) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
      sends.set(key, [...(sends.get(key) ?? []), ...(call.sent ?? [call.at])]);
    }
    const peaks: FleetDetectionFigures['peaks'] = [];
    const otherPeaks: FleetDetectionFigures['otherPeaks'] = [];
    for (const [key, perSecond] of seconds) {
      const [place, ...rest] = key.split(' ');
      const bucket = rest.join(' ');
      const busiest = Math.max(...perSecond.values());
      const [service, command] = bucket.replace(/ \((unfiltered|resource)\)$/, '').split(':') as [string, string];
      if (!BUDGETED.has(service)) {
        otherPeaks.push({ place: place!, api: bucket, perSecond: busiest });
        continue;
      }
      const documented = documentedBucket(service as BudgetedService, command === '*' ? 'DescribeAutoScalingGroups' : command, bucket.endsWith('(unfiltered)') ? {} : { Filters: [{}] });
      peaks.push({ place: place!, bucket, perSecond: busiest, refillPerSecond: documented.limit.refillPerSecond, share: busiest / documented.limit.refillPerSecond, capacity: documented.limit.capacity, drawn: deepestDraw(sends.get(key)!, documented.limit) });
    }

    const planned = result.plans.length;
    const placeOf = (p: DetectionResult['plans'][number]) => `${p.accountId ?? world.home.accountId}/${p.region ?? world.home.region}`;
    const perPlace = world.places().map((place) => {
      const key = placeKey(place);
      const groups = result.plans.filter((p) => placeOf(p) === key).length;
      const calls = records.filter((r) => r.place === key).length + (assumeRolesPerPlace[key] ?? 0);
      return { place: key, groups, calls, callsPerGroup: calls / Math.max(1, groups) };
    });
    const totalCalls = records.length + assumed.length;
    const callsPerGroup = totalCalls / Math.max(1, planned);
    const tallies = world.places().map((p) => world.accountAt(p).throttling.tally());
    const sum = (m: Map<string, number>) => [...m.values()].reduce((n, v) => n + v, 0);
    return {
      accounts,
      regions,
      clustersPerPlace,
      groupsPerCluster,
      memberPlaces: memberPlaces.length,
      groups: memberPlaces.length * clustersPerPlace * groupsPerCluster,
      planned,
      unreachable: result.unreachable?.length ?? 0,
      totalCalls,
      totalAttempts: records.reduce((n, r) => n + (r.call.sent?.length ?? 1), 0) + assumed.length,
      throttledAttempts: tallies.reduce((n, t) => n + sum(t.attemptsThrottled), 0),
      callsPerGroup,
      singleCallsPerGroup: alone.callsPerGroup,
      ratioToSingle: callsPerGroup / alone.callsPerGroup,
      byOperation,
      perPlace,
      assumeRoleCalls: assumed.length,
      assumeRolesPerPlace,
      wallMs,
      virtualSeconds: (endedAt - startedAt) / 1000,
      peaks: peaks.sort((a, b) => b.share - a.share),
      otherPeaks: otherPeaks.sort((a, b) => b.perSecond - a.perSecond),
    };
  } finally {
    await world.stop();
  }
}

/** How deep requests sent at these times (ms) empty a token bucket that starts full: the largest share of its capacity taken at once. */
export function deepestDraw(times: readonly number[], limit: { capacity: number; refillPerSecond: number }): number {
  const sorted = [...times].sort((a, b) => a - b);
  let level = limit.capacity;
  let lowest = level;
  let last = sorted[0] ?? 0;
  for (const at of sorted) {
    level = Math.min(limit.capacity, level + ((at - last) / 1000) * limit.refillPerSecond) - 1;
    last = at;
    lowest = Math.min(lowest, level);
  }
  return (limit.capacity - lowest) / limit.capacity;
}

export function renderFleetDetection(f: FleetDetectionFigures): string {
  const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const pct = (n: number) => `${(n * 100).toFixed(0)} %`;
  const worst = f.peaks[0];
  const deepest = [...f.peaks].sort((a, b) => b.drawn - a.drawn)[0];
  const byPlace = new Map<string, FleetDetectionFigures['peaks']>();
  for (const p of f.peaks) byPlace.set(p.place, [...(byPlace.get(p.place) ?? []), p]);
  const peakRows = [...byPlace.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([place, peaks]) => `| ${place} | ${peaks.map((p) => `${p.bucket} ${p.perSecond}/s of ${p.refillPerSecond}/s (${pct(p.share)}; drew ${pct(p.drawn)} of ${p.capacity})`).join('; ')} |`);
  const operations = Object.entries(f.byOperation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, count]) => `| ${operation} | ${count} | ${fmt(count / Math.max(1, f.planned))} |`);
  return `
## Detection over ${f.accounts} member accounts × ${f.regions} regions × ${f.clustersPerPlace} clusters × ${f.groupsPerCluster} groups

One detection (dry run) by the deployed detectStaleGroups function in the multi-account
sandbox: the hub (its own place listed, no cluster) and ${f.memberPlaces} member account-regions,
each seeded as the single-account bench's account. IAM is enforced on every call, the member
roles are reached through AssumeRole (trust policy, ExternalId), each place has its API budget
(50 % of the documented rates) and AWS's token buckets with the SDK's retries are on in every
account-region. Calls are counted by each place's simulated account, AssumeRole by STS.

| | |
|---|---|
| groups planned | ${f.planned} of ${f.groups}; ${f.unreachable} places unreachable |
| AWS calls (attempts; throttled) | ${f.totalCalls} (${f.totalAttempts}; ${f.throttledAttempts}) |
| **AWS calls per group** | **${fmt(f.callsPerGroup)}** — ${fmt(f.ratioToSingle)} × one account's ${fmt(f.singleCallsPerGroup)} (same run, ${f.clustersPerPlace} × ${f.groupsPerCluster} in one account) |
| **AssumeRole calls** | **${f.assumeRoleCalls}** for ${f.memberPlaces} member account-regions |
| wall time | ${fmt(f.wallMs / 1000, 1)} s real, ${fmt(f.virtualSeconds, 1)} s virtual (the budgets' waits) |
| busiest account-region and API | ${worst ? `${worst.place} ${worst.bucket}: ${worst.perSecond}/s, ${pct(worst.share)} of its ${worst.refillPerSecond}/s refill` : '–'} |
| deepest draw on a documented bucket | ${deepest ? `${deepest.place} ${deepest.bucket}: ${pct(deepest.drawn)} of its ${deepest.capacity} tokens` : '–'} |
| SSM (no budget; busiest second) | ${f.otherPeaks.slice(0, 3).map((p) => `${p.place} ${p.api} ${p.perSecond}/s`).join('; ') || '–'} |

Busiest virtual second per account-region and API bucket (attempts, against the documented
refill), and the deepest the service's attempts alone emptied that documented bucket (full at
the start, refilled at its rate). The budget (50 % of the documented rates) lets no second
hold more than half of a bucket's refill, split between the two detections that may run at once
(detectStaleGroups' reserved concurrency): 25 % each. No burst is taken: the bucket's tokens are
left to the account's other callers. The draw says how much of the account's bucket it took:

| account-region | peaks |
|---|---|
${peakRows.join('\n')}

| operation | calls | per group |
|---|---|---|
${operations.join('\n')}
`;
}
