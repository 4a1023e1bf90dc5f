/**
 * Issue 21's fleet scenario, shared by `npm run fleet` (scripts/fleet.ts), its bench
 * (scripts/bench/fleet-promotion.ts) and a small version in the suite
 * (test/scenarios/fleet-promotion.test.ts): six clusters in three rings across a hub and two
 * member accounts, a promotion policy in SSM, and three releases of the AL2023 line:
 * 1. a good release that soaks in every ring and reaches the last;
 * 2. a bad release whose pods crash-loop on its nodes (the sandbox's kubelet: `badFor:
 *    'workloads'`): seen in ring 0 within its soak, ring 0 rolled back, rings 1–2 untouched,
 *    the release held fleet-wide;
 * 3. a good release frozen mid-promotion (`freeze all`): nothing moves until it is lifted,
 *    then it reaches the last ring.
 * Everything runs as deployed: the real handlers and workflows, IAM on every call, member roles
 * through AssumeRole, the virtual clock.
 */
import { createDeployment, createPdb, releaseAmi, type SimAccount, type SimCluster, watchBudgets, type BudgetMonitor, World } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import type { Place } from '../../shared/aws/places.js';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../../shared/events/promotion-events.js';
import { RING_TAG } from '../../shared/fleet/ring-membership.js';
import type { PromotionState } from '../../shared/fleet/promotion-state.js';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';

export const HUB = '111122223333';
export const MEMBER_A = '444455556666';
export const MEMBER_B = '777788889999';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface FleetScenarioOptions {
  /** nodes per group (2: every group rolls in two batches) */
  nodes?: number;
  /** the rings' soaks, in hours: [ring 0, ring 1, ring 2] */
  soakHours?: [number, number, number];
  /** minutes between health evaluations (the policy's evaluateEvery) */
  evaluateMinutes?: number;
  /** which releases to run (default all three) */
  releases?: readonly ('good' | 'bad' | 'freeze')[];
  /** a line per promotion event as it happens */
  onLine?: (line: string) => void;
}

export interface ClusterSite {
  place: Place;
  ring: string;
  account: SimAccount;
  cluster: SimCluster;
  group: string;
  budgets: BudgetMonitor;
}

export interface ReleaseSummary {
  release: string;
  kind: 'good' | 'bad' | 'freeze';
  key: string;
  ringsReached: string[];
  ringsPassed: string[];
  groupsRolled: number;
  groupsRolledBack: number;
  held: boolean;
  holdReason?: string;
  /** groups outside ring 0 that ever ran one of the release's images */
  outsideRing0: number;
  /** virtual seconds from the release's first new node to the hold (the bad release) */
  detectionDelaySeconds?: number;
  /** virtual seconds from the promotion's start to its end (every ring passed), and the sum of the soaks */
  promotionSeconds?: number;
  soakSeconds: number;
  /** for the freeze: virtual seconds frozen, and ring transitions while frozen (must be 0) */
  frozenSeconds?: number;
  transitionsWhileFrozen?: number;
}

export interface FleetScenarioResult {
  releases: ReleaseSummary[];
  timeline: string[];
  sites: ClusterSite[];
  world: World;
  monitor: InvariantMonitor;
  /** state transitions and Lambda invocations of the promotion workflows, per group promoted */
  transitions: number;
  invocations: number;
  groupsPromoted: number;
}

export const RINGS = ['canary', 'staging', 'prod'] as const;

/** Two clusters per ring; each ring spans accounts, so a ring's promotion always crosses them. */
export const LAYOUT: readonly { place: Place; name: string; ring: (typeof RINGS)[number] }[] = [
  { place: { accountId: HUB, region: 'eu-west-1' }, name: 'canary-eu', ring: 'canary' },
  { place: { accountId: MEMBER_A, region: 'eu-west-1' }, name: 'canary-a', ring: 'canary' },
  { place: { accountId: HUB, region: 'eu-west-1' }, name: 'staging-eu', ring: 'staging' },
  { place: { accountId: MEMBER_B, region: 'us-east-1' }, name: 'staging-b', ring: 'staging' },
  { place: { accountId: MEMBER_A, region: 'eu-west-1' }, name: 'prod-a', ring: 'prod' },
  { place: { accountId: MEMBER_B, region: 'us-east-1' }, name: 'prod-b', ring: 'prod' },
];

