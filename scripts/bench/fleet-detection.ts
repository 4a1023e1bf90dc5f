/**
 * Benchmark (issue 20): one detection over 3 member accounts × 2 regions × 50 clusters × 20
 * groups (the hub's own place listed too, managing no cluster), dry run, every place at the
 * default API budget (50 %). Measured: AWS requests per group (per
 * place and over all), AssumeRole calls, wall time (real, and virtual: the budget's waits pass
 * on the virtual clock), and each account-region's busiest virtual second per API bucket against
 * the documented refill rate (aws/request-budget.ts).
 *
 * Status: written for the multi-account sandbox and NOT yet in `npm run bench` (index.ts): the
 * sandbox on main answers no sts:AssumeRole (SandboxNotImplementedError), so the members'
 * credentials cannot be had. What remains once World.start({ members }) lands: build the world
 * there (one SimAccount per place, each seeded with seedDetectionWorld) instead of the single
 * SimAccount below, take `places` from the world's detectStaleGroups environment or keep this
 * PlaceScopes, count SSM/STS from world.accountAt(place).calls, turn the sandbox's throttling on,
 * and add the step and its table to index.ts. EC2, Auto Scaling and EKS requests are counted
 * where they leave the service — each place's RequestBudget sees every attempt its scope's
 * clients send — so those counts do not depend on the sandbox.
 */
import { awsScope } from '../../shared/aws/clients.js';
import { type Place, PlaceScopes, placeKey } from '../../shared/aws/places.js';
import { documentedBucket, type BudgetedService, RequestBudget } from '../../shared/aws/request-budget.js';
import { useSleep, useTimeSource } from '../../shared/clock.js';
import { fleetPlaces, MEMBER_ROLE_PATH } from '../../shared/config/member-accounts.js';
import { detectStaleGroups } from '../../shared/detect/detect.js';
import { SimAccount, VirtualClock } from '@eks-node-lifecycle/sandbox';
import { seedDetectionWorld } from './detection.js';

export interface FleetDetectionFigures {
  places: number;
  groups: number;
  unreachable: number;
  /** EC2, Auto Scaling and EKS requests (each attempt) plus SSM and STS calls, over all places */
  totalCalls: number;
  callsPerGroup: number;
  /** per place: its requests per group */
  perPlace: { place: string; groups: number; calls: number; callsPerGroup: number }[];
  assumeRoleCalls: number;
  /** member account-regions (one AssumeRole each is the target) */
  memberPlaces: number;
  wallMs: number;
  virtualSeconds: number;
  /** per account-region and API bucket: the busiest virtual second, and its share of the documented refill */
  peaks: { place: string; bucket: string; perSecond: number; refillPerSecond: number; share: number }[];
}

const HUB = '111122223333';
const MEMBERS = ['444455556666', '777788889999', '222233334444'];
const REGIONS = ['eu-west-1', 'us-east-1'];

export async function benchFleetDetection(clustersPerPlace = 50, groupsPerCluster = 20): Promise<FleetDetectionFigures> {
  const clock = new VirtualClock();
  const account = new SimAccount({ clock, region: REGIONS[0]! }).bind();
  const restoreTime = useTimeSource(() => clock.now());
  const restoreSleep = useSleep((ms) => clock.sleep(ms));
  try {
    seedDetectionWorld(account, clustersPerPlace, groupsPerCluster);
    await clock.settle();
    account.calls.length = 0;

    // 3 member accounts × 2 regions; the hub looks after no cluster of its own (its place is still listed)
    const settings = { hubAccountId: HUB, members: MEMBERS.map((accountId) => ({ accountId, regions: REGIONS, clusters: '*' as const })), roles: { roleName: 'bench-DetectStaleGroups', path: MEMBER_ROLE_PATH, sessionName: 'bench' } };
    const fleet = fleetPlaces(settings, REGIONS[0]!, []);
    // every place's budget, watched: requests per bucket and per virtual second
    const budgets = new Map<string, RequestBudget>();
    const seconds = new Map<string, Map<number, number>>();
    const watch = (key: string, budget: RequestBudget) => {
      budgets.set(key, budget);
      budget.onSend = (bucket, at) => {
        const perSecond = seconds.get(`${key} ${bucket}`) ?? new Map<number, number>();
        seconds.set(`${key} ${bucket}`, perSecond);
        perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
      };
    };
    const homeBudget = new RequestBudget();
    watch(`${HUB}/${REGIONS[0]}`, homeBudget);
    const home = awsScope({ region: REGIONS[0]!, accountId: HUB, budget: homeBudget });
    const places = new PlaceScopes(home, settings.roles, () => clock.now(), homeBudget.share);
    const scopeOf = places.scopeOf.bind(places);
    places.scopeOf = (place?: Partial<Place>) => {
      const scope = scopeOf(place);
      const key = `${scope.accountId}/${scope.region}`;
      if (scope.budget && !budgets.has(key)) watch(key, scope.budget);
      return scope;
    };

    const startedAt = clock.now();
    const started = performance.now();
    const run = clock.actor(() =>
      detectStaleGroups(
        { kind: 'detect', dryRun: true },
        {
          aws: home,
          places,
          fleet,
          amiRolloutStateMachineArn: `arn:aws:states:${REGIONS[0]}:${HUB}:stateMachine:bench`,
          windows: { close: async () => ({ groups: [], images: [] }) },
          now: () => clock.date(),
          log: () => undefined,
          publish: async () => undefined,
          announce: { claim: async () => false, release: async () => undefined, publish: async () => undefined },
        },
      ),
    );
    await clock.settle();
    const result = await run;
    const wallMs = performance.now() - started;

    const groupsOf = (key: string) => result.plans.filter((p) => `${p.accountId ?? HUB}/${p.region ?? REGIONS[0]}` === key).length;
    const others = account.calls.filter((c) => c.service === 'ssm' || c.service === 'sts').length;
    const perPlace = [...budgets.entries()]
      .filter(([key]) => groupsOf(key) > 0)
      .map(([place, budget]) => {
        const calls = [...budget.taken.values()].reduce((n, t) => n + t.requests, 0);
        return { place, groups: groupsOf(place), calls, callsPerGroup: calls / Math.max(1, groupsOf(place)) };
      });
    const totalCalls = perPlace.reduce((n, p) => n + p.calls, 0) + others;
    const peaks = [...seconds.entries()].map(([key, perSecond]) => {
      const [place, ...rest] = key.split(' ');
      const bucket = rest.join(' ');
      const [service, command] = bucket.replace(/ \(unfiltered\)$/, '').split(':') as [BudgetedService, string];
      const documented = documentedBucket(service, command === '*' ? 'DescribeAutoScalingGroups' : command, bucket.endsWith('(unfiltered)') ? {} : { Filters: [{}] });
      const busiest = Math.max(...perSecond.values());
      return { place: place!, bucket, perSecond: busiest, refillPerSecond: documented.limit.refillPerSecond, share: busiest / documented.limit.refillPerSecond };
    });
    return {
      places: fleet.length,
      groups: result.plans.length,
      unreachable: result.unreachable?.length ?? 0,
      totalCalls,
      callsPerGroup: totalCalls / Math.max(1, result.plans.length),
      perPlace,
      assumeRoleCalls: places.assumeRoleCalls,
      memberPlaces: fleet.filter((f) => !f.home).length,
      wallMs,
      virtualSeconds: (clock.now() - startedAt) / 1000,
      peaks: peaks.sort((a, b) => b.share - a.share),
    };
  } finally {
    restoreSleep();
    restoreTime();
    account.restore();
  }
}