export function promotionPolicy(soakHours: readonly number[], evaluateMinutes: number): object {
  return {
    rings: RINGS.map((name, i) => ({ name, soak: `${soakHours[i]}h`, concurrency: '100%' })),
    evaluateEvery: `${evaluateMinutes}m`,
    onRegression: 'rollback',
  };
}

export async function startFleetWorld(options: FleetScenarioOptions = {}): Promise<{ world: World; sites: ClusterSite[]; monitor: InvariantMonitor; fleet: FleetRecords }> {
  const nodes = options.nodes ?? 2;
  const world = await World.start({ members: [{ accountId: MEMBER_A, regions: ['eu-west-1'] }, { accountId: MEMBER_B, regions: ['us-east-1'] }] });
  world.account.ssm.putParameter(world.model.params['promotionPolicyParameter']!.replace('${sls:stage}', world.model.stage), JSON.stringify(promotionPolicy(options.soakHours ?? [4, 8, 12], options.evaluateMinutes ?? 10)));
  const sites: ClusterSite[] = [];
  for (const { place, name, ring } of LAYOUT) {
    const cluster = await world.addCluster(name, { version: '1.31', place, tags: { [RING_TAG]: ring } });
    const account = world.accountAt(place);
    account.seedVpc();
    const group = `${name}-nodes`;
    account.createSelfManagedGroup({
      cluster: name,
      name: group,
      amiFamily: 'al2023',
      min: nodes,
      max: nodes * 2,
      desired: nodes,
      launchTemplateVersion: '1',
      tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on', 'eks-node-lifecycle/max-unavailable': '1' },
      hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
    });
    sites.push({ place, ring, account, cluster, group, budgets: watchBudgets(cluster.store) });
  }
  await world.settle();
  for (const s of sites) {
    createDeployment(s.cluster.store, { namespace: 'shop', name: 'web', replicas: nodes * 2, labels: { app: 'web' } });
    createPdb(s.cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
  }
  await world.run(5 * MINUTE);
  const monitor = watchInvariants(world);
  const fleet = new FleetRecords(awsScope({ region: world.model.region }), process.env['FLEET_TABLE']!);
  return { world, sites, monitor, fleet };
}

/** Every image a site's group ever launched (terminated instances included): who ever ran what. */
export function imagesEverRun(site: ClusterSite): Set<string> {
  const group = site.group;
  return new Set(
    [...site.account.ec2.instances.records.values()]
      .filter((i) => i.instance.Tags?.some((t: { Key?: string; Value?: string }) => t.Key === 'aws:autoscaling:groupName' && t.Value === group))
      .map((i) => i.instance.ImageId!)
      .filter(Boolean),
  );
}

export function progressEvents(world: World, key?: string): PromotionProgressDetail[] {
  return world.published.filter((e) => e['detail-type'] === PROMOTION_PROGRESS).map((e) => e.detail as PromotionProgressDetail).filter((d) => !key || d.key === key);
}

export function formatProgress(world: World, start: number, d: PromotionProgressDetail): string {
  const t = (Date.parse(d.at) - start) / 1000;
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  return `+${String(hh).padStart(3, ' ')}h${String(mm).padStart(2, '0')}m  ${d.key}  ${(d.ring ?? '').padEnd(8)} ${d.kind.padEnd(18)} ${d.detail.slice(0, 160)}`;
}

export { HOUR, MINUTE };
export type { PromotionState };

/** The places the six clusters live in, each once: an AMI is released once per account and region. */
function placesOf(sites: readonly ClusterSite[]): ClusterSite[] {
  return sites.filter((s, i) => sites.findIndex((o) => o.place.accountId === s.place.accountId && o.place.region === s.place.region) === i);
}

async function promotionOf(fleet: FleetRecords, date: string): Promise<PromotionState | undefined> {
  return (await fleet.promotions()).map((p) => p.state).find((s) => s.key.endsWith(`-${date}`));
}

/**
 * Runs the releases in order and returns one summary per release, the promotion timeline, and
 * the figures the bench reports. The caller stops the world.
 */
export async function runFleetScenario(options: FleetScenarioOptions = {}): Promise<FleetScenarioResult> {
  const evaluate = (options.evaluateMinutes ?? 10) * MINUTE;
  const soakHours = options.soakHours ?? [4, 8, 12];
  const soakSeconds = soakHours.reduce((a, b) => a + b, 0) * 3600;
  const { world, sites, monitor, fleet } = await startFleetWorld(options);
  const invocations: { functionName?: string }[] = [];
  world.lambda.onInvoked((i) => invocations.push(i as { functionName?: string }));
  const start = world.clock.now();
  const timeline: string[] = [];
  let seen = 0;
  const flush = () => {
    const events = progressEvents(world);
    for (const d of events.slice(seen)) {
      const line = formatProgress(world, start, d);
      timeline.push(line);
      options.onLine?.(line);
    }
    seen = events.length;
  };
  const say = (text: string) => {
    const t = (world.clock.now() - start) / 1000;
    const line = `+${String(Math.floor(t / 3600)).padStart(3, ' ')}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m  ${text}`;
    timeline.push(line);
    options.onLine?.(line);
  };
  const detect = () => world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
  /** Runs the world an evaluation at a time (a scheduled detection every hour, as deployed) until `done` or `maxMs`. */
  const runUntil = async (done: () => Promise<boolean>, maxMs: number): Promise<boolean> => {
    const deadline = world.clock.now() + maxMs;
    let lastDetection = world.clock.now();
    while (world.clock.now() < deadline) {
      if (await done()) return true;
      await world.run(evaluate);
      if (world.clock.now() - lastDetection >= HOUR) {
        await detect();
        lastDetection = world.clock.now();
      }
      flush();
    }
    return done();
  };
  const release = (date: string, bad?: 'workloads') => {
    const images = new Map<string, string>();
    for (const s of placesOf(sites)) {
      const image = releaseAmi(s.account, { family: 'al2023', kubernetesVersion: '1.31', date, ...(bad ? { badFor: bad } : {}) }).image.ImageId!;
      for (const o of sites.filter((x) => x.account === s.account)) images.set(o.cluster.key, image);
    }
    say(`AWS releases the AL2023 1.31 AMI v${date}${bad ? ' (bad: its pods crash-loop)' : ''} in ${placesOf(sites).length} account-regions`);
    return images;
  };
  const summaries: ReleaseSummary[] = [];
  const summarise = async (kind: ReleaseSummary['kind'], date: string, images: Map<string, string>, extra: Partial<ReleaseSummary> = {}): Promise<ReleaseSummary> => {
    const state = await promotionOf(fleet, date);
    const ran = (s: ClusterSite) => [...imagesEverRun(s)].some((id) => images.get(s.cluster.key) === id);
    const current = (s: ClusterSite) => [...s.account.autoscaling.group(s.group).instances.keys()].every((id) => s.account.ec2.instances.get(id)?.instance.ImageId === images.get(s.cluster.key));
    const ranSites = sites.filter(ran);
    const summary: ReleaseSummary = {
      release: `v${date}`,
      kind,
      key: state?.key ?? '(no promotion)',
      ringsReached: state ? state.rings.filter((r) => r.status !== 'waiting' && r.status !== 'awaiting-approval').map((r) => r.ring) : [],
      ringsPassed: state ? state.rings.filter((r) => r.status === 'passed').map((r) => r.ring) : [],
      groupsRolled: ranSites.length,
      groupsRolledBack: ranSites.filter((s) => !current(s)).length,
      held: state?.hold !== undefined,
      ...(state?.hold ? { holdReason: state.hold.reason.slice(0, 300) } : {}),
      outsideRing0: ranSites.filter((s) => s.ring !== RINGS[0]).length,
      ...(state?.finishedAt ? { promotionSeconds: (Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 1000 } : {}),
      soakSeconds,
      ...extra,
    };
    summaries.push(summary);
    return summary;
  };
  const wanted = options.releases ?? ['good', 'bad', 'freeze'];
  const budget = soakSeconds * 1000 * 1.5 + 6 * HOUR;

  if (wanted.includes('good')) {
    const images = release('20261210');
    await detect();
    await runUntil(async () => (await promotionOf(fleet, '20261210'))?.finishedAt !== undefined, budget);
    await summarise('good', '20261210', images);
  }

  if (wanted.includes('bad')) {
    const images = release('20261215', 'workloads');
    await detect();
    await runUntil(async () => (await promotionOf(fleet, '20261215'))?.hold !== undefined, budget);
    // the rollbacks of ring 0, and a detection that must not start the held release anywhere
    await runUntil(async () => false, 2 * HOUR);
    const state = await promotionOf(fleet, '20261215');
    const launches = sites.flatMap((s) => [...s.account.ec2.instances.records.values()].filter((i) => i.instance.ImageId === images.get(s.cluster.key)).map((i) => Date.parse(String(i.instance.LaunchTime))));
    const firstNode = Math.min(...launches);
    await summarise('bad', '20261215', images, state?.hold && Number.isFinite(firstNode) ? { detectionDelaySeconds: (Date.parse(state.hold.since) - firstNode) / 1000 } : {});
  }

  if (wanted.includes('freeze')) {
    const images = release('20261220');
    await detect();
    const passed = (ring: string) => async () => (await promotionOf(fleet, '20261220'))?.rings.some((r) => r.ring === ring && r.status === 'passed') ?? false;
    await runUntil(passed(RINGS[0]), budget);
    const frozenAt = world.clock.now();
    await fleet.setFreeze({ scope: { kind: 'all' }, reason: 'change freeze: end-of-quarter', by: 'slack:T0SANDBOX:U0SRE', since: new Date(frozenAt).toISOString() });
    say('freeze all --reason "change freeze: end-of-quarter"');
    const before = progressEvents(world, (await promotionOf(fleet, '20261220'))?.key).length;
    const rolloutsBefore = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout')).length;
    await runUntil(async () => false, Math.max(6 * HOUR, soakHours[1]! * HOUR * 1.5));
    const transitionsWhileFrozen = progressEvents(world, (await promotionOf(fleet, '20261220'))?.key).length - before;
    const rolloutsWhileFrozen = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout')).length - rolloutsBefore;
    await fleet.liftFreeze({ kind: 'all' });
    say(`unfreeze all (frozen ${Math.round((world.clock.now() - frozenAt) / HOUR)}h: ${transitionsWhileFrozen} promotion transitions, ${rolloutsWhileFrozen} rollouts started)`);
    const frozenSeconds = (world.clock.now() - frozenAt) / 1000;
    await runUntil(async () => (await promotionOf(fleet, '20261220'))?.finishedAt !== undefined, budget);
    await summarise('freeze', '20261220', images, { frozenSeconds, transitionsWhileFrozen: transitionsWhileFrozen + rolloutsWhileFrozen });
  }
  await world.settle();
  flush();

  const promotions = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-fleet-promotion'));
  return {
    releases: summaries,
    timeline,
    sites,
    world,
    monitor,
    transitions: promotions.reduce((n, e) => n + e.history.length, 0),
    invocations: invocations.filter((i) => /promotion/i.test(i.functionName ?? '')).length,
    groupsPromoted: summaries.filter((s) => !s.held).reduce((n, s) => n + s.groupsRolled, 0),
  };
}
